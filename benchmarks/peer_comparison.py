"""sanet-text vs Magenta (and Gatys) on the same content/style pairs, as Markdown tables for the model card.

Contents: the bundled photos (sanet_text/assets/examples). Styles: Starry Night and the first
exemplar of a few library styles, all used as style pictures. Every method's output is scored in
the same VGG space, the sanet-text encoder's, with sanet_text.losses (via
sanet_text.eval.evaluate). Gatys optimisation takes minutes per image on a CPU, so it runs on
the first --gatys-pairs pairs only, and gets its own table comparing all methods on that subset.

    python benchmarks/peer_comparison.py --size 512
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import torch

from sanet_text.baselines import GatysConfig, GatysMethod, MagentaMethod, SanetMethod, image_eval_style
from sanet_text.baselines import magenta_model_dir
from sanet_text.eval import evaluate, mean_rows
from sanet_text.imageio import load_image, resize_to
from sanet_text.model import build_model
from sanet_text.styles.text_encoders import prompts_dir
from sanet_text.sysinfo import system_info

EXAMPLES = Path(__file__).resolve().parents[1] / "sanet_text" / "assets" / "examples"
STYLE_PICTURE = "starry_night.jpg"
EXEMPLAR_STYLES = ("watercolor", "cubism", "ukiyo_e", "pointillism")
NAMES = {"sanet": "sanet-text", "magenta": "Magenta (ONNX)", "gatys": "Gatys"}


def markdown(rows: list[dict[str, Any]], label: str = "") -> list[str]:
    """One table line per method: mean style loss, content loss, edge SSIM and seconds per image."""
    return [f"| {NAMES[m['method']]}{label} | {m['style']} | {m['style_loss']:.4g} | {m['content_loss']:.4g} | "
            f"{m['edge_ssim']:.3f} | {m['seconds']:.3g} |" for m in mean_rows(rows)]


HEADER = ["| method | pairs | style loss ↓ | content loss ↓ | edge SSIM ↑ | s / image ↓ |",
          "| --- | --- | ---: | ---: | ---: | ---: |"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, help="longer side of contents and styles (default 512)")
    parser.add_argument("--gatys-steps", type=int, default=GatysConfig.steps,
                        help=f"Gatys L-BFGS evaluations (default {GatysConfig.steps})")
    parser.add_argument("--gatys-pairs", type=int, default=3, help="pairs Gatys runs on (default 3; 0 = none)")
    parser.add_argument("--weights", help="SANet weights (default: the shipped ones)")
    parser.add_argument("--config", default="base", help="model config (default base)")
    args = parser.parse_args(argv)
    print(system_info().line(), flush=True)

    start = time.perf_counter()
    model = build_model(args.config, args.weights)
    contents = [(p.name, resize_to(load_image(p), args.size)) for p in sorted(EXAMPLES.glob("*.jpg"))
                if p.name != STYLE_PICTURE]
    style_paths = [EXAMPLES / STYLE_PICTURE] + [prompts_dir() / "exemplars" / s / "1.jpg" for s in EXEMPLAR_STYLES]
    styles = [image_eval_style(p, model, args.size) for p in style_paths]
    for style, name in zip(styles[1:], EXEMPLAR_STYLES):
        style.label = f"{name}/1.jpg"
    methods = [SanetMethod(model)] + ([MagentaMethod()] if magenta_model_dir() is not None else [])
    rows = [row for row, _ in evaluate(model, contents, styles, methods)]

    # Gatys on pair i = (content i, style i mod n): several contents and styles, each pair once.
    subset = [(contents[i % len(contents)], styles[i % len(styles)]) for i in range(args.gatys_pairs)]
    gatys = GatysMethod(model, GatysConfig(steps=args.gatys_steps))
    gatys_rows = [row for content, style in subset for row, _ in evaluate(model, [content], [style], [gatys])]
    in_subset = {(content[0], style.label) for content, style in subset}

    lines = [f"{len(contents)} contents × {len(styles)} styles at {args.size} px, CPU, {torch.get_num_threads()} "
             f"threads; style/content loss: sanet_text.losses on the sanet-text VGG-19 encoder's features for "
             f"every method; seconds exclude once-per-style preparation.", "", *HEADER, *markdown(rows)]
    if gatys_rows:
        lines += ["", f"The {len(subset)} pairs Gatys ran on ({args.gatys_steps} L-BFGS evaluations each):", "",
                  *HEADER, *markdown([r for r in rows if (r["content"], r["style"]) in in_subset]),
                  *markdown(gatys_rows, f", {args.gatys_steps} steps")]
    lines += ["", "Style loss by style (mean over contents):", "",
              "| style | " + " | ".join(NAMES[m.name] for m in methods) + " |",
              "| --- |" + " ---: |" * len(methods)]
    for style in styles:
        cells = []
        for method in methods:
            losses = [r["style_loss"] for r in rows if r["method"] == method.name and r["style"] == style.label]
            cells.append(f"{sum(losses) / len(losses):.4g}")
        lines.append(f"| {style.label} | " + " | ".join(cells) + " |")
    lines += ["", f"({time.perf_counter() - start:.0f} s in all)"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
