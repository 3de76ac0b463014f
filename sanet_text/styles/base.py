"""What every style source produces: SANet style features with weights.

A user-given style (one ``--style`` value or the PROMPT) becomes a :class:`StyleGroup`. An image is
a group of one part; a text prompt resolved against the style library is a group of several
library styles with weights summing to 1. The pipeline fuses each part with SANet and blends the
fused features by part weight, then blends groups by ``--mix`` weights or masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class StyleFeatures:
    """Encoder-space style features: relu4_1 and relu5_1 as maps (1, C, H, W) or tokens (1, C, N)."""

    label: str
    feat4: torch.Tensor
    feat5: torch.Tensor
    weight: float = 1.0


@dataclass
class StyleGroup:
    """One style the user asked for, possibly made of several weighted parts."""

    source: str
    parts: list[StyleFeatures] = field(default_factory=list)

    def describe(self) -> str:
        """E.g. ``"van gogh starry night" -> starry_night 0.82, impressionism 0.18``."""
        if len(self.parts) == 1 and self.parts[0].label == self.source:
            return self.source
        return f"{self.source!r} -> " + ", ".join(f"{p.label} {p.weight:.2f}" for p in self.parts)
