"""The commands: console entry, the warm one-shot path, the CLI, output naming, the web page."""
