"""Draw a training run's loss curves (metrics.csv) as a PNG, with Pillow only.

    python benchmarks/loss_curves.py runs/base_cpu/metrics.csv -o sanet_text/pretrained/loss_curves.png

A resumed run logs the steps between its last checkpoint and the kill twice; the later row wins.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from PIL import Image, ImageDraw

from sanet_text.images.processor import save_image

COLOURS = {"loss": (20, 20, 20), "content": (31, 119, 180), "style": (214, 39, 40),
           "identity_pixel": (44, 160, 44), "identity_feature": (148, 103, 189)}


def read_metrics(path: Path) -> dict[str, list[tuple[int, float]]]:
    rows: dict[int, dict[str, str]] = {}
    with path.open() as handle:
        for row in csv.DictReader(handle):
            rows[int(row["step"])] = row
    steps = sorted(rows)
    return {k: [(s, float(rows[s][k])) for s in steps if rows[s].get(k)] for k in COLOURS if k in rows[steps[0]]}


def smooth(points: list[tuple[int, float]], window: int = 10) -> list[tuple[int, float]]:
    """Moving average: single batches of 4 crops are noisy."""
    out = []
    for i in range(len(points)):
        chunk = points[max(0, i - window + 1) : i + 1]
        out.append((points[i][0], sum(v for _, v in chunk) / len(chunk)))
    return out


def draw(series: dict[str, list[tuple[int, float]]], width: int = 900, height: int = 500) -> Image.Image:
    """One panel, log-scale y (terms differ by orders of magnitude), legend top right."""
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    left, right, top, bottom = 70, width - 170, 20, height - 40
    values = [v for pts in series.values() for _, v in pts if v > 0]
    steps = [s for pts in series.values() for s, _ in pts]
    lo, hi = math.log10(min(values)), math.log10(max(values))
    s0, s1 = min(steps), max(steps)

    def xy(step: int, value: float) -> tuple[float, float]:
        x = left + (right - left) * (step - s0) / max(1, s1 - s0)
        y = bottom - (bottom - top) * (math.log10(max(value, 10**lo)) - lo) / max(1e-9, hi - lo)
        return x, y

    pen.rectangle([left, top, right, bottom], outline="black")
    for decade in range(math.floor(lo), math.ceil(hi) + 1):
        if lo <= decade <= hi:
            y = xy(s0, 10**decade)[1]
            pen.line([left, y, right, y], fill=(225, 225, 225))
            pen.text((8, y - 6), f"1e{decade}", fill="black")
    pen.text((left, bottom + 10), f"step {s0}", fill="black")
    pen.text((right - 60, bottom + 10), f"step {s1}", fill="black")
    for row, (name, pts) in enumerate(series.items()):
        pen.line([xy(s, v) for s, v in smooth(pts)], fill=COLOURS[name], width=2)
        pen.text((right + 15, top + 18 * row), name, fill=COLOURS[name])
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("metrics", type=Path, help="a training run's metrics.csv")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the PNG to write (replaced if it exists)")
    args = parser.parse_args()
    save_image(draw(read_metrics(args.metrics)), args.output, force=True)
    print(args.output)


if __name__ == "__main__":
    main()
