"""The model's contract: feature shapes at odd sizes, reproducible building, and a frozen encoder."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from sanet_text.config import load_model_config
from sanet_text.errors import UserError
from sanet_text.model import build_model


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
