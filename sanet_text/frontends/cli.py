"""The ``sanet-text`` command: stylise an image, or a folder of images, with image and/or text styles."""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from .. import __version__
from ..core.clock import command_seconds
from ..core.config import load_model_config
from ..core.disk_cache import unusable
from ..core.errors import UserError, run_command
from ..images.processor import DEFAULT_SIZE, not_found, path_exists, save_image
from ..models.weights import registry
from ..options.commands import Parser, add_model_options, image_files, pixel_size
from ..options.validation import check_content_arg, check_output_arg, check_run_options
from ..render.export import PRECISIONS
from ..render.pipeline import MATCH_COLOR
from ..render.tiling import AUTO_TILE, AUTO_TILE_ABOVE, check_tile
from ..styles.base import prompt_slug
from ..styles.diffusion import DiffusionSettings
from ..stylizer import Stylizer, mapper_unavailable, offered_sources
from ..video.clips import stylize_video
from ..video.temporal import TemporalSettings
from ..video.video import OUTPUT_FORMATS, is_video, probe
from . import quick
from .outputs import attention_path, is_image_path, plan_outputs

PROG = "sanet-text"
# Longest file name and path (bytes) Linux file systems accept. macOS and Windows count 255
# characters instead, but files with such names have an image extension, which is checked first.
USAGE = f"{PROG} CONTENT [PROMPT] [--style STYLE ...] [options]"
DESCRIPTION = f"""\
Paint CONTENT (a picture, a folder of pictures or a video) in the style of a
picture, of words, or of several of them mixed.

examples:
  {PROG} photo.jpg "Van Gogh starry night"
  {PROG} photo.jpg --style painting.jpg --alpha 0.8 -o result.png"""
EPILOG = """\
The result is written as <content>_<style>.png (.mp4 for a video) in the current
folder, and running the same command again replaces it; a file named with -o is
kept unless --force; an input is never overwritten. Errors are one line (exit
code 2); SANET_TEXT_DEBUG=1 shows tracebacks."""
# What --help says of each text source; only those offered here are listed.
SOURCE_HELP = {
    "library": "built-in styles (offline, the default)",
    "mapper": "style tokens from the trained text mapper in $SANET_TEXT_MAPPER",
    "diffusion": "a picture painted from the words by a downloaded model",
}


def _weights(text: str) -> list[float]:
    try:
        return [float(w) for w in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like 0.7,0.3, got {text!r}") from None


def _tile(text: str) -> int:
    try:
        return check_tile(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None


def _steps(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps >= 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, usage=USAGE, description=DESCRIPTION, epilog=EPILOG,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("content", metavar="CONTENT", help="a picture, a folder of pictures, or a video")
    parser.add_argument("prompt", metavar="PROMPT", nargs="?", help='a style in words, in quotes: "Van Gogh starry night"')
    parser.add_argument("--version", action="version", version=_version(), help="show the program's and the model's version")
    parser.add_argument("--style", action="append", default=[], metavar="STYLE",
                        help="a style picture or words; repeat to mix several styles")
    parser.add_argument("--mix", type=_weights, metavar="W1,W2",
                        help="how much of each style, e.g. 0.7,0.3 (default: equal)")
    parser.add_argument("--mask", action="append", default=[], metavar="MASK",
                        help="a style only where MASK is white; one mask per style")
    parser.add_argument("--alpha", type=float, default=1.0, metavar="A",
                        help="style strength: 0 none, 1 full, >1 more (default 1)")
    parser.add_argument("--preserve-color", action="store_true", help="keep the content's own colours")
    parser.add_argument("--color-match", dest="match_color", action=argparse.BooleanOptionalAction,
                        default=MATCH_COLOR, help="take the style pictures' colours too (default: on)")
    parser.add_argument("--size", type=pixel_size, default=DEFAULT_SIZE, metavar="N",
                        help=f"the result's longer side (default {DEFAULT_SIZE} px; 0 = as is)")
    parser.add_argument("--style-size", type=pixel_size, metavar="N",
                        help=f"style pictures' longer side (default: --size, at most {DEFAULT_SIZE}; 0 = as is)")
    parser.add_argument("--tile", type=_tile, metavar="N",
                        help=f"paint in N px pieces so memory stays small (default: {AUTO_TILE} px pieces above "
                             f"{AUTO_TILE_ABOVE} px; 0 = never)")
    parser.add_argument("--source", type=_source, choices=offered_sources(), default="library", metavar="SOURCE",
                        help="; ".join(f"{source}: {SOURCE_HELP[source]}" for source in offered_sources()))
    parser.add_argument("--diffusion-model", default=DiffusionSettings.model, metavar="NAME",
                        help=f"the text-to-image model: a hub name or a folder (default {DiffusionSettings.model})")
    parser.add_argument("--diffusion-steps", type=_steps, default=DiffusionSettings.steps, metavar="N",
                        help=f"its painting steps (default {DiffusionSettings.steps})")
    parser.add_argument("--temporal", type=float, default=TemporalSettings.strength, metavar="T",
                        help=f"video: calm flicker, 0 (off) to 1 (default {TemporalSettings.strength})")
    parser.add_argument("--seed", type=int, metavar="N",
                        help=f"repeatable results (default none; {DiffusionSettings.seed} for diffusion)")
    parser.add_argument("-o", "--output", metavar="OUT", help="output file, or folder (default: see below)")
    parser.add_argument("--force", action="store_true", help="replace an existing file named with -o")
    parser.add_argument("--save-attention", action="store_true",
                        help="also write OUT.attention.png: where the result looks in the style picture")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32", metavar="P",
                        help="fp32 (default); bf16: about 2x faster on new CPUs and GPUs; int8: faster on CPUs")
    parser.add_argument("--compile", action="store_true", help="compile the model: slow first picture, faster after")
    add_model_options(parser)
    return parser


def _version() -> str:
    """The package's version and the default model's, one scheme: ``sanet-text 0.2.2 (model sanet-base 0.2.2)``."""
    spec = registry()[load_model_config("base").weights]
    return f"{PROG} {__version__} (model {spec.name} {spec.version})"


def _source(text: str) -> str:
    if text == "mapper" and text not in offered_sources():
        raise argparse.ArgumentTypeError(f"the text mapper is not available: {mapper_unavailable()}")
    return text


def _slug(styles: list[Path | str]) -> str:
    """The styles' part of the default output name: an image's file stem, or the prompt shortened."""
    return "+".join(style.stem if isinstance(style, Path) else prompt_slug(style) for style in styles)


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def run(args: argparse.Namespace, request: quick.Request | None = None) -> int:
    """Run parsed ``args``; ``request``: the same command as the quick path sees it (it then leaves a plan)."""
    check_content_arg(args.content)
    check_output_arg(args.output)
    check_run_options(diffusion_steps=args.diffusion_steps)
    TemporalSettings(strength=args.temporal)  # its check, for images too: a bad value is a mistake either way
    styles: list[Path | str] = [Path(value) if is_image_path(value) else value
                                for value in ([args.prompt] if args.prompt is not None else []) + args.style]
    stylizer = Stylizer.from_pretrained(
        args.weights, config=args.config, vgg_weights=args.vgg_weights, device=args.device,
        precision=args.precision, compile=args.compile, source=args.source, style_size=args.style_size,
        diffusion=DiffusionSettings(model=args.diffusion_model, steps=args.diffusion_steps,
                                    seed=DiffusionSettings.seed if args.seed is None else args.seed))
    stylizer.check_inputs(styles, mix=args.mix, masks=args.mask, alpha=args.alpha, size=args.size,
                          style_size=args.style_size)
    if args.save_attention and not any(isinstance(style, Path) for style in styles):
        raise UserError("--save-attention shows attention on a style picture; give one with --style IMAGE")

    content = Path(args.content)
    if not path_exists(args.content):
        raise not_found(content)
    if is_video(content):
        return _run_video(args, stylizer, styles, content)
    folder_input = content.is_dir()
    contents = image_files(content)
    outputs = plan_outputs(contents, styles, args.output, _slug(styles), args.force, folder_input=folder_input,
                           masks=args.mask, with_attention=args.save_attention)

    if args.seed is not None:
        _seed(args.seed)
    prepared = stylizer.prepare(styles, style_size=stylizer.style_size_for(args.size))  # once, for every image of a folder
    failures = 0
    for content_path, output in tqdm(list(zip(contents, outputs.paths)), desc=PROG, unit="image", file=sys.stderr,
                                     disable=not folder_input):
        try:
            result = stylizer(content_path, prepared, mix=args.mix, masks=args.mask, alpha=args.alpha,
                              preserve_color=args.preserve_color, match_color=args.match_color, size=args.size,
                              tile=args.tile, return_attention=args.save_attention)
            output.parent.mkdir(parents=True, exist_ok=True)  # a new -o folder appears with its first image
            save_image(result.image, output, force=outputs.replace)
            if args.save_attention:
                save_image(result.attention_picture(), attention_path(output), force=outputs.replace)
        except UserError as err:
            if not folder_input:
                raise
            failures += 1  # one bad file in a folder should not stop the rest
            tqdm.write(f"{PROG}: error: {err}", file=sys.stderr)
            continue
        tqdm.write(f"{output}  {result.description}  {command_seconds():.1f}s", file=sys.stdout)
        if request is not None and not folder_input:
            _remember(request, stylizer, prepared, result.description, _slug(styles))
    return 2 if failures else 0


def _remember(request: quick.Request, stylizer: Stylizer, prepared: list, description: str, slug: str) -> None:
    """Leave the quick path's plan for this command; the output is written, so a failure here only costs speed."""
    if len(prepared) != 1:
        return
    try:
        quick.remember(request, stylizer, prepared[0], description, slug)
    except OSError as err:  # the cache folder: said once, as for every other cache file
        unusable(err)
    except Exception as err:  # noqa: BLE001
        if os.environ.get("SANET_TEXT_DEBUG"):
            raise
        print(f"{PROG}: note: no quick path for this command next time ({type(err).__name__}: {err})", file=sys.stderr)


def _run_video(args: argparse.Namespace, stylizer: Stylizer, styles: list[Path | str], content: Path) -> int:
    """Stylise a clip: checked (clip, output, options) before the model loads, the style encoded once."""
    if args.save_attention:
        raise UserError("--save-attention works on images, not video clips")
    temporal = TemporalSettings(strength=args.temporal)
    probe(content)
    output = plan_outputs([content], styles, args.output, _slug(styles), args.force, masks=args.mask, suffix=".mp4",
                          formats=OUTPUT_FORMATS).paths[0]
    if args.seed is not None:
        _seed(args.seed)
    prepared = stylizer.prepare(styles, style_size=stylizer.style_size_for(args.size))
    result = stylize_video(stylizer, content, output, prepared, size=args.size, temporal=temporal,
                           mix=args.mix, masks=args.mask, alpha=args.alpha, preserve_color=args.preserve_color,
                           match_color=args.match_color, tile=args.tile)
    print(f"{output}  {result.description}  {result.frames} frames  {command_seconds():.1f}s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sanet-text`` with ``argv`` (default: the command line); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    return run_command(PROG, lambda: run(parse_args(argv), quick.parse(argv)))


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line; words left over after a prompt get a hint to quote the prompt."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        hint = ""
        if args.prompt is not None and not any(word.startswith("-") for word in extra):
            words = " ".join([args.prompt, *extra])
            hint = f'; a prompt of several words needs quotes: {PROG} {args.content} "{words}"'
        parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
    return args


if __name__ == "__main__":
    sys.exit(main())
