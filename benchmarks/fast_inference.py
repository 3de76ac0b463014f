"""Seconds per image and quality cost of each fast-inference path, on the real model, in one process.

    OMP_NUM_THREADS=1 python benchmarks/fast_inference.py [--size 512] [--repeats 2] [--compile] [--weights PATH]

Speed: seconds to stylise one ``--size`` px content image (chelsea, Starry Night style; the style's
tokens are prepared once, outside the timing), the median of ``--repeats`` runs after a warm-up run.
Quality: content loss and style loss (the training losses, measured with the fp32 encoder) of each
path's outputs on held-out bundled examples (photos and library styles that INT8 calibration never
saw), as a change against fp32, plus the mean absolute pixel difference from the fp32 output.

Without shipped SANet weights the decoder and attention are random; timings are unaffected, and
the quality columns then only show numerical drift. The report says which weights were used.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

from sanet_text.core.errors import UserError
from sanet_text.core.paths import EXAMPLES_DIR, prompts_dir
from sanet_text.core.sysinfo import system_info
from sanet_text.images.processor import load_image, resize_to
from sanet_text.models import losses
from sanet_text.models.model import SANet, build_model
from sanet_text.options.commands import add_model_options
from sanet_text.render import export
from sanet_text.render.export import InferenceOptions
from sanet_text.render.pipeline import stylize
from sanet_text.styles.base import StyleGroup
from sanet_text.styles.image import style_from_image

TIMING_PAIR = (EXAMPLES_DIR / "chelsea.jpg", EXAMPLES_DIR / "starry_night.jpg")
# Not among export.calibration_pairs() (the first four photos with Starry Night).
QUALITY_CONTENTS = (EXAMPLES_DIR / "coffee.jpg", EXAMPLES_DIR / "fruits.jpg")
QUALITY_STYLES = tuple(prompts_dir() / "exemplars" / name / "1.jpg" for name in ("watercolor", "mosaic", "ukiyo_e"))
CPU = torch.device("cpu")

Render = Callable[[torch.Tensor, StyleGroup], torch.Tensor]


def load_model(config: str, weights: str | None, vgg_weights: str | None) -> tuple[SANet, str]:
    try:
        return build_model(config, weights, vgg_weights), weights or f"{config}'s own"
    except UserError as err:
        print(f"note: {err}; timing with random SANet weights", file=sys.stderr)
        return build_model(config, "random", vgg_weights), "random (shipped weights not found)"


def torch_path(model: SANet, options: InferenceOptions) -> Render:
    prepared = export.prepare(model, options)

    def render(content: torch.Tensor, style: StyleGroup) -> torch.Tensor:
        with export.autocast(options.precision, CPU):
            return stylize(prepared, content, [style]).image

    return render


def onnx_path(model: SANet) -> Render:
    # The session holds the whole graph once loaded, so the exported file need not outlive this call.
    with tempfile.TemporaryDirectory(prefix="sanet-onnx-") as folder:
        runner = export.OnnxStylizer(export.export_onnx(model, Path(folder) / "sanet.onnx"))

    def render(content: torch.Tensor, style: StyleGroup) -> torch.Tensor:
        part = style.parts[0]
        with torch.no_grad():
            tokens = model.style_tokens([part.feat4, part.feat5])
        return runner(content, tokens).clamp(0, 1)

    return render


def seconds_per_image(render: Render, content: torch.Tensor, style: StyleGroup, repeats: int) -> tuple[float, float]:
    """(first run, median of the next ``repeats``): the first includes one-off work such as compiling."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        render(content, style)
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:])


def quality(model: SANet, render: Render, pairs: list[tuple[torch.Tensor, StyleGroup, list[torch.Tensor]]],
            reference: list[torch.Tensor] | None) -> tuple[float, float, float, list[torch.Tensor]]:
    """Mean content loss, style loss and pixel difference from ``reference`` over ``pairs``; and the outputs."""
    content_total = style_total = pixel_total = 0.0
    outputs = []
    with torch.no_grad():
        for index, (content, style, style_feats) in enumerate(pairs):
            out = render(content, style).float()
            outputs.append(out)
            out_feats, content_feats = model.encode(out), model.encode(content)
            content_total += float(losses.content_loss(out_feats, content_feats))
            style_total += float(losses.style_loss(out_feats, style_feats))
            if reference is not None:
                pixel_total += float((out - reference[index]).abs().mean())
    n = len(pairs)
    return content_total / n, style_total / n, pixel_total / n, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512, help="content side for timing (default 512)")
    parser.add_argument("--quality-size", type=int, default=256,
                        help="image side for the quality columns (default 256)")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per path, after a warm-up (default 2)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (minutes of compiling)")
    add_model_options(parser, device=None)  # the CPU paths; --config tiny: a quick check of this script
    args = parser.parse_args()
    config = args.config or "base"
    print(system_info().line(), flush=True)

    torch.manual_seed(0)
    model, weights_note = load_model(config, args.weights, args.vgg_weights)
    content = resize_to(load_image(TIMING_PAIR[0]), args.size)[None]
    style = style_from_image(resize_to(load_image(TIMING_PAIR[1]), 512), model, "starry_night")
    pairs = []
    for photo in QUALITY_CONTENTS:
        for style_path in QUALITY_STYLES:
            style_image = resize_to(load_image(style_path), args.quality_size)
            with torch.no_grad():
                style_feats = model.encode(style_image[None])
            pairs.append((resize_to(load_image(photo), args.quality_size)[None],
                          style_from_image(style_image, model, style_path.parent.name), style_feats))

    paths: list[tuple[str, Callable[[], Render]]] = [
        ("eager fp32", lambda: torch_path(model, InferenceOptions())),
        ("channels-last", lambda: torch_path(model, InferenceOptions(channels_last=True))),
    ]
    if export.bf16_supported(CPU):
        paths += [("bf16 autocast", lambda: torch_path(model, InferenceOptions("bf16"))),
                  ("channels-last + bf16", lambda: torch_path(model, InferenceOptions("bf16", channels_last=True)))]
    paths += [("int8 (attention + decoder)", lambda: torch_path(model, InferenceOptions("int8")))]
    paths += [("onnxruntime fp32", lambda: onnx_path(model))]
    if args.compile:
        paths += [("torch.compile", lambda: torch_path(model, InferenceOptions(compile=True)))]

    print(f"# fast inference: {config} model, {args.size} px content, SANet weights: {weights_note}")
    print("| path | s/image | first run s | speed-up | content loss (Δ vs fp32) | style loss (Δ vs fp32) | mean abs Δ pixel |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    # The first path is eager fp32: every later row is compared with it.
    fp32_seconds = fp32_losses = reference = None
    for name, build in paths:
        start = time.perf_counter()
        render = build()
        setup = time.perf_counter() - start
        first, seconds = seconds_per_image(render, content, style, args.repeats)
        fp32_seconds = fp32_seconds or seconds
        if name == "torch.compile":
            quality_cells = "not measured (each new size compiles anew) | | "
        else:
            content_loss, style_loss, pixel, outputs = quality(model, render, pairs, reference)
            if reference is None:
                fp32_losses, reference = (content_loss, style_loss), outputs
            quality_cells = (f"{content_loss:.4g} ({100 * (content_loss / fp32_losses[0] - 1):+.1f} %) | "
                             f"{style_loss:.4g} ({100 * (style_loss / fp32_losses[1] - 1):+.1f} %) | {pixel:.4f}")
        print(f"| {name} | {seconds:.3f} | {first:.3f} (setup {setup:.1f}) | {fp32_seconds / seconds:.2f}× | "
              f"{quality_cells} |", flush=True)


if __name__ == "__main__":
    main()
