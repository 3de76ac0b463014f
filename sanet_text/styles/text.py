"""A text prompt as a style: resolved to library styles, each encoded from its exemplar images."""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from ..core.errors import UserError
from ..images.color import ColorStats, color_stats, mix_color_stats
from ..images.processor import load_image, resize_to
from ..models.model import SANet, low_stats
from .base import StyleFeatures, StyleGroup, check_prompt
from .colour_words import PromptWords, parse_prompt
from .library import LibraryStyle, Resolution, StyleLibrary


class ExemplarFeatures(NamedTuple):
    """What a library style contributes: relu4_1/relu5_1 of its exemplars, their pooled colours and
    their mean low-level statistics (``sanet_text.models.model.low_stats``)."""

    feat4: torch.Tensor
    feat5: torch.Tensor
    color_mean: torch.Tensor
    color_cov: torch.Tensor
    low: torch.Tensor

    @property
    def color(self) -> ColorStats:
        return self.color_mean, self.color_cov


@torch.no_grad()
def exemplar_features(model: SANet, style: LibraryStyle, size: int) -> ExemplarFeatures:
    """A style's exemplars encoded: several become one token set to attend across, and their colour
    statistics are pooled with equal shares (from the full-size pictures)."""
    device = next(model.parameters()).device
    images = [load_image(p) for p in style.exemplars]
    if not images:
        raise UserError(f"library style {style.name!r} has no exemplar images; reinstall sanet-text")
    feats = [model.encode(resize_to(image, size)[None].to(device)) for image in images]
    color = mix_color_stats([(1.0, color_stats(image)) for image in images])
    low = torch.stack([low_stats(f) for f in feats]).mean(0)
    if len(feats) == 1:
        return ExemplarFeatures(feats[0][3], feats[0][4], *color, low)
    return ExemplarFeatures(torch.cat([f[3].flatten(2) for f in feats], -1),
                            torch.cat([f[4].flatten(2) for f in feats], -1), *color, low)


def text_style(prompt: str, model: SANet, library: StyleLibrary, size: int = 512, temperature: float | None = None,
               features: Callable[[LibraryStyle, int], ExemplarFeatures] | None = None) -> StyleGroup:
    """Resolve ``prompt`` to weighted ``library`` styles and encode their exemplars with ``model``.

    Colour, palette and stroke-scale words are taken out first (:mod:`.colour_words`): the rest
    resolves the styles, the colours go on the group for the output to be painted in, and the scale
    sets the size the exemplars are encoded at (``size`` times it; larger = bigger strokes).
    ``features``: where a library style's exemplar features at a size come from (a cache, say); by
    default they are encoded now.
    """
    prompt = check_prompt(prompt)
    words = parse_prompt(prompt)
    encode = features or (lambda style, at: exemplar_features(model, style, at))
    scaled = round(size * words.scale) if size else 0
    resolution = library.match(words.style_text, temperature)
    parts = []
    for name, weight in resolution.parts:
        exemplar = encode(library.styles[name], scaled)
        parts.append(StyleFeatures(label=name, feat4=exemplar.feat4, feat5=exemplar.feat5, weight=weight,
                                   color=exemplar.color, low=exemplar.low))
    return StyleGroup(source=prompt, parts=parts, paint=words.paint, note=resolution_note(words, resolution))


def resolution_note(words: PromptWords, resolution: Resolution) -> str:
    """What the output line adds after the styles: the words as read, colours and scale, and plainly
    when the words name no library style."""
    notes = []
    if not resolution.named:
        closest = ", ".join(f"{name} {similarity:.2f}" for name, similarity in resolution.closest)
        notes.append(f"no library style matches these words; closest by similarity: {closest}")
    if resolution.text.lower() != words.style_text.lower():
        notes.append(f"read as {resolution.text!r}")
    if words.describe():
        notes.append(words.describe())
    return "; ".join(notes)
