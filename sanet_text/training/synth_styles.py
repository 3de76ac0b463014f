"""Training styles that never repeat: procedural paintings in random palettes, and recoloured artwork.

A decoder trained on a few dozen style images learns their palettes instead of learning to follow
whatever statistics the style has (v0.1 painted every style in the same blue/ochre). Every sample
here is seeded by its index alone (like :class:`sanet_text.training.data.RandomCrops`), so a resumed run
draws the same styles, yet no two samples share a palette: strokes along a flow field (Van Gogh),
dots (pointillism), Voronoi cells (mosaic, stained glass), stripes, posterised blobs, multi-scale
noise, flat shapes with dark outlines (clip-art, cels), pen hatching and line art, and dense layers of
small marks, each in colours from GIMP's palettes or a random colour harmony; real artwork is hue-rotated,
re-saturated and contrast-stretched.
"""

from __future__ import annotations

import colorsys
import math
import random

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

Palette = np.ndarray  # (K, 3) float32 in [0, 1]


def random_palette(rng: random.Random, palettes: list[list[list[int]]]) -> Palette:
    """3–7 colours: a random subset of a real palette, or a colour harmony around a random hue."""
    k = rng.randint(3, 7)
    if palettes and rng.random() < 0.5:
        source = rng.choice(palettes)
        colours = [source[rng.randrange(len(source))] for _ in range(k)]
        return np.asarray(colours, dtype=np.float32) / 255
    base = rng.random()
    offsets = rng.choice([(0.0, 0.05, -0.05, 0.1), (0.0, 0.5), (0.0, 1 / 3, 2 / 3), (0.0, 0.08, 0.5, 0.58)])
    colours = []
    for _ in range(k):
        hue = (base + rng.choice(offsets) + rng.gauss(0, 0.02)) % 1
        colours.append(colorsys.hsv_to_rgb(hue, rng.uniform(0.2, 1.0), rng.uniform(0.15, 1.0)))
    return np.asarray(colours, dtype=np.float32)


def noise_field(rng: np.random.Generator, size: int, octaves: int, base_cells: int) -> np.ndarray:
    """Smooth multi-scale value noise in [0, 1], (size, size): random grids upsampled bicubically."""
    field = np.zeros((size, size), np.float32)
    amplitude, total = 1.0, 0.0
    for octave in range(octaves):
        cells = max(2, base_cells * 2**octave)
        grid = Image.fromarray(rng.random((cells, cells), dtype=np.float32))
        field += amplitude * np.asarray(grid.resize((size, size), Image.BICUBIC))
        total += amplitude
        amplitude *= 0.5
    field /= total
    low, high = field.min(), field.max()
    return (field - low) / max(high - low, 1e-6)


def map_palette(field: np.ndarray, palette: Palette, bands: bool) -> np.ndarray:
    """A scalar field in [0, 1] through the palette: as a smooth gradient, or in flat bands."""
    k = len(palette)
    if bands:
        return palette[np.minimum((field * k).astype(int), k - 1)]
    position = field * (k - 1)
    low = np.minimum(position.astype(int), k - 2)
    frac = (position - low)[..., None]
    return palette[low] * (1 - frac) + palette[low + 1] * frac


def _noise(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    return map_palette(noise_field(rng, size, r.randint(1, 5), r.randint(2, 8)), palette, bands=r.random() < 0.3)


def _stripes(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    angle = r.uniform(0, math.pi)
    warp = noise_field(rng, size, 2, r.randint(2, 5)) * r.uniform(0, 3)
    phase = (x * math.cos(angle) + y * math.sin(angle)) * r.uniform(2, 24) + warp
    return map_palette((np.sin(2 * math.pi * phase) + 1) / 2, palette, bands=r.random() < 0.5)


def _blobs(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    field = noise_field(rng, size, r.randint(1, 3), r.randint(3, 10))
    image = map_palette(field, palette, bands=True)
    if r.random() < 0.5:  # dark outlines between regions, like cloisonné or comics
        edges = np.abs(np.diff((field * len(palette)).astype(int), axis=0, prepend=0)) > 0
        edges |= np.abs(np.diff((field * len(palette)).astype(int), axis=1, prepend=0)) > 0
        image[edges] *= r.uniform(0.0, 0.4)
    return image


def _cells(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    n = r.randint(20, 300)
    low = max(16, size // 4)  # assign cells on a coarse grid, then upsample: fast, still crisp
    points = rng.random((n, 2), dtype=np.float32) * low
    y, x = np.mgrid[0:low, 0:low].astype(np.float32)
    distance = (y[..., None] - points[:, 0]) ** 2 + (x[..., None] - points[:, 1]) ** 2
    nearest = distance.argmin(-1)
    colours = palette[rng.integers(0, len(palette), n)] * rng.uniform(0.8, 1.2, (n, 1)).astype(np.float32)
    image = Image.fromarray((np.clip(colours[nearest], 0, 1) * 255).astype(np.uint8)).resize((size, size), Image.NEAREST)
    out = np.asarray(image, dtype=np.float32) / 255
    if r.random() < 0.6:  # grout or lead lines
        grid = np.asarray(Image.fromarray(nearest.astype(np.uint8)).resize((size, size), Image.NEAREST))
        edges = (np.diff(grid, axis=0, prepend=grid[:1]) != 0) | (np.diff(grid, axis=1, prepend=grid[:, :1]) != 0)
        out[edges] = palette[0] * r.uniform(0.0, 0.5)
    return out


def _strokes(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Brush strokes that follow a smooth flow field over a painted ground."""
    canvas = Image.fromarray((_noise(rng, r, size, palette) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    flow = noise_field(rng, size, 2, r.randint(2, 5)) * 2 * math.pi * r.uniform(0.5, 2)
    length, width = r.uniform(0.02, 0.15) * size, r.randint(1, max(2, size // 24))
    for _ in range(r.randint(100, 900)):
        x, y = r.uniform(0, size - 1), r.uniform(0, size - 1)
        angle = float(flow[int(y), int(x)])
        colour = palette[r.randrange(len(palette))] * r.uniform(0.75, 1.25)
        fill = tuple(int(c) for c in np.clip(colour, 0, 1) * 255)
        dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=fill, width=width)
    if r.random() < 0.3:
        canvas = canvas.filter(ImageFilter.GaussianBlur(r.uniform(0.3, 1.2)))
    return np.asarray(canvas, dtype=np.float32) / 255


def _dots(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    ground = tuple(int(c) for c in palette[0] * 255)
    canvas = Image.new("RGB", (size, size), ground)
    draw = ImageDraw.Draw(canvas)
    radius = r.uniform(0.005, 0.03) * size
    for _ in range(int(r.uniform(0.3, 1.2) * (size / max(radius, 1)) ** 2)):
        x, y = r.uniform(0, size), r.uniform(0, size)
        colour = tuple(int(c) for c in np.clip(palette[r.randrange(len(palette))] * r.uniform(0.8, 1.2), 0, 1) * 255)
        rad = radius * r.uniform(0.6, 1.4)
        draw.ellipse([x - rad, y - rad, x + rad, y + rad], fill=colour)
    return np.asarray(canvas, dtype=np.float32) / 255


def _ink(palette: Palette, r: random.Random) -> tuple[int, int, int]:
    """A dark ink for outlines and lines: near-black, or the palette's darkest colour deepened."""
    darkest = palette[np.argmin(palette.sum(1))]
    colour = darkest * r.uniform(0.1, 0.45) if r.random() < 0.6 else np.full(3, r.uniform(0.0, 0.12))
    return tuple(int(c * 255) for c in colour)


def _paper(palette: Palette, r: random.Random) -> np.ndarray:
    """A light ground: the palette's lightest colour washed towards white."""
    lightest = palette[np.argmax(palette.sum(1))]
    return lightest + (1 - lightest) * r.uniform(0.5, 0.95)


def _cartoon(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Clip-art and cel look: flat-filled shapes with dark outlines, some with a flat shadow."""
    canvas = Image.new("RGB", (size, size), tuple(int(c * 255) for c in _paper(palette, r)))
    draw = ImageDraw.Draw(canvas)
    ink, outline = _ink(palette, r), max(1, round(size * r.uniform(0.006, 0.02)))
    for _ in range(r.randint(6, 30)):
        x, y, radius = r.uniform(0, size), r.uniform(0, size), size * r.uniform(0.05, 0.25)
        colour = palette[r.randrange(len(palette))]
        fill = tuple(int(c * 255) for c in colour)
        shape = r.choice(("ellipse", "polygon", "box"))
        if shape == "polygon":
            turn = r.uniform(0, 2 * math.pi)
            corners = sorted(turn + r.uniform(0, 2 * math.pi) for _ in range(r.randint(3, 7)))
            points = [(x + radius * math.cos(a), y + radius * math.sin(a)) for a in corners]
            draw.polygon(points, fill=fill, outline=ink, width=outline)
            continue
        box = [x - radius, y - radius * r.uniform(0.5, 1.0), x + radius, y + radius * r.uniform(0.5, 1.0)]
        paint = draw.ellipse if shape == "ellipse" else draw.rectangle
        paint(box, fill=fill, outline=ink, width=outline)
        inset = outline + 1
        if r.random() < 0.5 and min(box[2] - box[0], box[3] - box[1]) > 8 * inset:
            # cel shading: one darker flat band inside, no gradient
            shade = tuple(int(c * 255 * r.uniform(0.55, 0.8)) for c in colour)
            paint([box[0] + (box[2] - box[0]) * r.uniform(0.4, 0.7), box[1] + inset, box[2] - inset, box[3] - inset],
                  fill=shade)
    return np.asarray(canvas, dtype=np.float32) / 255


def _hatching(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Pen and ink: tone drawn as parallel hatching, crossed in the darks, plus wandering contour lines."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    tone = noise_field(rng, size, r.randint(1, 3), r.randint(2, 6))
    wobble = noise_field(rng, size, 2, r.randint(3, 8)) * r.uniform(0.3, 1.5)
    width = r.uniform(0.6, 1.8)
    spacing = max(size * r.uniform(0.015, 0.05), width * r.uniform(2.5, 5))  # paper between the lines at any size
    ink_amount = np.zeros((size, size), np.float32)
    angle = r.uniform(0, math.pi)
    for level in sorted(r.uniform(0.1, 0.65) for _ in range(r.randint(1, 4))):
        distance = (x * math.cos(angle) + y * math.sin(angle)) / spacing + wobble
        line = np.clip(width / 2 + 0.5 - np.abs(distance - np.round(distance)) * spacing, 0, 1)
        ink_amount = np.maximum(ink_amount, line * (tone < level))
        angle += r.uniform(0.4, 1.2)  # each darker layer crosses the last
    if r.random() < 0.7:  # contours: iso-lines of a second field, like an outline drawing
        shape = noise_field(rng, size, r.randint(1, 2), r.randint(2, 5)) * r.randint(3, 8)
        gradient = np.hypot(*np.gradient(shape)) + 1e-6
        contour = np.clip(r.uniform(0.8, 2.5) / 2 + 0.5 - np.abs(shape - np.round(shape)) / gradient, 0, 1)
        ink_amount = np.maximum(ink_amount, contour)
    paper, ink = _paper(palette, r), np.asarray(_ink(palette, r), np.float32) / 255
    return (paper + (ink - paper) * ink_amount[..., None]).astype(np.float32)


# Marks per layer and their smallest radius (px): bounds the drawing time (~1 ms per 100 marks).
LAYERED_MAX_MARKS = 1500
LAYERED_MIN_MARK = 2.0


def _layered(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Dense detail: layer over layer of small overlapping marks (dabs, petals, twigs), finer each layer."""
    canvas = Image.fromarray((_noise(rng, r, size, palette) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    ink = _ink(palette, r)
    radius = size * r.uniform(0.04, 0.1)
    for _ in range(r.randint(3, 5)):
        if radius < LAYERED_MIN_MARK:  # finer marks read as noise, not as drawn detail
            break
        mark, outlined = r.choice(("dab", "petal", "twig")), r.random() < 0.4
        for _ in range(min(LAYERED_MAX_MARKS, int(r.uniform(0.3, 0.8) * (size / radius) ** 2))):
            x, y = r.uniform(0, size), r.uniform(0, size)
            colour = tuple(int(c) for c in np.clip(palette[r.randrange(len(palette))] * r.uniform(0.7, 1.3), 0, 1) * 255)
            rad = radius * r.uniform(0.4, 1.2)
            if mark == "twig":
                angle = r.uniform(0, 2 * math.pi)
                draw.line([(x, y), (x + rad * 2 * math.cos(angle), y + rad * 2 * math.sin(angle))], fill=colour,
                          width=max(1, round(rad / 3)))
            elif mark == "petal":
                angle = r.uniform(0, 2 * math.pi)
                points = [(x + rad * math.cos(angle + a) * (1 if i % 2 else 0.35),
                           y + rad * math.sin(angle + a) * (1 if i % 2 else 0.35)) for i, a in enumerate((0, 1.6, 3.1, 4.7))]
                draw.polygon(points, fill=colour, outline=ink if outlined else None)
            else:
                draw.ellipse([x - rad, y - rad, x + rad, y + rad], fill=colour, outline=ink if outlined else None)
        radius *= r.uniform(0.6, 0.85)
    return np.asarray(canvas, dtype=np.float32) / 255


KINDS = {"strokes": _strokes, "dots": _dots, "cells": _cells, "stripes": _stripes, "blobs": _blobs, "noise": _noise,
         "cartoon": _cartoon, "hatching": _hatching, "layered": _layered}


# ----------------------------------------------------------------------------- compositions
# Whole-picture layouts of named abstract painters and movements, in any palette: the library
# renders its Mondrian, Rothko, Pollock, op-art and Escher exemplars with them (no such artwork
# is in any package registry), and a text mapper can caption them "<motif> in <palette>".
def _grid(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Mondrian: a white ground split into rectangles by black bars, a few filled with the palette."""
    rects = [(0.0, 0.0, float(size), float(size))]
    for _ in range(r.randint(6, 11)):
        rects.sort(key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
        x0, y0, x1, y1 = rects.pop()
        if x1 - x0 > y1 - y0:
            cut = x0 + (x1 - x0) * r.uniform(0.25, 0.75)
            rects += [(x0, y0, cut, y1), (cut, y0, x1, y1)]
        else:
            cut = y0 + (y1 - y0) * r.uniform(0.25, 0.75)
            rects += [(x0, y0, x1, cut), (x0, cut, x1, y1)]
    canvas = Image.new("RGB", (size, size), (242, 240, 232))
    draw = ImageDraw.Draw(canvas)
    bar = max(2, round(size * r.uniform(0.014, 0.024)))
    for box in rects:
        filled = r.random() < 0.4
        colour = palette[r.randrange(len(palette))] if filled else np.array([0.95, 0.94, 0.91]) * r.uniform(0.96, 1.0)
        draw.rectangle(box, fill=tuple(int(c * 255) for c in colour), outline=(18, 18, 20), width=bar)
    return np.asarray(canvas, dtype=np.float32) / 255


def _fields(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Rothko: two or three soft-edged stacked rectangles of colour floating on a coloured ground."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    image = np.broadcast_to(palette[0], (size, size, 3)).copy()
    # Scumbled paint: streaks along the brush, which ran horizontally.
    streaks = np.asarray(Image.fromarray(rng.random((size // 4, 8), dtype=np.float32)).resize((size, size), Image.BICUBIC))
    k = r.randint(2, 3)
    edges = np.cumsum([0.0] + [r.uniform(0.6, 1.4) for _ in range(k)])
    top, bottom = r.uniform(0.05, 0.1), 1 - r.uniform(0.05, 0.1)
    edges = top + (bottom - top) * edges / edges[-1]
    margin, soft = r.uniform(0.06, 0.12), r.uniform(0.01, 0.03)
    for i in range(k):
        gap = 0.015
        inside = (np.clip((x - margin) / soft, 0, 1) * np.clip((1 - margin - x) / soft, 0, 1)
                  * np.clip((y - edges[i] - gap) / soft, 0, 1) * np.clip((edges[i + 1] - gap - y) / soft, 0, 1))
        colour = palette[1 + i % (len(palette) - 1)]
        image += (inside * r.uniform(0.8, 0.95))[..., None] * (colour - image)
    return np.clip(image * (1 + 0.12 * (streaks - 0.5))[..., None], 0, 1)


def _drips(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Pollock: layers of poured and dripped paint, long tangled skeins and spatters over a raw canvas."""
    canvas = Image.new("RGB", (size, size), tuple(int(c * 255) for c in palette[0]))
    draw = ImageDraw.Draw(canvas)
    for layer in range(r.randint(3, 5)):
        colour = tuple(int(c * 255) for c in np.clip(palette[1 + layer % (len(palette) - 1)] * r.uniform(0.9, 1.1), 0, 1))
        for _ in range(r.randint(35, 60)):
            x, y, angle = r.uniform(0, size), r.uniform(0, size), r.uniform(0, 2 * math.pi)
            width = max(1, round(size * r.uniform(0.002, 0.014)))
            points = [(x, y)]
            for _ in range(r.randint(20, 60)):
                angle += r.gauss(0, 0.5)
                step = size * r.uniform(0.005, 0.03)
                x, y = x + math.cos(angle) * step, y + math.sin(angle) * step
                points.append((x, y))
            draw.line(points, fill=colour, width=width, joint="curve")
            for _ in range(r.randint(0, 6)):  # spatter flung off the stick
                sx, sy, rad = x + r.gauss(0, size * 0.03), y + r.gauss(0, size * 0.03), size * r.uniform(0.002, 0.008)
                draw.ellipse([sx - rad, sy - rad, sx + rad, sy + rad], fill=colour)
    return np.asarray(canvas, dtype=np.float32) / 255


def _waves(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Op art (Riley, Vasarely): hard-edged stripes, rings or checks bent by a bulge into illusory depth."""
    y, x = (np.mgrid[0:size, 0:size].astype(np.float32) / size) - np.array(
        [r.uniform(0.3, 0.7), r.uniform(0.3, 0.7)], np.float32)[:, None, None]
    bulge = r.uniform(0.5, 1.5) * np.exp(-(x * x + y * y) / r.uniform(0.04, 0.12))
    periods = r.uniform(12, 30)
    motif = r.choice(("stripes", "rings", "checks"))
    if motif == "stripes":
        phase = (x + 0.05 * np.sin(2 * math.pi * y * r.uniform(1, 3))) * periods * (1 + bulge)
        on = np.sin(2 * math.pi * phase) > 0
    elif motif == "rings":
        on = np.sin(2 * math.pi * np.hypot(x, y) * periods * (1 + 0.5 * bulge)) > 0
    else:
        on = (np.sin(2 * math.pi * x * periods / 2 * (1 + bulge)) * np.sin(2 * math.pi * y * periods / 2 * (1 + bulge))) > 0
    return np.where(on[..., None], palette[0], palette[-1]).astype(np.float32)


def _tiles(rng: np.random.Generator, r: random.Random, size: int, palette: Palette) -> np.ndarray:
    """Escher: interlocking tiles that fill the plane, each edge bent into a creature-like outline."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size * r.uniform(3, 6)
    bend = r.uniform(0.15, 0.25)
    u = x + bend * np.sin(2 * math.pi * y) + 0.5 * bend * np.sin(4 * math.pi * y + 1)
    v = y + bend * np.sin(2 * math.pi * u)
    cu, cv = np.floor(u).astype(int), np.floor(v).astype(int)
    k = min(len(palette), r.randint(2, 3))
    image = palette[(cu + cv * (k - 1)) % k].copy()
    # Each creature gets an eye and a darker outline, as in the woodcuts.
    fu, fv = u - cu, v - cv
    image[np.hypot(fu - 0.65, fv - 0.3) < 0.06] = palette[(k) % len(palette)] * 0.3
    outline = (np.abs(np.diff(cu, axis=1, prepend=cu[:, :1])) + np.abs(np.diff(cv, axis=0, prepend=cv[:1]))) > 0
    outline = np.asarray(Image.fromarray(outline.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
    image[outline] *= 0.25
    return image.astype(np.float32)


COMPOSITIONS = {"grid": _grid, "fields": _fields, "drips": _drips, "waves": _waves, "tiles": _tiles}


def composition(kind: str, seed: int, width: int, height: int, palette: Palette) -> np.ndarray:
    """One of :data:`COMPOSITIONS` as an (height, width, 3) array in [0, 1], fixed by ``seed``;
    ``palette[0]`` is the ground, the rest the painted colours (the grid fills with any of them)."""
    r = random.Random(seed)
    rng = np.random.default_rng(r.getrandbits(64))
    size = max(width, height)
    return COMPOSITIONS[kind](rng, r, size, np.asarray(palette, np.float32))[:height, :width]


def procedural_style(r: random.Random, size: int, palettes: list[list[list[int]]] | None = None,
                     kind: str | None = None) -> torch.Tensor:
    """A random style image (3, size, size) in [0, 1], fully determined by ``r``'s state; ``kind``
    (one of :data:`KINDS`) fixes the pattern, else it is drawn too."""
    rng = np.random.default_rng(r.getrandbits(64))
    palette = random_palette(r, palettes or [])
    image = KINDS[kind or r.choice(sorted(KINDS))](rng, r, size, palette)
    if r.random() < 0.4:  # a second layer seen through the first: glazes, overprints
        other = KINDS[r.choice(sorted(KINDS))](rng, r, size, random_palette(r, palettes or []))
        image = image * (1 - (share := r.uniform(0.2, 0.5))) + other * share
    if r.random() < 0.5:  # paper or canvas grain
        image = image * (1 + (noise_field(rng, size, 1, size // 2)[..., None] - 0.5) * r.uniform(0.05, 0.3))
    return torch.from_numpy(np.ascontiguousarray(np.clip(image, 0, 1), dtype=np.float32)).permute(2, 0, 1)


def jitter_colours(image: torch.Tensor, r: random.Random) -> torch.Tensor:
    """Real artwork (3, H, W) recoloured: hue rotation, saturation, contrast, brightness, sometimes inverted
    or channel-swapped, so the same painting teaches several palettes."""
    # Hue rotation about the grey axis (exact in linear RGB up to clipping; YIQ-style).
    angle = r.uniform(-math.pi, math.pi)
    cos, sin = math.cos(angle), math.sin(angle)
    k = 1 / 3
    s3 = math.sqrt(k)
    rotation = torch.tensor([
        [cos + (1 - cos) * k, k * (1 - cos) - s3 * sin, k * (1 - cos) + s3 * sin],
        [k * (1 - cos) + s3 * sin, cos + k * (1 - cos), k * (1 - cos) - s3 * sin],
        [k * (1 - cos) - s3 * sin, k * (1 - cos) + s3 * sin, cos + k * (1 - cos)],
    ], dtype=image.dtype)
    out = torch.einsum("ij,jhw->ihw", rotation, image)
    grey = out.mean(0, keepdim=True)
    out = grey + (out - grey) * r.uniform(0.3, 1.8)
    mean = out.mean()
    out = (out - mean) * r.uniform(0.6, 1.5) + mean + r.uniform(-0.2, 0.2)
    if r.random() < 0.1:
        out = 1 - out
    if r.random() < 0.2:
        out = out[torch.randperm(3, generator=torch.Generator().manual_seed(r.getrandbits(32)))]
    return out.clamp(0, 1)
