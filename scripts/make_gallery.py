"""Render the README gallery: the bundled cat in an image style, several prompts, a text+image mix,
and a violet/cyan abstract (a palette unlike the photo's), with the model the CLI uses.

    python scripts/make_gallery.py docs/gallery.jpg
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from sanet_text import Stylizer
from sanet_text.core.paths import EXAMPLES_DIR
from sanet_text.images.processor import load_image, resize_to, tensor_to_pil
from sanet_text.options.commands import add_model_options
from sanet_text.training.synth_styles import procedural_style

TILE_W, LABEL = 256, 16


def violet_abstract(size: int = 512):
    """A seeded procedural abstract in violet and cyan (no such style is bundled)."""
    palettes = [[[86, 30, 140], [150, 60, 200], [40, 200, 220], [20, 20, 60], [200, 240, 255]]]
    rng = random.Random(7)
    return procedural_style(rng, size, palettes, kind="strokes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="the picture to write (e.g. docs/gallery.jpg)")
    add_model_options(parser, device="cpu")
    args = parser.parse_args()

    stylizer = Stylizer.from_pretrained(args.weights, config=args.config, vgg_weights=args.vgg_weights,
                                        device=args.device)
    content = EXAMPLES_DIR / "chelsea.jpg"
    starry = EXAMPLES_DIR / "starry_night.jpg"
    abstract = violet_abstract()
    cells = [("style: starry_night.jpg", [starry]), ("'Van Gogh starry night'", ["Van Gogh starry night"]),
             ("'watercolor'", ["watercolor"]), ("'ink wash'", ["ink wash"]), ("'cubism'", ["cubism"]),
             ("'watercolor' 0.4 + starry 0.6", ["watercolor", starry]), ("violet/cyan abstract", [abstract])]
    pictures = [("content", tensor_to_pil(resize_to(load_image(content), 512)))]
    for label, styles in cells:
        mix = [0.4, 0.6] if len(styles) == 2 else None
        pictures.append((label, tensor_to_pil(stylizer(content, styles, mix=mix, size=512).image)))
    pictures.append(("the abstract style", tensor_to_pil(abstract)))
    columns = 3
    height = round(pictures[0][1].height * TILE_W / pictures[0][1].width)
    rows = -(-len(pictures) // columns)
    sheet = Image.new("RGB", (columns * TILE_W, rows * (height + LABEL)), "white")
    draw, font = ImageDraw.Draw(sheet), ImageFont.load_default()
    for index, (label, picture) in enumerate(pictures):
        x, y = index % columns * TILE_W, index // columns * (height + LABEL)
        sheet.paste(ImageOps.fit(picture, (TILE_W, height), Image.LANCZOS), (x, y + LABEL))
        draw.text((x + 2, y + 2), label, fill="black", font=font)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, quality=90)
    print(args.output)


if __name__ == "__main__":
    main()
