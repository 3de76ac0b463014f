"""Training samples: crops at the inference scale, and style samples that are reproducible yet never repeat."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from sanet_text.data import RandomCrops, StyleSamples, read_palettes
from sanet_text.errors import UserError
from sanet_text.losses import style_loss, style_loss_terms
from sanet_text.synth_styles import KINDS, jitter_colours, procedural_style

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

    from sanet_text.config import TrainConfig
    from sanet_text.stages import style_stream

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
