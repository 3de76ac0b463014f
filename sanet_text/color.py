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
