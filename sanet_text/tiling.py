"""High resolution: stylise large images in overlapping tiles, so memory stays bounded at 4096 px and beyond.

The encoder and decoder need memory in proportion to the pixels they see (a 4096² image would need
tens of GB at once). Instead each tile runs encoder → attention → decoder on its own, against style
tokens computed once, and tiles are blended with raised-cosine weights where they overlap.

Two things keep tiles from disagreeing at their borders:

* The attention query normalises the content by its channel mean/std. Each tile's own statistics
  differ (a sky tile against a forest tile), which shows as seams; every tile instead uses the
  statistics of the whole image, taken from a downscaled copy (:func:`whole_image_context`). The
  content's own attention tokens (used by ``alpha`` and uncovered mask areas) come from there too.
* Tiles start on a 16 px grid, the encoder's relu5_1 stride, so their max-pooling cells coincide
  with those of the whole image.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .attention import Stats, channel_stats
from .errors import UserError
from .imageio import resize_to
from .model import SANet, StylePair

# Above this long side, stylize tiles by itself (at 1536 px the untiled encoder needs ~3 GB).
AUTO_TILE_ABOVE = 1536
AUTO_TILE = 1024
# relu5_1 stride: tiles starting on this grid pool exactly as the whole image does.
ALIGN = 16
# At an edge shared with a neighbour a tile's output is discarded for MARGIN px (its padding still
# shows there: relu4_1/relu5_1 of a tile match those of the whole image only from 4 cells, 32/64 px,
# inside, and the decoder spreads that ~30 px further), then blended in over RAMP px.
MARGIN = 64
RAMP = 64
OVERLAP = 2 * MARGIN + RAMP
MIN_TILE = 2 * OVERLAP
# Long side of the downscaled copy whose statistics all tiles share.
STATS_SIZE = 1024


@dataclass
class WholeImageContext:
    """What every tile takes from the whole image: relu4_1/relu5_1 statistics and its own style tokens."""

    stats: tuple[Stats, Stats]
    own_tokens: StylePair


def choose_tile(size: tuple[int, int], tile: int | None, wants_attention: bool = False) -> int:
    """The tile side to use for an image of ``size`` (0 = untiled); ``tile`` None = decide by size."""
    if tile is None:
        # Attention maps need the whole image in one piece; below the threshold that is affordable.
        return AUTO_TILE if max(size) > AUTO_TILE_ABOVE and not wants_attention else 0
    if check_tile(tile) == 0 or max(size) <= tile:
        return 0
    if wants_attention:
        raise UserError("--save-attention needs the whole image at once; use --tile 0 or a smaller --size")
    return tile // ALIGN * ALIGN


def check_tile(tile: int) -> int:
    """``tile`` itself if it is a usable tile side (or 0 = untiled), else a UserError."""
    if tile < 0 or 0 < tile < MIN_TILE:
        raise UserError(f"--tile must be 0 (off) or at least {MIN_TILE} px, got {tile}")
    return tile


def tile_windows(length: int, tile: int) -> list[slice]:
    """As few windows as cover ``range(length)`` overlapping by ≥ OVERLAP, spread evenly, starts on the ALIGN grid.

    Each is ``tile`` long; the last ends at the border (up to ALIGN - 1 px longer) rather than
    being a thin strip, which the network would render badly (it would see mostly padding).
    """
    if length <= tile:
        return [slice(0, length)]
    count = math.ceil((length - OVERLAP) / (tile - OVERLAP))
    # Flooring each start to the grid keeps every step within tile - OVERLAP (itself on the grid).
    starts = sorted({i * (length - tile) // (count - 1) // ALIGN * ALIGN for i in range(count)})
    return [slice(start, length if start == starts[-1] else start + tile) for start in starts]


def feather(window: slice, length: int) -> torch.Tensor:
    """1-D blend weights of a window: at each edge shared with a neighbour, 0 over MARGIN px, then a raised-cosine ramp.

    Neighbours overlap by at least OVERLAP = 2·MARGIN + RAMP, so every pixel has a positive total weight.
    """
    weight = torch.ones(window.stop - window.start)
    edge = torch.zeros(MARGIN + RAMP)
    edge[MARGIN:] = 0.5 - 0.5 * torch.cos(math.pi * (torch.arange(RAMP) + 0.5) / RAMP)
    if window.start > 0:
        weight[: len(edge)] = edge
    if window.stop < length:
        weight[-len(edge):] = torch.minimum(weight[-len(edge):], edge.flip(0))
    return weight


def render_tiled(
    render: Callable[[torch.Tensor, tuple[slice, slice]], torch.Tensor], image: torch.Tensor, tile: int
) -> torch.Tensor:
    """``render`` (crop, (rows, cols)) → output crop, applied tile by tile to (1, C, H, W) and feathered together."""
    _, _, height, width = image.shape
    out = torch.zeros(1, 3, height, width, device=image.device)
    total = torch.zeros(1, 1, height, width, device=image.device)
    for rows in tile_windows(height, tile):
        row_weight = feather(rows, height).to(image.device)
        for cols in tile_windows(width, tile):
            weight = row_weight[:, None] * feather(cols, width).to(image.device)[None, :]
            out[..., rows, cols] += weight * render(image[..., rows, cols], (rows, cols)).float()
            total[..., rows, cols] += weight
    return out.div_(total)  # in place: at 4096 px each full-size copy is 200 MB


def whole_image_context(model: SANet, image: torch.Tensor) -> WholeImageContext:
    """Statistics and own tokens of (1, 3, H, W) ``image``, from a copy at most STATS_SIZE px long."""
    small = image if max(image.shape[-2:]) <= STATS_SIZE else resize_to(image[0], STATS_SIZE)[None]
    feats = model.encode(small)
    return WholeImageContext(stats=(channel_stats(feats[3]), channel_stats(feats[4])), own_tokens=model.style_tokens(feats))


# ---------------------------------------------------------------- peak memory benchmark


def _measure_child(config: str, size: int, tile: int | None) -> dict[str, float]:
    """In this (fresh) process: stylise a size×size image and report the process's peak RSS."""
    from .model import build_model
    from .pipeline import stylize
    from .styles.image import image_style

    model = build_model(config, weights="random")
    style = image_style(Path(__file__).parent / "assets" / "examples" / "starry_night.jpg", model, 512)
    # Smooth random content: structure for the encoder without reading (and holding) a huge file.
    content = torch.nn.functional.interpolate(torch.rand(1, 3, size // 32, size // 32), size=(size, size),
                                              mode="bilinear", align_corners=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    stylize(model, content, [style], tile=tile)
    return {"size": size, "seconds": time.perf_counter() - start, "inputs_rss_mb": before,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def peak_rss_by_size(config: str = "base", sizes: tuple[int, ...] = (1024, 2048, 4096),
                     tile: int | None = None) -> dict[int, float]:
    """Peak resident memory (MB) of stylising a square image of each size, each in a fresh process.

    Random SANet weights (memory does not depend on their values); ``tile`` as for ``stylize``.
    """
    return {size: measure_in_subprocess(config, size, tile)["peak_rss_mb"] for size in sizes}


def measure_in_subprocess(config: str, size: int, tile: int | None = None) -> dict[str, float]:
    """Size, seconds, peak RSS before stylising (model, style and content loaded) and overall (MB), in a fresh process."""
    command = [sys.executable, "-m", "sanet_text.tiling", "--child", str(size), "--config", config]
    if tile is not None:
        command += ["--tile", str(tile)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{size} px run failed: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sanet_text.tiling",
                                     description="Peak memory of tiled stylisation at several image sizes.")
    parser.add_argument("--sizes", default="1024,2048,4096",
                        help="comma-separated square image sides (default 1024,2048,4096)")
    parser.add_argument("--config", default="base", help="model config (default base)")
    parser.add_argument("--tile", type=int, help="tile side (0 = untiled; default: automatic)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # one measurement, in this process
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(_measure_child(args.config, args.child, args.tile)))
        return
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure_in_subprocess(args.config, size, args.tile)
        print(f"{size:>6} px  peak RSS {row['peak_rss_mb']:7.0f} MB (inputs loaded {row['inputs_rss_mb']:.0f} MB)"
              f"  {row['seconds']:6.1f} s", flush=True)


if __name__ == "__main__":
    main()
