"""Colour preservation by luminance transfer: keep the stylised luminance, restore the content's chroma.

Works in full-range YCbCr (BT.601, as JPEG uses it): brightness patterns (brush strokes, texture)
live mostly in Y, colour in Cb/Cr, so swapping the chroma back keeps the style's texture in the
content's own colours.
"""

from __future__ import annotations

import torch

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
    by a (H, W)-shaped map (a mask region)."""
    pixels = image.reshape(3, -1).double()
    w = torch.ones_like(pixels[0]) if weight is None else weight.reshape(-1).double().to(pixels.device)
    total = w.sum().clamp(min=1e-8)
    mean = (pixels * w).sum(1) / total
    centred = pixels - mean[:, None]
    return mean, (centred * w) @ centred.T / total


def mix_color_stats(parts: list[tuple[float, ColorStats]]) -> ColorStats:
    """The moments of a weighted mixture of colour distributions (weights normalised)."""
    total = sum(weight for weight, _ in parts)
    mean = sum(weight / total * stats[0] for weight, stats in parts)
    second = sum(weight / total * (stats[1] + torch.outer(stats[0], stats[0])) for weight, stats in parts)
    return mean, second - torch.outer(mean, mean)


def _sqrt_psd(matrix: torch.Tensor, inverse: bool = False, eps: float = 1e-4) -> torch.Tensor:
    # eps floors each colour direction's variance at a 1 % standard deviation, so a nearly flat
    # result is not blown up into noise by the inverse square root.
    values, vectors = torch.linalg.eigh(matrix + eps * torch.eye(3, dtype=matrix.dtype, device=matrix.device))
    values = values.clamp(min=eps)
    return vectors @ torch.diag(values.rsqrt() if inverse else values.sqrt()) @ vectors.T


def match_color(image: torch.Tensor, target: ColorStats, region: torch.Tensor | None = None) -> torch.Tensor:
    """``image`` (1, 3, H, W) recoloured by the affine map that gives its pixels (those of ``region``,
    a weight map, when given) the target mean and covariance (linear colour transfer, as in Gatys et
    al. 2017 "Controlling perceptual factors"): the palette follows the style, the layout stays."""
    mean, cov = color_stats(image, region)
    transform = _sqrt_psd(target[1].to(cov)) @ _sqrt_psd(cov, inverse=True)
    pixels = image.reshape(3, -1).double()
    matched = transform @ (pixels - mean[:, None]) + target[0].to(mean)[:, None]
    return matched.reshape(image.shape).to(image.dtype).clamp(0, 1)
