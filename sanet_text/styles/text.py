"""A text prompt as a style: resolved to library styles, each encoded from its exemplar images."""

from __future__ import annotations

from typing import Callable

import torch

from ..color import ColorStats, color_stats, mix_color_stats
from ..errors import UserError
from ..imageio import load_image, resize_to
from ..model import SANet
from .base import StyleFeatures, StyleGroup, check_prompt
from .library import LibraryStyle, StyleLibrary

# relu4_1 and relu5_1 of a library style's exemplars.
ExemplarFeatures = tuple[torch.Tensor, torch.Tensor]


@torch.no_grad()
def exemplar_features(model: SANet, style: LibraryStyle, size: int) -> ExemplarFeatures:
    """relu4_1/relu5_1 of a style's exemplars; several exemplars become one token set to attend across."""
    device = next(model.parameters()).device
    feats = [model.encode(resize_to(load_image(p), size)[None].to(device)) for p in style.exemplars]
    if not feats:
        raise UserError(f"library style {style.name!r} has no exemplar images; reinstall sanet-text")
    if len(feats) == 1:
        return feats[0][3], feats[0][4]
    return torch.cat([f[3].flatten(2) for f in feats], -1), torch.cat([f[4].flatten(2) for f in feats], -1)


_EXEMPLAR_COLORS: dict[tuple, ColorStats] = {}


def exemplar_colors(style: LibraryStyle) -> ColorStats:
    """The colour statistics of a library style's exemplars pooled (equal shares), once per process."""
    key = tuple(style.exemplars)
    if key not in _EXEMPLAR_COLORS:
        _EXEMPLAR_COLORS[key] = mix_color_stats([(1.0, color_stats(load_image(p))) for p in style.exemplars])
    return _EXEMPLAR_COLORS[key]


def text_style(prompt: str, model: SANet, library: StyleLibrary, size: int = 512, temperature: float | None = None,
               features: Callable[[LibraryStyle], ExemplarFeatures] | None = None) -> StyleGroup:
    """Resolve ``prompt`` to weighted ``library`` styles and encode their exemplars with ``model``.

    ``features``: where a library style's exemplar features come from (a cache, say); by default they
    are encoded now at ``size``.
    """
    prompt = check_prompt(prompt)
    encode = features or (lambda style: exemplar_features(model, style, size))
    parts = []
    for name, weight in library.resolve(prompt, temperature):
        feat4, feat5 = encode(library.styles[name])
        parts.append(StyleFeatures(label=name, feat4=feat4, feat5=feat5, weight=weight,
                                   color=exemplar_colors(library.styles[name])))
    return StyleGroup(source=prompt, parts=parts)
