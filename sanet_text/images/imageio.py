"""Image files as tensors: reading into RGB float tensors, resizing, and writing them atomically.

The file handling itself (odd modes, EXIF, bombs, checks, atomic writes) is torch-free, in
:mod:`sanet_text.images.imagefile`; its names are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .imagefile import (
    IMAGE_SUFFIXES, MAX_PIXELS, MIN_SIDE, WRITE_FORMATS, array_to_pil, check_regular_file, check_writable, load_pil,
    longer_side_to, path_exists, pil_to_array, save_pil,
)

# The file side (imagefile) is re-exported, so callers that work with tensors need one import.
__all__ = [
    "IMAGE_SUFFIXES", "MAX_PIXELS", "MIN_SIDE", "WRITE_FORMATS", "check_regular_file", "check_writable", "load_image",
    "load_mask", "load_pil", "path_exists", "pil_to_tensor", "resize_to", "save_image", "tensor_to_pil",
]


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(pil_to_array(image))


def load_image(path: str | Path) -> torch.Tensor:
    """An image file as an RGB float tensor (3, H, W) in [0, 1]."""
    return pil_to_tensor(load_pil(path))


def load_mask(path: str | Path, size: tuple[int, int]) -> torch.Tensor:
    """A mask image as a (1, H, W) tensor in [0, 1] at ``size`` (white = inside)."""
    mask = load_pil(path).convert("L").resize((size[1], size[0]), Image.BILINEAR)
    return torch.from_numpy(np.asarray(mask, dtype=np.float32) / 255.0)[None]


def resize_to(image: torch.Tensor, size: int, exact: bool = False) -> torch.Tensor:
    """Resize (3, H, W) so its longer side is ``size`` (aspect kept), or to size×size with ``exact``.

    ``size <= 0`` keeps the original resolution.
    """
    if size <= 0:
        return image
    h, w = image.shape[-2:]
    target = (size, size) if exact else longer_side_to(h, w, size)
    if target == (h, w):
        return image
    return torch.nn.functional.interpolate(
        image[None], size=target, mode="bicubic", antialias=True, align_corners=False
    )[0].clamp(0, 1)


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    return array_to_pil(image.detach().float().cpu().numpy())


def save_image(image: torch.Tensor | Image.Image, path: str | Path, force: bool = False) -> Path:
    """Write atomically (see :func:`~sanet_text.images.imagefile.save_pil`)."""
    return save_pil(image if isinstance(image, Image.Image) else tensor_to_pil(image), path, force)
