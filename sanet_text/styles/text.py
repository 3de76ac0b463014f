"""A text prompt as a style: resolved to library styles, each encoded from its exemplar images."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import UserError
from ..imageio import load_image, resize_to
from ..model import SANet
from .base import StyleFeatures, StyleGroup
from .library import load_library


@torch.no_grad()
def _exemplar_features(model: SANet, style: str, paths: tuple[Path, ...], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """relu4_1/relu5_1 of a style's exemplars; several exemplars become one token set to attend across."""
    device = next(model.parameters()).device
    feats = [model.encode(resize_to(load_image(p), size)[None].to(device)) for p in paths]
    if not feats:
        raise UserError(f"library style {style!r} has no exemplar images; reinstall sanet-text")
    if len(feats) == 1:
        return feats[0][3], feats[0][4]
    return torch.cat([f[3].flatten(2) for f in feats], -1), torch.cat([f[4].flatten(2) for f in feats], -1)


def text_style(prompt: str, model: SANet, size: int = 512, encoder_name: str = "minilm",
               temperature: float | None = None) -> StyleGroup:
    """Resolve ``prompt`` to weighted library styles and encode their exemplars with ``model``."""
    if not prompt or not prompt.strip():
        # Checked before loading the text encoder, which takes seconds.
        raise UserError('empty text prompt; describe a style, e.g. "watercolor" or "Van Gogh starry night"')
    library = load_library(encoder_name)
    parts = []
    for name, weight in library.resolve(prompt, temperature):
        feat4, feat5 = _exemplar_features(model, name, library.styles[name].exemplars, size)
        parts.append(StyleFeatures(label=name, feat4=feat4, feat5=feat5, weight=weight))
    return StyleGroup(source=prompt, parts=parts)
