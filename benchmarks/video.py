"""Flicker, quality and speed of video stylisation, per frame against temporal blending, in one run.

    OMP_NUM_THREADS=1 python benchmarks/video.py [--clip ../shared/data/opencv-doc/vtest.avi] [--frames 100]
        [--size 384] [--style sanet_text/assets/examples/starry_night.jpg] [--temporal 0.8] [--strip docs/video_strip.jpg]

Each frame is stylised once; the per-frame output is that result, the temporal output is that
result blended with the previous temporal output (exactly what ``sanet-text clip.mp4 --temporal T``
does), so both modes see the same frames under the same machine load. Seconds per frame: the
Stylizer call (per frame) and the Stylizer call plus the blending with its two optical flows
(temporal).

Warping error: mean |output t − output t−1 warped by the input frames' flow| over pixels the
forward-backward check calls visible, in [0, 1] units. It is measured with Farneback flow, not the
DIS flow the blending uses, so the method is not graded by its own flow. Style loss: the training
style loss (channel means and deviations, relu1_1 … relu5_1) against the style image at 512 px;
content loss: the training content loss against the input frame. Both are means over frames.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from sanet_text.core.paths import EXAMPLES_DIR
from sanet_text.core.sysinfo import system_info
from sanet_text.images.processor import fit_frame, load_image, picture_tensor, resize_to, to_uint8
from sanet_text.models import losses
from sanet_text.options.commands import add_model_options
from sanet_text.stylizer import Stylizer
from sanet_text.video.clips import as_array, frame_size
from sanet_text.video.temporal import TemporalBlender, TemporalSettings, warping_difference
from sanet_text.video.video import probe, read_frames

REPO = Path(__file__).resolve().parents[1]
MODES = ("per-frame", "temporal")
STRIP_FRAMES = 4


def strip_picture(rows: list[tuple[str, list[np.ndarray]]]) -> Image.Image:
    """Labelled rows of equally sized frames, one picture."""
    h, w = rows[0][1][0].shape[:2]
    label = 22
    sheet = Image.new("RGB", (w * STRIP_FRAMES, (h + label) * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (name, frames) in enumerate(rows):
        draw.text((6, r * (h + label) + 5), name, fill="black")
        for c, frame in enumerate(frames):
            sheet.paste(Image.fromarray(to_uint8(frame) if frame.dtype != np.uint8 else frame),
                        (c * w, r * (h + label) + label))
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    clip = REPO.parent / "shared" / "data" / "opencv-doc" / "vtest.avi"
    parser.add_argument("--clip", type=Path, default=clip, help=f"the clip (default {clip})")
    parser.add_argument("--frames", type=int, default=100, help="first N frames of the clip (default 100)")
    parser.add_argument("--size", type=int, default=384, help="longer side of the frames (default 384)")
    style = EXAMPLES_DIR / "starry_night.jpg"
    parser.add_argument("--style", type=Path, default=style, help=f"the style picture (default {style})")
    parser.add_argument("--temporal", type=float, default=TemporalSettings.strength,
                        help=f"blending strength (default {TemporalSettings.strength})")
    parser.add_argument("--strip", type=Path, help="also write a frame strip (input, each mode, its flicker) here")
    parser.add_argument("--strip-start", type=int, default=40, help="first frame of the strip (default 40)")
    add_model_options(parser, device="cpu")
    args = parser.parse_args()

    print(system_info().line(), flush=True)  # first, so even an interrupted run says where it ran
    print(f"clip: {args.clip}, first {args.frames} frames at {args.size} px; style: {args.style.name}; "
          f"temporal strength {args.temporal}; weights: {args.weights or 'shipped'}", flush=True)
    stylizer = Stylizer.from_pretrained(args.weights, config=args.config, vgg_weights=args.vgg_weights,
                                        device=args.device)
    style_size = stylizer.style_size_for(args.size)  # as sanet-text --size SIZE
    styles = stylizer.prepare([args.style], style_size=style_size)
    model = stylizer.model
    with torch.inference_mode():
        style_feats = model.encode(resize_to(load_image(args.style), style_size)[None])
    dimensions = frame_size(probe(args.clip), args.size)
    blender = TemporalBlender(TemporalSettings(strength=args.temporal))

    totals = {mode: {"warping": [], "style": [], "content": [], "seconds": []} for mode in MODES}
    strip: dict[str, list[np.ndarray]] = {name: [] for name in ("input", *MODES, *(f"{m} flicker" for m in MODES))}
    previous: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
    for index, frame in enumerate(read_frames(args.clip, args.frames)):
        content = fit_frame(frame, dimensions)
        start = time.perf_counter()
        stylised = as_array(stylizer(content, styles, size=0).image)
        stylise_seconds = time.perf_counter() - start
        start = time.perf_counter()
        blended = blender(content, stylised)
        blend_seconds = time.perf_counter() - start
        outputs = {"per-frame": stylised, "temporal": blended}
        totals["per-frame"]["seconds"].append(stylise_seconds)
        totals["temporal"]["seconds"].append(stylise_seconds + blend_seconds)
        in_strip = args.strip_start <= index < args.strip_start + STRIP_FRAMES
        with torch.inference_mode():
            content_feats = model.encode(picture_tensor(content)[None])
            for mode, output in outputs.items():
                output_feats = model.encode(picture_tensor(output)[None])
                totals[mode]["style"].append(losses.style_loss(output_feats, style_feats).item())
                totals[mode]["content"].append(losses.content_loss(output_feats, content_feats).item())
        for mode, output in outputs.items():
            if previous is not None:
                difference, visible = warping_difference(previous[1][mode], output, previous[0], content)
                totals[mode]["warping"].append(float((difference * visible).sum() / max(visible.sum(), 1.0)))
                if in_strip:
                    strip[f"{mode} flicker"].append(np.repeat(np.clip(difference * 4, 0, 1)[..., None], 3, axis=-1))
            elif in_strip:
                strip[f"{mode} flicker"].append(np.zeros_like(output))
            if in_strip:
                strip[mode].append(output)
        if in_strip:
            strip["input"].append(content)
        previous = (content, outputs)
        print(f"frame {index}: {stylise_seconds:.2f}s + {blend_seconds:.2f}s blending", file=sys.stderr, flush=True)

    means = {mode: {key: float(np.mean(values)) for key, values in totals[mode].items()} for mode in MODES}
    print(f"\n{len(totals['per-frame']['seconds'])} frames of {dimensions[0]}×{dimensions[1]} px")
    print("| mode | warping error | style loss | content loss | s/frame |")
    print("| --- | --- | --- | --- | --- |")
    for mode in MODES:
        m = means[mode]
        print(f"| {mode} | {m['warping']:.4f} | {m['style']:.3f} | {m['content']:.3f} | {m['seconds']:.2f} |")
    base, temporal = means["per-frame"], means["temporal"]
    print(f"\ntemporal vs per-frame: warping error {100 * (temporal['warping'] / base['warping'] - 1):+.1f} %, "
          f"style loss {100 * (temporal['style'] / base['style'] - 1):+.1f} %, "
          f"content loss {100 * (temporal['content'] / base['content'] - 1):+.1f} %, "
          f"seconds per frame ×{temporal['seconds'] / base['seconds']:.2f}")
    if args.strip and strip["input"]:
        rows = [(f"{name} (frames {args.strip_start}-{args.strip_start + len(strip['input']) - 1})"
                 if name == "input" else name + (" (|t - warped t-1| x4)" if "flicker" in name else ""), frames)
                for name, frames in strip.items()]
        strip_picture(rows).save(args.strip, quality=88)
        print(f"strip: {args.strip}")


if __name__ == "__main__":
    main()
