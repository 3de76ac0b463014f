"""Peak memory and time of high-resolution stylisation, tiled and untiled, each size in a fresh process.

    OMP_NUM_THREADS=1 python benchmarks/highres.py [--config base] [--sizes 1024,2048,4096] [--untiled-up-to 2048]

Square smooth-noise content, the Starry Night style at 512 px, random SANet weights (memory and
time do not depend on their values). Tiled runs use the automatic tile (``--tile`` to change it);
untiled runs stop at ``--untiled-up-to`` px, because beyond it they need more memory than a
laptop has (that is the point of tiling). Peak memory is the process's maximum resident set
(``resource``, so Unix only), which is why every measurement runs in a process of its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch

from sanet_text.core.paths import EXAMPLES_DIR
from sanet_text.core.sysinfo import system_info
from sanet_text.render.tiling import AUTO_TILE
from sanet_text.stylizer import Stylizer


def measure(config: str, size: int, tile: int | None) -> dict[str, float]:
    """In this (fresh) process: stylise a size×size image and report the process's peak RSS (MB)."""
    stylizer = Stylizer.from_pretrained("random", config=config, device="cpu", style_size=512)
    styles = stylizer.prepare([EXAMPLES_DIR / "starry_night.jpg"])
    # Smooth random content: structure for the encoder without reading (and holding) a huge file.
    content = torch.nn.functional.interpolate(torch.rand(1, 3, size // 32, size // 32), size=(size, size),
                                              mode="bilinear", align_corners=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    stylizer(content, styles, size=0, tile=tile)
    return {"size": size, "seconds": time.perf_counter() - start, "inputs_rss_mb": before,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def measure_in_subprocess(config: str, size: int, tile: int | None = None) -> dict[str, float]:
    """Size, seconds, peak RSS before stylising (model, style and content loaded) and overall (MB), in a fresh process."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(size), "--config", config]
    if tile is not None:
        command += ["--tile", str(tile)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{size} px run failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="base", help="model config (default base)")
    parser.add_argument("--sizes", default="1024,2048,4096",
                        help="comma-separated square image sides (default 1024,2048,4096)")
    parser.add_argument("--tile", type=int, default=AUTO_TILE, help=f"tile side (default {AUTO_TILE})")
    parser.add_argument("--untiled-up-to", type=int, default=2048,
                        help="largest size also run untiled (default 2048; 0 = none)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # one measurement, in this process
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.config, args.child, args.tile)))
        return
    print(system_info().line(), flush=True)
    print(f"# {args.config} model, tile {args.tile} px")
    print("| size | mode | peak RSS MB | before stylize MB (model, style, content) | seconds |")
    print("| --- | --- | --- | --- | --- |")
    for size in (int(s) for s in args.sizes.split(",")):
        modes = [("tiled", args.tile)] + ([("untiled", 0)] if size <= args.untiled_up_to else [])
        for mode, tile in modes:
            row = measure_in_subprocess(args.config, size, tile)
            print(f"| {size} | {mode} | {row['peak_rss_mb']:.0f} | {row['inputs_rss_mb']:.0f} | {row['seconds']:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
