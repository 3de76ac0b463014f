"""Temporal consistency for video: the previous stylised frame, carried along the optical flow of the
*input* frames, is blended into the current one wherever the flow can be trusted.

SANet run frame by frame flickers: a pixel that barely moves can attend to a different style patch
in the next frame. Blending in the warped previous output makes each output a running average
along motion paths, so static and smoothly moving areas keep their strokes, while an occlusion mask
(forward-backward flow consistency, as in Ruder et al. 2016, plus a brightness check) leaves newly
visible and mis-tracked areas to the fresh per-frame result, so motion is not smeared. Averaging
also washes strokes out (every frequency band loses contrast, and the style loss rises by 10 % and
more at strength 0.8); each band of the blend is therefore rescaled to the fresh frame's contrast.

Flow comes from OpenCV (DIS by default, Farneback as an alternative); frames are (H, W, 3) float32
arrays in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import UserError
from ..core.lazy import lazy_module
from ..images.processor import to_uint8

cv2 = lazy_module("cv2")

FLOW_METHODS = ("dis", "farneback")


@dataclass(frozen=True)
class TemporalSettings:
    """How strongly and where the previous output is blended in.

    ``strength``: share of the warped previous output at trusted pixels (0 = every frame on its
    own; the CLI's ``--temporal``). ``flow``: the optical flow method. ``consistency`` and
    ``slack``: a pixel is occluded when its forward and backward flows do not cancel,
    |f + b|² > consistency·(|f|² + |b|²) + slack (px²). ``brightness``: a pixel is also distrusted
    when the warped previous input differs from the current input by more than this (grey level in
    [0, 1]); None skips the check. ``bands``: the Gaussian blur sigmas (px) that split an output
    into frequency bands whose contrast is restored after blending; empty = no restoration.
    """

    strength: float = 0.8
    flow: str = "dis"
    consistency: float = 0.01
    slack: float = 0.5
    brightness: float | None = 0.1
    bands: tuple[float, ...] = (1.0, 2.0, 4.0)

    def __post_init__(self) -> None:
        if not 0 <= self.strength <= 1:
            raise UserError(f"--temporal must be between 0 (per frame) and 1, got {self.strength}")
        if self.flow not in FLOW_METHODS:
            raise UserError(f"unknown flow method {self.flow!r}; use one of {', '.join(FLOW_METHODS)}")


def grey(frame: np.ndarray) -> np.ndarray:
    """An (H, W, 3) RGB frame, uint8 or float in [0, 1], as the 8-bit grey image flow methods take."""
    if frame.dtype != np.uint8:
        frame = to_uint8(frame)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def optical_flow(source: np.ndarray, target: np.ndarray, method: str = "dis") -> np.ndarray:
    """Flow (H, W, 2) from grey ``source`` to grey ``target``: source(x) ≈ target(x + flow(x))."""
    if method == "dis":
        # Made per call (it costs microseconds), so no flow object is shared between clips or threads.
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(source, target, None)
    return cv2.calcOpticalFlowFarneback(source, target, None, pyr_scale=0.5, levels=4, winsize=15,
                                        iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` sampled at x + flow(x): with the flow from frame t to t−1, frame t−1 moved onto frame t."""
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def trusted_flow(current: np.ndarray, previous: np.ndarray, settings: TemporalSettings,
                 brightness: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The flow from grey ``current`` back to grey ``previous`` and a (H, W) float mask, 1 where it is trusted.

    Pixels whose backward flow leaves the frame, or is not undone by the forward flow at the point it
    lands on (occluded or disoccluded), get 0; with ``brightness``, so do pixels whose warped previous
    grey level is far from the current one.
    """
    backward = optical_flow(current, previous, settings.flow)
    forward_there = warp(optical_flow(previous, current, settings.flow), backward)
    round_trip = np.sum((backward + forward_there) ** 2, axis=-1)
    magnitudes = np.sum(backward ** 2, axis=-1) + np.sum(forward_there ** 2, axis=-1)
    trusted = round_trip <= settings.consistency * magnitudes + settings.slack
    h, w = current.shape
    xs, ys = np.meshgrid(np.arange(w), np.arange(h))
    lands_x, lands_y = xs + backward[..., 0], ys + backward[..., 1]
    trusted &= (lands_x >= 0) & (lands_x <= w - 1) & (lands_y >= 0) & (lands_y <= h - 1)
    if brightness and settings.brightness is not None:
        difference = np.abs(warp(previous, backward).astype(np.float32) - current.astype(np.float32)) / 255
        trusted &= difference <= settings.brightness
    return backward, trusted.astype(np.float32)


def frequency_bands(image: np.ndarray, sigmas: tuple[float, ...]) -> list[np.ndarray]:
    """Differences of Gaussians, finest first, then the remaining low-pass image; they add up to ``image``."""
    bands = []
    for sigma in sigmas:
        low = cv2.GaussianBlur(image, (0, 0), sigma)
        bands.append(image - low)
        image = low
    return [*bands, image]


def restore_contrast(blended: np.ndarray, fresh: np.ndarray, sigmas: tuple[float, ...]) -> np.ndarray:
    """``blended`` with each frequency band's per-channel mean and standard deviation set to ``fresh``'s.

    One scale per band and channel over the whole frame: it follows the stroke contrast of the
    per-frame result without bringing back its pixel-level flicker.
    """
    restored = np.zeros_like(blended)
    for ours, theirs in zip(frequency_bands(blended, sigmas), frequency_bands(fresh, sigmas)):
        mean = ours.mean(axis=(0, 1))
        restored += (ours - mean) * (theirs.std(axis=(0, 1)) / (ours.std(axis=(0, 1)) + 1e-6)) + theirs.mean(axis=(0, 1))
    return np.clip(restored, 0, 1)


class TemporalBlender:
    """Stateful, one per clip: call it with each input frame and its per-frame stylisation, in order."""

    def __init__(self, settings: TemporalSettings = TemporalSettings()) -> None:
        self.settings = settings
        self._previous: tuple[np.ndarray, np.ndarray] | None = None  # (grey input, output)

    def __call__(self, content: np.ndarray, stylised: np.ndarray) -> np.ndarray:
        """The output for this frame: ``stylised`` (H, W, 3) with the trusted part of the last output blended in."""
        current = grey(content)
        output = stylised
        if self.settings.strength > 0 and self._previous is not None and self._previous[0].shape == current.shape:
            previous_grey, previous_output = self._previous
            flow, trusted = trusted_flow(current, previous_grey, self.settings)
            # A slightly soft mask, so occlusion edges do not show as seams between old and fresh strokes.
            weight = self.settings.strength * cv2.GaussianBlur(trusted, (5, 5), 0)[..., None]
            output = stylised + weight * (warp(previous_output, flow) - stylised)
            if self.settings.bands:
                output = restore_contrast(output, stylised, self.settings.bands)
        self._previous = (current, output)
        return output


def warping_difference(previous_output: np.ndarray, output: np.ndarray, previous_content: np.ndarray,
                       content: np.ndarray, flow: str = "farneback") -> tuple[np.ndarray, np.ndarray]:
    """|``output`` − ``previous_output`` warped by the *input* frames' flow|, averaged over colours, and
    the (H, W) mask of pixels the forward-backward check calls visible in both frames."""
    backward, visible = trusted_flow(grey(content), grey(previous_content), TemporalSettings(flow=flow), brightness=False)
    return np.abs(output - warp(previous_output, backward)).mean(axis=-1), visible


def warping_error(previous_output: np.ndarray, output: np.ndarray, previous_content: np.ndarray,
                  content: np.ndarray, flow: str = "farneback") -> float:
    """The flicker metric: the mean of :func:`warping_difference` over visible pixels (in [0, 1] units)."""
    difference, visible = warping_difference(previous_output, output, previous_content, content, flow)
    return float((difference * visible).sum() / max(visible.sum(), 1.0))
