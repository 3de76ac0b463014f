"""Assemble the training and validation folders of configs/train/cpu.yaml from package registries.

    python scripts/prepare_cpu_data.py --out data

Everything comes from PyPI (scikit-image, scikit-learn) and Debian packages (downloaded with
``apt-get download`` and unpacked with ``dpkg -x`` into ``--debs``; pass an existing folder to skip
the download). Licences are listed in ``sanet_text/pretrained/MODEL_CARD.md`` and ``docs/DATA.md``.

Written under ``--out``:

* ``content/``: photos (scikit-image, scikit-learn, OpenCV's sample data);
* ``styles/<source>/``: artwork and textures: Van Gogh's Starry Night, KDE Plasma wallpapers
  (digital paintings), GNOME backgrounds, Sway/Lomiri wallpapers, GIMP patterns tiled to 512 px,
  scikit-image textures (the procedural styles are generated during training, see
  :mod:`sanet_text.training.synth_styles`);
* ``palettes.json``: GIMP's colour palettes, for the procedural styles;
* ``validation/content`` and ``validation/styles``: photos and artwork that training never sees,
  for choosing checkpoints and for ``benchmarks/peer_comparison.py --pairs validation``;
* ``check/content`` and ``check/styles``: a second such set, from other packages, that no checkpoint
  or loss weight was chosen on (see ``CHECK_PACKAGES``);
* ``styles/openclipart/<group>``, ``styles/krita_patterns``, ``styles/gimp_extra_patterns``,
  ``styles/frozen_bubble``: drawings, patterns, papers and game art from ``TRAIN_ART_PACKAGES``;
* ``art/content`` and ``art/styles``: unseen art (a painting, outlined cartoons, line art, dense
  textures, dark theme art) from ``ART_PACKAGES``, which nothing else uses, for
  ``benchmarks/peer_comparison.py --pairs art``. Sources and licences: ``docs/DATA.md``.

Never used, for training or validation: the project owners' held-out sources (Debian's
``mate-backgrounds`` and ``ukui-wallpapers``; opencv-doc's graf1.png, graf3.png, leuvenA.jpg,
leuvenB.jpg).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import random
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path

from PIL import Image

DEBIAN_PACKAGES = ("opencv-doc", "plasma-workspace-wallpapers", "gnome-backgrounds", "gimp-data", "sway-backgrounds",
                   "lomiri-wallpapers")
# Reserved for the owners' evaluation: must never reach training or validation.
RESERVED = {"graf1.png", "graf3.png", "leuvenA.jpg", "leuvenB.jpg"}

SKIMAGE = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "motorcycle_left.png",
           "ihc.png", "retina.jpg")
SKLEARN = ("china.jpg", "flower.jpg")
OPENCV_DATA = "usr/share/doc/opencv-doc/examples"
# Colour photos among OpenCV's samples (diagrams, charts, chessboards and grey images left out).
OPENCV_PHOTOS = ("data/aero1.jpg", "data/aloeL.jpg", "data/apple.jpg", "data/baboon.jpg", "data/board.jpg",
                 "data/building.jpg", "data/butterfly.jpg", "data/ela_original.jpg", "data/fruits.jpg", "data/home.jpg",
                 "data/licenseplate_motion.jpg", "data/orange.jpg", "data/pca_test1.jpg", "data/smarties.png",
                 "data/squirrel_cls.jpg", "hfs/data/000.jpg", "text/scenetext01.jpg", "text/scenetext02.jpg",
                 "text/scenetext03.jpg", "text/scenetext05.jpg", "text/scenetext06.jpg")
TEXTURES = ("brick.png", "grass.png", "gravel.png")

# Validation: photos and artwork of the allowed sources that training never sees (chosen for variety:
# faces, objects, a street, a plant; painterly, geometric, and violet/cyan palettes unlike the photos).
VALIDATION_PHOTOS = ("data/messi5.jpg", "data/rubberwhale1.png", "text/scenetext04.jpg", "alphamat/input_images/plant.jpg",
                     "data/aero3.jpg")
VALIDATION_PLASMA = ("Cluster", "Kokkini", "IceCold")
VALIDATION_GNOME = ("truchet-l.webp", "pixels-d.webp")
VALIDATION_PATTERNS = ("Stone/amethyst.pat",)

# A second validation set, from packages nothing else here touches, its files picked before any model
# was scored on it: how much choosing checkpoints and loss weights on validation/ flattered the
# numbers. It has chosen one thing since, the colour-matching default (model card). Photos: Ubuntu
# Touch 16.04 wallpapers; styles: two more of them, a Debian desktop theme's background and MyPaint
# paper textures.
CHECK_PACKAGES = ("lomiri-wallpapers-16.04", "desktop-base", "mypaint-data-extras")
# Art (issue 19), split by package: training styles from the first group only, the art/ set (unseen
# art: what chooses the v0.3 recipe) from the second only. The split follows what each package holds:
# the training packages give drawings, patterns and papers in quantity; the art packages give a
# painting, outlined cartoons, line art, photographed objects for dense textures and dark theme art.
TRAIN_ART_PACKAGES = ("openclipart-png", "krita-data", "gimp-data-extras", "frozen-bubble-data")
ART_PACKAGES = ("tuxpaint-stamps-default", "inkscape-tutorials", "debian-edu-artwork-homeworld",
                "debian-edu-artwork-spacefun")
ALL_PACKAGES = DEBIAN_PACKAGES + CHECK_PACKAGES + TRAIN_ART_PACKAGES + ART_PACKAGES

OPENCLIPART = "openclipart-png/usr/share/openclipart/png"
# Top-level categories -> sampling group (folder under styles/openclipart/); any other category is a
# scene or object. Groups are drawn equally often, so simple icons and symbols, a third of the
# library, do not crowd out the figures.
OPENCLIPART_GROUPS = {"computer": "symbols", "shapes": "symbols", "signs_and_symbols": "symbols", "buttons": "symbols",
                      "logos": "symbols", "people": "figures", "animals": "figures", "plants": "figures",
                      "food": "figures"}
OPENCLIPART_PER_GROUP = 120
# A drawing is kept when its bounding box's short side has this many px and ink covers this much of it:
# smaller ones are upscaled blur at training scale, emptier ones mostly paper.
MIN_DRAWING_SIDE = 200
MIN_INK_COVER = 0.15
# A few drawings are rendered poster-sized (up to 15000 px): seconds and gigabytes each to decode,
# for a picture that is shrunk to MAX_SIDE anyway.
MAX_DRAWING_PIXELS = 4096 * 4096
FROZEN_BUBBLE = "frozen-bubble-data/usr/share/games/frozen-bubble/gfx"
# Patterns smaller than this are 2x2 dithers and the like: flat once tiled.
MIN_PATTERN_SIDE = 24

# The art/ set, chosen from contact sheets before any model was scored on it (reasons in docs/DATA.md).
TUXPAINT = "tuxpaint-stamps-default/usr/share/tuxpaint/stamps"
ART_PHOTOS = (f"opencv-doc/{OPENCV_DATA}/data/chicky_512.png", f"opencv-doc/{OPENCV_DATA}/data/left.jpg",
              f"opencv-doc/{OPENCV_DATA}/data/stuff.jpg",
              f"{TUXPAINT}/animals/mammals/bovines/gnu-baby.png", f"{TUXPAINT}/plants/flowers/anemone_red.png",
              f"{TUXPAINT}/animals/birds/helmeted_guineafowl.png")
ART_STYLES = ("inkscape-tutorials/usr/share/inkscape/tutorials/oldguitar.jpg",
              f"{TUXPAINT}/town/houses/cartoon/circus.png", f"{TUXPAINT}/food/dessert/cartoon/birthday_cake.png", f"{TUXPAINT}/town/houses/cartoon/inn.png",
              f"{TUXPAINT}/people/cartoon/mermaid.png", f"{TUXPAINT}/clothes/t_jacket.png",
              f"{TUXPAINT}/plants/trees/holm_oak.png", f"{TUXPAINT}/food/fruit/orange_seville.png",
              "debian-edu-artwork-homeworld/usr/share/plymouth/themes/debian-edu-homeworld/background.png",
              "debian-edu-artwork-spacefun/usr/share/plymouth/themes/debian-edu-spacefun/background.png")
# Photographed stamps whose inside is the style (foliage, peel), not their outline on white.
ART_INTERIORS = {"holm_oak.png", "orange_seville.png"}
ART_MAX_SIDE = 1024
CHECK_PHOTOS = tuple(f"lomiri-wallpapers-16.04/usr/share/backgrounds/{name}" for name in (
    "Dragonfly_by_Bolly.jpg", "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg",
    "friends_by_Aitzol_Berasategi.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg"))
CHECK_STYLES = ("lomiri-wallpapers-16.04/usr/share/backgrounds/umang_by_Abhishek_Mudgal.jpg",
                "lomiri-wallpapers-16.04/usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg",
                "desktop-base/usr/share/desktop-base/softwaves-theme/grub/grub-16x9.png",
                "mypaint-data-extras/usr/share/mypaint/backgrounds/ramon/HR_Cork.png",
                "mypaint-data-extras/usr/share/mypaint/backgrounds/ramon/HR_DecoPaper.png",
                "mypaint-data-extras/usr/share/mypaint/backgrounds/mrmamurk/mamurk_b_1.png")


def check_name(path: str) -> str:
    """``package_file`` for a CHECK_* or ART_* path; desktop-base's themes all name their picture grub-16x9.png."""
    parts = Path(path).parts
    theme = [part for part in parts if part.endswith("-theme")]
    return "_".join([parts[0], *theme, parts[-1].replace(" ", "_")])

# Long side of copied artwork: enough for 512 px training scale, small enough to keep in memory.
MAX_SIDE = 1280


def package_dir(name: str, sub: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{name} is missing: pip install -e \".[train]\" first (scikit-image and scikit-learn's sample photos)")
    return Path(list(spec.submodule_search_locations)[0]) / sub


def unpack_debs(folder: Path) -> None:
    """``apt-get download`` + ``dpkg -x`` each package into ``folder/<package>`` (skipped when present)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ALL_PACKAGES:
        target = folder / name
        if target.is_dir():
            continue
        subprocess.run(["apt-get", "download", name], cwd=folder, check=True)
        deb = next(folder.glob(f"{name}_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(target)], check=True)


def save_rgb(image: Image.Image, out: Path, max_side: int = MAX_SIDE) -> None:
    image = image.convert("RGB")
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.LANCZOS)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out.with_suffix(".png") if out.suffix.lower() not in (".jpg", ".png") else out)


def on_paper(image: Image.Image, paper: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """RGB, transparent parts showing ``paper`` (converting RGBA straight to RGB would show black)."""
    rgba = image.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (*paper, 255))
    canvas.alpha_composite(rgba)
    return canvas.convert("RGB")


def cutout(image: Image.Image, paper: tuple[int, int, int] = (255, 255, 255)) -> Image.Image | None:
    """A drawing on ``paper``, cropped to its ink's bounding box; None when that box is too small or
    nearly empty to teach anything at training scale."""
    alpha = image.convert("RGBA").getchannel("A")
    box = alpha.point(lambda a: 255 if a > 16 else 0).getbbox()
    if box is None or min(box[2] - box[0], box[3] - box[1]) < MIN_DRAWING_SIDE:
        return None
    cover = alpha.crop(box).histogram()
    if sum(level * count for level, count in enumerate(cover)) / (255 * sum(cover)) < MIN_INK_COVER:
        return None
    return on_paper(image.crop(box), paper)


def light_paper(rng: random.Random) -> tuple[int, int, int]:
    """White half the time, else a random light tint, so drawings are not all on pure white."""
    if rng.random() < 0.5:
        return (255, 255, 255)
    return (rng.randint(225, 255), rng.randint(225, 255), rng.randint(225, 255))


def openclipart_drawings(root: Path, rng: random.Random) -> dict[str, list[Path]]:
    """Each group's drawings in a seeded order that takes the group's folders in turn, so a folder of
    1378 stars gives no more of the first picks than a folder of twelve maps."""
    folders: dict[str, dict[Path, list[Path]]] = {}
    for path in sorted(root.rglob("*.png")):
        group = OPENCLIPART_GROUPS.get(path.relative_to(root).parts[0], "scenes")
        folders.setdefault(group, {}).setdefault(path.parent, []).append(path)
    ordered = {}
    for group, by_folder in sorted(folders.items()):
        shuffled = [rng.sample(files, len(files)) for _, files in sorted(by_folder.items())]
        ordered[group] = [path for turn in itertools.zip_longest(*shuffled) for path in turn if path is not None]
    return ordered


def write_art_training_styles(debs: Path, styles: Path) -> None:
    """The training split of the art packages: openclipart drawings, Krita and GIMP extra patterns and
    papers tiled, Frozen Bubble's painted screens."""
    rng = random.Random(19)
    root = debs / OPENCLIPART
    for group, paths in openclipart_drawings(root, rng).items():
        kept = 0
        for path in paths:
            with warnings.catch_warnings():  # Pillow warns about the poster-sized ones before they are skipped
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                try:
                    image = Image.open(path)
                except Image.DecompressionBombError:
                    continue
            if image.width * image.height > MAX_DRAWING_PIXELS:
                continue
            drawing = cutout(image, light_paper(rng))
            if drawing is not None:
                save_rgb(drawing, styles / "openclipart" / group / "_".join(path.relative_to(root).parts))
                kept += 1
                if kept == OPENCLIPART_PER_GROUP:
                    break
    for folder, target in ((debs / "krita-data/usr/share/krita/patterns", "krita_patterns"),
                           (debs / "gimp-data-extras/usr/share/gimp/2.0/patterns", "gimp_extra_patterns")):
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".pat", ".png"):
                continue
            pattern = read_gimp_pattern(path) if path.suffix == ".pat" else Image.open(path)
            if min(pattern.size) >= MIN_PATTERN_SIDE:
                save_rgb(tiled(on_paper(pattern)), styles / target / f"{path.stem}.png")
    for path in sorted([*(debs / FROZEN_BUBBLE).glob("*.png"), *(debs / FROZEN_BUBBLE / "menu").glob("*.png")]):
        image = Image.open(path)
        if min(image.size) >= 150:
            save_rgb(on_paper(image), styles / "frozen_bubble" / path.name)


def write_art_set(debs: Path, art: Path) -> None:
    """``art/content`` and ``art/styles``: photos and art from the art packages (and OpenCV photos
    nothing else uses), stamps cut out onto white, the art no wider than ART_MAX_SIDE."""
    for split, names in (("content", ART_PHOTOS), ("styles", ART_STYLES)):
        for name in names:
            image = Image.open(debs / name)
            if Path(name).name in ART_INTERIORS:
                box = image.convert("RGBA").getchannel("A").getbbox()
                image = image.crop(box)
                width, height = image.size
                image = image.crop((width // 4, height // 4, width - width // 4, height - height // 4))
            image = cutout(image) or on_paper(image)
            save_rgb(image, art / split / check_name(name), max_side=ART_MAX_SIDE)


def read_gimp_pattern(path: Path) -> Image.Image:
    """A GIMP ``.pat`` file: a big-endian header (size, version, width, height, bytes per pixel,
    'GPAT', name) followed by raw 8-bit pixels."""
    data = path.read_bytes()
    header, _version, width, height, depth = struct.unpack(">5I", data[:20])
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[depth]
    return Image.frombytes(mode, (width, height), data[header : header + width * height * depth])


def tiled(image: Image.Image, side: int = 512) -> Image.Image:
    """A small repeating pattern tiled to ``side`` px, so crops at training scale see its repetition."""
    image = image.convert("RGB")
    canvas = Image.new("RGB", (side, side))
    for top in range(0, side, image.height):
        for left in range(0, side, image.width):
            canvas.paste(image, (left, top))
    return canvas


def largest_plasma_image(wallpaper: Path) -> Path:
    images = sorted((wallpaper / "contents" / "images").glob("*.*"),
                    key=lambda p: [int(v) for v in p.stem.split("x")][0] * [int(v) for v in p.stem.split("x")][1])
    return images[-1]


def read_gimp_palettes(folder: Path) -> list[list[list[int]]]:
    """Colours of each GIMP ``.gpl`` palette with at least 3 entries."""
    palettes = []
    for path in sorted(folder.glob("*.gpl")):
        colours = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and all(p.isdigit() for p in parts[:3]):
                colours.append([int(p) for p in parts[:3]])
        if len(colours) >= 3:
            palettes.append(colours)
    return palettes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data"), help="folder to write (default: data)")
    parser.add_argument("--debs", type=Path, default=Path("data/debs"),
                        help="where the Debian packages are downloaded and unpacked (default: data/debs)")
    args = parser.parse_args()
    unpack_debs(args.debs)
    out, debs = args.out, args.debs
    skimage, sklearn = package_dir("skimage", "data"), package_dir("sklearn", "datasets/images")
    opencv = debs / "opencv-doc" / OPENCV_DATA

    for source in [skimage / f for f in SKIMAGE] + [sklearn / f for f in SKLEARN] + [opencv / f for f in OPENCV_PHOTOS]:
        assert source.name not in RESERVED
        save_rgb(Image.open(source), out / "content" / f"{source.parent.name}_{source.name}")
    for name in VALIDATION_PHOTOS:
        save_rgb(Image.open(opencv / name), out / "validation" / "content" / Path(name).name)

    save_rgb(Image.open(opencv / "data/starry_night.jpg"), out / "styles" / "starry_night" / "starry_night.jpg")
    for name in TEXTURES:
        save_rgb(Image.open(skimage / name), out / "styles" / "textures" / name)
    for wallpaper in sorted((debs / "plasma-workspace-wallpapers" / "usr/share/wallpapers").iterdir()):
        split = "validation/styles" if wallpaper.name in VALIDATION_PLASMA else "styles/plasma"
        save_rgb(Image.open(largest_plasma_image(wallpaper)), out / split / f"plasma_{wallpaper.name}.png")
    for path in sorted((debs / "gnome-backgrounds" / "usr/share/backgrounds/gnome").glob("*.webp")):
        split = "validation/styles" if path.name in VALIDATION_GNOME else "styles/gnome"
        save_rgb(Image.open(path), out / split / f"gnome_{path.stem}.png")
    for path in [*sorted((debs / "sway-backgrounds").rglob("*2048x1536.png")),
                 *sorted((debs / "lomiri-wallpapers").rglob("*.png"))]:
        save_rgb(Image.open(path), out / "styles" / "wallpapers" / path.name)
    patterns = debs / "gimp-data" / "usr/share/gimp/2.0/patterns"
    for path in sorted(patterns.rglob("*.pat")):
        name = str(path.relative_to(patterns))
        split = "validation/styles" if name in VALIDATION_PATTERNS else "styles/gimp_patterns"
        save_rgb(tiled(read_gimp_pattern(path)), out / split / f"pattern_{name.replace('/', '_')[:-4]}.png")

    write_art_training_styles(debs, out / "styles")
    write_art_set(debs, out / "art")
    for split, names in (("check/content", CHECK_PHOTOS), ("check/styles", CHECK_STYLES)):
        for name in names:
            save_rgb(Image.open(debs / name), out / split / check_name(name))

    palettes = read_gimp_palettes(debs / "gimp-data" / "usr/share/gimp/2.0/palettes")
    (out / "palettes.json").write_text(json.dumps(palettes), encoding="utf-8")
    for folder in ("content", "styles", "validation/content", "validation/styles", "check/content", "check/styles",
                   "art/content", "art/styles"):
        print(f"{out / folder}: {sum(1 for p in (out / folder).rglob('*') if p.is_file())} images")
    print(f"{out / 'palettes.json'}: {len(palettes)} palettes")
    # Debian's licence files travel with the data they cover.
    for name in ALL_PACKAGES:
        copyright_file = next((debs / name / "usr/share/doc").glob("*/copyright"), None)
        if copyright_file:
            (out / "licences").mkdir(exist_ok=True)
            shutil.copy(copyright_file, out / "licences" / f"{name}.copyright")


if __name__ == "__main__":
    main()
