"""The image processor: every picture goes in and out of sanet-text through here.

In: a file, a PIL image, a numpy array or a tensor, as an RGB float (3, H, W) in [0, 1]
(:func:`picture_tensor`; :func:`pil_to_array` for the torch-free side). Every way a user's file
can be odd (missing, corrupt, not an image, 16-bit, CMYK, alpha, rotated by EXIF, absurdly large or
tiny) ends in an RGB image or a one-line :class:`UserError`. One resize (:func:`resize_to`), one
8-bit conversion (:func:`to_uint8`) and atomic writes (:func:`save_image`).

Torch is imported by the tensor functions on first use only, so the warm one-shot path
(:mod:`sanet_text.frontends.quick`) reads, resizes and writes through here without it: arrays are
resized by Pillow with torch's filter. Video frames are resized by OpenCV (:func:`fit_frame`), the
one exception; tests/test_images.py holds both side paths against :func:`resize_to`.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..core.atomic import atomic_path
from ..core.errors import UserError, first_line
from ..core.lazy import lazy_module

if TYPE_CHECKING:
    import torch
else:
    torch = lazy_module("torch")
cv2 = lazy_module("cv2")

# Pillow's decompression-bomb guard, made an error from the pixel count where Pillow only warns.
MAX_PIXELS = 89_478_485
MIN_SIDE = 16
# Longer side, in pixels, content and style pictures are painted at unless asked otherwise: the CLI's,
# the Python API's and the quick path's default alike.
DEFAULT_SIZE = 512
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
# Longest file name component and path Linux accepts, in bytes.
NAME_MAX, PATH_MAX = 255, 4096

# An in-memory picture: PIL, (H, W, 3) uint8 or [0, 1] float array, or (3, H, W) / (1, 3, H, W) tensor
# (uint8, or float in [0, 1]).
Picture = Union[Image.Image, np.ndarray, "torch.Tensor"]
# A mask: a file or a picture, white = where its style goes.
MaskInput = Union[str, Path, Picture]


# ---------------------------------------------------------------- files


def path_exists(value: str) -> bool:
    """Whether ``value`` names an existing file or folder, answered without letting the OS fail.

    Strings no file system accepts as a name (a component over 255 bytes, as a 92-character Chinese
    prompt is, or a NUL, or text the file-system encoding cannot hold) name nothing; asking the OS
    about them raises instead of answering.
    """
    try:
        encoded = os.fsencode(value)
    except UnicodeEncodeError:
        return False
    if b"\0" in encoded or len(encoded) > PATH_MAX or any(len(part) > NAME_MAX for part in encoded.split(b"/")):
        return False
    return Path(value).exists()


def check_regular_file(path: Path) -> None:
    """A one-line :class:`UserError` unless ``path`` is an existing regular file (or a link to one).

    Reading a FIFO blocks until something writes to it, and a device never ends: both would hang.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise not_found(path) from None
    except (OSError, ValueError) as err:  # e.g. a name longer than the file system allows
        raise UserError(f"{path}: cannot open ({getattr(err, 'strerror', None) or err})") from None
    if stat.S_ISDIR(mode):
        raise UserError(f"{path} is a folder, not an image")
    if not stat.S_ISREG(mode):
        raise UserError(f"{path} is not a regular file (a FIFO, socket or device); give an image file")


def not_found(path: Path) -> UserError:
    """The "file not found" error, naming the files in its folder that look like a typo of it."""
    try:
        names = [entry.name for entry in path.parent.iterdir() if not entry.name.startswith(".")]
    except OSError:  # the folder is missing or unreadable too
        names = []
    # 0.8: one or two letters swapped, missing or doubled in a short name; 0.6 offered unrelated files.
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.8)
    hint = f"; did you mean {' or '.join(str(path.parent / name) for name in close)}?" if close else ""
    return UserError(f"file not found: {path}{hint}")


def check_writable(path: Path, force: bool, create_folder: bool = False, formats: Iterable[str] = WRITE_FORMATS) -> None:
    """Fail early, before minutes of work, when ``path`` cannot or must not be written.

    ``create_folder``: the caller makes the missing folders when it writes (not before, so a refused
    run leaves no empty folder); then the nearest existing one must be writable. ``formats``: the
    suffixes the writer knows (default: the image formats).
    """
    if path.suffix.lower() not in formats:
        raise UserError(f"{path}: unknown output format; end the name with one of {', '.join(formats)}")
    if path.exists() and not force:
        raise UserError(f"{path} exists; pass --force to overwrite it or choose another -o")
    folder = path.parent
    while create_folder and not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder" if folder.exists() else f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"output folder is not writable: {folder}")


# ---------------------------------------------------------------- reading


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB 8-bit from any Pillow mode; transparency is composited onto white, as a viewer shows it."""
    if image.mode in {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}:
        array = np.asarray(image, dtype=np.float32)
        # 16-bit files keep their full range in "I" mode; scale by the format's range, not to 8 bits by truncation.
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        if image.mode == "F" and array.max() <= 1.0:
            peak = 1.0
        array = to_uint8(array / peak)
        return Image.fromarray(array).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in {"RGBA", "LA", "PA", "RGBa", "La"}:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def load_pil(path: str | Path, max_side: int | None = None) -> Image.Image:
    """Open, EXIF-rotate and convert an image to RGB, or raise a one-line :class:`UserError`.

    ``max_side``: shrink larger images to this longer side while decoding (JPEG decodes at 1/2, 1/4
    or 1/8 scale directly), so a huge upload costs a server a fraction of its full-size memory.
    """
    path = Path(path)
    check_regular_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(path) as image:
                if max_side:
                    image.draft("RGB", (max_side, max_side))  # a no-op for formats other than JPEG
                image.load()
                ImageOps.exif_transpose(image, in_place=True)  # not a copy: a big image would be held twice
                if max_side and image.mode in {"RGB", "RGBA", "L", "LA"}:
                    image.thumbnail((max_side, max_side), Image.BICUBIC)  # before RGB: up to 3x less memory
                rgb = _to_rgb(image)
                if max_side:
                    rgb.thumbnail((max_side, max_side), Image.BICUBIC)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserError(
            f"{path}: image is over the {MAX_PIXELS / 1e6:.1f} MP safety limit (decompression-bomb guard); "
            "downscale it first"
        ) from None
    except UnidentifiedImageError:
        raise UserError(f"{path}: not an image Pillow can read (use PNG, JPEG, WebP, TIFF, BMP or GIF)") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise UserError(f"{path}: corrupt or truncated image ({first_line(err)})") from None
    if min(rgb.size) < MIN_SIDE:
        raise UserError(f"{path}: image is {rgb.width}×{rgb.height} px; need at least {MIN_SIDE} px on each side")
    return rgb


def load_image(path: str | Path) -> torch.Tensor:
    """An image file as an RGB float tensor (3, H, W) in [0, 1]."""
    return pil_to_tensor(load_pil(path))


def load_mask(path: str | Path, size: tuple[int, int]) -> torch.Tensor:
    """A mask image as a (1, H, W) tensor in [0, 1] at ``size`` (white = inside)."""
    mask = load_pil(path).convert("L").resize((size[1], size[0]), Image.BILINEAR)
    return torch.from_numpy(unit_range(np.asarray(mask)))[None]


def picture_tensor(picture: str | Path | Picture) -> torch.Tensor:
    """A file or an in-memory picture as an RGB float tensor (3, H, W) in [0, 1]; odd ones are UserErrors."""
    if isinstance(picture, (str, Path)):
        return load_image(picture)
    if isinstance(picture, Image.Image):
        tensor = pil_to_tensor(picture.convert("RGB"))
    elif isinstance(picture, np.ndarray):
        if picture.ndim != 3 or picture.shape[-1] != 3:
            raise UserError(f"a picture array must be (height, width, 3) RGB, got shape {picture.shape}")
        tensor = torch.from_numpy(unit_range(picture)).permute(2, 0, 1)
    elif isinstance(picture, torch.Tensor):
        tensor = picture[0] if picture.dim() == 4 and picture.shape[0] == 1 else picture
        if tensor.dim() != 3 or tensor.shape[0] != 3:
            raise UserError(f"a picture tensor must be (3, H, W) or (1, 3, H, W), got {tuple(picture.shape)}")
        tensor = unit_range(tensor)
    else:
        raise UserError(f"not a picture: {type(picture).__name__} (give a file path, PIL image, array or tensor)")
    if min(tensor.shape[-2:]) < MIN_SIDE:
        raise UserError(f"picture is {tensor.shape[-1]}×{tensor.shape[-2]} px; need at least {MIN_SIDE} px on each side")
    return _finite(tensor, "picture")


def mask_tensor(mask: MaskInput, size: tuple[int, int]) -> torch.Tensor:
    """A mask as (1, H, W) in [0, 1]: files are read at ``size``; grey or RGB pictures give their first channel."""
    if isinstance(mask, (str, Path)):
        return load_mask(mask, size)
    if isinstance(mask, Image.Image):
        return pil_to_tensor(mask.convert("L").convert("RGB"))[:1]
    if isinstance(mask, np.ndarray):
        mask = torch.from_numpy(unit_range(mask))
        mask = mask.permute(2, 0, 1) if mask.dim() == 3 else mask
    if not isinstance(mask, torch.Tensor) or mask.dim() not in (2, 3):
        what = f"a {mask.dim()}-D tensor" if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise UserError(f"a mask must be a file, a PIL image, or an (H, W) or (C, H, W) array or tensor, got {what}")
    mask = unit_range(mask)
    return _finite(mask.reshape(-1, *mask.shape[-2:])[:1], "mask")


def _finite(tensor: torch.Tensor, what: str) -> torch.Tensor:
    """``tensor``, unless a value is NaN or infinite: it would spread through every layer into the result."""
    if not torch.isfinite(tensor).all():
        raise UserError(f"the {what} holds NaN or infinite values; give values in [0, 1] (or 0-255 as uint8)")
    return tensor


def pixels_key(tensor: torch.Tensor) -> tuple:
    """A cache key from a picture's pixels: equal pictures share their encoding, whatever object holds them."""
    data = tensor.detach().float().cpu().contiguous().numpy().tobytes()
    return ("pixels", tuple(tensor.shape), hashlib.sha1(data).hexdigest())


# ---------------------------------------------------------------- conversions


def unit_range(values: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """8-bit levels (uint8) as float32 in [0, 1]; other values as float32, unchanged."""
    if isinstance(values, np.ndarray):
        return np.asarray(values, dtype=np.float32) / (255.0 if values.dtype == np.uint8 else 1.0)
    return values.float() / 255 if values.dtype == torch.uint8 else values.float()


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) as 8-bit levels, rounded to the nearest: the one way out to 8 bits."""
    return (np.clip(image, 0, 1) * 255.0 + 0.5).astype(np.uint8)


def pil_to_array(image: Image.Image) -> np.ndarray:
    """An RGB image as a float32 (3, H, W) array in [0, 1]."""
    return np.ascontiguousarray(unit_range(np.asarray(image)).transpose(2, 0, 1))


def array_to_pil(image: np.ndarray) -> Image.Image:
    """A (3, H, W) array in [0, 1] as an 8-bit RGB image."""
    return Image.fromarray(to_uint8(image.transpose(1, 2, 0)))


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(pil_to_array(image))


def tensor_to_pil(image: torch.Tensor) -> Image.Image:
    return array_to_pil(image.detach().float().cpu().numpy())


# ---------------------------------------------------------------- resizing


def longer_side_to(height: int, width: int, size: int) -> tuple[int, int]:
    """(height, width) scaled so the longer side is ``size``, aspect kept (at least 1 px each)."""
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_to(image: torch.Tensor | np.ndarray, size: int, exact: bool = False) -> torch.Tensor | np.ndarray:
    """Resize (3, H, W) so its longer side is ``size`` (aspect kept), or to size×size with ``exact``.

    ``size <= 0`` keeps the original resolution. The filter is antialiased bicubic (Keys, a = -0.5):
    torch's for a tensor (on its device), Pillow's on float channels for an array, so the torch-free
    quick path needs no torch and rounds nothing to 8 bits; the two agree to 1e-4.
    """
    if size <= 0:
        return image
    h, w = image.shape[-2:]
    target = (size, size) if exact else longer_side_to(h, w, size)
    if target == (h, w):
        return image
    if isinstance(image, np.ndarray):
        return np.stack([np.asarray(Image.fromarray(np.asarray(channel, np.float32), "F").resize(target[::-1], Image.BICUBIC))
                         for channel in image]).clip(0, 1)
    return torch.nn.functional.interpolate(
        image[None], size=target, mode="bicubic", antialias=True, align_corners=False
    )[0].clamp(0, 1)


def fit_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An (H, W, 3) uint8 video frame resized to exactly ``size`` (width, height): area averaging
    down, cubic up. OpenCV's, not :func:`resize_to`: a clip's pictures are made with it, and it
    takes half the time on 8-bit frames; the two differ by 0.3 to 2 levels on average."""
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    shrinking = size[0] < frame.shape[1]
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


# ---------------------------------------------------------------- writing


def save_image(image: Image.Image | np.ndarray | torch.Tensor, path: str | Path, force: bool = False) -> Path:
    """Write a PIL image, or a (3, H, W) array or tensor in [0, 1], atomically: a temporary file in
    the same folder, then a rename, so no half-written file is left."""
    path = Path(path)
    check_writable(path, force)
    if isinstance(image, np.ndarray):
        image = array_to_pil(image)
    elif not isinstance(image, Image.Image):
        image = tensor_to_pil(image)
    try:
        with atomic_path(path) as tmp:
            image.save(tmp, format=WRITE_FORMATS[path.suffix.lower()])
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from None
    return path
