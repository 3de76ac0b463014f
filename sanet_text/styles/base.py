"""What every style source produces: SANet style features with weights; and the checks every prompt passes.

A user-given style (one ``--style`` value or the PROMPT) becomes a :class:`StyleGroup`. An image is
a group of one part; a text prompt resolved against the style library is a group of several
library styles with weights summing to 1. The pipeline fuses each part with SANet and blends the
fused features by part weight, then blends groups by ``--mix`` weights or masks.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

import torch

from ..core.errors import UserError
from ..images.color import ColorStats, mix_color_stats
from ..images.palette import PaintColours

# Longest prompt shown in a description.
SHOWN_PROMPT = 80
# Longest prompt part of a file name; a longer one is cut and keeps a hash of the whole prompt.
SLUG_LENGTH = 40


@dataclass
class StyleFeatures:
    """Encoder-space style features: relu4_1 and relu5_1 as maps (1, C, H, W) or tokens (1, C, N).

    ``color``: the colour mean and covariance of the picture(s) they were encoded from, which the
    output's palette is matched to (None for styles with no picture, such as mapper tokens).
    ``low``: their :func:`sanet_text.models.model.low_stats`, which modulate a v0.3 decoder (None likewise).
    """

    label: str
    feat4: torch.Tensor
    feat5: torch.Tensor
    weight: float = 1.0
    color: ColorStats | None = None
    low: torch.Tensor | None = None


@dataclass
class StyleGroup:
    """One style the user asked for, possibly made of several weighted parts.

    ``picture``: the style image (3, H, W) the features were encoded from, when there is exactly one
    (an image style, a painted exemplar); attention maps are drawn on it. ``paint``: the colours the
    prompt named, which the output is painted in. ``note``: what else the user should read about how
    the style was chosen (colours, stroke scale, that no style was named), shown after the parts.
    """

    source: str
    parts: list[StyleFeatures] = field(default_factory=list)
    picture: torch.Tensor | None = None
    paint: PaintColours | None = None
    note: str = ""

    def color(self) -> ColorStats | None:
        """The palette the parts blend to, or None when a part has none to offer."""
        if any(part.color is None for part in self.parts):
            return None
        return mix_color_stats([(part.weight, part.color) for part in self.parts])  # type: ignore[misc]

    def describe(self) -> str:
        """E.g. ``"van gogh starry night" -> starry_night 0.82, impressionism 0.18``."""
        if len(self.parts) == 1 and self.parts[0].label == self.source and not self.note:
            return self.source
        # A long prompt is shortened: the output line should still fit a terminal line or two.
        shown = self.source if len(self.source) <= SHOWN_PROMPT else self.source[:SHOWN_PROMPT - 1] + "…"
        parts = ", ".join(f"{p.label} {p.weight:.2f}" for p in self.parts)
        return f"{shown!r} -> {parts}" + (f" ({self.note})" if self.note else "")


def check_prompt(prompt: str) -> str:
    """The prompt without surrounding blanks, or a UserError when nothing is left to describe a style."""
    if not prompt or not prompt.strip():
        raise UserError('empty text prompt; describe a style, e.g. "watercolor" or "Van Gogh starry night"')
    return prompt.strip()


def prompt_slug(prompt: str) -> str:
    """A prompt as a short file-name part: ``"Van Gogh: Starry!"`` -> ``van-gogh-starry``, accents
    dropped (``"Café"`` -> ``cafe``).

    What an ASCII name cannot keep (other scripts, emoji, the end of a long prompt) is replaced by a
    short hash of the prompt, so two prompts never share an output name: ``"梵高"`` -> ``prompt-1b2c3d4e``.
    """
    decomposed = unicodedata.normalize("NFKD", prompt.strip())
    lost = any(not c.isascii() and not unicodedata.combining(c) and not c.isspace() for c in decomposed)
    ascii_text = "".join(c if c.isascii() else "" if unicodedata.combining(c) else " " for c in decomposed)
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if not lost and slug and len(slug) <= SLUG_LENGTH:
        return slug
    digest = hashlib.sha256(prompt.strip().encode()).hexdigest()[:8]
    return f"{slug[:SLUG_LENGTH - 9].strip('-') or 'prompt'}-{digest}"
