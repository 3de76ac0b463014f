"""Attention heat maps: where a 3×3 grid of content points looks in the style image (relu4_1).

Left: the content with numbered, coloured points. Right: one tile per point, the style image
dimmed to grey with that point's attention overlaid as a heat map, framed in the point's colour.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..images.processor import tensor_to_pil

POINT_COLOURS = [
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
]
# Heat colour ramp (black, purple, orange, yellow): attention rises visibly from the dimmed picture.
HEAT_STOPS = np.array([0.0, 0.35, 0.7, 1.0])
HEAT_RGB = np.array([[0, 0, 0], [120, 20, 160], [250, 110, 20], [255, 240, 60]], dtype=np.float32)
GAP = 8
TITLE_HEIGHT = 28


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _fit(image: Image.Image, width: int, height: int) -> Image.Image:
    scale = min(width / image.width, height / image.height)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BICUBIC)


def heat_overlay(style: Image.Image, attention: np.ndarray) -> Image.Image:
    """``style`` in grey with ``attention`` (h, w) stretched over it as colour, strongest = opaque."""
    heat = np.asarray(Image.fromarray(attention.astype(np.float32), "F").resize(style.size, Image.BILINEAR))
    # Stretched per point, min to max: the pattern is what matters, and SANet's peaks vary in height.
    heat = (heat - heat.min()) / max(float(heat.max() - heat.min()), 1e-12)
    colour = np.stack([np.interp(heat, HEAT_STOPS, HEAT_RGB[:, c]) for c in range(3)], axis=-1)
    grey = np.asarray(style.convert("L").convert("RGB"), dtype=np.float32) * 0.6
    opacity = heat[..., None] ** 0.5
    return Image.fromarray((grey * (1 - opacity) + colour * opacity).astype(np.uint8), "RGB")


def render_attention(
    content: torch.Tensor, style: torch.Tensor, attention: torch.Tensor, tile: int = 240, points_per_side: int = 3
) -> Image.Image:
    """A picture of ``attention`` (content rows, content cols, style rows, style cols) for images (3, H, W)."""
    rows, cols = attention.shape[:2]
    style_tile = _fit(tensor_to_pil(style), tile, tile)
    grid_side = points_per_side * tile + (points_per_side - 1) * GAP
    content_panel = _fit(tensor_to_pil(content), round(grid_side * 1.5), grid_side)
    font, small = _font(18), _font(14)

    canvas = Image.new(
        "RGB", (content_panel.width + grid_side + 3 * GAP, grid_side + TITLE_HEIGHT + 2 * GAP), "white"
    )
    draw = ImageDraw.Draw(canvas)
    draw.text((GAP, GAP), "content points (left) attend to these style regions (right), relu4_1 attention",
              fill="black", font=small)
    top = TITLE_HEIGHT + GAP
    canvas.paste(content_panel, (GAP, top))

    fractions = [(i + 0.5) / points_per_side for i in range(points_per_side)]
    points = [(fy, fx) for fy in fractions for fx in fractions]
    grid_left = content_panel.width + 2 * GAP
    for number, (fy, fx) in enumerate(points):
        colour = POINT_COLOURS[number % len(POINT_COLOURS)]
        row, col = min(rows - 1, int(fy * rows)), min(cols - 1, int(fx * cols))
        tile_image = heat_overlay(style_tile, attention[row, col].float().cpu().numpy())

        x, y = GAP + fx * content_panel.width, top + fy * content_panel.height
        draw.ellipse((x - 9, y - 9, x + 9, y + 9), fill=colour, outline="white", width=2)
        draw.text((x + 12, y - 10), str(number + 1), fill=colour, font=font, stroke_width=2, stroke_fill="black")

        ty, tx = divmod(number, points_per_side)
        left = grid_left + tx * (tile + GAP) + (tile - tile_image.width) // 2
        upper = top + ty * (tile + GAP) + (tile - tile_image.height) // 2
        canvas.paste(tile_image, (left, upper))
        draw.rectangle((left - 3, upper - 3, left + tile_image.width + 2, upper + tile_image.height + 2),
                       outline=colour, width=3)
        draw.text((left + 5, upper + 3), str(number + 1), fill=colour, font=font, stroke_width=2, stroke_fill="black")
    return canvas
