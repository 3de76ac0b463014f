"""Inference: a content image and style groups (blended by mix weights or masks) to a stylised image.

Each style part is fused with the content by SANet at relu4_1; a group is the weighted sum of its
parts' fused features; groups are blended by ``mix`` weights (everywhere) or masks (by region);
``alpha`` then moves between the content's own reconstruction (0) and the blend (1), and the result
is decoded once.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch.nn import functional as F

from .attention import Stats
from .color import preserve_color as keep_content_color
from .errors import UserError
from .model import SANet, StylePair
from .styles.base import StyleGroup
from .tiling import WholeImageContext, choose_tile, render_tiled, whole_image_context


def check_blend(n_groups: int, mix: Sequence[float] | None, n_masks: int, alpha: float) -> None:
    """Reject option combinations ``stylize`` cannot honour, cheaply, before any model work."""
    if n_groups < 1:
        raise UserError("no style given; give a PROMPT or --style IMAGE_OR_PROMPT")
    if not math.isfinite(alpha) or alpha < 0:
        raise UserError(f"--alpha must be a number >= 0 (0 = content, 1 = full style, above 1 exaggerates), got {alpha}")
    if mix is not None and n_masks:
        raise UserError("--mix and --mask cannot be combined: masks already say where each style goes")
    if mix is not None:
        if len(mix) != n_groups:
            raise UserError(f"--mix gives {len(mix)} weight(s) for {n_groups} style(s); give one weight per style")
        if not all(math.isfinite(w) and w >= 0 for w in mix) or sum(mix) <= 0:
            raise UserError(f"--mix weights must be numbers >= 0, not all 0; got {','.join(map(str, mix))}")
    if n_masks and n_masks not in (n_groups, n_groups - 1):
        raise UserError(
            f"{n_masks} masks for {n_groups} styles; give one --mask per style, "
            "or one fewer (the last style then fills the rest)"
        )


def _part_tokens(model: SANet, group: StyleGroup, device: torch.device) -> list[tuple[float, StylePair]]:
    """Each part's share of its group and attention tokens, computed once per style (not per tile)."""
    total = sum(part.weight for part in group.parts)
    if not group.parts or total <= 0:
        raise ValueError(f"style {group.source!r} has no part with a positive weight")
    return [
        (part.weight / total, model.style_tokens([part.feat4.to(device), part.feat5.to(device)]))
        for part in group.parts
    ]


def _group_features(
    model: SANet,
    content_feats: list[torch.Tensor],
    group: StyleGroup,
    tokens: list[tuple[float, StylePair]],
    attention_out: list | None,
    stats: tuple[Stats, Stats] | None = None,
) -> torch.Tensor:
    fused = torch.zeros_like(content_feats[3])
    maps = []
    for part, (share, part_tokens) in zip(group.parts, tokens):
        chunks: list | None = [] if attention_out is not None else None
        fused = fused + share * model.fuse(content_feats, part_tokens, chunks, stats)
        if chunks is not None:
            # One matrix per part, indexed by content cell and then by style cell (or token).
            maps.append(torch.cat(chunks, dim=1)[0].reshape(*fused.shape[-2:], *part.feat4.shape[2:]))
    if attention_out is not None:
        attention_out.append(maps)
    return fused


def _fit_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Any (H, W), (1, H, W) or (1, 1, H, W) mask as (1, 1, *size) in [0, 1]."""
    mask = mask.float().reshape(1, 1, *mask.shape[-2:])
    if tuple(mask.shape[-2:]) != tuple(size):
        mask = F.interpolate(mask, size=size, mode="bilinear", align_corners=False)
    return mask.clamp(0, 1)


def _blend_weights(
    n_groups: int, mix: Sequence[float] | None, masks: list[torch.Tensor], grid: tuple[int, int]
) -> tuple[list[torch.Tensor | float], torch.Tensor | None]:
    """Each group's weight at relu4_1 (a number, or a map for masks) and the content's share, if any."""
    if not masks:
        weights = list(mix) if mix is not None else [1.0] * n_groups
        return [w / sum(weights) for w in weights], None
    small = [F.adaptive_avg_pool2d(mask, grid) for mask in masks]
    # Overlapping masks share their overlap rather than adding up to more than one whole style.
    overlap = torch.stack(small).sum(0).clamp(min=1)
    small = [mask / overlap for mask in small]
    rest = 1 - torch.stack(small).sum(0)
    if len(masks) == n_groups:
        return list(small), rest
    return [*small, rest], None


def stylize(
    model: SANet,
    content: torch.Tensor,
    groups: list[StyleGroup],
    mix: Sequence[float] | None = None,
    alpha: float = 1.0,
    masks: list[torch.Tensor] | None = None,
    preserve_color: bool = False,
    attention_out: list | None = None,
    tile: int | None = None,
) -> torch.Tensor:
    """Stylise ``content`` (1, 3, H, W) in [0, 1]; returns (1, 3, H, W) in [0, 1] on content's device.

    ``mix``: one weight per group (normalised), default equal. ``masks``: one per group, each
    confining its style to the white area, where the rest stays the content exactly; or one fewer
    than the groups, the last group filling the rest. ``alpha``: 0 gives the content's own
    reconstruction, 1 the full style, above 1 extrapolates. ``preserve_color``: keep the content's
    chroma. ``attention_out`` receives per group a list, per part, of its relu4_1 attention shaped
    (content rows, content cols, style rows, style cols), or (…, style tokens) for token styles.
    ``tile``: process the content in overlapping tiles of this many pixels so memory stays bounded
    at any resolution (see :mod:`sanet_text.tiling`); 0 = never, None = automatically for large images.
    """
    masks = masks or []
    check_blend(len(groups), mix, len(masks), alpha)
    device = next(model.parameters()).device
    with torch.inference_mode():
        image_in = content.to(device)
        size = tuple(image_in.shape[-2:])
        tokens = [_part_tokens(model, group, device) for group in groups]
        pixel_masks = [_fit_mask(mask.to(device), size) for mask in masks]
        tile = choose_tile(size, tile, attention_out is not None)
        if tile:
            context = whole_image_context(model, image_in)

            def render_window(crop: torch.Tensor, window: tuple[slice, slice]) -> torch.Tensor:
                crop_masks = [mask[..., window[0], window[1]] for mask in pixel_masks]
                return _render(model, crop, groups, tokens, mix, alpha, crop_masks, None, context)

            image = render_tiled(render_window, image_in, tile)
        else:
            image = _render(model, image_in, groups, tokens, mix, alpha, pixel_masks, attention_out)
        image = image.clamp(0, 1)
        if preserve_color:
            image = keep_content_color(image, image_in)
        if masks and len(masks) == len(groups):
            # Decoded features bleed a few pixels across the mask edge; compositing in pixel space
            # keeps everything outside the masks exactly the content.
            coverage = torch.stack(pixel_masks).sum(0).clamp(max=1)
            image = coverage * image + (1 - coverage) * image_in
        return image.clamp(0, 1).to(content.device, content.dtype)  # float even under bf16 autocast


def _render(
    model: SANet,
    image: torch.Tensor,
    groups: list[StyleGroup],
    tokens: list[list[tuple[float, StylePair]]],
    mix: Sequence[float] | None,
    alpha: float,
    pixel_masks: list[torch.Tensor],
    attention_out: list | None,
    context: WholeImageContext | None = None,
) -> torch.Tensor:
    """The stylised, decoded ``image`` (1, 3, h, w): the whole content, or one tile of it with ``context``.

    ``context`` carries what must come from the whole image for tiles to agree: the content's
    channel statistics and its own attention tokens (for alpha and uncovered mask areas).
    """
    content_feats = model.encode(image)
    stats = context.stats if context is not None else None
    fused = [
        _group_features(model, content_feats, group, group_tokens, attention_out, stats)
        for group, group_tokens in zip(groups, tokens)
    ]
    weights, content_share = _blend_weights(len(groups), mix, pixel_masks, fused[0].shape[-2:])
    blended = sum(weight * feat for weight, feat in zip(weights, fused))
    if alpha != 1 or content_share is not None:
        own_tokens = context.own_tokens if context is not None else model.style_tokens(content_feats)
        own = model.fuse(content_feats, own_tokens, stats=stats)
        if content_share is not None:
            blended = blended + content_share * own
        if alpha != 1:
            blended = alpha * blended + (1 - alpha) * own
    return model.decode(blended, tuple(image.shape[-2:]))
