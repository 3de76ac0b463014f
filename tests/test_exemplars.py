"""Procedural media renderers: deterministic, same size, and visibly their own medium."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from exemplar_media import RENDERERS, render  # scripts/, on the test path (pyproject.toml)

from sanet_text.paths import EXAMPLES_DIR
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
    """Colour and texture signature: channel means and spreads, saturation, mean gradient."""
    sat = a.max(-1) - a.min(-1)
    grad = np.abs(np.diff(a.mean(-1), axis=1)).mean() + np.abs(np.diff(a.mean(-1), axis=0)).mean()
    return np.concatenate([a.mean((0, 1)), a.std((0, 1)), [sat.mean(), sat.std(), 2 * grad]])


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
