"""Diffusion exemplars with a tiny random diffusers pipeline built here: size, cache, seeds, offline errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sanet_text.core.errors import UserError
from sanet_text.frontends.cli import main
from sanet_text.styles import diffusion
from sanet_text.styles.diffusion import DiffusionSettings, diffusion_style, exemplar_path, paint_exemplar, paint_size


def _tiny_clip_tokenizer(folder: Path):
    """A CLIP tokenizer from a vocabulary of single characters (no merges): no download needed."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in "abcdefghijklmnopqrstuvwxyz0123456789,.'-":
        vocab.setdefault(char, len(vocab))
        vocab.setdefault(char + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16)


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory) -> Path:
    """A Stable-Diffusion-shaped pipeline with a few channels per layer and random weights, saved as a folder."""
    from diffusers import AutoencoderKL, EulerAncestralDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    folder = tmp_path_factory.mktemp("tiny_sd")
    tokenizer = _tiny_clip_tokenizer(folder)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        text_encoder = CLIPTextModel(CLIPTextConfig(
            vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_attention_heads=2,
            num_hidden_layers=1, max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1))
        unet = UNet2DConditionModel(
            sample_size=16, in_channels=4, out_channels=4, block_out_channels=(8, 16), layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=16, attention_head_dim=2, norm_num_groups=4)
        vae = AutoencoderKL(
            block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4, sample_size=32)
    scheduler = EulerAncestralDiscreteScheduler(timestep_spacing="trailing", steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                   scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    pipe.save_pretrained(folder / "model")
    return folder / "model"


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_exemplar_is_painted_at_the_requested_size(tiny_pipeline, cache) -> None:
    path = paint_exemplar("starry night", DiffusionSettings(model=str(tiny_pipeline), size=64))
    assert path.parent == cache / "exemplars" and path.name.startswith("starry-night-")
    picture = pixels(path)
    assert picture.shape == (64, 64, 3) and picture.std() > 5  # a picture, not a flat fill


def test_second_call_is_a_cache_hit_without_loading_the_pipeline(tiny_pipeline, monkeypatch) -> None:
    settings = DiffusionSettings(model=str(tiny_pipeline), size=64)
    first = paint_exemplar("ink wash", settings)
    painted = first.read_bytes()

    def no_loading(*args, **kwargs):
        raise AssertionError("the pipeline must not be loaded on a cache hit")

    monkeypatch.setattr(diffusion, "load_pipeline", no_loading)
    assert paint_exemplar("ink wash", settings) == first and first.read_bytes() == painted
    # The same model given as another spelling of its folder is the same cache entry.
    relative = DiffusionSettings(model=str(tiny_pipeline / ".." / tiny_pipeline.name), size=64)
    assert paint_exemplar("ink wash", relative) == first


def test_seed_and_steps_are_separate_entries_and_seeds_reproduce(tiny_pipeline, cache) -> None:
    base = DiffusionSettings(model=str(tiny_pipeline), size=64, seed=1)
    first = paint_exemplar("cubism", base)
    other_seed = paint_exemplar("cubism", DiffusionSettings(model=str(tiny_pipeline), size=64, seed=2))
    other_steps = exemplar_path("cubism", DiffusionSettings(model=str(tiny_pipeline), size=64, seed=1, steps=2))
    assert len({first, other_seed, other_steps}) == 3
    assert np.abs(pixels(first) - pixels(other_seed)).mean() > 1
    again = pixels(first)
    first.unlink()  # painted anew from the same seed: the same picture
    assert np.array_equal(pixels(paint_exemplar("cubism", base)), again)


def test_exemplar_becomes_an_image_style(tiny_pipeline, tiny_model) -> None:
    group = diffusion_style("mosaic", tiny_model, 64, DiffusionSettings(model=str(tiny_pipeline)))
    assert group.source == "mosaic" and len(group.parts) == 1
    assert Path(group.parts[0].label).is_file() and group.parts[0].feat4.shape[-2:] == (8, 8)


def test_missing_hub_model_offline_is_one_user_error(monkeypatch) -> None:
    monkeypatch.setenv("SANET_TEXT_OFFLINE", "1")
    with pytest.raises(UserError, match="--diffusion-model PATH") as caught:
        paint_exemplar("watercolor", DiffusionSettings(model="nobody/no-such-model", size=64))
    assert "nobody/no-such-model" in str(caught.value) and "\n" not in str(caught.value)


def test_folder_that_is_not_a_pipeline_is_one_user_error(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="diffusers pipeline folder"):
        paint_exemplar("watercolor", DiffusionSettings(model=str(tmp_path / "empty"), size=64))


def test_paint_size_follows_the_style_size_on_the_64_px_grid() -> None:
    assert paint_size(0) == DiffusionSettings.size
    assert paint_size(100) == 128 and paint_size(10) == 64 and paint_size(512) == 512


def test_cli_diffusion_source(tiny_pipeline, tiny_weights, write_image, tmp_path, capsys, monkeypatch) -> None:
    content = write_image("photo.png", 67, 45, seed=1)
    out = tmp_path / "out.png"
    args = [str(content), "watercolor", "--source", "diffusion", "--diffusion-model", str(tiny_pipeline),
            "--diffusion-steps", "2", "--style-size", "64", "--size", "0", "-o", str(out), *tiny_weights]
    assert main(args) == 0, capsys.readouterr().err
    assert pixels(out).shape == (45, 67, 3)
    assert "exemplars" in capsys.readouterr().out  # the line names the painted exemplar

    monkeypatch.setenv("SANET_TEXT_OFFLINE", "1")
    args[args.index(str(tiny_pipeline))] = "nobody/no-such-model"
    assert main([*args, "--force"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "no-such-model" in err[0] and "Traceback" not in err[0]
