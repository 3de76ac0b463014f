"""Image styles: a picture becomes a one-part StyleGroup of its relu4_1/relu5_1 features."""

from __future__ import annotations

from pathlib import Path

import torch

from ..images.color import color_stats
from ..images.processor import load_image, resize_to
from ..models.model import SANet, low_stats
from .base import StyleFeatures, StyleGroup


def load_style_image(path: str | Path, size: int) -> torch.Tensor:
    """The style picture as (3, H, W) in [0, 1], longer side ``size`` (0 = as is)."""
    return resize_to(load_image(path), size)


def style_from_image(image: torch.Tensor, model: SANet, label: str) -> StyleGroup:
    """Encode a (3, H, W) style picture; features stay as maps so attention can be shown on it."""
    device = next(model.parameters()).device
    with torch.no_grad():  # not inference_mode: training code may reuse these features with autograd on
        feats = model.encode(image[None].to(device))
    part = StyleFeatures(label=label, feat4=feats[3], feat5=feats[4], color=color_stats(image), low=low_stats(feats))
    return StyleGroup(source=label, parts=[part], picture=image)
