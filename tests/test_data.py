"""Training samples: crops at the inference scale, and style samples that are reproducible yet never repeat."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from sanet_text.core.errors import UserError
from sanet_text.models.losses import style_loss, style_loss_terms
from sanet_text.training.data import RandomCrops, StyleSamples, read_palettes
from sanet_text.training.synth_styles import KINDS, jitter_colours, procedural_style

from conftest import noise_image


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(3):
        noise_image(200, 120, seed=i).save(tmp_path / f"{i}.png")
    return tmp_path


def test_crops_show_the_share_of_the_scene_they_would_at_inference(folder: Path) -> None:
    """At a short side of 120 px seen as 480 px, a 30 px crop covers a quarter of the short side:
    so its content is a 30 px window, i.e. the crop is (nearly) a copy of image pixels, not a shrunk view."""
    crops = RandomCrops([str(folder)], crop=30, seed=0, scale=(480, 480))
    sample = crops[5]
    assert sample.shape == (3, 30, 30)
    wide = RandomCrops([str(folder)], crop=30, seed=0, scale=(60, 60))[5]
    # A wide view (the whole short side in 30 px) is smoother than a close one.
    roughness = lambda x: (x[..., 1:] - x[..., :-1]).abs().mean()  # noqa: E731
    assert roughness(wide) > roughness(sample)


def test_crops_and_styles_are_seeded_by_index(folder: Path) -> None:
    crops = RandomCrops([str(folder)], crop=24, seed=3)
    assert torch.equal(crops[7], RandomCrops([str(folder)], crop=24, seed=3)[7])
    styles = StyleSamples(crops, 24, seed=1, synthetic=0.5, jitter=0.5)
    again = StyleSamples(RandomCrops([str(folder)], crop=24, seed=3), 24, seed=1, synthetic=0.5, jitter=0.5)
    for index in range(6):
        assert torch.equal(styles[index], again[index])
    assert not torch.equal(styles[0], styles[1])


def test_data_workers_change_nothing_in_the_batches(folder: Path) -> None:
    """A GPU run prepares batches in worker processes; it must see exactly what a one-process run
    (and a resumed one) sees."""
    import dataclasses

    from sanet_text.core.config import TrainConfig
    from sanet_text.training.stages import style_stream

    config = TrainConfig(style_dirs=(str(folder),), crop=24, batch_size=3, steps=4, synthetic_styles=0.5)
    alone = list(style_stream(config, 1, 0, 1))
    workers = list(style_stream(dataclasses.replace(config, num_workers=2), 1, 0, 1))
    assert len(alone) == len(workers) == 3
    for a, b in zip(alone, workers):
        assert torch.equal(a, b)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_procedural_kind_renders_a_varied_image(kind: str) -> None:
    image = procedural_style(random.Random(0), 48, [[[255, 0, 0], [0, 0, 255], [250, 250, 0]]], kind=kind)
    assert image.shape == (3, 48, 48) and image.min() >= 0 and image.max() <= 1
    assert image.std() > 0.01


def test_procedural_styles_cover_many_palettes() -> None:
    means = torch.stack([procedural_style(random.Random(i), 32).mean((1, 2)) for i in range(40)])
    assert means.std(0).min() > 0.08  # mean colours spread over every channel, not one palette


# Red, blue and yellow: every colour's channel mean is at least 0.4, so darker pixels are ink.
PRIMARIES = np.array([[0.9, 0.2, 0.1], [0.1, 0.3, 0.8], [0.95, 0.9, 0.3]], np.float32)


def art_family(kind: str, seed: int, size: int = 96) -> np.ndarray:
    r = random.Random(seed)
    return KINDS[kind](np.random.default_rng(r.getrandbits(64)), r, size, PRIMARIES)


@pytest.mark.parametrize("kind", ["cartoon", "hatching", "layered"])
def test_art_families_are_fixed_by_their_seed(kind: str) -> None:
    image = art_family(kind, 1)
    assert image.shape == (96, 96, 3) and image.dtype == np.float32 and image.min() >= 0 and image.max() <= 1
    assert np.array_equal(image, art_family(kind, 1)) and not np.array_equal(image, art_family(kind, 2))


@pytest.mark.parametrize("seed", range(4))
def test_cartoon_is_flat_colour_inside_dark_outlines(seed: int) -> None:
    image = art_family("cartoon", seed)
    ink = image.mean(-1) < 0.2  # outlines only: fills and their shadows stay lighter
    assert 0.005 < ink.mean() < 0.3
    assert len(np.unique(image.reshape(-1, 3), axis=0)) < 40  # flat fills, no gradients


@pytest.mark.parametrize("seed", range(4))
def test_hatching_is_thin_dark_lines_on_light_paper(seed: int) -> None:
    luminance = art_family("hatching", seed).mean(-1)
    assert np.percentile(luminance, 90) > 0.8  # the paper shows between the lines
    assert 0.02 < (luminance < 0.35).mean() < 0.75
    assert np.abs(np.diff(luminance, axis=1)).mean() > 0.03  # lines, not tone washes


@pytest.mark.parametrize("seed", range(4))
def test_layered_detail_fills_every_part_of_the_picture(seed: int) -> None:
    image = art_family("layered", seed)
    blocks = image.reshape(4, 24, 4, 24, 3).transpose(0, 2, 1, 3, 4).reshape(16, -1)
    assert blocks.std(1).min() > 0.05


def test_peer_comparison_finds_the_art_set_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for split, name in (("content", "photo.png"), ("styles", "drawing.png")):
        (tmp_path / "data" / "art" / split).mkdir(parents=True)
        noise_image(40, 30, seed=0).save(tmp_path / "data" / "art" / split / name)
    spec = importlib.util.spec_from_file_location("peer_comparison", Path(__file__).parents[1] / "benchmarks/peer_comparison.py")
    peer_comparison = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peer_comparison)
    monkeypatch.chdir(tmp_path)
    contents, styles = peer_comparison.load_pairs("art", 32)
    assert [name for name, _ in contents] == ["photo.png"] and [name for name, _ in styles] == ["drawing.png"]
    with pytest.raises(SystemExit, match="content/ and styles/"):
        peer_comparison.load_pairs("check", 32)


def test_recolouring_changes_colour_not_layout() -> None:
    image = torch.rand(3, 16, 16)
    out = jitter_colours(image, random.Random(4))
    assert out.shape == image.shape and not torch.allclose(out, image)
    grey_in, grey_out = image.mean(0).flatten(), out.mean(0).flatten()
    assert abs(torch.corrcoef(torch.stack([grey_in, grey_out]))[0, 1]) > 0.5


def test_palettes_file(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("[[[1,2,3],[4,5,6],[7,8,9]], [[1,1,1]]]")
    assert read_palettes(str(path)) == [[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]
    assert read_palettes("") == []
    with pytest.raises(UserError, match="palettes"):
        read_palettes(str(tmp_path / "missing.json"))


def test_style_layer_weights_scale_each_term() -> None:
    outs = [torch.rand(1, 2, 4, 4) for _ in range(5)]
    targets = [torch.rand(1, 2, 4, 4) for _ in range(5)]
    terms = style_loss_terms(outs, targets)
    assert torch.allclose(style_loss(outs, targets), sum(terms))
    assert torch.allclose(style_loss(outs, targets, (2, 0, 0, 0, 1)), 2 * terms[0] + terms[4])
