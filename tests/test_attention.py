"""Style attention: the fused kernel agrees with the explicit one, and the AdaIN residual does what it says."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from sanet_text.core.config import load_model_config
from sanet_text.models.attention import StyleAttention, channel_stats, explicit_attention, fused_attention
from sanet_text.models.model import SANet


def _peaked(b: int = 2, c: int = 8, nq: int = 50, nk: int = 70) -> tuple[torch.Tensor, ...]:
    """Queries/keys scaled so the softmax is peaked, leaving many weights denormal as in real models."""
    generator = torch.Generator().manual_seed(0)
    queries = torch.randn(b, nq, c, generator=generator) * 6
    keys = torch.randn(b, c, nk, generator=generator) * 6
    values = torch.randn(b, c, nk, generator=generator)
    return queries, keys, values


def test_fused_and_explicit_attention_agree_and_maps_are_rows_of_weights() -> None:
    queries, keys, values = _peaked()
    maps: list[torch.Tensor] = []
    explicit = explicit_attention(queries, keys, values, chunk=16, attention_out=maps)
    assert torch.allclose(fused_attention(queries, keys, values), explicit, atol=1e-5)
    attention = torch.cat(maps, dim=1)
    assert attention.shape == (2, 50, 70)
    assert torch.allclose(attention.sum(-1), torch.ones(2, 50))
    reference = torch.bmm(values, torch.softmax(torch.bmm(queries, keys), -1).transpose(1, 2))
    assert torch.allclose(explicit, reference, atol=1e-6)


def test_fused_attention_trains() -> None:
    queries, keys, values = (t.requires_grad_() for t in _peaked())
    fused_attention(queries, keys, values).square().sum().backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() and t.grad.abs().sum() > 0 for t in (queries, keys, values))


@pytest.mark.parametrize("residual", ["content", "adain"])
def test_untrained_module_passes_content_or_its_adain(residual: str) -> None:
    """With the output conv still zero (its init), the module is exactly its residual."""
    module = StyleAttention(6, residual=residual)
    content, style = torch.rand(1, 6, 5, 7) * 3, torch.rand(1, 6, 4, 4) * 2 + 1
    out = module(content, module.tokens(style))
    if residual == "content":
        assert torch.equal(out, content)
    else:
        for got, want in zip(channel_stats(out), channel_stats(style)):
            assert torch.allclose(got, want, atol=1e-3)


def test_adain_residual_keeps_identity_pairs() -> None:
    """AdaIN(c, c) = c: a style that is the content itself still reproduces the content's features."""
    module = StyleAttention(6, residual="adain")
    content = torch.rand(1, 6, 5, 7)
    assert torch.allclose(module(content, module.tokens(content)), content, atol=1e-4)


def test_model_config_picks_the_residual() -> None:
    config = dataclasses.replace(load_model_config("tiny"), residual="adain")
    assert SANet(config).transform.attn4.residual == "adain"
    with pytest.raises(Exception, match="residual"):
        dataclasses.replace(config, residual="sum")


@pytest.mark.parametrize("residual", ["content", "adain"])
def test_a_blend_in_one_pass_equals_the_weighted_sum_of_single_fusions(residual: str) -> None:
    torch.manual_seed(0)
    model = SANet(dataclasses.replace(load_model_config("tiny"), residual=residual)).eval()
    for module in model.transform.modules():  # the output convs start at zero: make them count
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.normal_(module.weight, std=0.3)
            torch.nn.init.normal_(module.bias, std=0.3)
    c4, c5 = model.config.widths[3:5]

    def features(h: int, w: int, scale: float) -> list[torch.Tensor]:  # only relu4_1 and relu5_1 are fused
        return [torch.empty(0)] * 3 + [torch.rand(1, c4, h, w) * scale, torch.rand(1, c5, h // 2, w // 2) * scale]

    with torch.no_grad():
        content = features(10, 14, 1.0)
        styles = [model.style_tokens(features(h, w, scale)) for h, w, scale in [(8, 8, 2.0), (6, 10, 0.5), (12, 4, 3.0)]]
        shares = [0.5, 0.3, 0.2]
        one_pass = model.fuse_parts(content, list(zip(shares, styles)))
        separately = sum(share * model.fuse(content, style) for share, style in zip(shares, styles))
        assert (model.fuse(content, styles[0]) - model.fuse(content, styles[1])).abs().mean() > 0.1
        torch.testing.assert_close(one_pass, separately, atol=1e-5, rtol=1e-4)
        with pytest.raises(ValueError, match="sum to 1"):
            model.fuse_parts(content, [(0.5, styles[0]), (0.3, styles[1])])
