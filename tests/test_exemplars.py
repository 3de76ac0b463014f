"""Procedural media renderers: deterministic, same size, and visibly their own medium; the library's
exemplars: enough styles, small, licensed."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from exemplar_media import RENDERERS, render  # scripts/, on the test path (pyproject.toml)

from sanet_text.core.paths import EXAMPLES_DIR, prompts_dir
from sanet_text.training.synth_styles import COMPOSITIONS, composition
REQUIRED = {"pointillism", "mosaic", "watercolor", "ink_wash", "cubism", "pencil_sketch", "pop_art",
            "oil_impasto", "stained_glass", "pixel_art", "neon", "ukiyo_e"}


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    image = Image.open(EXAMPLES_DIR / "china.jpg").convert("RGB")
    image.thumbnail((192, 192))
    return image


@pytest.fixture(scope="module")
def rendered(photo: Image.Image) -> dict[str, np.ndarray]:
    return {name: np.asarray(render(name, photo, seed=3), np.float32) / 255 for name in RENDERERS}


def _stats(a: np.ndarray) -> np.ndarray:
    """Colour and texture signature: channel means and spreads, saturation, mean gradient, edge sharpness
    (fine against coarse gradient) and the share of edge energy in four directions.

    The last two tell apart media that share the photo's flat colours: pixel grids (axis-aligned, hard),
    triangle meshes (every direction, hard) and soft opaque paint."""
    sat = a.max(-1) - a.min(-1)
    g = a.mean(-1)
    grad = np.abs(np.diff(g, axis=1)).mean() + np.abs(np.diff(g, axis=0)).mean()
    c = g[: g.shape[0] // 4 * 4, : g.shape[1] // 4 * 4].reshape(g.shape[0] // 4, 4, g.shape[1] // 4, 4).mean((1, 3))
    coarse = np.abs(np.diff(c, axis=1)).mean() + np.abs(np.diff(c, axis=0)).mean()
    gy, gx = np.gradient(g)
    mag = np.hypot(gx, gy)
    direction = np.round(np.arctan2(gy, gx) / (np.pi / 4)).astype(int) % 4
    orientation = np.bincount(direction.ravel(), mag.ravel(), 4) / (mag.sum() + 1e-6)
    return np.concatenate([a.mean((0, 1)), a.std((0, 1)), [sat.mean(), sat.std(), 2 * grad, 0.1 * grad / (coarse + 1e-6)],
                           orientation])


def test_registry_has_every_medium() -> None:
    assert REQUIRED <= set(RENDERERS)


def test_unknown_medium_names_the_known_ones(photo: Image.Image) -> None:
    with pytest.raises(KeyError, match="watercolor"):
        render("fresco", photo)


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_renderer_is_deterministic_and_keeps_size(name: str, photo: Image.Image, rendered: dict) -> None:
    again = np.asarray(render(name, photo, seed=3), np.float32) / 255
    assert again.shape == (photo.height, photo.width, 3)
    np.testing.assert_array_equal(again, rendered[name])
    other = np.asarray(render(name, photo, seed=4), np.float32) / 255
    assert np.abs(other - again).mean() > 0.005, "the seed should change the rendering"


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_renderer_changes_the_photo(name: str, photo: Image.Image, rendered: dict) -> None:
    original = np.asarray(photo, np.float32) / 255
    assert np.abs(rendered[name] - original).mean() > 0.05


def test_media_differ_from_each_other(rendered: dict) -> None:
    stats = {n: _stats(a) for n, a in rendered.items()}
    close = [(a, b, round(float(np.linalg.norm(stats[a] - stats[b])), 3))
             for a, b in itertools.combinations(sorted(stats), 2)
             if np.linalg.norm(stats[a] - stats[b]) < 0.1]
    assert not close, f"media too alike in colour/texture statistics: {close}"


def test_signature_media_traits(rendered: dict) -> None:
    sat = {n: float((a.max(-1) - a.min(-1)).mean()) for n, a in rendered.items()}
    light = {n: float(a.mean()) for n, a in rendered.items()}
    assert sat["ink_wash"] < 0.08 and sat["pencil_sketch"] < 0.08  # monochrome media (on tinted paper)
    assert np.median(rendered["neon"].mean(-1)) < 0.2  # glowing lines on a dark ground
    assert light["ink_wash"] > 0.6 and light["watercolor"] > 0.55  # much bare paper
    assert sat["stained_glass"] > sat["cubism"] and sat["pop_art"] > 0.4


def test_training_writer_produces_a_complete_folder(tmp_path: Path) -> None:
    from make_exemplars import write_training_set

    target = tmp_path / "styles"
    write_training_set(target, per_style=1, seed=5)
    assert sorted(p.name for p in target.iterdir()) == sorted(RENDERERS)
    files = list(target.glob("*/*.jpg"))
    assert len(files) == len(RENDERERS)
    for f in files:
        with Image.open(f) as im:
            assert 320 <= max(im.size) <= 448
    assert [p.name for p in tmp_path.iterdir()] == ["styles"], "temporary folders must be gone"


def _library() -> dict:
    return yaml.safe_load((prompts_dir() / "library.yaml").read_text(encoding="utf-8"))["styles"]


def test_library_covers_what_people_type() -> None:
    styles = _library()
    assert len(styles) >= 60
    named = {"mondrian", "rothko", "pollock", "kandinsky", "klimt", "munch", "monet", "matisse_cutouts", "lichtenstein",
             "escher", "op_art", "art_nouveau", "art_deco", "bauhaus", "suprematism", "fauvism", "expressionism",
             "impressionism", "charcoal", "chalk", "pastel", "crayon", "gouache", "linocut", "woodcut", "etching",
             "halftone", "comic", "risograph", "cyanotype", "blueprint", "cross_stitch", "low_poly", "glitch",
             "vaporwave", "synthwave", "anime", "graffiti", "paper_cutout", "clip_art", "origami"}
    assert named <= set(styles)
    family = {name: style.get("family", name) for name, style in styles.items()}
    assert family["munch"] == family["expressionism"] and family["monet"] == family["impressionism"]
    assert family["linocut"] == family["woodcut"] and family["mondrian"] != family["rothko"]


def test_exemplars_are_small_and_every_one_is_licensed() -> None:
    licences = (prompts_dir() / "LICENSES.md").read_text(encoding="utf-8")
    total = 0
    for name, style in _library().items():
        assert re.search(rf"[{{,/]{name}[,}}/]", licences), f"{name} missing from LICENSES.md"
        for ex in style["exemplars"]:
            path = prompts_dir() / ex["file"]
            total += path.stat().st_size
            with Image.open(path) as im:
                assert max(im.size) <= 512, ex["file"]
            # A procedural stand-in for a painter's work says so where its licence is read.
            if "manner of" in " ".join(style["descriptions"]):
                assert "procedural" in ex["licence"], ex["file"]
    assert total < 20 * 2**20


@pytest.mark.parametrize("kind", sorted(COMPOSITIONS))
def test_compositions_are_fixed_by_the_seed_and_painted_in_the_palette(kind: str) -> None:
    palette = np.array([[0.95, 0.93, 0.88], [0.85, 0.1, 0.1], [0.1, 0.2, 0.7], [0.95, 0.8, 0.1]], np.float32)
    image = composition(kind, 7, 96, 64, palette)
    assert image.shape == (64, 96, 3)
    np.testing.assert_array_equal(image, composition(kind, 7, 96, 64, palette))
    assert np.abs(image - composition(kind, 8, 96, 64, palette)).mean() > 0.01
    # Most pixels are (shades of) palette colours, not the colours of some other picture.
    nearest = np.abs(image[..., None, :] - palette).sum(-1).min(-1)
    assert np.mean(nearest < 0.3) > 0.6


def test_debian_exemplars_are_kept_without_the_package_and_copied_as_a_sheet_with_it(tmp_path: Path) -> None:
    from make_exemplars import write_library_exemplars

    library = tmp_path / "library.yaml"
    library.write_text(yaml.safe_dump({"styles": {"clip_art": {"exemplars": [
        {"file": "exemplars/clip_art/9.jpg", "sources": ["debian:pkg:art/a.png", "debian:pkg:art/b.png"], "licence": "x"}]}}}))
    assert write_library_exemplars(library) == []
    drawing = Image.new("RGBA", (60, 40), (0, 0, 0, 0))
    drawing.paste((200, 30, 30, 255), (10, 10, 30, 30))  # two squares on a diagonal: transparency between them
    drawing.paste((200, 30, 30, 255), (40, 25, 55, 38))
    (tmp_path / "deb" / "pkg" / "art").mkdir(parents=True)
    for name in ("a.png", "b.png"):
        drawing.save(tmp_path / "deb" / "pkg" / "art" / name)
    [out] = write_library_exemplars(library, debian=tmp_path / "deb")
    sheet = np.asarray(Image.open(out).convert("RGB"), np.float32)
    assert max(sheet.shape[:2]) <= 512
    assert (sheet.min(-1) > 240).mean() > 0.25, "transparency becomes white paper"
    assert ((sheet[..., 0] > 150) & (sheet[..., 1] < 90)).mean() > 0.2, "the drawings are on the sheet, cropped and enlarged"
