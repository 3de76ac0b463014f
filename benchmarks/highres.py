"""Peak memory and time of high-resolution stylisation, tiled and untiled, each size in a fresh process.

    OMP_NUM_THREADS=1 python benchmarks/highres.py [--config base] [--sizes 1024,2048,4096] [--untiled-up-to 2048]

Square smooth-noise content, the Starry Night style at 512 px, random SANet weights (memory and
time do not depend on their values). Tiled runs use the automatic tile (``--tile`` to change it);
untiled runs stop at ``--untiled-up-to`` px, because beyond it they need more memory than a
laptop has (that is the point of tiling).
"""

from __future__ import annotations

import argparse

from sanet_text.sysinfo import system_info
from sanet_text.tiling import AUTO_TILE, measure_in_subprocess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="base", help="model config (default base)")
    parser.add_argument("--sizes", default="1024,2048,4096",
                        help="comma-separated square image sides (default 1024,2048,4096)")
    parser.add_argument("--tile", type=int, default=AUTO_TILE, help=f"tile side (default {AUTO_TILE})")
    parser.add_argument("--untiled-up-to", type=int, default=2048,
                        help="largest size also run untiled (default 2048; 0 = none)")
    args = parser.parse_args()
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
