"""Colour preservation by luminance transfer: keep the stylised luminance, restore the content's chroma.

Works in full-range YCbCr (BT.601, as JPEG uses it): brightness patterns (brush strokes, texture)
live mostly in Y, colour in Cb/Cr, so swapping the chroma back keeps the style's texture in the
content's own colours.
"""

from __future__ import annotations

import numpy as np
import torch

from . import palette

_RGB_TO_YCBCR = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [-0.168736, -0.331264, 0.5],
        [0.5, -0.418688, -0.081312],
    ]
)
# Inverted numerically rather than written out, so the round trip is exact to float precision.
_YCBCR_TO_RGB = torch.linalg.inv(_RGB_TO_YCBCR.double()).float()
_CHROMA_OFFSET = torch.tensor([0.0, 0.5, 0.5])


def _apply(matrix: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,bjhw->bihw", matrix.to(image), image)


def rgb_to_ycbcr(image: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) RGB in [0, 1] to YCbCr with Y in [0, 1] and Cb/Cr centred on 0.5."""
    return _apply(_RGB_TO_YCBCR, image) + _CHROMA_OFFSET.to(image).view(1, 3, 1, 1)


def ycbcr_to_rgb(image: torch.Tensor) -> torch.Tensor:
    return _apply(_YCBCR_TO_RGB, image - _CHROMA_OFFSET.to(image).view(1, 3, 1, 1))


def preserve_color(stylised: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """``stylised``'s luminance with ``content``'s chroma; both (B, 3, H, W) RGB of the same size."""
    luma = rgb_to_ycbcr(stylised.clamp(0, 1))[:, :1]
    chroma = rgb_to_ycbcr(content)[:, 1:]
    return ycbcr_to_rgb(torch.cat([luma, chroma], dim=1)).clamp(0, 1)


# ---------------------------------------------------------------- colour transfer towards the style

# A picture's colour distribution to first and second order: mean (3,) and covariance (3, 3) of its RGB pixels.
ColorStats = tuple[torch.Tensor, torch.Tensor]


def color_stats(image: torch.Tensor, weight: torch.Tensor | None = None) -> ColorStats:
    """Mean and covariance of the RGB pixels of a (3, H, W) or (1, 3, H, W) image, optionally weighted
    by a (H, W)-shaped map (a mask region); float64 on the image's device."""
    mean, cov = palette.palette(_array(image).reshape(3, -1), None if weight is None else _array(weight).reshape(-1))
    return torch.from_numpy(mean).to(image.device), torch.from_numpy(cov).to(image.device)


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().double().cpu().numpy()


def mix_color_stats(parts: list[tuple[float, ColorStats]]) -> ColorStats:
    """The moments of a weighted mixture of colour distributions (weights normalised)."""
    total = sum(weight for weight, _ in parts)
    mean = sum(weight / total * stats[0] for weight, stats in parts)
    second = sum(weight / total * (stats[1] + torch.outer(stats[0], stats[0])) for weight, stats in parts)
    return mean, second - torch.outer(mean, mean)


def match_color(image: torch.Tensor, target: ColorStats, region: torch.Tensor | None = None) -> torch.Tensor:
    """``image`` (1, 3, H, W) recoloured by the affine map that gives its pixels (those of ``region``,
    a weight map, when given) the target mean and covariance (see :func:`sanet_text.images.palette.transfer`)."""
    weight = None if region is None else _array(region).reshape(-1)
    matched = palette.transfer(_array(image).reshape(3, -1), (_array(target[0]), _array(target[1])), weight)
    return torch.from_numpy(matched).reshape(image.shape).to(image.device, image.dtype)


def paint_colors(image: torch.Tensor, paint: palette.PaintColours) -> torch.Tensor:
    """``image`` (1, 3, H, W) repainted in named colours by its lightness (see :func:`sanet_text.images.palette.gradient_map`)."""
    painted = palette.gradient_map(_array(image).reshape(3, -1), paint)
    return torch.from_numpy(painted).reshape(image.shape).to(image.device, image.dtype)
