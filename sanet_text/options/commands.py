"""What the console commands share: an argument parser with one-line errors, argument types, folder listing."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import UserError
from ..images.processor import IMAGE_SUFFIXES, MIN_SIDE


class Parser(argparse.ArgumentParser):
    """argparse, but errors become one-line UserErrors instead of usage dumps."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see {self.prog} --help)")


def pixel_size(text: str) -> int:
    """A ``--size``-like argument: 0 (keep the original size) or at least MIN_SIDE pixels."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None
    if value != 0 and value < MIN_SIDE:
        raise argparse.ArgumentTypeError(f"must be 0 (keep the original size) or at least {MIN_SIDE}, got {value}")
    return value


def image_files(path: Path) -> list[Path]:
    """``path`` itself, or the images in folder ``path`` (sorted; hidden files skipped)."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and not p.name.startswith("."))
    if not files:
        raise UserError(f"no images in folder {path} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return files
