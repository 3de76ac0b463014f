"""What every style source produces: SANet style features with weights; and the checks every prompt passes.

A user-given style (one ``--style`` value or the PROMPT) becomes a :class:`StyleGroup`. An image is
a group of one part; a text prompt resolved against the style library is a group of several
library styles with weights summing to 1. The pipeline fuses each part with SANet and blends the
fused features by part weight, then blends groups by ``--mix`` weights or masks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

from ..color import ColorStats, mix_color_stats
from ..errors import UserError


@dataclass
class StyleFeatures:
    """Encoder-space style features: relu4_1 and relu5_1 as maps (1, C, H, W) or tokens (1, C, N).

    ``color``: the colour mean and covariance of the picture(s) they were encoded from, which the
    output's palette is matched to (None for styles with no picture, such as mapper tokens).
    """

    label: str
    feat4: torch.Tensor
    feat5: torch.Tensor
    weight: float = 1.0
    color: ColorStats | None = None


@dataclass
class StyleGroup:
    """One style the user asked for, possibly made of several weighted parts.

    ``picture``: the style image (3, H, W) the features were encoded from, when there is exactly one
    (an image style, a painted exemplar); attention maps are drawn on it.
    """

    source: str
    parts: list[StyleFeatures] = field(default_factory=list)
    picture: torch.Tensor | None = None

    def color(self) -> ColorStats | None:
        """The palette the parts blend to, or None when a part has none to offer."""
        if any(part.color is None for part in self.parts):
            return None
        return mix_color_stats([(part.weight, part.color) for part in self.parts])  # type: ignore[misc]

    def describe(self) -> str:
        """E.g. ``"van gogh starry night" -> starry_night 0.82, impressionism 0.18``."""
        if len(self.parts) == 1 and self.parts[0].label == self.source:
            return self.source
        return f"{self.source!r} -> " + ", ".join(f"{p.label} {p.weight:.2f}" for p in self.parts)


def check_prompt(prompt: str) -> str:
    """The prompt without surrounding blanks, or a UserError when nothing is left to describe a style."""
    if not prompt or not prompt.strip():
        raise UserError('empty text prompt; describe a style, e.g. "watercolor" or "Van Gogh starry night"')
    return prompt.strip()


def prompt_slug(prompt: str) -> str:
    """A prompt as a short file-name part: ``"Van Gogh: Starry!"`` -> ``van-gogh-starry``."""
    return re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:40] or "prompt"
