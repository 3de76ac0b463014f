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

from sanet_text.images.processor import to_uint8, unit_range
from sanet_text.training.synth_styles import composition, map_palette

Renderer = Callable[[Image.Image, int], Image.Image]


# ----------------------------------------------------------------------------- small array helpers
def _arr(image: Image.Image) -> np.ndarray:
    return unit_range(np.asarray(image.convert("RGB")))


def _img(array: np.ndarray) -> Image.Image:
    return Image.fromarray(to_uint8(array), "RGB")


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
    flat = to_uint8(rgb.reshape(1, -1, 3))
    return unit_range(np.asarray(Image.fromarray(flat, "RGB").convert("HSV"))).reshape(rgb.shape)


def _rgb(hsv: np.ndarray) -> np.ndarray:
    flat = to_uint8(hsv.reshape(1, -1, 3))
    return unit_range(np.asarray(Image.fromarray(flat, "HSV").convert("RGB"))).reshape(hsv.shape)


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
    rng, a, h, w, s = _start(photo, seed)
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
    rng, a, h, w, s = _start(photo, seed)
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
    rng, a, h, w, s = _start(photo, seed)
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
    rng, a, h, w, s = _start(photo, seed)
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
    rng, a, h, w, s = _start(photo, seed)
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
    rng, a, h, w, s = _start(photo, seed)
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
    rng, a, h, w, s = _start(photo, seed)
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
    rng, a, h, w, s = _start(photo, seed)
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


# ----------------------------------------------------------------------------- helpers of the newer media
def _start(photo: Image.Image, seed: int) -> tuple[np.random.Generator, np.ndarray, int, int, float]:
    """A renderer's generator, the photo as floats, its height and width, and its scale against the
    512 px long side that the renderers' sizes (stroke widths, cell sizes) are given for."""
    a = _arr(photo)
    h, w = a.shape[:2]
    return np.random.default_rng(seed), a, h, w, max(h, w) / 512


def _stretch(g: np.ndarray) -> np.ndarray:
    """A grey image stretched so its 2nd..98th percentiles span [0, 1]."""
    lo, hi = np.percentile(g, [2, 98])
    return np.clip((g - lo) / (hi - lo + 1e-6), 0, 1)


def _flat(photo: Image.Image, colors: int, saturation: float = 1.0) -> np.ndarray:
    """The photo in a few flat colours: median-smoothed, saturation scaled, quantised without dithering."""
    smooth = photo.convert("RGB").filter(ImageFilter.MedianFilter(5))
    hsv = _hsv(_arr(smooth))
    hsv[..., 1] = np.clip(hsv[..., 1] * saturation, 0, 1)
    q = _img(_rgb(hsv)).quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return _arr(q.convert("RGB").filter(ImageFilter.ModeFilter(5)))


def _outline(a: np.ndarray, s: float, threshold: float, width: float) -> np.ndarray:
    """Ink outlines: the photo's stronger edges, thickened to ``width`` pixels."""
    return _dilate(_edges(a, 1.5 * s) > threshold, int(width))


def _lines(h: int, w: int, angle: float, period: float, wobble: np.ndarray | float = 0.0) -> np.ndarray:
    """Distance (0 on the line, 0.5 between lines) to parallel lines at ``angle``, ``period`` px apart."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = (xx * np.cos(angle) + yy * np.sin(angle) + wobble) / period
    return np.abs(phase - np.round(phase))


def _dabs(canvas: Image.Image, colours: np.ndarray, rng: np.random.Generator, density: float,
          length: float, width: float, angle: np.ndarray | float, spread: float) -> Image.Image:
    """Short straight brush strokes over ``canvas``, each in the colour of ``colours`` (H, W, 3) at its middle.

    ``angle``: one direction or a per-pixel field; ``spread``: the strokes' random turn (radians).
    """
    h, w = colours.shape[:2]
    n = int(density * h * w / (length * width))
    ys, xs = rng.uniform(0, h - 1, n), rng.uniform(0, w - 1, n)
    iy, ix = ys.astype(int), xs.astype(int)
    base = angle[iy, ix] if isinstance(angle, np.ndarray) else np.full(n, angle)
    ang = base + rng.normal(0, spread, n)
    lens = length * rng.uniform(0.6, 1.3, n)
    fills = (np.clip(colours[iy, ix], 0, 1) * 255).astype(int)
    draw = ImageDraw.Draw(canvas)
    for y, x, t, ln, c in zip(ys, xs, ang, lens, fills):
        dx, dy = np.cos(t) * ln / 2, np.sin(t) * ln / 2
        draw.line((x - dx, y - dy, x + dx, y + dy), fill=(int(c[0]), int(c[1]), int(c[2])), width=max(1, int(width)))
    return canvas


def _triangles(h: int, w: int, cell: float, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """A jittered grid cut into triangles that cover the picture (low-poly meshes, origami folds)."""
    gy, gx = int(np.ceil(h / cell)) + 1, int(np.ceil(w / cell)) + 1
    py = np.linspace(0, h, gy)[:, None] + rng.uniform(-0.35, 0.35, (gy, gx)) * cell
    px = np.linspace(0, w, gx)[None, :] + rng.uniform(-0.35, 0.35, (gy, gx)) * cell
    py[0], py[-1], px[:, 0], px[:, -1] = 0, h, 0, w  # the border stays straight
    tris = []
    for i in range(gy - 1):
        for j in range(gx - 1):
            a, b = (px[i, j], py[i, j]), (px[i, j + 1], py[i, j + 1])
            c, d = (px[i + 1, j], py[i + 1, j]), (px[i + 1, j + 1], py[i + 1, j + 1])
            tris += [[a, b, d], [a, d, c]] if rng.random() < 0.5 else [[a, b, c], [b, d, c]]
    return tris


def _shifted(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    return np.roll(np.roll(a, dy, axis=0), dx, axis=1)


def _composition(kind: str, photo: Image.Image, seed: int, palette: list[str]) -> Image.Image:
    canvas = composition(kind, seed, photo.width, photo.height, _hex(palette))
    h, w = canvas.shape[:2]
    grain = 1 + 0.03 * _noise(h, w, 3, np.random.default_rng(seed))  # canvas weave under the paint
    return _img(canvas * grain[..., None])


# ----------------------------------------------------------------------------- painters and movements
def mondrian(photo: Image.Image, seed: int) -> Image.Image:
    """A grid of primaries in the manner of Mondrian: black bars, white fields, red, yellow and blue."""
    return _composition("grid", photo, seed, ["f2efe6", "d42a1e", "f6c90e", "1d4e9e", "f2efe6", "eeeae0"])


def rothko(photo: Image.Image, seed: int) -> Image.Image:
    """Colour fields in the manner of Rothko: soft-edged stacked rectangles glowing on a coloured ground."""
    palettes = [["7a1d1d", "d8562b", "f0a030", "4a1010"], ["2a1b2e", "7b2338", "3c2a4d", "a33b2b"],
                ["e07a1f", "f2c230", "c2381f", "f08a3a"], ["24344a", "3f6c8a", "1b1f2a", "6d8fa5"]]
    return _composition("fields", photo, seed, palettes[seed % len(palettes)])


def pollock(photo: Image.Image, seed: int) -> Image.Image:
    """Drip painting in the manner of Pollock: tangled skeins of poured black, white, ochre and grey."""
    palettes = [["d9ceb4", "141414", "f4f1ea", "b8862d", "6f7478"], ["c8bda6", "1c1c1c", "8a2e1f", "e9e4d6", "2f4f6f"]]
    return _composition("drips", photo, seed, palettes[seed % len(palettes)])


def op_art(photo: Image.Image, seed: int) -> Image.Image:
    """Op art in the manner of Bridget Riley and Vasarely: black and white stripes bent into illusory depth."""
    pairs = [["111111", "f4f2ec"], ["1b2a6b", "f2efe4"], ["111111", "e8433a"]]
    return _composition("waves", photo, seed, pairs[seed % len(pairs)])


def escher(photo: Image.Image, seed: int) -> Image.Image:
    """Interlocking tessellation in the manner of M. C. Escher: creature-shaped tiles filling the plane."""
    palettes = [["e9dfc4", "3b3a36", "a8503a", "111111"], ["efe6cf", "2e4a62", "c9a45c", "111111"]]
    return _composition("tiles", photo, seed, palettes[seed % len(palettes)])


def kandinsky(photo: Image.Image, seed: int) -> Image.Image:
    """Abstract composition in the manner of Kandinsky: circles in rings, crossing lines, triangles, checks."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    s = max(h, w) / 512
    ground = _paper(h, w, tuple(rng.choice([[0.93, 0.89, 0.8], [0.86, 0.88, 0.84]])), rng, grain=0.06)
    canvas = _img(ground)
    draw = ImageDraw.Draw(canvas)
    colours = ["d62828", "1d4e9e", "f6c90e", "111111", "7b3f8c", "2a9d5c", "f28c28", "e76f9a"]

    def pick() -> tuple[int, ...]:
        return tuple(int(c * 255) for c in _hex([colours[int(rng.integers(len(colours)))]])[0])

    for _ in range(int(rng.integers(3, 6))):  # concentric circles, each ring its own colour
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(30, 90) * s
        for k in range(int(rng.integers(2, 5))):
            rr = r * (1 - k * 0.25)
            draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=pick())
    for _ in range(int(rng.integers(3, 6))):
        pts = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(3)]
        draw.polygon(pts, fill=pick())
    for _ in range(int(rng.integers(10, 18))):  # thin straight and curved lines crossing everything
        x, y, t, ln = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, np.pi), rng.uniform(80, 300) * s
        draw.line((x, y, x + np.cos(t) * ln, y + np.sin(t) * ln), fill=(17, 17, 17), width=max(1, int(rng.uniform(1, 5) * s)))
    for _ in range(int(rng.integers(2, 4))):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(40, 120) * s
        draw.arc((x - r, y - r, x + r, y + r), rng.uniform(0, 180), rng.uniform(180, 360), fill=(17, 17, 17), width=max(2, int(3 * s)))
    x0, y0, c = rng.uniform(0, w * 0.7), rng.uniform(0, h * 0.7), 9 * s  # a small checkerboard
    for i in range(6):
        for j in range(4):
            if (i + j) % 2:
                draw.rectangle((x0 + i * c, y0 + j * c, x0 + (i + 1) * c, y0 + (j + 1) * c), fill=pick())
    return canvas


def suprematism(photo: Image.Image, seed: int) -> Image.Image:
    """Suprematism in the manner of Malevich: tilted flat bars, squares and a circle floating on white."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    s = max(h, w) / 512
    canvas = _img(_paper(h, w, (0.94, 0.92, 0.87), rng, grain=0.04))
    draw = ImageDraw.Draw(canvas)
    colours = _hex(["111111", "c8261e", "1f3f8f", "e8b51c", "2e6b3a", "111111"])
    tilt = rng.uniform(-0.6, 0.6)
    big = rng.uniform(60, 110) * s
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    shapes = [(cx, cy, big, big, colours[0])]
    shapes += [(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(40, 220) * s, rng.uniform(6, 30) * s,
                colours[int(rng.integers(len(colours)))]) for _ in range(int(rng.integers(8, 14)))]
    for x, y, length, thick, col in shapes:
        t = tilt + rng.normal(0, 0.15)
        u, v = np.array([np.cos(t), np.sin(t)]), np.array([-np.sin(t), np.cos(t)])
        corners = [tuple(np.array([x, y]) + su * u * length / 2 + sv * v * thick / 2) for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
        draw.polygon(corners, fill=tuple(int(c * 255) for c in col))
    r = rng.uniform(20, 45) * s
    x, y = rng.uniform(0, w), rng.uniform(0, h)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c * 255) for c in colours[int(rng.integers(1, 4))]))
    return canvas


def bauhaus(photo: Image.Image, seed: int) -> Image.Image:
    """Bauhaus poster geometry: a grid of circles, half- and quarter-circles, triangles and bars in primaries."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    colours = [tuple(int(c * 255) for c in col) for col in _hex(["e9e1cf", "d13b26", "f1b51c", "1f4e8c", "1a1a1a"])]
    canvas = Image.new("RGB", (w, h), colours[0])
    draw = ImageDraw.Draw(canvas)
    cols = int(rng.integers(3, 6))
    cell = w / cols
    for i in range(cols):
        for j in range(int(np.ceil(h / cell))):
            x0, y0 = i * cell, j * cell
            box = (x0, y0, x0 + cell, y0 + cell)
            bg, fg = rng.choice(len(colours), 2, replace=False)
            draw.rectangle(box, fill=colours[bg])
            shape = int(rng.integers(5))
            if shape == 0:
                draw.ellipse(box, fill=colours[fg])
            elif shape == 1:
                start = 90 * int(rng.integers(4))
                draw.pieslice((x0 - cell, y0 - cell, x0 + cell, y0 + cell) if rng.random() < 0.5 else box, start, start + 180, fill=colours[fg])
            elif shape == 2:
                draw.pieslice((x0, y0, x0 + 2 * cell, y0 + 2 * cell), 180, 270, fill=colours[fg])
            elif shape == 3:
                draw.polygon([(x0, y0 + cell), (x0 + cell, y0 + cell), (x0 + cell * rng.uniform(0, 1), y0)], fill=colours[fg])
            else:
                for k in range(3):
                    draw.rectangle((x0, y0 + (2 * k + 0.5) * cell / 6, x0 + cell, y0 + (2 * k + 1.3) * cell / 6), fill=colours[fg])
    return _img(_arr(canvas) * (1 + 0.04 * _noise(h, w, 2, rng))[..., None])


def art_deco(photo: Image.Image, seed: int) -> Image.Image:
    """Art deco: gold sunbursts, stepped fans and fine parallel lines on black, navy or deep teal."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    s = max(h, w) / 512
    ground = _hex([["111111", "14213d", "0f3b3a"][seed % 3]])[0]
    gold, pale = _hex(["d4af37"])[0], _hex(["f3e5ab"])[0]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w / 2, h * rng.uniform(0.75, 1.0)
    r = np.hypot(xx - cx, yy - cy)
    theta = np.arctan2(yy - cy, xx - cx)
    rays = ((theta / np.pi * rng.integers(16, 28)) % 1) < 0.5
    fan = r < h * rng.uniform(0.45, 0.6)
    rings = (np.abs(((r / (18 * s)) % 1) - 0.5) < 0.08) & ~fan
    verticals = (np.abs(((xx - cx) / (10 * s)) % 1 - 0.5) < 0.12) & (r > h * 0.7)
    out = np.broadcast_to(ground, (h, w, 3)).copy()
    out[fan & rays] = gold
    out[fan & ~rays] = gold * 0.55
    out[rings | verticals] = pale * 0.9
    # Stepped ziggurats at both sides, mirrored: the movement's symmetry.
    steps = np.minimum(xx, w - 1 - xx) < (w * 0.12) * (1 + np.floor((h - yy) / (h / 6)) * 0.35)
    edge = _boundary(steps.astype(int) * 2 + fan)
    out[_dilate(edge, int(2 * s + 1))] = gold
    return _img(out * (1 + 0.05 * _noise(h, w, 6 * s, rng))[..., None])


def synthwave(photo: Image.Image, seed: int) -> Image.Image:
    """Synthwave / outrun: a striped neon sun over a magenta perspective grid, under a purple dusk sky."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    s = max(h, w) / 512
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    horizon = h * rng.uniform(0.55, 0.65)
    t = np.clip(yy / horizon, 0, 1)[..., None]
    sky = _hex(["120224"])[0] * (1 - t) + _hex(["ff4f9a"])[0] * t
    out = sky.copy()
    stars = rng.random((h, w)) > 0.998
    out[stars & (yy < horizon * 0.7)] = 1.0
    r = h * rng.uniform(0.22, 0.3)
    cx = w * rng.uniform(0.35, 0.65)
    sun = np.hypot(xx - cx, yy - horizon + r * 0.4) < r
    slit = (yy > horizon - r * 0.6) & (((horizon - yy) / (r * 0.12)) % 1 < 0.35)
    sun_col = _hex(["ffe34d"])[0] * (1 - t) + _hex(["ff2e88"])[0] * t
    out = np.where((sun & ~slit)[..., None], sun_col, out)
    ground = yy >= horizon
    depth = (yy - horizon + 1) / (h - horizon)
    gx = np.abs((((xx - w / 2) / np.maximum(depth, 1e-3)) / (40 * s)) % 1 - 0.5) < 0.04 / np.maximum(depth, 0.1)
    gy = np.abs(((1 / np.maximum(depth, 1e-3)) * 2) % 1 - 0.5) < 0.06 * depth * 4
    grid = ground & (gx | gy)
    out = np.where(ground[..., None], _hex(["12001f"])[0], out)
    lines = np.zeros((h, w, 3), np.float32)
    lines[grid] = _hex(["ff2bd6"])[0]
    out = out + lines + 0.8 * _blur(lines, 3 * s)
    return _img(out)


def matisse_cutouts(photo: Image.Image, seed: int) -> Image.Image:
    """Paper cut-outs in the manner of Matisse: leafy, seaweed-like shapes of flat colour cut with scissors."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    s = max(h, w) / 512
    colours = [tuple(int(c * 255) for c in col) for col in _hex(["1f3fa3", "d8352a", "2f8f4e", "f39c1f", "111111", "f2c6d4", "f6d21a"])]
    canvas = Image.new("RGB", (w, h), (246, 243, 234))
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(0, 3))):  # coloured paper panels behind, as in The Snail
        x0, y0 = rng.uniform(0, w * 0.6), rng.uniform(0, h * 0.6)
        draw.rectangle((x0, y0, x0 + rng.uniform(0.3, 0.6) * w, y0 + rng.uniform(0.3, 0.6) * h), fill=colours[int(rng.integers(len(colours)))])
    for _ in range(int(rng.integers(8, 15))):
        x, y, rad = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(25, 70) * s
        lobes, phase = int(rng.integers(3, 8)), rng.uniform(0, 2 * np.pi)
        t = np.linspace(0, 2 * np.pi, 120)
        radius = rad * (0.55 + 0.45 * np.abs(np.sin(lobes * t / 2 + phase))) * (1 + 0.06 * rng.standard_normal(120))
        draw.polygon(list(zip(x + radius * np.cos(t), y + radius * np.sin(t) * rng.uniform(0.6, 1.4))), fill=colours[int(rng.integers(len(colours)))])
    return _img(_arr(canvas) * (1 + 0.03 * _noise(h, w, 2, rng))[..., None])


def klimt(photo: Image.Image, seed: int) -> Image.Image:
    """Golden phase in the manner of Klimt: the picture in gold leaf, strewn with spirals, eyes and squares."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 2 * s)))
    out = map_palette(g, _hex(["2b1d0a", "7a5a16", "c49a2c", "e8c766", "f6e7b0"]), bands=True)
    out = out * (1 + 0.12 * _noise(h, w, 5 * s, rng) + 0.05 * rng.standard_normal((h, w)))[..., None]  # beaten leaf
    canvas = _img(out)
    draw = ImageDraw.Draw(canvas)
    accents = [(20, 16, 10), (240, 232, 210), (160, 40, 30), (40, 110, 110)]
    for _ in range(int(rng.integers(25, 45))):  # Tree-of-Life spirals
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(8, 22) * s
        t = np.linspace(0, 4 * np.pi, 80)
        draw.line(list(zip(x + r * t / (4 * np.pi) * np.cos(t), y + r * t / (4 * np.pi) * np.sin(t))), fill=(60, 40, 10), width=max(1, int(2 * s)))
    for _ in range(int(rng.integers(40, 70))):  # eyes and squares of the robes
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(3, 9) * s
        col = accents[int(rng.integers(len(accents)))]
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=col, outline=(30, 20, 8))
            draw.ellipse((x - r / 3, y - r / 3, x + r / 3, y + r / 3), fill=(30, 20, 8))
        else:
            draw.rectangle((x - r, y - r, x + r, y + r), fill=col, outline=(30, 20, 8))
    return canvas


def munch(photo: Image.Image, seed: int) -> Image.Image:
    """In the manner of Munch's The Scream: the scene melts into flowing bands of orange, red and deep blue."""
    rng, a, h, w, s = _start(photo, seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    amp, wave = rng.uniform(10, 18) * s, rng.uniform(80, 140) * s
    dy = amp * np.sin(2 * np.pi * xx / wave + 3 * _noise(h, w, 80 * s, rng))
    dx = amp * 0.6 * np.sin(2 * np.pi * yy / wave)
    a = a[np.clip(yy + dy, 0, h - 1).astype(int), np.clip(xx + dx, 0, w - 1).astype(int)]
    g = _stretch(_gray(_blur(a, 3 * s)))
    bands = g + 0.12 * np.sin(2 * np.pi * (yy + 0.5 * dy * 4) / (28 * s))  # the sky's flowing stripes
    sky = map_palette(np.clip(bands, 0, 1), _hex(["1d2b4f", "2f5d6b", "8a3b1c", "d0452a", "ec8a2d", "f2c45a"]), bands=False)
    streaks = 1 + 0.1 * _noise(h, w, 3 * s, rng) * np.sin(2 * np.pi * (yy + dy) / (6 * s))
    return _img(sky * streaks[..., None])


def _dab_painting(photo: Image.Image, seed: int, *, hue_shift: float, saturation: float, lift: float,
                  length: float, width: float, angle: float | None, spread: float, ground: tuple[float, float, float],
                  density: float = 2.2) -> Image.Image:
    """Impressionist-family painting: the photo's recoloured colours laid in short strokes over a ground."""
    rng, a, h, w, s = _start(photo, seed)
    hsv = _hsv(_blur(a, 2 * s))
    hsv[..., 0] = (hsv[..., 0] + hue_shift + rng.normal(0, 0.02, (h, w))) % 1
    hsv[..., 1] = np.clip(hsv[..., 1] * saturation + 0.1, 0, 1)
    hsv[..., 2] = np.clip(hsv[..., 2] * (1 - lift) + lift, 0, 1)
    colours = _rgb(hsv)
    field = angle if angle is not None else (np.arctan2(*_sobel(_blur(_gray(a), 4 * s))[::-1]) + np.pi / 2)
    canvas = _img(_paper(h, w, ground, rng, grain=0.04))
    return _dabs(canvas, colours, rng, density, length * s, width * s, field, spread)


def impressionism(photo: Image.Image, seed: int) -> Image.Image:
    """Impressionism: broken, light-filled short dabs of pure colour, the ground showing between them."""
    return _dab_painting(photo, seed, hue_shift=0.0, saturation=1.3, lift=0.3, length=9, width=4, angle=None,
                         spread=0.9, ground=(0.95, 0.93, 0.88), density=1.6)


def monet(photo: Image.Image, seed: int) -> Image.Image:
    """In the manner of Monet's Water Lilies: horizontal dabs of blue, green and lilac with pink lily pads."""
    rng, a, h, w, s = _start(photo, seed)
    pond = map_palette(_stretch(_gray(_blur(a, 3 * s))), _hex(["1f3553", "34667a", "5f9a8c", "9cc3a6", "c6b3d9", "eed6e0"]), bands=False)
    pond = 0.7 * pond + 0.3 * _blur(a, 3 * s)
    canvas = _dabs(_img(pond), pond * (1 + 0.12 * rng.standard_normal((h, w, 1))), rng, 2.0, 14 * s, 4 * s, 0.0, 0.25)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(12, 25))):  # lily pads and flowers
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(8, 20) * s
        draw.ellipse((x - r, y - r / 3, x + r, y + r / 3), fill=(88, 140, 90))
        if rng.random() < 0.6:
            draw.ellipse((x - r / 3, y - r / 4, x + r / 3, y + r / 6), fill=(236, 150, 170))
    return canvas.filter(ImageFilter.GaussianBlur(0.6 * s))


def _wild(photo: Image.Image, rng: np.random.Generator, colors: int, pigments: list[str]) -> np.ndarray:
    """The photo's flat colour areas repainted each in a pigment drawn at random (shading kept within an area)."""
    flat = _flat(photo, colors, 1.2)
    _, index = np.unique(flat.reshape(-1, 3), axis=0, return_inverse=True)
    index = index.reshape(flat.shape[:2])
    paint = _hex(pigments)[rng.integers(0, len(pigments), index.max() + 1)][index]
    return paint * (0.75 + 0.35 * _stretch(_gray(flat)))[..., None]


def expressionism(photo: Image.Image, seed: int) -> Image.Image:
    """Expressionism (Kirchner, Die Brücke): clashing unnatural colours in jagged strokes with dark outlines."""
    rng, a, h, w, s = _start(photo, seed)
    colours = _wild(photo, rng, 7, ["1f8a4c", "d6392b", "f0b323", "2b4fa0", "e2678f", "6b2f7a", "f27b2a", "1a2a3a"])
    canvas = _dabs(_img(colours), colours, rng, 1.5, 16 * s, 5 * s, rng.uniform(0, np.pi), 0.7)
    out = _arr(canvas)
    out[_outline(a, s, rng.uniform(0.35, 0.5), 3 * s + 1)] = _hex(["14163a"])[0]
    return _img(out)


def fauvism(photo: Image.Image, seed: int) -> Image.Image:
    """Fauvism (Matisse, Derain): wild pure colours in broad flat patches, no black, unpainted canvas between."""
    rng = np.random.default_rng(seed)
    h, w = photo.height, photo.width
    s = max(h, w) / 512
    colours = _wild(photo, rng, 8, ["ff3b1f", "ff8c1a", "ffd21f", "27b35a", "1e6fd9", "ff5fa2", "8a3fd1", "19c2c2"])
    canvas = _img(_paper(h, w, (0.96, 0.94, 0.88), rng, grain=0.04))
    return _dabs(canvas, colours, rng, 1.4, 18 * s, 9 * s, rng.uniform(0, np.pi), 1.2)


def art_nouveau(photo: Image.Image, seed: int) -> Image.Image:
    """Art nouveau poster in the manner of Mucha: muted flat colours, flowing brown outlines, halo and frame."""
    rng, a, h, w, s = _start(photo, seed)
    palette = _hex(["efe3c6", "d9bb88", "b59f6a", "8f9d72", "c98f7a", "6f8094", "4a3b2f"])
    out = _nearest(_flat(photo, 8, 0.8), palette)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot(xx - w / 2, yy - h * 0.42)
    halo = (r > 0.3 * h) & (r < 0.42 * h) & (np.abs(((r / (6 * s)) % 1) - 0.5) < 0.2)
    out[halo] = out[halo] * 0.6 + _hex(["c9a24a"])[0] * 0.4
    brown = _hex(["3b2a1c"])[0]
    out[_outline(_blur(a, 2 * s), s, rng.uniform(0.3, 0.45), 2.5 * s)] = brown
    band = int(18 * s)  # the decorative frame: a border band with a running circle motif
    frame = (np.minimum(np.minimum(xx, w - 1 - xx), np.minimum(yy, h - 1 - yy)) < band)
    out[frame] = _hex(["b59f6a"])[0]
    dots = frame & (np.hypot((xx % (2 * band)) - band, (yy % (2 * band)) - band) < band * 0.35)
    out[dots] = _hex(["8f9d72"])[0]
    inner = np.abs(np.minimum(np.minimum(xx, w - 1 - xx), np.minimum(yy, h - 1 - yy)) - band) < 1.5 * s
    out[inner] = brown
    return _img(out * _paper(h, w, (1, 0.98, 0.94), rng, grain=0.03))


# ----------------------------------------------------------------------------- drawing media
def charcoal(photo: Image.Image, seed: int) -> Image.Image:
    """Charcoal: velvety smudged blacks, the paper's tooth showing through, bold dark edges."""
    rng, a, h, w, s = _start(photo, seed)
    dark = (1 - _stretch(_gray(_blur(a, 2 * s)))) ** 0.8
    dark = 0.6 * _blur(dark, 5 * s) + 0.4 * dark  # rubbed with the finger
    tooth = _blur(rng.random((h, w)).astype(np.float32), 0.7 * s)
    cover = np.clip((dark - 0.4 * (tooth - 0.5) - 0.1) * 1.5, 0, 1)
    streak = 1 + 0.15 * np.sin(2 * np.pi * _lines(h, w, rng.uniform(0.5, 1.1), 9 * s, 4 * _noise(h, w, 20 * s, rng)))
    cover = np.clip(np.maximum(cover * streak, _outline(a, s, 0.45, 2 * s) * 0.95), 0, 1)
    paper = _paper(h, w, (0.93, 0.91, 0.87), rng, grain=0.03)
    return _img(paper * (1 - cover[..., None]) + _hex(["151517"])[0] * cover[..., None])


def chalk(photo: Image.Image, seed: int) -> Image.Image:
    """Chalk on a blackboard: dusty white and pastel chalk lines and hatching on a dark slate."""
    rng, a, h, w, s = _start(photo, seed)
    board = np.array(rng.choice([[0.17, 0.24, 0.2], [0.13, 0.13, 0.14]]), np.float32)
    board = board * (1 + 0.15 * _noise(h, w, 60 * s, rng))[..., None]  # eraser smears
    g = _stretch(_gray(_blur(a, 2 * s)))
    hatch = (_lines(h, w, rng.uniform(0.6, 1.0), 5 * s, 3 * _noise(h, w, 30 * s, rng)) < 0.2) * np.clip((g - 0.35) * 2, 0, 1)
    cover = np.maximum(np.clip(_edges(a, 1.5 * s) - 0.3, 0, 1) * 1.2, hatch * 0.8)
    grain = (rng.random((h, w)) > 0.35).astype(np.float32)  # chalk skips on the slate
    cover = np.clip(cover, 0, 1) * _blur(grain, 0.5 * s)
    hsv = _hsv(_blur(a, 3 * s))
    hsv[..., 1] = hsv[..., 1] * 0.5
    hsv[..., 2] = 0.95
    stick = 0.5 + 0.5 * _rgb(hsv)
    return _img(board * (1 - cover[..., None]) + stick * cover[..., None])


def pastel(photo: Image.Image, seed: int) -> Image.Image:
    """Soft pastel: chalky, lightened colours in short parallel strokes on toned paper with visible tooth."""
    rng, a, h, w, s = _start(photo, seed)
    ground = tuple(rng.choice([[0.62, 0.64, 0.66], [0.74, 0.64, 0.5], [0.45, 0.5, 0.58]]))
    hsv = _hsv(_blur(a, 3 * s))
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.5, 0, 1)
    hsv[..., 2] = np.clip(hsv[..., 2] * 0.7 + 0.35, 0, 1)  # chalky: pigment cut with white
    canvas = _dabs(_img(_paper(h, w, ground, rng, grain=0.05)), _rgb(hsv), rng, 2.5, 12 * s, 5 * s, rng.uniform(0.6, 1.1), 0.2)
    out = _arr(canvas)
    tooth = (rng.random((h, w)) > 0.8)[..., None]  # the paper's grain catches no pigment in its pits
    return _img(np.where(tooth, out * 0.6 + np.array(ground, np.float32) * 0.4, out))


def crayon(photo: Image.Image, seed: int) -> Image.Image:
    """Wax crayon: bright scribbled hatching with white paper grain skipping through, dark crayon outlines."""
    rng, a, h, w, s = _start(photo, seed)
    colours = _flat(photo, 8, 1.8)
    scribble = _lines(h, w, rng.uniform(0, np.pi), 4 * s, 6 * _noise(h, w, 15 * s, rng)) < 0.3
    wax = scribble & (rng.random((h, w)) > 0.3) & (_noise(h, w, 1.5 * s, rng) > -0.8)
    cover = _blur(wax.astype(np.float32), 0.5 * s)[..., None]
    paper = _paper(h, w, (0.98, 0.97, 0.95), rng, grain=0.02)
    out = paper * (1 - cover) + colours * cover
    lines = _outline(a, s, 0.5, 2 * s) & (rng.random((h, w)) > 0.25)
    out[lines] = colours[lines] * 0.35
    return _img(out)


def gouache(photo: Image.Image, seed: int) -> Image.Image:
    """Gouache: opaque, matte, velvety flat colours with soft dry-brush texture and chalky lights."""
    rng = np.random.default_rng(seed)
    h, w = photo.height, photo.width
    s = max(h, w) / 512
    out = _blur(_flat(photo, int(rng.integers(9, 15)), rng.uniform(1.1, 1.5)), 1.2 * s)
    brush = _lines(h, w, rng.uniform(0, np.pi), 3 * s, 8 * _noise(h, w, 25 * s, rng))
    out = out * (1 + 0.06 * (brush - 0.25))[..., None] * 0.9 + 0.1  # matte: lights go chalky, darks never black
    return _img(out)


def stippling(photo: Image.Image, seed: int) -> Image.Image:
    """Pen stippling: the picture built from countless black ink dots, denser in the shadows."""
    rng, a, h, w, s = _start(photo, seed)
    dark = (1 - _stretch(_gray(_blur(a, 1.5 * s)))) ** 1.3
    r = rng.uniform(1.1, 1.6) * s
    n = int(0.5 * h * w / (r * r))
    ys, xs = rng.uniform(0, h - 1, n), rng.uniform(0, w - 1, n)
    keep = rng.random(n) < dark[ys.astype(int), xs.astype(int)]
    canvas = _img(_paper(h, w, (0.97, 0.96, 0.93), rng, grain=0.015))
    draw = ImageDraw.Draw(canvas)
    for y, x in zip(ys[keep], xs[keep]):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(20, 20, 22))
    return canvas


# ----------------------------------------------------------------------------- printmaking
def linocut(photo: Image.Image, seed: int) -> Image.Image:
    """Linocut: bold black ink with white gouge marks whose width follows the tone, on off-white paper."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 2.5 * s)))
    gouge = _lines(h, w, rng.uniform(-0.4, 0.4), rng.uniform(6, 9) * s, 10 * _noise(h, w, 60 * s, rng)) * 2
    ink = (gouge > g * 1.2 - 0.1) & (g < 0.85)
    ink |= _outline(a, s, 0.5, 2 * s)
    ink &= rng.random((h, w)) > 0.03  # uneven inking of the block
    colour = _hex([["111111", "111111", "7a1f1a", "1d2f5a"][seed % 4]])[0]
    paper = _paper(h, w, (0.95, 0.93, 0.88), rng, grain=0.03)
    return _img(np.where(ink[..., None], colour * (1 + 0.1 * _noise(h, w, 4 * s, rng))[..., None], paper))


def woodcut(photo: Image.Image, seed: int) -> Image.Image:
    """Woodcut: a black key block with the wood's grain printing through, over one or two flat tint blocks."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 2 * s)))
    grain = _box(_box(rng.standard_normal((h, w)).astype(np.float32), int(30 * s), 1), 1, 0)  # streaks along the plank
    grain = grain / (grain.std() + 1e-6)
    key = (g + 0.08 * grain + 0.1 * (_lines(h, w, np.pi / 2, 5 * s, 8 * _noise(h, w, 50 * s, rng)) - 0.25)) < 0.32
    key |= _outline(a, s, 0.45, 2.5 * s)
    tints = _hex(rng.choice([["c8553d", "e8c07d"], ["3f6e6a", "d9b36c"], ["8c4a2f", "9bb0a5"]]))
    tint = np.where((g < 0.65)[..., None], tints[0], np.where((g < 0.85)[..., None], tints[1], 1.0))
    paper = _paper(h, w, (0.94, 0.9, 0.82), rng, grain=0.04)
    out = paper * (0.3 + 0.7 * tint * (1 + 0.05 * grain[..., None]))
    out[key] = 0.08
    return _img(out)


def etching(photo: Image.Image, seed: int) -> Image.Image:
    """Etching / engraving: fine cross-hatched lines in layers by tone, sepia-black ink, plate tone and plate mark."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 1.5 * s)))
    period = rng.uniform(3, 4) * s
    wobble = 2 * _noise(h, w, 30 * s, rng)
    base = rng.uniform(0, np.pi)
    ink = np.zeros((h, w), bool)
    for k, limit in enumerate((0.8, 0.6, 0.4, 0.22)):  # each darker tone adds a hatching direction
        ink |= (_lines(h, w, base + k * np.pi / 4, period, wobble) < 0.16) & (g < limit)
    ink |= _edges(a, 1.2 * s) > 0.6
    plate = np.zeros((h, w), np.float32)
    m = int(14 * s)
    plate[m:-m, m:-m] = 0.06  # the plate's film of ink and its pressed border
    paper = _paper(h, w, (0.95, 0.92, 0.85), rng, grain=0.03) * (1 - plate[..., None])
    return _img(np.where(ink[..., None], _hex(["2a1d15"])[0], paper))


def halftone(photo: Image.Image, seed: int) -> Image.Image:
    """Newspaper halftone: the picture as a screen of black dots whose size follows the tone, on newsprint."""
    rng, a, h, w, s = _start(photo, seed)
    pitch = rng.uniform(6, 9) * s
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + yy) / pitch / np.sqrt(2), (xx - yy) / pitch / np.sqrt(2)
    dist = np.hypot(u - np.round(u), v - np.round(v))
    dark = 1 - _stretch(_gray(_blur(a, pitch / 2)))
    dots = dist < 0.55 * np.sqrt(dark)
    paper = _paper(h, w, (0.9, 0.88, 0.82), rng, grain=0.04)
    return _img(np.where(dots[..., None], 0.1, paper))


def comic(photo: Image.Image, seed: int) -> Image.Image:
    """Comic book: flat cel colours, bold black inks, halftone dots in the shadows, a panel border."""
    rng, a, h, w, s = _start(photo, seed)
    out = _flat(photo, 8, 1.7)
    g = _gray(out)
    pitch = 5 * s
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dots = (np.hypot(xx / pitch - np.round(xx / pitch), yy / pitch - np.round(yy / pitch)) < 0.3) & (g < np.percentile(g, 40))
    out[dots] *= 0.5
    out[_outline(a, s, rng.uniform(0.35, 0.5), 3 * s) | (g < np.percentile(g, 6))] = 0.03
    border = int(8 * s)  # white gutter and black panel frame
    frame = np.zeros((h, w), bool)
    frame[:border], frame[-border:], frame[:, :border], frame[:, -border:] = True, True, True, True
    out[frame] = 1.0
    ring = _dilate(_boundary(frame.astype(int)), int(3 * s))
    out[ring & ~frame] = 0.03
    return _img(out)


def lichtenstein(photo: Image.Image, seed: int) -> Image.Image:
    """In the manner of Lichtenstein: primary red, yellow and blue, big even Ben-Day dots, thick black lines."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 2 * s)))
    inks = _hex(["1f5fbf", "e0261f", "fbe33b", "fbf7ec"])
    band = np.clip((g * 4).astype(int), 0, 3)
    out = inks[band]
    pitch = rng.uniform(10, 14) * s
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dots = np.hypot(xx / pitch - np.round(xx / pitch), yy / pitch - np.round(yy / pitch)) < 0.32
    out[dots & (band == 3)] = inks[1]  # skin tone: red dots on white
    out[dots & (band == 0)] = inks[3] * 0.9
    out[_outline(a, s, rng.uniform(0.4, 0.55), 4 * s) | (g < 0.06)] = 0.05
    return _img(out)


def risograph(photo: Image.Image, seed: int) -> Image.Image:
    """Risograph: two or three fluorescent spot inks with grainy coverage, overprinted slightly out of register."""
    rng, a, h, w, s = _start(photo, seed)
    inks = _hex(rng.choice([["ff48b0", "0078bf", "ffe800"], ["ff6c2f", "00838a", "765ba7"], ["ff48b0", "00a95c", "3255a4"]]))
    lum = _blur(a, 1.5 * s)
    hsv = _hsv(lum)
    # Two separations: colourful areas in the first ink, shadows in the second, the deepest in the third.
    dark = 1 - _stretch(_gray(lum))
    layers = [_stretch(hsv[..., 1]) * 0.9, dark * 0.85, np.clip(dark - 0.6, 0, 1) * 2]
    out = _paper(h, w, (0.96, 0.95, 0.91), rng, grain=0.02)
    for ink, cover in zip(inks, layers):
        mask = (cover + 0.35 * (rng.random((h, w)) - 0.5) > 0.5).astype(np.float32)  # the drum's grainy screen
        mask = _shifted(mask, int(rng.integers(-3, 4) * s), int(rng.integers(-3, 4) * s))  # misregistration
        out = out * (1 - mask[..., None] * (1 - ink))
    return _img(out)


def cyanotype(photo: Image.Image, seed: int) -> Image.Image:
    """Cyanotype: Prussian blue and white, brushed-on emulsion with ragged edges on cream paper."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 1.2 * s)))
    blue = map_palette(g, _hex(["0b2452", "1f4f8f", "6f9cc8", "e3eef5"]), bands=False)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    inset = np.minimum(np.minimum(xx, w - 1 - xx), np.minimum(yy, h - 1 - yy)) + 10 * s * _noise(h, w, 6 * s, rng)
    coated = _blur((inset > 16 * s).astype(np.float32), 1.5 * s)[..., None]  # brush strokes of emulsion
    paper = _paper(h, w, (0.93, 0.91, 0.84), rng, grain=0.04)
    blue = blue * (1 + 0.08 * _noise(h, w, 30 * s, rng))[..., None]
    return _img(paper * (1 - coated) + blue * coated)


def blueprint(photo: Image.Image, seed: int) -> Image.Image:
    """Blueprint: white technical line work and a measuring grid on deep blue paper, with a title block."""
    rng, a, h, w, s = _start(photo, seed)
    out = _hex(["0d3b78"])[0] * (1 + 0.06 * _noise(h, w, 50 * s, rng))[..., None]
    yy, xx = np.mgrid[0:h, 0:w]
    minor, major = int(16 * s), int(80 * s)
    fine = (xx % minor == 0) | (yy % minor == 0)
    bold = (xx % major < max(1, int(2 * s))) | (yy % major < max(1, int(2 * s)))
    out[fine] = out[fine] * 0.7 + 0.3 * np.array([0.75, 0.85, 1.0])
    out[bold] = out[bold] * 0.5 + 0.5 * np.array([0.75, 0.85, 1.0])
    lines = _edges(a, 1.5 * s) > rng.uniform(0.4, 0.55)
    out[_dilate(lines, int(1.5 * s + 1))] = np.array([0.95, 0.97, 1.0])
    tb = (xx > w * 0.68) & (yy > h * 0.84)  # the title block
    edge = _dilate(_boundary(tb.astype(int)), int(2 * s))
    out[edge | (tb & (yy % int(10 * s) == 0))] = np.array([0.95, 0.97, 1.0])
    return _img(out)


# ----------------------------------------------------------------------------- digital and pop
def vaporwave(photo: Image.Image, seed: int) -> Image.Image:
    """Vaporwave: the picture in pastel pink, cyan and lilac, VHS scanlines and colour fringes."""
    rng, a, h, w, s = _start(photo, seed)
    out = map_palette(_stretch(_gray(_blur(a, s))), _hex(["2d1b69", "b967ff", "ff71ce", "01cdfe", "fffb96"]), bands=False)
    shift = int(4 * s)
    out[..., 0] = np.roll(out[..., 0], shift, axis=1)
    out[..., 2] = np.roll(out[..., 2], -shift, axis=1)
    out *= np.where((np.arange(h) // max(1, int(2 * s))) % 2 == 0, 1.0, 0.82)[:, None, None]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    floor = yy > h * 0.75  # the tiled floor of the aesthetic
    check = ((xx // (24 * s) + (yy - h * 0.75) // (12 * s)) % 2 == 0) & floor
    out[check] = out[check] * 0.5 + _hex(["01cdfe"])[0] * 0.5
    return _img(out + 0.03 * rng.standard_normal((h, w, 1)))


def glitch(photo: Image.Image, seed: int) -> Image.Image:
    """Glitch art: displaced horizontal slices, split RGB channels, corrupted blocks and scanlines."""
    rng, a, h, w, s = _start(photo, seed)
    out = a.copy()
    out[..., 0] = np.roll(a[..., 0], int(rng.integers(4, 12) * s), axis=1)
    out[..., 2] = np.roll(a[..., 2], -int(rng.integers(4, 12) * s), axis=1)
    for _ in range(int(rng.integers(12, 25))):
        y0 = int(rng.integers(0, h - 2))
        y1 = min(h, y0 + int(rng.integers(2, 30) * s))
        out[y0:y1] = np.roll(out[y0:y1], int(rng.normal(0, 40) * s), axis=1)
        if rng.random() < 0.3:
            out[y0:y1] = out[y0:y1][..., rng.permutation(3)]
    for _ in range(int(rng.integers(4, 10))):  # corrupted macroblocks
        y, x, bh, bw = int(rng.integers(0, h)), int(rng.integers(0, w)), int(rng.integers(8, 40) * s), int(rng.integers(20, 120) * s)
        block = out[y : y + bh, x : x + bw]
        out[y : y + bh, x : x + bw] = np.round(block * 2) / 2 if rng.random() < 0.5 else block.mean((0, 1)) + np.array(rng.choice([[0.6, 0, 0.6], [0, 0.8, 0.3], [0.9, 0.9, 0]]))
    out *= np.where(np.arange(h) % 3 == 0, 0.75, 1.0)[:, None, None]
    return _img(out)


def low_poly(photo: Image.Image, seed: int) -> Image.Image:
    """Low-poly: the picture as a mesh of flat-shaded triangles, each one colour."""
    rng = np.random.default_rng(seed)
    a = _blur(_arr(photo), 3)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    canvas = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(canvas)
    for tri in _triangles(h, w, rng.uniform(20, 32) * s, rng):
        cx, cy = np.mean(tri, axis=0)
        c = np.clip(a[min(h - 1, int(cy)), min(w - 1, int(cx))] * rng.uniform(0.92, 1.08), 0, 1) * 255
        draw.polygon(tri, fill=tuple(int(v) for v in c))
    return canvas


def origami(photo: Image.Image, seed: int) -> Image.Image:
    """Origami / folded paper: large facets in a few paper colours, lit and shaded fold by fold, pale creases."""
    rng = np.random.default_rng(seed)
    a = _flat(photo, 6, 1.4)
    h, w = a.shape[:2]
    s = max(h, w) / 512
    canvas = Image.new("RGB", (w, h))
    draw = ImageDraw.Draw(canvas)
    for i, tri in enumerate(_triangles(h, w, rng.uniform(55, 80) * s, rng)):
        cx, cy = np.mean(tri, axis=0)
        shade = (1.12 if i % 2 else 0.78) * rng.uniform(0.92, 1.05)  # each fold faces the light or away
        c = np.clip(a[min(h - 1, int(cy)), min(w - 1, int(cx))] * shade, 0, 1) * 255
        draw.polygon(tri, fill=tuple(int(v) for v in c), outline=(235, 232, 225))
    return _img(_arr(canvas) * (1 + 0.04 * _noise(h, w, 2 * s, rng))[..., None])


def cross_stitch(photo: Image.Image, seed: int) -> Image.Image:
    """Cross-stitch: the picture as coloured thread X's on a grid of aida cloth."""
    rng = np.random.default_rng(seed)
    w, h = photo.size
    cell = max(4, int(rng.uniform(7, 10) * max(h, w) / 512))
    small = photo.convert("RGB").resize((max(1, w // cell), max(1, h // cell)), Image.BOX)
    small = small.quantize(colors=int(rng.integers(8, 14)), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    thread = _arr(small.convert("RGB").resize((w // cell * cell, h // cell * cell), Image.NEAREST))
    thread = np.pad(thread, ((0, h - thread.shape[0]), (0, w - thread.shape[1]), (0, 0)), mode="edge")
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx % cell) / cell, (yy % cell) / cell
    arm1, arm2 = np.abs(u - v), np.abs(u + v - 1)
    x_mask = np.minimum(arm1, arm2) < 0.22
    sheen = 1 - 1.2 * np.minimum(arm1, arm2)  # round threads: lighter along the middle
    cloth = _paper(h, w, (0.93, 0.91, 0.86), rng, grain=0.03)
    holes = (np.minimum(u, 1 - u) < 0.08) & (np.minimum(v, 1 - v) < 0.08)
    cloth[holes] *= 0.7
    return _img(np.where(x_mask[..., None], thread * sheen[..., None], cloth))


def embroidery(photo: Image.Image, seed: int) -> Image.Image:
    """Embroidery: satin-stitched areas of glossy thread, each colour stitched in its own direction, on linen."""
    rng = np.random.default_rng(seed)
    flat = _flat(photo, 8, 1.4)
    h, w = flat.shape[:2]
    s = max(h, w) / 512
    _, index = np.unique(flat.reshape(-1, 3), axis=0, return_inverse=True)
    index = index.reshape(h, w)
    angles = rng.uniform(0, np.pi, index.max() + 1)[index]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = (xx * np.cos(angles) + yy * np.sin(angles)) / (3 * s)
    sheen = 0.8 + 0.3 * np.abs(np.sin(np.pi * phase))
    out = flat * sheen[..., None]
    edge = _dilate(_boundary(index), int(2 * s + 1))
    out[edge] *= 0.55  # split-stitch outlines
    return _img(out)


def anime(photo: Image.Image, seed: int) -> Image.Image:
    """Anime cel shading: clean saturated colours in two or three hard tone steps, thin line art, soft bloom."""
    rng, a, h, w, s = _start(photo, seed)
    hsv = _hsv(_arr(photo.convert("RGB").filter(ImageFilter.MedianFilter(7))))
    hsv[..., 0] = np.round(hsv[..., 0] * 18) / 18
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.4 + 0.05, 0, 1)
    hsv[..., 2] = np.array([0.45, 0.75, 0.96], np.float32)[np.digitize(hsv[..., 2], [0.35, 0.7])]
    out = _rgb(hsv)
    out = out + 0.25 * _blur(np.clip(out - 0.8, 0, 1), 6 * s)  # bloom on the highlights
    out[_outline(a, s, rng.uniform(0.45, 0.6), 1.5 * s)] = _hex(["2b1f2e"])[0]
    return _img(out)


def graffiti(photo: Image.Image, seed: int) -> Image.Image:
    """Graffiti / street art: spray-painted neon colours with overspray, black and white outlines, drips, on a wall."""
    rng, a, h, w, s = _start(photo, seed)
    cans = _hex(["ff2d55", "ffd60a", "30d158", "0a84ff", "bf5af2", "ff9f0a", "64d2ff"])
    paint = _nearest(_flat(photo, 6, 2.0), cans[rng.permutation(len(cans))[:5]])
    paint = _blur(paint, 1.5 * s)
    spray = rng.random((h, w, 1)) < 0.15
    paint = np.where(spray, paint * 1.15, paint)
    line = _outline(a, s, 0.4, 4 * s)
    shine = _shifted(line, -int(3 * s), -int(3 * s)) & ~line
    paint[shine] = 0.97
    paint[line] = 0.05
    canvas = _img(paint)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(20, 40))):  # drips run down from the paint
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        c = tuple(int(v * 255) for v in paint[int(y), int(x)])
        draw.line((x, y, x, y + rng.uniform(15, 60) * s), fill=c, width=max(1, int(2 * s)))
    wall = _paper(h, w, (0.62, 0.6, 0.57), rng, grain=0.15)
    cover = (_noise(h, w, 80 * s, rng) > -0.9)[..., None]  # a few patches of bare wall
    return _img(np.where(cover, _arr(canvas) * (0.9 + 0.1 * wall / 0.6), wall))


def stencil(photo: Image.Image, seed: int) -> Image.Image:
    """Stencil graffiti in the manner of Banksy: two or three hard-edged tones sprayed on a pale wall, one red accent."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 2.5 * s)))
    wall = _paper(h, w, (0.86, 0.85, 0.82), rng, grain=0.1)
    black = (g < 0.33).astype(np.float32)
    grey = ((g >= 0.33) & (g < 0.55)).astype(np.float32)
    over = _blur(black, 3 * s) * 0.25 * (rng.random((h, w)) < 0.5)  # overspray past the stencil's edge
    out = wall * (1 - np.clip(over, 0, 1)[..., None])
    accent = _hex(["d7261e"])[0] if rng.random() < 0.7 else np.array([0.45, 0.45, 0.45], np.float32)
    out = np.where(grey[..., None] > 0, accent * (0.95 + 0.05 * wall), out)
    out = np.where(black[..., None] > 0, 0.07 * wall / 0.85, out)
    return _img(out)


def paper_cutout(photo: Image.Image, seed: int) -> Image.Image:
    """Layered paper cut-out: the picture as stacked sheets of coloured paper casting soft shadows on the ones below."""
    rng, a, h, w, s = _start(photo, seed)
    g = _stretch(_gray(_blur(a, 5 * s)))
    k = int(rng.integers(4, 7))
    level = np.minimum((g * k).astype(int), k - 1)
    base = rng.uniform(0, 1)
    tones = np.array([[(base + 0.06 * i) % 1, 0.55, 0.35 + 0.6 * i / (k - 1)] for i in range(k)], np.float32)
    colours = _rgb(tones[None])[0]
    out = colours[level]
    shadow = np.zeros((h, w), np.float32)
    for i in range(1, k):  # each sheet throws a shadow down and right onto the sheets beneath
        above = (level >= i).astype(np.float32)
        shadow = np.maximum(shadow, _shifted(_blur(above, 3 * s), int(4 * s), int(4 * s)) * (1 - above))
    out = out * (1 - 0.45 * shadow)[..., None]
    return _img(out * (1 + 0.03 * _noise(h, w, 2 * s, rng))[..., None])


def clip_art(photo: Image.Image, seed: int) -> Image.Image:
    """Clip art: a few flat vector colours with smooth shapes and a thick dark outline."""
    rng = np.random.default_rng(seed)
    flat = _flat(photo.filter(ImageFilter.MedianFilter(7)), int(rng.integers(5, 9)), rng.uniform(1.3, 1.8))
    h, w = flat.shape[:2]
    s = max(h, w) / 512
    _, index = np.unique(flat.reshape(-1, 3), axis=0, return_inverse=True)
    out = flat.copy()
    out[_dilate(_boundary(index.reshape(h, w)), int(3 * s))] = 0.1
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
    "mondrian": mondrian,
    "rothko": rothko,
    "pollock": pollock,
    "op_art": op_art,
    "escher": escher,
    "kandinsky": kandinsky,
    "suprematism": suprematism,
    "bauhaus": bauhaus,
    "art_deco": art_deco,
    "synthwave": synthwave,
    "matisse_cutouts": matisse_cutouts,
    "klimt": klimt,
    "munch": munch,
    "impressionism": impressionism,
    "monet": monet,
    "expressionism": expressionism,
    "fauvism": fauvism,
    "art_nouveau": art_nouveau,
    "charcoal": charcoal,
    "chalk": chalk,
    "pastel": pastel,
    "crayon": crayon,
    "gouache": gouache,
    "stippling": stippling,
    "linocut": linocut,
    "woodcut": woodcut,
    "etching": etching,
    "halftone": halftone,
    "comic": comic,
    "lichtenstein": lichtenstein,
    "risograph": risograph,
    "cyanotype": cyanotype,
    "blueprint": blueprint,
    "vaporwave": vaporwave,
    "glitch": glitch,
    "low_poly": low_poly,
    "origami": origami,
    "cross_stitch": cross_stitch,
    "embroidery": embroidery,
    "anime": anime,
    "graffiti": graffiti,
    "stencil": stencil,
    "paper_cutout": paper_cutout,
    "clip_art": clip_art,
}


def render(style: str, photo: Image.Image, seed: int = 0) -> Image.Image:
    """Render ``photo`` in the named medium (a key of :data:`RENDERERS`)."""
    if style not in RENDERERS:
        raise KeyError(f"unknown medium {style!r}; known: {', '.join(RENDERERS)}")
    return RENDERERS[style](photo.convert("RGB"), seed)
