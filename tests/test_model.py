"""The model's contract: feature shapes at odd sizes, reproducible building, and a frozen encoder."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from sanet_text.core.config import load_model_config
from sanet_text.core.errors import UserError
from sanet_text.models.model import build_model


def test_shapes_at_odd_size() -> None:
    model = build_model("tiny")
    image = torch.rand(1, 3, 257, 391)
    with torch.no_grad():
        feats = model.encode(image)
        assert [f.shape[1] for f in feats] == list(model.config.widths)
        # Each relu_X_1 after the first halves the size, rounding up so no edge row/column is lost.
        for level, feat in enumerate(feats):
            assert feat.shape[-2:] == (math.ceil(257 / 2**level), math.ceil(391 / 2**level))
        fused = model.fuse(feats, model.style_tokens(model.encode(torch.rand(1, 3, 100, 60))))
        assert fused.shape == feats[3].shape
        assert model.decode(fused, (257, 391)).shape == (1, 3, 257, 391)


def test_building_and_running_is_deterministic() -> None:
    first, second = build_model("tiny"), build_model("tiny")
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    content, style = torch.rand(1, 3, 40, 56), torch.rand(1, 3, 48, 32)
    with torch.no_grad():
        assert torch.equal(first(content, style), second(content, style))


def test_encoder_stays_frozen_in_training() -> None:
    model = build_model("tiny").train()
    assert not model.encoder.training
    assert all(not p.requires_grad for p in model.encoder.parameters())
    model(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)).mean().backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert any(p.grad is not None for p in model.decoder.parameters())


@pytest.mark.parametrize(
    ("weights", "encoder_weights", "message"),
    [
        ("sanet-bsae", "random", "unknown weights 'sanet-bsae'"),  # a typo of a registry name
        ("runs/export/sanet", "random", "with a .safetensors suffix"),  # a file named without its suffix
        ("random", "vgg16", "unknown weights 'vgg16'"),  # once silently replaced by the default VGG-19
        ("random", "sanet-base", "not VGG-19 encoder weights"),
    ],
)
def test_weight_names_are_never_guessed(weights: str, encoder_weights: str, message: str) -> None:
    config = dataclasses.replace(load_model_config("tiny"), weights=weights, encoder_weights=encoder_weights)
    with pytest.raises(UserError, match=message):
        build_model(config)


def test_half_precision_encoder_weights_compute_in_float32(tmp_path) -> None:
    """A GPU machine is sent the VGG in fp16 to fit its upload limit; training there must still run
    the encoder in fp32 (a half bias in an fp32 convolution is an error)."""
    from safetensors.torch import save_file

    source = build_model("tiny")
    path = tmp_path / "vgg_half.safetensors"
    save_file({k: v.half() for k, v in source.encoder.state_dict().items()}, str(path))
    model = build_model("tiny", encoder_weights=path)
    assert {p.dtype for p in model.encoder.parameters()} == {torch.float32}
    image = torch.rand(1, 3, 32, 32)
    for half, full in zip(model.encode(image), source.encode(image)):
        assert torch.allclose(half, full, rtol=1e-2, atol=1e-2)


def test_zero_modulation_is_the_unmodulated_model() -> None:
    """A v0.2 decoder's weights in the v0.3 architecture make the same pictures until training moves them."""
    config = dataclasses.replace(load_model_config("tiny"), style_levels=3, style_code=8)
    modulated, plain = build_model(config), build_model(dataclasses.replace(config, style_levels=0))
    plain.load_state_dict({k: v for k, v in modulated.state_dict().items()
                           if not k.startswith(("style_code.", "decoder.modulation."))})
    content, style = torch.rand(1, 3, 48, 40), torch.rand(1, 3, 32, 32)
    assert torch.equal(modulated(content, style), plain(content, style))


def test_the_decoder_follows_the_styles_low_level_statistics(tiny_multilevel_model) -> None:
    model = tiny_multilevel_model
    generator = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 3, 48, 48, generator=generator), torch.rand(1, 3, 48, 48, generator=generator)
    feats = model.encode(style)
    tokens = model.style_tokens(feats)
    dark = model.style_tokens(feats, low=None)
    dark[0].low = torch.zeros_like(tokens[0].low)
    with torch.no_grad():
        with_stats = model.decode(model.fuse(model.encode(content), tokens))
        without = model.decode(model.fuse(model.encode(content), dark))
    assert (with_stats - without).abs().mean() > 0.01


def test_the_style_code_blends_like_the_features(tiny_multilevel_model) -> None:
    """Mix weights blend the code linearly, so a 50/50 blend of one style with itself is that style."""
    model = tiny_multilevel_model
    content_feats = model.encode(torch.rand(1, 3, 40, 40))
    style = model.style_tokens(model.encode(torch.rand(1, 3, 40, 40)))
    with torch.no_grad():
        once = model.fuse(content_feats, style)
        halves = model.fuse_parts(content_feats, [(0.5, style), (0.5, style)])
    assert once.shape[1] == 16 + 8
    torch.testing.assert_close(once, halves, atol=1e-5, rtol=1e-4)


def test_v02_weights_load_into_the_multilevel_model(tmp_path) -> None:
    from sanet_text.models.weights import save_safetensors

    plain_config = load_model_config("tiny")
    plain = build_model(plain_config)
    path = tmp_path / "v02.safetensors"
    save_safetensors(plain.trainable_state_dict(), path)
    upgraded = build_model(dataclasses.replace(plain_config, style_levels=2, style_code=8), weights=path)
    assert all(not conv.weight.detach().any() for conv in upgraded.decoder.modulation)
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(upgraded(content, style), build_model(plain_config, weights=path)(content, style))


def test_style_levels_out_of_range_is_refused() -> None:
    with pytest.raises(UserError, match="style_levels"):
        dataclasses.replace(load_model_config("tiny"), style_levels=4)
