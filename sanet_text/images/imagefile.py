"""Image files without torch: reading any file defensively, checking output paths, writing atomically.

Every way a user's file can be odd (missing, corrupt, not an image, 16-bit, CMYK, alpha, rotated
by EXIF, absurdly large or tiny) ends in an RGB PIL image or a one-line :class:`UserError`. Torch-free,
so a warm one-shot run (:mod:`sanet_text.frontends.quick`) can use it without importing torch.
"""

from __future__ import annotations

import difflib
import os
import stat
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..core.atomic import atomic_path
from ..core.errors import UserError, first_line

# Pillow's decompression-bomb guard, made an error from the pixel count where Pillow only warns.
MAX_PIXELS = 89_478_485
MIN_SIDE = 16
# Longer side, in pixels, content and style pictures are painted at unless asked otherwise: the CLI's,
# the Python API's and the quick path's default alike.
DEFAULT_SIZE = 512
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB 8-bit from any Pillow mode; transparency is composited onto white, as a viewer shows it."""
    if image.mode in {"I;16", "I;16L", "I;16B", "I;16N", "I", "F"}:
        array = np.asarray(image, dtype=np.float32)
        # 16-bit files keep their full range in "I" mode; scale by the format's range, not to 8 bits by truncation.
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        if image.mode == "F" and array.max() <= 1.0:
            peak = 1.0
        array = np.clip(array / peak * 255.0, 0, 255).astype(np.uint8)
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


# Longest file name component and path Linux accepts, in bytes.
NAME_MAX, PATH_MAX = 255, 4096


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


def longer_side_to(height: int, width: int, size: int) -> tuple[int, int]:
    """(height, width) scaled so the longer side is ``size``, aspect kept (at least 1 px each)."""
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def pil_to_array(image: Image.Image) -> np.ndarray:
    """An RGB image as a float32 (3, H, W) array in [0, 1]."""
    return np.ascontiguousarray((np.asarray(image, dtype=np.float32) / 255.0).transpose(2, 0, 1))


def array_to_pil(image: np.ndarray) -> Image.Image:
    """A (3, H, W) array in [0, 1] as an 8-bit RGB image, rounded to the nearest level."""
    return Image.fromarray((np.clip(image, 0, 1).transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8))


def save_pil(image: Image.Image, path: str | Path, force: bool = False) -> Path:
    """Write atomically: a temporary file in the same folder, then a rename, so no half-written file is left."""
    path = Path(path)
    check_writable(path, force)
    try:
        with atomic_path(path) as tmp:
            image.save(tmp, format=WRITE_FORMATS[path.suffix.lower()])
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from None
    return path
