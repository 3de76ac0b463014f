"""Linear colour transfer in numpy (torch-free): a picture's colour mean and covariance, and the affine
map that gives an image a target palette (Gatys et al. 2017, "Controlling perceptual factors").

:mod:`sanet_text.color` applies it to tensors (``--color-match``).
"""

from __future__ import annotations

import numpy as np

# A palette: mean (3,) and covariance (3, 3) of a picture's RGB pixels, float64.
Palette = tuple[np.ndarray, np.ndarray]


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
    ``weight``, when given) the ``target`` mean and covariance: the palette follows, the layout stays."""
    mean, cov = palette(pixels, weight)
    transform = _sqrt_psd(np.asarray(target[1], np.float64)) @ _sqrt_psd(cov, inverse=True)
    return transform @ (pixels.astype(np.float64) - mean[:, None]) + np.asarray(target[0], np.float64)[:, None]
