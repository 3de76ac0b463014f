"""Procedural renderings of a photo in classic media: style exemplars without any downloaded art.

Each renderer takes a PIL RGB photo and a seed and returns a same-size PIL RGB image in its medium.
The seed draws a few parameters (cell size, palette, stroke length, ...) so one medium yields many
different training styles, while a fixed seed always gives the same picture. numpy + Pillow only,
so the package needs nothing heavier at run time; every renderer takes well under 2 s at 512 px.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Renderer = Callable[[Image.Image, int], Image.Image]


# ----------------------------------------------------------------------------- small array helpers
def _arr(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _img(array: np.ndarray) -> Image.Image:
    return Image.fromarray((np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def _gray(a: np.ndarray) -> np.ndarray:
    return a @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _box(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    """Box mean of half-width ``r`` along ``axis`` via cumulative sums (edge-padded)."""
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r + 1, r)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
    n = a.shape[axis]
    hi = np.take(c, np.arange(2 * r + 1, 2 * r + 1 + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return ((hi - lo) / (2 * r + 1)).astype(np.float32)


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Near-Gaussian blur of a float array (H, W[, C]): three box passes per axis.

    Pillow's GaussianBlur rejects float images and 8-bit rounding would band the soft washes.
    """
    r = int(round(sigma * 0.9))
    if r < 1:
        return a
    for _ in range(3):
        a = _box(_box(a, r, 0), r, 1)
    return a


def _sobel(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.pad(g, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return gx / 8, gy / 8


def _edges(a: np.ndarray, sigma: float) -> np.ndarray:
    """Edge strength of the smoothed photo, scaled so its 98th percentile is 1."""
    gx, gy = _sobel(_blur(_gray(a), sigma))
    mag = np.hypot(gx, gy)
    return mag / (np.percentile(mag, 98) + 1e-6)


def _dilate(mask: np.ndarray, size: int) -> np.ndarray:
    if size < 3:
        return mask
    size += 1 - size % 2  # MaxFilter needs an odd size
    m = Image.fromarray((mask > 0).astype(np.uint8) * 255, "L").filter(ImageFilter.MaxFilter(size))
    return np.asarray(m) > 0


def _noise(h: int, w: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth value noise (about unit variance) with features ``scale`` pixels wide."""
    gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
    small = Image.fromarray(rng.standard_normal((gh, gw)).astype(np.float32), "F")
    return np.asarray(small.resize((w, h), Image.BICUBIC), dtype=np.float32)


def _hsv(rgb: np.ndarray) -> np.ndarray:
    """RGB floats (..., 3) -> HSV floats, through Pillow's converter (exact enough, vectorised)."""
    flat = (np.clip(rgb.reshape(1, -1, 3), 0, 1) * 255 + 0.5).astype(np.uint8)
    return (np.asarray(Image.fromarray(flat, "RGB").convert("HSV"), dtype=np.float32) / 255).reshape(rgb.shape)


def _rgb(hsv: np.ndarray) -> np.ndarray:
    flat = (np.clip(hsv.reshape(1, -1, 3), 0, 1) * 255 + 0.5).astype(np.uint8)
    return (np.asarray(Image.fromarray(flat, "HSV").convert("RGB"), dtype=np.float32) / 255).reshape(hsv.shape)


def _voronoi(h: int, w: int, cell: float, rng: np.random.Generator) -> np.ndarray:
    """Labels of a jittered-grid Voronoi diagram: one seed per grid cell, nearest of the 3×3 neighbours."""
    gh, gw = int(h / cell) + 2, int(w / cell) + 2
    sy = (np.arange(gh)[:, None] + rng.uniform(0.1, 0.9, (gh, gw))) * cell
    sx = (np.arange(gw)[None, :] + rng.uniform(0.1, 0.9, (gh, gw))) * cell
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = (yy // cell).astype(int), (xx // cell).astype(int)
    best = np.full((h, w), np.inf, np.float32)
    label = np.zeros((h, w), np.int64)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            ny, nx = np.clip(cy + dy, 0, gh - 1), np.clip(cx + dx, 0, gw - 1)
            d = (sy[ny, nx] - yy) ** 2 + (sx[ny, nx] - xx) ** 2
            closer = d < best
            best = np.where(closer, d, best)
            label = np.where(closer, ny * gw + nx, label)
    return label


def _cell_mean(a: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Per-pixel mean colour of each pixel's cell."""
    _, inv = np.unique(label, return_inverse=True)
    inv = inv.reshape(label.shape)
    count = np.bincount(inv.ravel())
    means = np.stack([np.bincount(inv.ravel(), a[..., c].ravel()) / count for c in range(a.shape[-1])], -1)
    return means[inv].astype(np.float32)


def _boundary(label: np.ndarray) -> np.ndarray:
    b = np.zeros(label.shape, bool)
    b[:, 1:] |= label[:, 1:] != label[:, :-1]
    b[1:, :] |= label[1:, :] != label[:-1, :]
    return b


def _nearest(a: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Each pixel snapped to the nearest palette colour (palette: (K, 3) floats)."""
    d = ((a[..., None, :] - palette) ** 2).sum(-1)
    return palette[d.argmin(-1)]


def _paper(h: int, w: int, tint: tuple[float, float, float], rng: np.random.Generator, grain: float = 0.03) -> np.ndarray:
    """Off-white paper: a tint with blotchy low-frequency and fine fibre noise."""
    n = 0.5 * _noise(h, w, 40, rng) + 0.5 * rng.standard_normal((h, w)).astype(np.float32)
    return np.clip(np.array(tint, np.float32) * (1 + grain * n)[..., None], 0, 1)


def _hex(colors: list[str]) -> np.ndarray:
    return np.array([[int(c[i : i + 2], 16) / 255 for i in (0, 2, 4)] for c in colors], np.float32)


# ----------------------------------------------------------------------------- the media
def pointillism(photo: Image.Image, seed: int) -> Image.Image:
    """Seurat/Signac: dense dots of pure, hue-jittered colour sampled from the photo on a light ground."""
    rng = np.random.default_rng(seed)
    a = _blur(_arr(photo), 1.5)
    h, w = a.shape[:2]
    r = rng.uniform(2.5, 4.5) * max(h, w) / 512
    ground = tuple(int(v) for v in rng.integers(228, 250, 3))
    canvas = Image.new("RGB", (w, h), ground)
    draw = ImageDraw.Draw(canvas)
    n = int(0.75 * h * w / (r * r))
    ys, xs = rng.uniform(0, h - 1, n), rng.uniform(0, w - 1, n)
    hsv = _hsv(a[ys.astype(int), xs.astype(int)])
    # Divisionism: neighbouring dots of shifted hue mix optically; saturation pushed up, values lifted.
    hsv[:, 0] = (hsv[:, 0] + rng.normal(0, rng.uniform(0.03, 0.08), n)) % 1.0
    hsv[:, 1] = np.clip(hsv[:, 1] * rng.uniform(1.3, 1.8) + 0.15, 0, 1)
    hsv[:, 2] = np.clip(hsv[:, 2] * 0.85 + 0.2 + rng.normal(0, 0.06, n), 0, 1)
    colors = (_rgb(hsv) * 255).astype(int)
    radii = r * rng.uniform(0.7, 1.2, n)
    for y, x, rr, c in zip(ys, xs, radii, colors):
        draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=(int(c[0]), int(c[1]), int(c[2])))
    return canvas


def mosaic(photo: Image.Image, seed: int) -> Image.Image:
    """Roman/Byzantine tesserae: small irregular tiles of flat colour set in pale grout."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    cell = rng.uniform(12, 20) * max(h, w) / 512
    label = _voronoi(h, w, cell, rng)
    tiles = _cell_mean(a, label)
    # Stone tiles come in few, slightly desaturated tones; quantising the means gives that look.
    levels = rng.integers(5, 8)
    tiles = np.round(tiles * levels) / levels
    _, inv = np.unique(label, return_inverse=True)
    jitter = rng.normal(0, 0.06, (inv.max() + 1, 1)).astype(np.float32)[inv.reshape(h, w)]
    tiles = tiles * (1 + jitter) + 0.04 * rng.standard_normal((h, w, 1)).astype(np.float32)
    grout = np.array(rng.choice([[0.78, 0.76, 0.70], [0.35, 0.33, 0.30], [0.88, 0.86, 0.80]]), np.float32)
    lines = _dilate(_boundary(label), int(rng.integers(2, 4)))
    out = np.where(lines[..., None], grout * (1 + 0.05 * rng.standard_normal((h, w, 1))), tiles)
    return _img(out)


def watercolor(photo: Image.Image, seed: int) -> Image.Image:
    """Transparent washes: soft, pale, bled colour with darkened pigment at wash edges on textured paper."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    # Bleeding: pigment flows along the wet paper, so warp the photo by a smooth random field.
    amp = rng.uniform(4, 9) * s
    dy, dx = amp * _noise(h, w, 30 * s, rng), amp * _noise(h, w, 30 * s, rng)
    yy, xx = np.mgrid[0:h, 0:w]
    a = a[np.clip(yy + dy, 0, h - 1).astype(int), np.clip(xx + dx, 0, w - 1).astype(int)]
    wash = _blur(a, rng.uniform(4, 8) * s)
    hsv = _hsv(wash)  # pigments are purer than photo colours; diluting them would otherwise go grey
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(1.5, 2.0) + 0.1, 0, 1)
    wash = _rgb(hsv)
    levels = rng.integers(4, 7)
    wash = _blur(np.round(wash * levels) / levels, 2 * s)  # few overlapping flat washes
    # Edge darkening: pigment collects where a wash dries, i.e. where the flat regions change.
    dark = np.abs(_gray(wash) - _gray(_blur(wash, 4 * s)))
    dark = np.clip(dark / (np.percentile(dark, 99) + 1e-6), 0, 1) ** 2 * rng.uniform(0.3, 0.5)
    pale = rng.uniform(0.4, 0.55)
    paper = _paper(h, w, (0.98, 0.96, 0.91), rng, grain=0.025)
    pigment = (1 - wash) * (1 - pale) * (1 + 0.08 * _noise(h, w, 12 * s, rng))[..., None]  # granulation
    out = paper * (1 - np.clip(pigment * (1 + dark[..., None]), 0, 1))
    return _img(out)


def ink_wash(photo: Image.Image, seed: int) -> Image.Image:
    """Sumi-e: a few diluted grey ink tones, bold dark strokes along main edges, much bare paper."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    g = _blur(_gray(a), rng.uniform(2, 4) * s)
    lo, hi = np.percentile(g, [2, 98])
    g = np.clip((g - lo) / (hi - lo + 1e-6), 0, 1)
    tones = np.array([0.0, 0.35, 0.6, 0.0], np.float32)[: rng.integers(3, 5)]
    tones[-1] = 1.0
    # Most of the picture stays white: only the darker half of the photo receives wash.
    q = np.clip((1 - g - rng.uniform(0.45, 0.6)) * 2.5, 0, 1)
    ink = np.sort(tones)[np.clip((q * (len(tones) - 1) + 0.5).astype(int), 0, len(tones) - 1)]
    ink = _blur(ink.astype(np.float32), 2.5 * s) * 0.6
    e = _edges(a, 3 * s)
    # An opening (min then max filter) drops isolated specks: a brush leaves strokes, not dust.
    mask = Image.fromarray(((e > rng.uniform(0.35, 0.5)) * 255).astype(np.uint8), "L")
    mask = mask.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(int(2 * s) * 2 + 3))
    stroke = np.asarray(mask, np.float32) / 255
    stroke *= np.clip(0.9 + 0.4 * _noise(h, w, 40 * s, rng), 0.3, 1)  # the brush runs dry now and then
    ink = np.maximum(ink, _blur(stroke, 1.0 * s) * 0.95)
    paper = _paper(h, w, (0.96, 0.94, 0.89), rng, grain=0.03)
    return _img(paper * (1 - ink[..., None]) + np.array([0.06, 0.05, 0.05]) * ink[..., None])


def cubism(photo: Image.Image, seed: int) -> Image.Image:
    """Analytic cubism: fractured flat-shaded facets in ochre, brown and grey with dark outlines."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    label = _voronoi(h, w, rng.uniform(45, 80) * s, rng)
    # A few long straight cuts through the picture give the angular planes Voronoi cells alone lack.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(4, 8))):
        theta = rng.uniform(0, np.pi)
        side = (xx - rng.uniform(0, w)) * np.cos(theta) + (yy - rng.uniform(0, h)) * np.sin(theta) > 0
        label = label * 2 + side
    tone = _gray(_cell_mean(a, label))
    _, inv = np.unique(label, return_inverse=True)
    inv = inv.reshape(h, w)
    n = inv.max() + 1
    # Each facet is lit from its own direction: a linear ramp across the facet.
    ang = rng.uniform(0, 2 * np.pi, n)[inv]
    ramp = ((xx * np.cos(ang) + yy * np.sin(ang)) / (60 * s)) % 1.0
    shade = np.clip(tone + 0.25 * (ramp - 0.5) + rng.normal(0, 0.08, n)[inv], 0, 1)
    palette = _hex(rng.choice([["2b2118", "5c4630", "8b6b3d", "b8914f", "cfc0a0", "7d7f7a"],
                               ["1f1d1b", "4a4039", "6e6a60", "a08050", "c9a66b", "dcd3bf"]]))
    idx = np.clip(shade * (len(palette) - 1), 0, len(palette) - 1)
    lo = np.floor(idx).astype(int)
    hi = np.minimum(lo + 1, len(palette) - 1)
    f = (idx - lo)[..., None]
    out = palette[lo] * (1 - f) + palette[hi] * f
    out = out * (1 + 0.05 * _noise(h, w, 3 * s, rng))[..., None]
    lines = _dilate(_boundary(label), int(rng.integers(2, 4) * s + 1))
    out[lines] = palette[0] * 0.8
    return _img(out)


def pencil_sketch(photo: Image.Image, seed: int) -> Image.Image:
    """Graphite on paper: hatching that follows edge directions, cross-hatching in the darks, outlines."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    g = _blur(_gray(a), 1.5 * s)
    tone = np.clip((g - g.min()) / (np.ptp(g) + 1e-6), 0, 1)
    gx, gy = _sobel(_blur(g, 6 * s))
    # Hatch along the edges: orientation of the structure tensor, smoothed so strokes run coherently.
    jxx, jyy, jxy = _blur(gx * gx, 8 * s), _blur(gy * gy, 8 * s), _blur(gx * gy, 8 * s)
    theta = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2
    bins = 6
    k = np.round(theta / np.pi * bins).astype(int) % bins
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(4, 6.5) * s
    wobble = 1.5 * _noise(h, w, 25 * s, rng)
    dark = np.zeros((h, w), np.float32)
    for b in range(bins):
        t = b * np.pi / bins
        phase = (-xx * np.sin(t) + yy * np.cos(t) + wobble) / period
        line = (np.abs((phase % 1.0) - 0.5) < 0.22).astype(np.float32)
        dark = np.where(k == b, line * (tone < 0.75), dark)
    t2 = rng.uniform(0, np.pi)
    cross = (np.abs(((xx * np.cos(t2) + yy * np.sin(t2)) / period % 1.0) - 0.5) < 0.16) & (tone < 0.4)
    dark = np.maximum(dark * (1.1 - tone), cross * (0.9 - tone))
    dark = np.maximum(dark, np.clip(_edges(a, 1.5 * s) - 0.4, 0, 1))
    dark = _blur(dark, 0.6 * s) * (0.75 + 0.25 * rng.random((h, w))).astype(np.float32)
    paper = _paper(h, w, (0.95, 0.94, 0.91), rng, grain=0.025)
    lead = np.array([0.22, 0.23, 0.26], np.float32)
    return _img(paper * (1 - dark[..., None] * 0.9) + lead * dark[..., None] * 0.9 * 0.3)


def pop_art(photo: Image.Image, seed: int) -> Image.Image:
    """Warhol/Lichtenstein: a few flat saturated inks, Ben-Day halftone dots and heavy black outlines."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    g = _blur(_gray(a), 1.5 * s)
    palettes = [["ffe600", "ff2d95", "00a0e9", "ff6b00"], ["e4002b", "ffd100", "0057b8", "f5f5f5"],
                ["7fff00", "ff00ff", "00e5ff", "ffcc00"], ["ff5a36", "2dc5f4", "fff000", "9b1fe8"]]
    palette = _hex(palettes[int(rng.integers(len(palettes)))])
    rng.shuffle(palette)
    # Warhol-style: the ink follows brightness bands, not the photo's hues.
    lo, hi = np.percentile(g, [2, 98])  # robust to a few bright stars on a black sky
    band = np.clip((g - lo) / (hi - lo + 1e-6) * len(palette), 0, len(palette) - 1).astype(int)
    out = palette[band]
    # Ben-Day dots in one band: a darker dot grid whose dots grow in the darker part of that band.
    pitch = rng.uniform(6, 9) * s
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + yy) / pitch, (xx - yy) / pitch  # 45° screen, as in print
    dist = np.hypot(u - np.round(u), v - np.round(v))
    dots = (dist < 0.22 + 0.25 * (1 - g)) & (band == int(rng.integers(len(palette))))
    out = np.where(dots[..., None], out * 0.55, out)
    lines = _dilate(_edges(a, 2 * s) > rng.uniform(0.45, 0.65), int(3 * s + 1))
    out[lines | (g < lo + 0.08 * (hi - lo))] = 0.04
    return _img(out)


def oil_impasto(photo: Image.Image, seed: int) -> Image.Image:
    """Thick oil paint: short loaded strokes along the edge flow, with lit ridges of paint relief."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    src = _blur(a, 2 * s)
    gx, gy = _sobel(_blur(_gray(a), 4 * s))
    angle = np.arctan2(gy, gx) + np.pi / 2  # strokes run along edges, across the gradient
    width = rng.uniform(5, 9) * s
    length = rng.uniform(10, 20) * s
    canvas = _img(_blur(src, 6 * s))
    height = Image.new("L", (w, h), 128)
    draw, hdraw = ImageDraw.Draw(canvas), ImageDraw.Draw(height)
    n = int(2.2 * h * w / (width * length))
    ys, xs = rng.uniform(0, h - 1, n), rng.uniform(0, w - 1, n)
    iy, ix = ys.astype(int), xs.astype(int)
    hsv = _hsv(src[iy, ix])
    hsv[:, 1] = np.clip(hsv[:, 1] * rng.uniform(1.1, 1.4), 0, 1)
    hsv[:, 2] = np.clip(hsv[:, 2] + rng.normal(0, 0.05, n), 0, 1)
    colors = (_rgb(hsv) * 255).astype(int)
    ang = angle[iy, ix] + rng.normal(0, 0.15, n)
    lens = length * rng.uniform(0.6, 1.3, n)
    for y, x, t, ln, c, z in zip(ys, xs, ang, lens, colors, rng.integers(60, 255, n)):
        dx, dy = np.cos(t) * ln / 2, np.sin(t) * ln / 2
        seg = (x - dx, y - dy, x + dx, y + dy)
        wd = int(width)
        draw.line(seg, fill=(int(c[0]), int(c[1]), int(c[2])), width=wd)
        hdraw.line(seg, fill=int(z), width=wd)
    # Relief lighting: paint ridges (height edges) catch a raking light from the upper left.
    hmap = _blur(np.asarray(height, np.float32) / 255, 1.2 * s)
    hx, hy = _sobel(hmap)
    light = np.clip(1 + (-hx - hy) * rng.uniform(5, 8), 0.6, 1.4)
    return _img(_arr(canvas) * light[..., None])


def stained_glass(photo: Image.Image, seed: int) -> Image.Image:
    """Church windows: glowing jewel-coloured panes held in thick black lead came."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    label = _voronoi(h, w, rng.uniform(22, 38) * s, rng)
    hsv = _hsv(_cell_mean(a, label))
    jewels = np.array([0.0, 0.08, 0.14, 0.33, 0.45, 0.6, 0.7, 0.8], np.float32)  # ruby..amethyst
    hsv[..., 0] = jewels[np.abs(hsv[..., 0][..., None] - jewels).argmin(-1)]
    # Glaziers mix panes: some cells get a random jewel colour whatever the photo says there.
    _, inv = np.unique(label, return_inverse=True)
    inv = inv.reshape(h, w)
    swap = rng.random(inv.max() + 1) < rng.uniform(0.2, 0.4)
    hsv[..., 0] = np.where(swap[inv], rng.choice(jewels, inv.max() + 1)[inv], hsv[..., 0])
    hsv[..., 1] = rng.uniform(0.75, 0.95)
    hsv[..., 2] = np.clip(0.45 + 0.5 * hsv[..., 2], 0, 1)
    glass = _rgb(hsv)
    # Light through uneven glass: streaky brightness inside each pane.
    glass = glass * (1 + 0.18 * _noise(h, w, 10 * s, rng))[..., None]
    lead = _dilate(_boundary(label), int(rng.integers(4, 7) * s))
    glass[lead] = 0.05
    return _img(glass)


def pixel_art(photo: Image.Image, seed: int) -> Image.Image:
    """Retro game sprites: a tiny grid of hard-edged pixels in a small palette, scaled up."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    cols = int(rng.integers(40, 80))
    small = photo.convert("RGB").resize((cols, max(1, round(cols * h / w))), Image.BOX)
    hsv = _hsv(_arr(small))
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.4, 0, 1)
    small = _img(_rgb(hsv)).quantize(colors=int(rng.integers(6, 14)), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return small.convert("RGB").resize((w, h), Image.NEAREST)


def neon(photo: Image.Image, seed: int) -> Image.Image:
    """Neon signs at night: thin saturated tubes along the photo's edges glowing on a near-black ground."""
    rng = np.random.default_rng(seed)
    a = _arr(photo)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    e = _edges(a, 1.5 * s)
    tube = np.clip((e - 0.35) * 3, 0, 1)
    hue = (_hsv(_blur(a, 3 * s))[..., 0] + rng.uniform(0, 1)) % 1.0
    # Neon tubes come in a few gas colours: snap hues to pink, cyan, violet, lime, orange.
    gases = np.array([0.92, 0.5, 0.78, 0.28, 0.07], np.float32)[: rng.integers(2, 6)]
    hue = gases[np.abs(hue[..., None] - gases).argmin(-1)]
    color = _rgb(np.stack([hue, np.ones_like(hue), np.ones_like(hue)], -1))
    light = color * tube[..., None]
    glow = 1.2 * _blur(light, 3 * s) + 0.8 * _blur(light, 10 * s)
    core = tube[..., None] * 0.6  # tube cores burn nearly white
    base = np.array(rng.choice([[0.02, 0.01, 0.05], [0.03, 0.02, 0.08], [0.01, 0.02, 0.04]]), np.float32)
    dimphoto = _blur(a, 2 * s) * rng.uniform(0.04, 0.1)
    return _img(base + dimphoto + light + glow + core * (0.4 + 0.6 * color))


def ukiyo_e(photo: Image.Image, seed: int) -> Image.Image:
    """Edo woodblock prints: flat areas in a few traditional inks, black key-block outlines, aged paper."""
    rng = np.random.default_rng(seed)
    flat = photo.convert("RGB").filter(ImageFilter.MedianFilter(5)).filter(ImageFilter.ModeFilter(5))
    a = _arr(flat)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    inks = ["1f3a5f", "3b6e8f", "8fb3c4", "c0392b", "d9a05b", "6b8e5a", "e8dcc0", "2a2a2a", "d98b84", "f1e6cc"]
    palette = _hex([inks[i] for i in sorted(rng.choice(len(inks), int(rng.integers(6, 9)), replace=False))] + ["efe3c8"])
    # Match by relative brightness and hue after a saturation lift, so areas map to inks, not to grey.
    hsv = _hsv(a)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.2, 0, 1)
    out = _nearest(_rgb(hsv), palette)
    # Bokashi: the printer's graded blue at the top of the sky.
    fade = np.clip(1 - np.arange(h, dtype=np.float32) / (h * rng.uniform(0.2, 0.35)), 0, 1)[:, None, None]
    out = out * (1 - 0.6 * fade) + _hex(["1f3a5f"]) * 0.6 * fade
    paper = _paper(h, w, (0.95, 0.89, 0.76), rng, grain=0.05)
    grain = 1 + 0.04 * _noise(h, w, 2 * s, rng)[..., None] * np.abs(np.sin(np.arange(w) / (3 * s)))[None, :, None]
    out = out * paper / 0.93 * grain
    lines = _dilate(_edges(a, 1.2 * s) > rng.uniform(0.5, 0.7), int(2 * s + 1))
    out[lines] = np.array([0.1, 0.09, 0.08])
    return _img(out)


RENDERERS: dict[str, Renderer] = {
    "pointillism": pointillism,
    "mosaic": mosaic,
    "watercolor": watercolor,
    "ink_wash": ink_wash,
    "cubism": cubism,
    "pencil_sketch": pencil_sketch,
    "pop_art": pop_art,
    "oil_impasto": oil_impasto,
    "stained_glass": stained_glass,
    "pixel_art": pixel_art,
    "neon": neon,
    "ukiyo_e": ukiyo_e,
}


def render(style: str, photo: Image.Image, seed: int = 0) -> Image.Image:
    """Render ``photo`` in the named medium (a key of :data:`RENDERERS`)."""
    if style not in RENDERERS:
        raise KeyError(f"unknown medium {style!r}; known: {', '.join(RENDERERS)}")
    return RENDERERS[style](photo.convert("RGB"), seed)
