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

import math
from dataclasses import dataclass
from typing import Callable

import torch
from tqdm import tqdm

from ..core.errors import UserError
from ..images.processor import resize_to
from ..models.attention import Stats, channel_stats
from ..models.model import SANet, StylePair

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
    windows = [(rows, cols) for rows in tile_windows(height, tile) for cols in tile_windows(width, tile)]
    # A 6000×4000 image takes minutes on a CPU: show that it moves (on a terminal only, not in logs).
    for rows, cols in tqdm(windows, desc="tiles", unit="tile", leave=False, disable=None, dynamic_ncols=True):
        weight = feather(rows, height).to(image.device)[:, None] * feather(cols, width).to(image.device)[None, :]
        out[..., rows, cols] += weight * render(image[..., rows, cols], (rows, cols)).float()
        total[..., rows, cols] += weight
    return out.div_(total)  # in place: at 4096 px each full-size copy is 200 MB


def whole_image_context(model: SANet, image: torch.Tensor) -> WholeImageContext:
    """Statistics and own tokens of (1, 3, H, W) ``image``, from a copy at most STATS_SIZE px long."""
    small = image if max(image.shape[-2:]) <= STATS_SIZE else resize_to(image[0], STATS_SIZE)[None]
    feats = model.encode(small)
    return WholeImageContext(stats=(channel_stats(feats[3]), channel_stats(feats[4])), own_tokens=model.style_tokens(feats))

