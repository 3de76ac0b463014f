"""Colour matching: the result takes its style's palette (mean and covariance), where the style applies."""

from __future__ import annotations

import torch
from conftest import noise_image

from sanet_text.images.color import color_stats, match_color, mix_color_stats
from sanet_text.images.processor import pil_to_tensor
from sanet_text.render.pipeline import Blend, stylize
from sanet_text.styles.base import StyleFeatures, StyleGroup
from sanet_text.styles.image import style_from_image


def _violet(seed: int) -> torch.Tensor:
    """A violet/cyan picture: a palette unlike the content's."""
    image = pil_to_tensor(noise_image(40, 40, seed=seed))
    return torch.stack([0.3 + 0.4 * image[0], 0.1 + 0.2 * image[1], 0.6 + 0.4 * image[2]]).clamp(0, 1)


def test_match_gives_the_target_mean_and_covariance() -> None:
    image = pil_to_tensor(noise_image(60, 40, seed=1))[None] * 0.8 + 0.1
    target = color_stats(_violet(2))
    mean, cov = color_stats(match_color(image, target))
    torch.testing.assert_close(mean, target[0], atol=2e-3, rtol=0)
    torch.testing.assert_close(cov, target[1], atol=2e-3, rtol=0)


def test_a_white_balance_change_is_matched_by_that_change_alone() -> None:
    # The least-motion (Monge-Kantorovich) map: given the same picture under other channel gains as
    # the target, matching applies exactly those gains, with no hue rotation on top.
    noise = pil_to_tensor(noise_image(60, 40, seed=5))
    # Correlated channels, as a photo's are: its colour axes are not the RGB axes the gains act on.
    image = (torch.einsum("ij,jhw->ihw", torch.tensor([[0.5, 0.3, 0.0], [0.2, 0.5, 0.1], [0.0, 0.3, 0.5]]), noise)[None]
             + 0.1)
    gains = torch.tensor([1.25, 0.8, 1.1]).view(1, 3, 1, 1)
    rebalanced = (image - 0.5) * gains + 0.5
    torch.testing.assert_close(match_color(image, color_stats(rebalanced)), rebalanced, atol=2e-3, rtol=0)


def test_mixture_moments_equal_the_pooled_pixels() -> None:
    a, b = _violet(3), pil_to_tensor(noise_image(40, 40, seed=4))
    mean, cov = mix_color_stats([(1.0, color_stats(a)), (1.0, color_stats(b))])
    pooled_mean, pooled_cov = color_stats(torch.cat([a, b], dim=-1))
    torch.testing.assert_close(mean, pooled_mean)
    torch.testing.assert_close(cov, pooled_cov)


def _colour_error(image: torch.Tensor, picture: torch.Tensor) -> float:
    return float((color_stats(image)[0] - color_stats(picture)[0]).abs().sum())


def test_matching_is_the_default(tiny_model) -> None:
    content = pil_to_tensor(noise_image(48, 40, seed=5))[None]
    style = style_from_image(_violet(6), tiny_model, "violet")
    default = stylize(tiny_model, content, [style]).image
    torch.testing.assert_close(default, stylize(tiny_model, content, [style], Blend(match_color=True)).image)
    plain = stylize(tiny_model, content, [style], Blend(match_color=False)).image
    assert _colour_error(default, _violet(6)) < _colour_error(plain, _violet(6))


def test_result_takes_the_styles_palette_in_proportion_to_alpha(tiny_model) -> None:
    content = pil_to_tensor(noise_image(48, 40, seed=5))[None]
    picture = _violet(6)
    style = style_from_image(picture, tiny_model, "violet")
    plain = stylize(tiny_model, content, [style], Blend(match_color=False)).image
    matched = stylize(tiny_model, content, [style], Blend(match_color=True)).image
    half = stylize(tiny_model, content, [style], Blend(alpha=0.5, match_color=True)).image
    half_plain = stylize(tiny_model, content, [style], Blend(alpha=0.5, match_color=False)).image
    assert _colour_error(matched, picture) < 0.1 * _colour_error(plain, picture)
    assert _colour_error(matched, picture) < _colour_error(half, picture) < _colour_error(half_plain, picture)


def test_mask_keeps_the_outside_untouched_and_matches_inside(tiny_model) -> None:
    content = pil_to_tensor(noise_image(48, 48, seed=7))[None]
    picture = _violet(8)
    mask = torch.zeros(48, 48)
    mask[:, :24] = 1
    out = stylize(tiny_model, content, [style_from_image(picture, tiny_model, "violet")],
                  Blend(masks=[mask], match_color=True)).image
    torch.testing.assert_close(out[..., 30:], content[..., 30:])
    assert _colour_error(out[..., :20], picture) < _colour_error(content[..., :20], picture)


def test_styles_without_a_picture_are_left_as_decoded(tiny_model) -> None:
    """Mapper tokens carry no palette: matching must not invent one."""
    content = pil_to_tensor(noise_image(40, 40, seed=9))[None]
    tokens = StyleGroup("words", [StyleFeatures("words", torch.rand(1, 16, 12), torch.rand(1, 16, 4))])
    torch.testing.assert_close(stylize(tiny_model, content, [tokens], Blend(match_color=True)).image,
                               stylize(tiny_model, content, [tokens], Blend(match_color=False)).image)
