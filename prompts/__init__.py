"""Packaged as ``sanet_text.prompts``: the style library, its exemplars and the prompt lists (data only)."""
