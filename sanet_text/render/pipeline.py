"""Inference: a content image and prepared styles (blended by mix weights or masks) to a stylised image.

Each style part is fused with the content by SANet at relu4_1; a style is the weighted sum of its
parts' fused features; styles are blended by ``mix`` weights (everywhere) or masks (by region);
``alpha`` then moves between the content's own reconstruction (0) and the blend (1), and the result
is decoded once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch.nn import functional as F

from ..core.errors import UserError
from ..images.color import match_color, mix_color_stats, paint_colors, preserve_color as keep_content_color
from ..models.attention import Stats
from ..models.model import SANet, StylePair
from ..styles.base import StyleGroup
from .tiling import WholeImageContext, choose_tile, render_tiled, whole_image_context

# Per style, per part: relu4_1 attention shaped (content rows, content cols, style rows, style cols),
# or (..., style tokens) for token styles.
AttentionMaps = list[list[torch.Tensor]]


# Colour matching is on by default: on the art set, the validation set that predicts unseen art
# (docs/DATA.md), it took v0.3.0 from 1.12x to 0.95x the peer's raw style loss and 1.43x to 0.97x
# layer-balanced, the relu1_1 colour term most (model card). The older wallpaper-like sets preferred
# it off; they did not predict the held-out scores.
MATCH_COLOR = True


@dataclass(eq=False)
class Blend:
    """How several styles combine and how strongly they apply.

    ``mix``: one weight per style (normalised), default equal. ``masks``: one per style, each
    confining its style to the white area, where the rest stays the content exactly; or one fewer
    than the styles, the last style filling the rest. Any (H, W), (1, H, W) or (1, 1, H, W) size;
    resized to the content. ``alpha``: 0 gives the content's own reconstruction, 1 the full style,
    above 1 extrapolates. ``preserve_color``: keep the content's chroma. ``match_color``: give the
    result the colour mean and covariance of its style pictures (each style's in its mask region),
    in proportion to ``alpha`` up to 1; on by default (:data:`MATCH_COLOR`), and skipped with
    ``preserve_color``, which asks for the content's colours instead.
    """

    mix: Sequence[float] | None = None
    masks: Sequence[torch.Tensor] = field(default_factory=list)
    alpha: float = 1.0
    preserve_color: bool = False
    match_color: bool = MATCH_COLOR


def check_blend(n_styles: int, mix: Sequence[float] | None, n_masks: int, alpha: float) -> None:
    """Reject a blend ``stylize`` cannot honour, from counts alone: cheap, before any model work."""
    if n_styles < 1:
        raise UserError("no style given; give a PROMPT or --style IMAGE_OR_PROMPT")
    if not math.isfinite(alpha) or alpha < 0:
        raise UserError(f"--alpha must be a number >= 0 (0 = content, 1 = full style, above 1 exaggerates), got {alpha}")
    if mix is not None and n_masks:
        raise UserError("--mix and --mask cannot be combined: masks already say where each style goes")
    if mix is not None:
        if len(mix) != n_styles:
            raise UserError(f"--mix gives {len(mix)} weight(s) for {n_styles} style(s); give one weight per style")
        if not all(math.isfinite(w) and w >= 0 for w in mix) or sum(mix) <= 0:
            raise UserError(f"--mix weights must be numbers >= 0, not all 0; got {','.join(map(str, mix))}")
    if n_masks and n_masks not in (n_styles, n_styles - 1):
        raise UserError(
            f"{n_masks} masks for {n_styles} styles; give one --mask per style, "
            "or one fewer (the last style then fills the rest)"
        )


@dataclass(eq=False)
class PreparedStyle:
    """A style group with its parts' attention tokens: computed once, applied to any number of contents."""

    group: StyleGroup
    tokens: list[tuple[float, StylePair]]


def prepare_style(model: SANet, group: StyleGroup) -> PreparedStyle:
    """Each part's share of its group and its attention keys/values, on the model's device."""
    total = sum(part.weight for part in group.parts)
    if not group.parts or total <= 0:
        raise ValueError(f"style {group.source!r} has no part with a positive weight")
    device = next(model.parameters()).device
    with torch.inference_mode():
        tokens = [(part.weight / total, model.style_tokens([part.feat4.to(device), part.feat5.to(device)],
                                                           None if part.low is None else part.low.to(device)))
                  for part in group.parts]
    return PreparedStyle(group, tokens)


@dataclass(eq=False)
class Rendered:
    """What :func:`stylize` returns: the image (1, 3, H, W) in [0, 1] and, on request, the attention maps."""

    image: torch.Tensor
    attention: AttentionMaps | None = None


def _fused_style(
    model: SANet,
    content_feats: list[torch.Tensor],
    style: PreparedStyle,
    want_attention: bool,
    stats: tuple[Stats, Stats] | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """One style's fused relu4_1 features and, when wanted, each part's attention map."""
    chunks: list | None = [] if want_attention else None
    fused = model.fuse_parts(content_feats, style.tokens, chunks, stats)
    maps = []
    if chunks:
        per_part = len(chunks) // len(style.tokens)  # the parts' blocks come one part after another
        for index, part in enumerate(style.group.parts):
            blocks = chunks[index * per_part : (index + 1) * per_part]
            # One matrix per part, indexed by content cell and then by style cell (or token).
            maps.append(torch.cat(blocks, dim=1)[0].reshape(*fused.shape[-2:], *part.feat4.shape[2:]))
    return fused, maps


def _fit_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Any (H, W), (1, H, W) or (1, 1, H, W) mask as (1, 1, *size) in [0, 1]."""
    mask = mask.float().reshape(1, 1, *mask.shape[-2:])
    if tuple(mask.shape[-2:]) != tuple(size):
        mask = F.interpolate(mask, size=size, mode="bilinear", align_corners=False)
    return mask.clamp(0, 1)


def _blend_weights(
    n_styles: int, mix: Sequence[float] | None, masks: list[torch.Tensor], grid: tuple[int, int]
) -> tuple[list[torch.Tensor | float], torch.Tensor | None]:
    """Each style's weight at relu4_1 (a number, or a map for masks) and the content's share, if any."""
    if not masks:
        weights = list(mix) if mix is not None else [1.0] * n_styles
        return [w / sum(weights) for w in weights], None
    return mask_shares([F.adaptive_avg_pool2d(mask, grid) for mask in masks], n_styles)


def mask_shares(masks: list[torch.Tensor], n_styles: int) -> tuple[list[torch.Tensor], torch.Tensor | None]:
    """Each style's share of every position under ``masks``, and the content's share when every style
    has a mask (else the last style takes the rest). Overlapping masks share their overlap rather than
    adding up to more than one whole style."""
    overlap = torch.stack(masks).sum(0).clamp(min=1)
    shares = [mask / overlap for mask in masks]
    rest = 1 - torch.stack(shares).sum(0)
    if len(masks) == n_styles:
        return shares, rest
    return [*shares, rest], None


def stylize(
    model: SANet,
    content: torch.Tensor,
    styles: Sequence[PreparedStyle | StyleGroup],
    blend: Blend = Blend(),
    tile: int | None = None,
    return_attention: bool = False,
) -> Rendered:
    """Stylise ``content`` (1, 3, H, W) in [0, 1]; the image comes back on content's device.

    ``styles``: prepared once with :func:`prepare_style` (groups are prepared on the spot). ``tile``:
    process the content in overlapping tiles of this many pixels so memory stays bounded at any
    resolution (see :mod:`sanet_text.render.tiling`); 0 = never, None = automatically for large images.
    ``return_attention``: also return each part's relu4_1 attention (needs the whole image at once).
    """
    check_blend(len(styles), blend.mix, len(blend.masks), blend.alpha)
    prepared = [s if isinstance(s, PreparedStyle) else prepare_style(model, s) for s in styles]
    device = next(model.parameters()).device
    with torch.inference_mode():
        image_in = content.to(device)
        size = tuple(image_in.shape[-2:])
        pixel_masks = [_fit_mask(mask.to(device), size) for mask in blend.masks]
        tile = choose_tile(size, tile, return_attention)
        attention = None
        if tile:
            context = whole_image_context(model, image_in)

            def render_window(crop: torch.Tensor, window: tuple[slice, slice]) -> torch.Tensor:
                crop_masks = [mask[..., window[0], window[1]] for mask in pixel_masks]
                return _render(model, crop, prepared, blend, crop_masks, False, context)[0]

            image = render_tiled(render_window, image_in, tile)
        else:
            image, attention = _render(model, image_in, prepared, blend, pixel_masks, return_attention)
        image = image.clamp(0, 1)
        if blend.match_color and not blend.preserve_color:
            image = _match_style_colors(image, [style.group for style in prepared], blend, pixel_masks)
        if any(style.group.paint is not None for style in prepared):
            image = _paint_named_colors(image, [style.group for style in prepared], blend, pixel_masks)
        if blend.preserve_color:
            image = keep_content_color(image, image_in)
        if pixel_masks and len(pixel_masks) == len(prepared):
            # Decoded features bleed a few pixels across the mask edge; compositing in pixel space
            # keeps everything outside the masks exactly the content.
            coverage = torch.stack(pixel_masks).sum(0).clamp(max=1)
            image = coverage * image + (1 - coverage) * image_in
        # Float even under bf16 autocast.
        return Rendered(image.clamp(0, 1).to(content.device, content.dtype), attention if return_attention else None)


def _match_style_colors(image: torch.Tensor, groups: list[StyleGroup], blend: Blend,
                        pixel_masks: list[torch.Tensor]) -> torch.Tensor:
    """``image`` recoloured towards its styles' palettes (see :attr:`Blend.match_color`)."""
    targets = [group.color() for group in groups]
    if any(target is None for target in targets) or blend.alpha <= 0:
        return image  # a style with no picture (mapper tokens) has no palette to follow
    if not pixel_masks:
        weights = list(blend.mix) if blend.mix is not None else [1.0] * len(groups)
        matched = match_color(image, mix_color_stats(list(zip(weights, targets))))
    else:
        # Each style's region, shared as the features are blended; what no style covers stays.
        regions, uncovered = mask_shares(pixel_masks, len(groups))
        matched = sum(region * match_color(image, target, region) for region, target in zip(regions, targets))
        if uncovered is not None:
            matched = matched + uncovered * image
    return torch.lerp(image, matched, min(blend.alpha, 1.0))


def _paint_named_colors(image: torch.Tensor, groups: list[StyleGroup], blend: Blend,
                        pixel_masks: list[torch.Tensor]) -> torch.Tensor:
    """``image`` painted in the colours its prompts named (``StyleGroup.paint``), each style's by its
    mix weight or in its mask region, in proportion to ``alpha`` up to 1; other styles leave it."""
    painted = [image if group.paint is None else paint_colors(image, group.paint) for group in groups]
    if pixel_masks:
        regions, uncovered = mask_shares(pixel_masks, len(groups))
        mixed = sum(region * picture for region, picture in zip(regions, painted))
        if uncovered is not None:
            mixed = mixed + uncovered * image
    else:
        weights = list(blend.mix) if blend.mix is not None else [1.0] * len(groups)
        mixed = sum(weight / sum(weights) * picture for weight, picture in zip(weights, painted))
    return torch.lerp(image, mixed, min(blend.alpha, 1.0))


def _render(
    model: SANet,
    image: torch.Tensor,
    styles: list[PreparedStyle],
    blend: Blend,
    pixel_masks: list[torch.Tensor],
    want_attention: bool,
    context: WholeImageContext | None = None,
) -> tuple[torch.Tensor, AttentionMaps]:
    """The stylised, decoded ``image`` (1, 3, h, w), the whole content or one tile of it with ``context``,
    and the attention maps when wanted.

    ``context`` carries what must come from the whole image for tiles to agree: the content's
    channel statistics and its own attention tokens (for alpha and uncovered mask areas).
    """
    content_feats = model.encode(image)
    stats = context.stats if context is not None else None
    fused, attention = [], []
    for style in styles:
        feat, maps = _fused_style(model, content_feats, style, want_attention, stats)
        fused.append(feat)
        attention.append(maps)
    weights, content_share = _blend_weights(len(styles), blend.mix, pixel_masks, fused[0].shape[-2:])
    blended = sum(weight * feat for weight, feat in zip(weights, fused))
    if blend.alpha != 1 or content_share is not None:
        own_tokens = context.own_tokens if context is not None else model.style_tokens(content_feats)
        own = model.fuse(content_feats, own_tokens, stats=stats)
        if content_share is not None:
            blended = blended + content_share * own
        if blend.alpha != 1:
            blended = blend.alpha * blended + (1 - blend.alpha) * own
    return model.decode(blended, tuple(image.shape[-2:])), attention
