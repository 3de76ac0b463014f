"""Tiled high-resolution inference: no seams, the same picture as untiled, memory bounded by the tile."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import noise_image
from PIL import Image

from sanet_text.core.errors import UserError
from sanet_text.frontends.cli import main
from sanet_text.images.processor import pil_to_tensor
from sanet_text.render import tiling
from sanet_text.render.pipeline import Blend, stylize
from sanet_text.styles.image import style_from_image


@pytest.fixture(scope="module")
def style(tiny_model):
    return style_from_image(pil_to_tensor(noise_image(50, 40, seed=2)), tiny_model, "s")


@pytest.mark.parametrize("length,tile", [(600, 384), (1537, 1024), (4096, 1024), (5000, 1024), (3001, 400)])
def test_windows_cover_the_image_with_enough_overlap(length: int, tile: int) -> None:
    windows = tiling.tile_windows(length, tile)
    assert windows[0].start == 0 and windows[-1].stop == length
    assert all(w.start % tiling.ALIGN == 0 and tile <= w.stop - w.start < tile + tiling.ALIGN for w in windows)
    assert all(a.stop - b.start >= tiling.OVERLAP for a, b in zip(windows, windows[1:]))
    total = torch.zeros(length)
    for window in windows:
        total[window] += tiling.feather(window, length)
    assert total.min() > 0.5


def test_constant_style_over_a_constant_image_stays_constant(tiny_model) -> None:
    grey = torch.full((1, 3, 450, 800), 0.4)
    flat_style = style_from_image(torch.full((3, 40, 40), 0.7), tiny_model, "flat")
    out = stylize(tiny_model, grey, [flat_style], tile=384).image
    assert len(tiling.tile_windows(800, 384)) * len(tiling.tile_windows(450, 384)) >= 6
    assert (out - out[..., :1, :1]).abs().max() < 1e-5


@pytest.mark.parametrize("options", [{}, {"alpha": 0.5}, {"preserve_color": True}, {"mix": [1, 3]}, {"masks": "half"}],
                         ids=["plain", "alpha", "color", "mix", "mask"])
def test_tiled_matches_untiled_where_tiles_are_big(tiny_model, style, options) -> None:
    content = pil_to_tensor(noise_image(600, 450, seed=1))[None]
    groups = [style]
    if "mix" in options:
        groups = [style, style_from_image(pil_to_tensor(noise_image(40, 50, seed=3)), tiny_model, "t")]
    if options.get("masks") == "half":
        mask = torch.zeros(1, 450, 600)
        mask[..., :, :300] = 1
        options = {"masks": [mask]}
    untiled = stylize(tiny_model, content, groups, Blend(**options), tile=0).image
    tiled = stylize(tiny_model, content, groups, Blend(**options), tile=512).image
    difference = (tiled - untiled).abs()
    assert difference.mean() < 1e-3 and difference.max() < 0.06
    assert (untiled - untiled.mean()).abs().mean() > 0.02  # 20× the tolerance: the picture is far from flat


def test_whole_image_statistics_are_what_keeps_tiles_consistent(tiny_model, style, monkeypatch) -> None:
    content = pil_to_tensor(noise_image(600, 450, seed=1))[None]
    untiled = stylize(tiny_model, content, [style], tile=0).image
    shared = (stylize(tiny_model, content, [style], tile=384).image - untiled).abs().mean()
    whole = tiling.whole_image_context

    def own_statistics_per_tile(model, image):
        context = whole(model, image)
        context.stats = None
        return context

    monkeypatch.setattr("sanet_text.render.pipeline.whole_image_context", own_statistics_per_tile)
    per_tile = (stylize(tiny_model, content, [style], tile=384).image - untiled).abs().mean()
    assert per_tile > 20 * shared


def _peaks(model, content, style, tile) -> dict[str, int]:
    """Largest encoder input (pixels) and attention block (query rows × style tokens) of one run."""
    peaks = {"encoder": 0, "attention": 0}

    def encoder_hook(module, args, output):
        peaks["encoder"] = max(peaks["encoder"], args[0].shape[-2] * args[0].shape[-1])

    def attention_hook(module, args, output):
        content_feat, tokens = args[:2]
        rows = min(module.chunk, content_feat.shape[-2] * content_feat.shape[-1])
        peaks["attention"] = max(peaks["attention"], rows * tokens.keys.shape[-1])

    hooks = [model.encoder.register_forward_hook(encoder_hook)]
    hooks += [m.register_forward_hook(attention_hook) for m in (model.transform.attn4, model.transform.attn5)]
    try:
        stylize(model, content, [style], tile=tile)
    finally:
        for hook in hooks:
            hook.remove()
    return peaks


def test_memory_is_bounded_by_the_tile_not_the_image(tiny_model, style, monkeypatch) -> None:
    monkeypatch.setattr(tiling, "STATS_SIZE", 256)  # the shared statistics come from a small copy
    small = pil_to_tensor(noise_image(640, 480, seed=4))[None]
    large = pil_to_tensor(noise_image(1280, 960, seed=4))[None]
    tiled_small, tiled_large = _peaks(tiny_model, small, style, 384), _peaks(tiny_model, large, style, 384)
    assert tiled_small == tiled_large
    assert tiled_large["encoder"] <= (384 + tiling.ALIGN) ** 2
    untiled_large = _peaks(tiny_model, large, style, 0)
    assert untiled_large["encoder"] == 1280 * 960 > tiled_large["encoder"]


def test_tile_choice() -> None:
    assert tiling.choose_tile((2000, 1000), None) == tiling.AUTO_TILE
    assert tiling.choose_tile((1536, 1536), None) == 0
    assert tiling.choose_tile((4000, 3000), None, wants_attention=True) == 0
    assert tiling.choose_tile((4000, 3000), 0) == 0
    assert tiling.choose_tile((500, 400), 512) == 0  # one tile is the whole image
    assert tiling.choose_tile((2000, 1000), 1000) == 992  # onto the 16 px grid
    with pytest.raises(UserError, match="at least"):
        tiling.choose_tile((2000, 1000), 100)
    with pytest.raises(UserError, match="--save-attention"):
        tiling.choose_tile((2000, 1000), 512, wants_attention=True)


def test_cli_tile_option(tiny_weights, write_image, tmp_path, capsys) -> None:
    content = write_image("big.png", 600, 450, seed=5)
    style_path = write_image("style.png", 50, 40, seed=6)
    tiled, untiled = tmp_path / "tiled.png", tmp_path / "untiled.png"
    common = [str(content), "--style", str(style_path), "--size", "0", "--style-size", "0", *tiny_weights]
    assert main([*common, "--tile", "384", "-o", str(tiled)]) == 0
    assert main([*common, "--tile", "0", "-o", str(untiled)]) == 0
    with Image.open(tiled) as a, Image.open(untiled) as b:
        assert a.size == (600, 450)
        assert np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)).mean() < 0.5  # of 255
    assert main([*common, "--tile", "10", "-o", str(tmp_path / "x.png")]) == 2
    assert "--tile must be 0" in capsys.readouterr().err
