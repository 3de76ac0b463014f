"""Write the procedural style exemplars of the library, or many random variants for training.

    python scripts/make_exemplars.py [--debian DIR]       # library exemplars, as listed in prompts/library.yaml
    python scripts/make_exemplars.py --train-dir DIR --per-style 30 [--photos FOLDER ...]

Library exemplars are deterministic (photo and seed come from library.yaml). Those copied from Debian
packages (sources named debian:PACKAGE:PATH) need the package unpacked as DIR/PACKAGE (apt-get download
PACKAGE, then dpkg -x PACKAGE*.deb DIR/PACKAGE); without it the committed copies are kept. Training variants
draw a random photo (the bundled examples, plus the photos in each --photos folder), crop, size
and renderer seed each; the folder appears complete or not at all (written under a temporary name,
renamed at the end). Build-time only: neither this nor the renderers ship in the wheel.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Sequence

import numpy as np
import yaml
from PIL import Image

from exemplar_media import RENDERERS

from sanet_text.core.paths import EXAMPLES_DIR, prompts_dir
from sanet_text.images.processor import IMAGE_SUFFIXES

SITE = Path(np.__file__).resolve().parents[1]
EXEMPLAR_SIDE = 384
EXEMPLAR_QUALITY = 85


def _fit(image: Image.Image, side: int) -> Image.Image:
    scale = side / max(image.size)
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)


def _source(name: str, debian: Path | None) -> Path | None:
    """A copied exemplar's file: ``skimage:<file>`` in scikit-image's sample data, ``debian:<package>:<path>``
    in an unpacked Debian package under ``debian`` (None when that is not given), else repo-relative."""
    if name.startswith("skimage:"):
        return SITE / "skimage" / "data" / name.removeprefix("skimage:")
    if name.startswith("debian:"):
        package, path = name.removeprefix("debian:").split(":", 1)
        return debian / package / path if debian else None
    return prompts_dir().parent / name


def _drawing(path: Path, side: int) -> Image.Image:
    """A drawing with transparency on white paper, cropped to the drawing, fitted in a ``side`` square."""
    image = Image.open(path).convert("RGBA")
    image = _fit(image.crop(image.getbbox() or (0, 0, *image.size)), side)
    paper = Image.new("RGB", (side, side), "white")
    paper.paste(image, ((side - image.width) // 2, (side - image.height) // 2), image)
    return paper


def _sheet(paths: list[Path], side: int) -> Image.Image:
    """Several drawings on one sheet, two to a row: an exemplar with the medium's variety, not one subject."""
    cols = 2
    rows = -(-len(paths) // cols)
    cell = side // cols
    sheet = Image.new("RGB", (cols * cell, rows * cell), "white")
    for i, path in enumerate(paths):
        sheet.paste(_drawing(path, cell - 8), ((i % cols) * cell + 4, (i // cols) * cell + 4))
    return sheet


def write_library_exemplars(library: Path = prompts_dir() / "library.yaml", debian: Path | None = None) -> list[Path]:
    """Render every library exemplar that names a ``render`` medium and copy (reduced) the ``source`` ones,
    or sheets of the ``sources`` drawings; copies whose package is not unpacked under ``debian`` are kept as they are."""
    spec = yaml.safe_load(library.read_text(encoding="utf-8"))
    written = []
    for name, style in spec["styles"].items():
        for ex in style["exemplars"]:
            out = library.parent / ex["file"]
            out.parent.mkdir(parents=True, exist_ok=True)
            if "render" in ex:
                photo = _fit(Image.open(EXAMPLES_DIR / ex["photo"]).convert("RGB"), EXEMPLAR_SIDE)
                image = RENDERERS[ex["render"]](photo, int(ex["seed"]))
            else:
                files = [_source(n, debian) for n in ex.get("sources", [ex.get("source")])]
                if None in files:
                    print(f"{name}: {out.relative_to(library.parent)} kept (give --debian to copy it again)")
                    continue
                image = _sheet(files, EXEMPLAR_SIDE) if "sources" in ex else _fit(Image.open(files[0]).convert("RGB"), EXEMPLAR_SIDE)
            image.save(out, "JPEG", quality=EXEMPLAR_QUALITY, optimize=True)
            written.append(out)
            print(f"{name}: {out.relative_to(library.parent)}")
    return written


def _train_photos(folders: Sequence[Path] = ()) -> list[Path]:
    """Training photos by stem: the bundled examples, replaced by (full-size) photos of the same name in ``folders``.

    Give colour photos only: grey test cards and textures would teach the model "grey" as a style cue.
    """
    photos = {p.stem: p for p in sorted(EXAMPLES_DIR.glob("*.jpg")) if p.stem != "starry_night"}
    for folder in folders:
        photos.update({p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES})
    if len(photos) < 3:
        sys.exit("too few training photos found")
    return [photos[k] for k in sorted(photos)]


def _random_view(photo: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random crop (30–100 % of the area, aspect 3:4–4:3) resized to a 320–448 px long side."""
    w, h = photo.size
    area = rng.uniform(0.3, 1.0) * w * h
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    cw, ch = min(w, int(np.sqrt(area * aspect))), min(h, int(np.sqrt(area / aspect)))
    x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return _fit(photo.crop((x, y, x + cw, y + ch)), int(rng.integers(320, 449)))


def write_training_set(target: Path, per_style: int, seed: int = 0, photo_folders: Sequence[Path] = ()) -> None:
    paths = _train_photos(photo_folders)
    photos = [Image.open(p).convert("RGB") for p in paths]
    print(f"{len(photos)} photos: {', '.join(p.stem for p in paths)}")
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    rng = np.random.default_rng(seed)
    for style, renderer in RENDERERS.items():
        (tmp / style).mkdir(parents=True)
        for i in range(per_style):
            k = int(rng.integers(len(photos)))
            image = renderer(_random_view(photos[k], rng), int(rng.integers(2**31)))
            image.save(tmp / style / f"{i:04d}_{paths[k].stem}.jpg", "JPEG", quality=90)
        print(f"{style}: {per_style}")
    # Swap in the finished folder in one rename, so a reader never sees half a set.
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    print(f"wrote {per_style * len(RENDERERS)} images to {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-dir", type=Path, help="write random training variants here instead")
    parser.add_argument("--per-style", type=int, default=30, help="training variants per style (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the training variants (default 0)")
    parser.add_argument("--debian", type=Path, help="folder of unpacked Debian packages (DIR/PACKAGE/usr/...) "
                        "for the exemplars copied from them")
    parser.add_argument("--photos", type=Path, action="append", default=[],
                        help="a folder of colour photos to draw training variants from (repeatable)")
    args = parser.parse_args()
    if args.train_dir:
        write_training_set(args.train_dir.resolve(), args.per_style, args.seed, args.photos)
    else:
        write_library_exemplars(debian=args.debian)


if __name__ == "__main__":
    main()
