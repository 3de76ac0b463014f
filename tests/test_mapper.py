"""The text mapper: diverse, non-negative style tokens that make SANet attention selective."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torchvision.transforms.functional import to_tensor

from conftest import noise_image
from sanet_text.core.config import load_mapper_config
from sanet_text.core.errors import UserError
from sanet_text.models import losses as L
from sanet_text.models.mapper import TextMapper, build_mapper
from sanet_text.models.model import SANet
from sanet_text.styles.mapper_style import mapper_style
from sanet_text.styles.text_encoders import OpenCLIPEncoder

TINY_TEXT_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="module")
def mapper() -> TextMapper:
    return build_mapper("tiny")


def _unit(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def _relu4_attention(model: SANet, t4: torch.Tensor, t5: torch.Tensor) -> torch.Tensor:
    """relu4_1 attention (1, content positions, tokens) of a smooth random photo over the tokens."""
    with torch.no_grad():
        content = model.encode(to_tensor(noise_image(64, 64, 0))[None])
        chunks: list[torch.Tensor] = []
        model.fuse(content, model.style_tokens([t4, t5]), chunks)
    return torch.cat(chunks, dim=1)


@pytest.mark.parametrize("n_text", [1, 3])
def test_tokens_have_the_configured_shapes_and_are_non_negative(mapper: TextMapper, n_text: int) -> None:
    t4, t5 = mapper(_unit(2, n_text, 384))
    assert t4.shape == (2, 16, 16) and t5.shape == (2, 16, 8)
    assert (t4 >= 0).all() and (t5 >= 0).all()


@pytest.mark.parametrize("n_text", [1, 3])
def test_attention_over_mapper_tokens_is_selective_unlike_one_copied_vector(
    tiny_model: SANet, mapper: TextMapper, n_text: int
) -> None:
    with torch.no_grad():
        t4, t5 = mapper(_unit(1, n_text, 384))
    attention = _relu4_attention(tiny_model, t4, t5)
    # Measured with the tiny model: about 0.3 (T=1); a copied vector gives exactly uniform rows (1.0).
    assert L.attention_entropy(attention).item() < 0.6
    rows = attention[0]
    assert (rows - rows.mean(0)).abs().mean() > 0.5 * rows.mean()  # content positions pick different tokens

    copied = _relu4_attention(tiny_model, t4[..., :1].expand_as(t4), t5[..., :1].expand_as(t5))
    assert L.attention_entropy(copied).item() == pytest.approx(1.0, abs=1e-4)


def test_prompts_map_to_different_tokens_and_a_prompt_to_the_same(tiny_model: SANet) -> None:
    encoder = OpenCLIPEncoder.from_config(TINY_TEXT_CLIP)
    mapper = build_mapper(dataclasses.replace(load_mapper_config("tiny"), text_dim=16))
    water, again, cubism = (mapper_style(p, tiny_model, mapper, encoder) for p in ["watercolor", "watercolor", "cubism"])
    assert water.describe() == "watercolor" and len(water.parts) == 1
    assert water.parts[0].feat4.shape == (1, 16, 16) and water.parts[0].feat5.shape == (1, 16, 8)
    assert torch.equal(water.parts[0].feat4, again.parts[0].feat4)
    relative = (water.parts[0].feat4 - cubism.parts[0].feat4).abs().mean() / water.parts[0].feat4.mean()
    assert relative > 0.01


def test_wrong_text_width_and_mismatched_model_are_user_errors(tiny_model: SANet, mapper: TextMapper) -> None:
    with pytest.raises(UserError, match="expects 384-d text embeddings"):
        mapper(_unit(1, 512))
    base_mapper = build_mapper(dataclasses.replace(load_mapper_config("tiny"), channels=32))
    with pytest.raises(UserError, match="32-channel tokens"):
        mapper_style("watercolor", tiny_model, base_mapper, OpenCLIPEncoder.from_config(TINY_TEXT_CLIP))


def test_weights_round_trip_and_missing_or_mismatched_weights_are_user_errors(
    mapper: TextMapper, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = build_mapper("tiny")
    with torch.no_grad():
        trained.queries.add_(1.0)
    save_file(trained.state_dict(), tmp_path / "mapper.safetensors")
    loaded = build_mapper("tiny", weights=tmp_path / "mapper.safetensors")
    assert torch.equal(loaded.queries, trained.queries)

    monkeypatch.delenv("SANET_TEXT_MAPPER", raising=False)
    with pytest.raises(UserError, match="SANET_TEXT_MAPPER"):
        build_mapper("base")  # not shipped yet: resolution must say how to get one
    save_file({"queries": torch.zeros(3, 3)}, tmp_path / "other.safetensors")
    with pytest.raises(UserError, match="do not fit"):
        build_mapper("tiny", weights=tmp_path / "other.safetensors")


def test_a_mapper_with_low_statistics_modulates_like_an_exemplar(tiny_multilevel_model: SANet) -> None:
    low = 2 * sum(tiny_multilevel_model.config.widths[:3])
    mapper = build_mapper(dataclasses.replace(load_mapper_config("tiny"), text_dim=16, low=low))
    out = mapper.predict(_unit(2, 16))
    assert out.low.shape == (2, low) and (out.low >= 0).all()
    assert torch.equal(mapper(_unit(2, 16))[0], out.feat4)  # forward: the token sets alone
    style = mapper_style("watercolor", tiny_multilevel_model, mapper, OpenCLIPEncoder.from_config(TINY_TEXT_CLIP))
    assert style.parts[0].low.shape == (1, low)
    wrong = build_mapper(dataclasses.replace(load_mapper_config("tiny"), text_dim=16, low=low + 2))
    with pytest.raises(UserError, match="low-level statistics"):
        mapper_style("watercolor", tiny_multilevel_model, wrong, OpenCLIPEncoder.from_config(TINY_TEXT_CLIP))
