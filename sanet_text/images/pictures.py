"""Pictures and masks handed over in memory (PIL images, numpy arrays, tensors) as the tensors the pipeline takes.

Files go through :mod:`sanet_text.images.imageio` instead, which also guards against odd and oversized files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Union

import numpy as np
import torch
from PIL import Image

from ..core.errors import UserError
from .imageio import MIN_SIDE, load_mask, pil_to_tensor

# An in-memory picture: PIL, (H, W, 3) uint8 or [0, 1] float array, or (3, H, W) / (1, 3, H, W) tensor
# (uint8, or float in [0, 1]).
Picture = Union[Image.Image, np.ndarray, torch.Tensor]
# A mask: a file or a picture, white = where its style goes.
MaskInput = Union[str, Path, Picture]


def picture_tensor(picture: Picture) -> torch.Tensor:
    """An in-memory picture as an RGB float tensor (3, H, W) in [0, 1]; odd shapes are UserErrors."""
    if isinstance(picture, Image.Image):
        tensor = pil_to_tensor(picture.convert("RGB"))
    elif isinstance(picture, np.ndarray):
        if picture.ndim != 3 or picture.shape[-1] != 3:
            raise UserError(f"a picture array must be (height, width, 3) RGB, got shape {picture.shape}")
        scale = 255.0 if picture.dtype == np.uint8 else 1.0
        tensor = torch.from_numpy(np.ascontiguousarray(picture, dtype=np.float32) / scale).permute(2, 0, 1)
    elif isinstance(picture, torch.Tensor):
        tensor = picture[0] if picture.dim() == 4 and picture.shape[0] == 1 else picture
        if tensor.dim() != 3 or tensor.shape[0] != 3:
            raise UserError(f"a picture tensor must be (3, H, W) or (1, 3, H, W), got {tuple(picture.shape)}")
        tensor = tensor.float() / 255 if tensor.dtype == torch.uint8 else tensor.float()
    else:
        raise UserError(f"not a picture: {type(picture).__name__} (give a file path, PIL image, array or tensor)")
    if min(tensor.shape[-2:]) < MIN_SIDE:
        raise UserError(f"picture is {tensor.shape[-1]}×{tensor.shape[-2]} px; need at least {MIN_SIDE} px on each side")
    return _finite(tensor, "picture")


def _finite(tensor: torch.Tensor, what: str) -> torch.Tensor:
    """``tensor``, unless a value is NaN or infinite: it would spread through every layer into the result."""
    if not torch.isfinite(tensor).all():
        raise UserError(f"the {what} holds NaN or infinite values; give values in [0, 1] (or 0-255 as uint8)")
    return tensor


def mask_tensor(mask: MaskInput, size: tuple[int, int]) -> torch.Tensor:
    """A mask as (1, H, W) in [0, 1]: files are read at ``size``; grey or RGB pictures give their first channel."""
    if isinstance(mask, (str, Path)):
        return load_mask(mask, size)
    if isinstance(mask, Image.Image):
        return pil_to_tensor(mask.convert("L").convert("RGB"))[:1]
    if isinstance(mask, np.ndarray):
        scale = 255.0 if mask.dtype == np.uint8 else 1.0
        mask = torch.from_numpy(np.asarray(mask, dtype=np.float32) / scale)
        mask = mask.permute(2, 0, 1) if mask.dim() == 3 else mask
    if not isinstance(mask, torch.Tensor) or mask.dim() not in (2, 3):
        what = f"a {mask.dim()}-D tensor" if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise UserError(f"a mask must be a file, a PIL image, or an (H, W) or (C, H, W) array or tensor, got {what}")
    mask = mask.float() / 255 if mask.dtype == torch.uint8 else mask.float()
    return _finite(mask.reshape(-1, *mask.shape[-2:])[:1], "mask")


def pixels_key(tensor: torch.Tensor) -> tuple:
    """A cache key from a picture's pixels: equal pictures share their encoding, whatever object holds them."""
    data = tensor.detach().float().cpu().contiguous().numpy().tobytes()
    return ("pixels", tuple(tensor.shape), hashlib.sha1(data).hexdigest())
