"""Linear colour transfer in numpy (torch-free): a picture's colour mean and covariance, and the affine
map that gives an image a target palette (Gatys et al. 2017, "Controlling perceptual factors"; the
Monge-Kantorovich map of Pitié & Kokaram 2007);
and the gradient map that paints a picture in named colours (colour words in a prompt).

:mod:`sanet_text.images.color` applies it to tensors (``--color-match``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A palette: mean (3,) and covariance (3, 3) of a picture's RGB pixels, float64.
Palette = tuple[np.ndarray, np.ndarray]
# Pixels between those whose moments a colour transfer measures (see transfer), in pictures of at
# least STRIDED_FROM pixels; smaller ones are measured whole, their moments being few already.
STATS_STRIDE = 4
STRIDED_FROM = STATS_STRIDE * 1024


def palette(pixels: np.ndarray, weight: np.ndarray | None = None) -> Palette:
    """Mean and covariance of (3, N) pixels, optionally weighted per pixel by (N,) ``weight``."""
    pixels = pixels.astype(np.float64)
    w = np.ones(pixels.shape[1]) if weight is None else weight.astype(np.float64).reshape(-1)
    total = max(w.sum(), 1e-8)
    mean = (pixels * w).sum(1) / total
    centred = pixels - mean[:, None]
    return mean, (centred * w) @ centred.T / total


def _sqrt_psd(matrix: np.ndarray, inverse: bool = False, eps: float = 1e-4) -> np.ndarray:
    # eps floors each colour direction's variance at a 1 % standard deviation, so a nearly flat
    # result is not blown up into noise by the inverse square root.
    values, vectors = np.linalg.eigh(matrix + eps * np.eye(3))
    values = np.maximum(values, eps)
    return vectors @ np.diag(1 / np.sqrt(values) if inverse else np.sqrt(values)) @ vectors.T


def transfer(pixels: np.ndarray, target: Palette, weight: np.ndarray | None = None) -> np.ndarray:
    """(3, N) pixels (float64) mapped by the affine transform that gives them (those weighted by
    ``weight``, when given) the ``target`` mean and covariance, clipped to [0, 1]: the palette
    follows, the layout stays."""
    # Moments from every STATS_STRIDE-th pixel: as exact as all of them for a picture's colour
    # distribution, at a fraction of the cost (colour matching runs on every default render).
    step = STATS_STRIDE if pixels.shape[1] >= STRIDED_FROM else 1
    mean, cov = palette(pixels[:, ::step], None if weight is None else np.asarray(weight).reshape(-1)[::step])
    # Of the linear maps that give the target covariance, the Monge-Kantorovich one (symmetric) moves
    # colours least: no hue rotation on top of the stretch, so it amplifies the decoder's colour noise
    # less than sqrt(target) @ cov^-1/2 did (art, check and validation sets: pretrained/MODEL_CARD.md).
    root, inverse_root = _sqrt_psd(cov), _sqrt_psd(cov, inverse=True)
    transform = inverse_root @ _sqrt_psd(root @ np.asarray(target[1], np.float64) @ root, eps=0.0) @ inverse_root
    mapped = transform @ (pixels.astype(np.float64) - mean[:, None]) + np.asarray(target[0], np.float64)[:, None]
    return np.clip(mapped, 0, 1)


# ---------------------------------------------------------------- painting in named colours

# Rec. 601 luma weights, as sanet_text.images.color's YCbCr.
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclass(frozen=True)
class PaintColours:
    """Colours to paint a picture in: ``colours`` (RGB in [0, 1]) take equal bands of its lightness,
    darkest colour on the darkest pixels. ``smooth``: the share of each band boundary that blends
    into the next colour (1 = a continuous gradient, 0 = flat bands). ``texture``: the share of the
    picture's own lightness variation kept on top, so strokes show inside a flat band."""

    colours: tuple[tuple[float, float, float], ...]
    smooth: float = 0.3
    texture: float = 0.35


def gradient_map(pixels: np.ndarray, paint: PaintColours) -> np.ndarray:
    """(3, N) pixels repainted in ``paint``'s colours by their lightness rank (a gradient map).

    Ranks, not raw lightness, assign the bands, so every colour covers its share of the picture
    whatever the picture's exposure; the layout of light and dark, and so the strokes, stays.
    """
    pixels = pixels.astype(np.float64)
    colours = np.array(sorted(paint.colours, key=lambda c: float(_LUMA @ np.asarray(c))), np.float64)
    luma = _LUMA @ pixels
    n = len(colours)
    rank = np.empty(luma.size)
    rank[np.argsort(luma, kind="stable")] = (np.arange(luma.size) + 0.5) / max(luma.size, 1)
    # Position along the colour list: band i is centred on i; its edges blend over `smooth` of a band.
    position = np.clip(rank * n - 0.5, 0, n - 1)
    low = np.minimum(np.floor(position).astype(int), n - 1)
    high = np.minimum(low + 1, n - 1)
    frac = position - low
    smooth = max(paint.smooth, 1e-6)
    blend = np.clip((frac - (1 - smooth) / 2) / smooth, 0, 1)
    painted = colours[low].T * (1 - blend) + colours[high].T * blend
    # The picture's lightness detail within its band (around the band's mean), added back as grey.
    band = np.rint(position).astype(int)
    band_mean = np.bincount(band, luma, n) / np.maximum(np.bincount(band, minlength=n), 1)
    detail = luma - band_mean[band]
    return np.clip(painted + paint.texture * detail, 0, 1)
