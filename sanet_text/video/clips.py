"""Stylising a video clip: the style encoded once, every frame through the Stylizer, temporal blending
against flicker (:mod:`sanet_text.video.temporal`), the clip read and written by :mod:`sanet_text.video.video`."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from tqdm import tqdm

from ..images.processor import fit_frame, to_uint8
from ..render.pipeline import PreparedStyle
from ..stylizer import Stylizer
from .temporal import TemporalBlender, TemporalSettings
from .video import VideoInfo, probe, rewrite_video


@dataclass(frozen=True)
class ClipResult:
    frames: int
    seconds: float
    description: str


def frame_size(info: VideoInfo, size: int) -> tuple[int, int]:
    """(width, height) frames are stylised at: longer side ``size`` (0 = the source's), both even for H.264."""
    scale = 1.0 if size <= 0 else size / max(info.width, info.height)
    return tuple(max(2, 2 * round(side * scale / 2)) for side in (info.width, info.height))  # type: ignore[return-value]


def as_array(image: torch.Tensor) -> np.ndarray:
    """A Stylizer's (3, H, W) image as the (H, W, 3) float32 array the temporal blending works on."""
    return image.permute(1, 2, 0).cpu().numpy()


def stylize_video(stylizer: Stylizer, source: str | Path, target: str | Path, styles: Sequence[PreparedStyle], *,
                  size: int = 512, temporal: TemporalSettings = TemporalSettings(), progress: bool = True,
                  **options: Any) -> ClipResult:
    """Write ``target``: ``source`` stylised frame by frame with ``styles`` (prepared once), audio kept.

    ``size``: longer side of the frames (0 = the source's). ``temporal``: the flicker suppression
    (strength 0 = every frame on its own). ``options``: the Stylizer's per-image options (mix,
    masks, alpha, preserve_color, match_color, tile). A progress bar on stderr counts frames when ``progress``.
    """
    start = time.perf_counter()
    info = probe(source)
    dimensions = frame_size(info, size)
    blender = TemporalBlender(temporal)
    description = ""

    def paint(frame: np.ndarray) -> np.ndarray:
        nonlocal description
        content = fit_frame(frame, dimensions)
        output = stylizer(content, styles, size=0, **options)
        description = output.description
        return to_uint8(blender(content, as_array(output.image)))

    with tqdm(total=info.frames, desc=Path(source).name, unit="frame", file=sys.stderr, disable=not progress) as bar:
        frames = rewrite_video(source, target, paint, dimensions, on_frame=bar.update)
    return ClipResult(frames, time.perf_counter() - start, description)
