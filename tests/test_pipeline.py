"""The inference pipeline: alpha, masks, mixing and colour preservation do what the user asked."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from conftest import noise_image

from sanet_text.core.errors import UserError
from sanet_text.images.color import preserve_color, rgb_to_ycbcr
from sanet_text.images.processor import pil_to_tensor
from sanet_text.render.attention_maps import heat_overlay, render_attention
from sanet_text.render.pipeline import Blend, stylize
from sanet_text.styles.base import StyleGroup
from sanet_text.styles.image import style_from_image


@pytest.fixture(scope="module")
def content() -> torch.Tensor:
    return pil_to_tensor(noise_image(67, 45, seed=10))[None]


@pytest.fixture(scope="module")
def styles(tiny_model) -> tuple[StyleGroup, StyleGroup]:
    first = style_from_image(pil_to_tensor(noise_image(50, 38, seed=11)), tiny_model, "a")
    second = style_from_image(pil_to_tensor(noise_image(41, 53, seed=12)), tiny_model, "b")
    return first, second


def test_output_is_an_image_of_the_content_size(tiny_model, content, styles) -> None:
    out = stylize(tiny_model, content, [styles[0]]).image
    assert out.shape == content.shape
    assert 0 <= out.min() and out.max() <= 1


def test_alpha_zero_is_the_content_reconstruction(tiny_model, content, styles) -> None:
    with torch.no_grad():
        feats = tiny_model.encode(content)
        reconstruction = tiny_model.decode(tiny_model.fuse(feats, tiny_model.style_tokens(feats)), (45, 67))
    out = stylize(tiny_model, content, [styles[0]], Blend(alpha=0.0)).image
    torch.testing.assert_close(out, reconstruction.clamp(0, 1), atol=1e-5, rtol=0)
    assert (stylize(tiny_model, content, [styles[0]], Blend(alpha=1.0)).image - out).abs().max() > 1e-2


def test_alpha_moves_monotonically_towards_the_style(tiny_model, content, styles) -> None:
    full = stylize(tiny_model, content, [styles[0]], Blend(alpha=1.0)).image
    distances = [(stylize(tiny_model, content, [styles[0]], Blend(alpha=a)).image - full).abs().mean()
                 for a in (0.0, 0.5, 1.0)]
    assert distances[0] > distances[1] > distances[2] == 0


def test_mask_confines_the_change_exactly(tiny_model, content, styles) -> None:
    mask = torch.zeros(1, 45, 67)
    mask[:, 10:30, 5:40] = 1
    out = stylize(tiny_model, content, [styles[0]], Blend(masks=[mask])).image
    outside = mask.expand(3, -1, -1)[None] == 0
    assert torch.equal(out[outside], content[outside])
    assert (out[~outside] - content[~outside]).abs().mean() > 1e-2


def test_mask_of_another_size_is_resized(tiny_model, content, styles) -> None:
    mask = torch.zeros(1, 90, 134)  # twice the content size
    mask[..., :67] = 1
    out = stylize(tiny_model, content, [styles[0]], Blend(masks=[mask])).image
    assert torch.equal(out[..., 40:], content[..., 40:])


def test_two_styles_one_mask_puts_the_first_inside(tiny_model, content, styles) -> None:
    ones, zeros = torch.ones(1, 45, 67), torch.zeros(1, 45, 67)
    only_a, only_b = stylize(tiny_model, content, [styles[0]]).image, stylize(tiny_model, content, [styles[1]]).image
    inside = stylize(tiny_model, content, list(styles), Blend(masks=[ones])).image
    outside = stylize(tiny_model, content, list(styles), Blend(masks=[zeros])).image
    torch.testing.assert_close(inside, only_a, atol=1e-6, rtol=0)
    torch.testing.assert_close(outside, only_b, atol=1e-6, rtol=0)
    half = zeros.clone()
    half[..., :30] = 1
    split = stylize(tiny_model, content, list(styles), Blend(masks=[half])).image
    # Away from the edge (decoder receptive field), each side shows its own style.
    assert (split[..., :16] - only_a[..., :16]).abs().mean() < (split[..., :16] - only_b[..., :16]).abs().mean()
    assert (split[..., 48:] - only_b[..., 48:]).abs().mean() < (split[..., 48:] - only_a[..., 48:]).abs().mean()


def test_mix_weights_are_honoured(tiny_model, content, styles) -> None:
    only_a, only_b = stylize(tiny_model, content, [styles[0]]).image, stylize(tiny_model, content, [styles[1]]).image
    first, second = (stylize(tiny_model, content, list(styles), Blend(mix=mix)).image for mix in ([1, 0], [0, 3]))
    torch.testing.assert_close(first, only_a, atol=1e-6, rtol=0)
    torch.testing.assert_close(second, only_b, atol=1e-6, rtol=0)
    both = stylize(tiny_model, content, list(styles), Blend(mix=[0.5, 0.5])).image
    assert (both - only_a).abs().mean() > 1e-3 and (both - only_b).abs().mean() > 1e-3


def test_group_parts_are_blended_by_weight(tiny_model, content, styles) -> None:
    a, b = styles[0].parts[0], styles[1].parts[0]
    group = StyleGroup("words", [type(a)("a", a.feat4, a.feat5, 0.25, a.color), type(b)("b", b.feat4, b.feat5, 0.75, b.color)])
    torch.testing.assert_close(
        stylize(tiny_model, content, [group]).image,
        stylize(tiny_model, content, list(styles), Blend(mix=[0.25, 0.75])).image,
    )


def test_preserve_color_keeps_content_chroma(tiny_model, content, styles) -> None:
    # The decoder's own luminance: preserve_color skips colour matching, which would change it.
    plain = stylize(tiny_model, content, [styles[0]], Blend(match_color=False)).image
    kept = stylize(tiny_model, content, [styles[0]], Blend(preserve_color=True)).image
    # Pixels where the recombined colour had to be clipped into [0, 1] cannot match exactly.
    unclipped = ((kept > 0.01) & (kept < 0.99)).all(1)
    assert unclipped.float().mean() > 0.5
    kept_ycc, content_ycc, plain_ycc = rgb_to_ycbcr(kept), rgb_to_ycbcr(content), rgb_to_ycbcr(plain)
    torch.testing.assert_close(kept_ycc[:, 1:][unclipped[:, None].expand(-1, 2, -1, -1)],
                               content_ycc[:, 1:][unclipped[:, None].expand(-1, 2, -1, -1)], atol=1e-4, rtol=0)
    torch.testing.assert_close(kept_ycc[:, 0][unclipped], plain_ycc[:, 0][unclipped], atol=1e-4, rtol=0)


def test_preserve_color_round_trips_an_image_onto_itself() -> None:
    image = torch.rand(1, 3, 8, 9)
    torch.testing.assert_close(preserve_color(image, image), image, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mix": [1.0]}, r"--mix gives 1 weight\(s\) for 2 style"),
        ({"mix": [0.0, 0.0]}, "not all 0"),
        ({"alpha": -0.5}, "--alpha must be"),
        ({"masks": [torch.ones(1, 4, 4)] * 3}, "3 masks for 2 styles"),
    ],
)
def test_impossible_options_are_user_errors(tiny_model, content, styles, kwargs, message) -> None:
    with pytest.raises(UserError, match=message):
        stylize(tiny_model, content, list(styles), Blend(**kwargs))


def test_attention_is_reported_per_style_and_drawn(tiny_model, content, styles) -> None:
    attention = stylize(tiny_model, content, list(styles), Blend(mix=[0.5, 0.5]), return_attention=True).attention
    assert [len(parts) for parts in attention] == [1, 1]
    first = attention[0][0]
    assert first.shape == (6, 9, *styles[0].parts[0].feat4.shape[-2:])  # ceil(45/8), ceil(67/8)
    torch.testing.assert_close(first.sum((-2, -1)), torch.ones(6, 9))  # softmax rows

    picture = render_attention(content[0], torch.rand(3, 40, 40), first)
    assert picture.width > picture.height > 3 * 240  # content panel beside a 3×3 grid of readable tiles


def test_heat_overlay_marks_where_attention_goes() -> None:
    style = Image.new("RGB", (80, 60), (128, 128, 128))
    attention = np.zeros((6, 8), dtype=np.float32)
    attention[4:, 6:] = 1  # the bottom-right corner
    tile = np.asarray(heat_overlay(style, attention), dtype=np.float32)
    warmth = tile[..., 0] - tile[..., 2]  # the heat ramp runs from dark to orange and yellow
    assert warmth[45:, 60:].mean() > 150
    assert warmth[:30, :40].max() < 10
