"""Style attention (SANet): content positions attend to style positions.

Query and key come from mean-variance normalised features, so attention matches local patterns
regardless of their overall statistics; the value is the raw style feature, so what is copied
carries the style's statistics. The two-level transform fuses relu4_1 and relu5_1 attention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import RESIDUALS


# Channel mean and std of a feature map, each (B, C, 1).
Stats = tuple[torch.Tensor, torch.Tensor]


def channel_stats(feat: torch.Tensor, eps: float = 1e-5) -> Stats:
    """Per-channel mean and standard deviation over the positions of a (B, C, ...) map."""
    flat = feat.flatten(2)
    return flat.mean(-1, keepdim=True), (flat.var(-1, keepdim=True, unbiased=False) + eps).sqrt()


def mean_variance_norm(feat: torch.Tensor, eps: float = 1e-5, stats: Stats | None = None) -> torch.Tensor:
    """Normalise each channel of a (B, C, ...) map to zero mean and unit variance over positions.

    ``stats`` replaces the map's own statistics: a tile of a large image is normalised with those
    of the whole image, so neighbouring tiles see the same normalisation (no seams).
    """
    mean, std = stats if stats is not None else channel_stats(feat, eps)
    return ((feat.flatten(2) - mean) / std).view_as(feat)


@dataclass
class StyleTokens:
    """A style as seen by one attention module: keys and values (B, C, N), and the raw style's
    channel mean and std (B, C, 1) for the AdaIN residual (and, see ``low``, for the decoder).

    Computed once per style, so tiled or batched content can reuse them.
    """

    keys: torch.Tensor
    values: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    # Only on the relu4_1 tokens of a model with style_levels > 0: the style's statistics below
    # relu4_1 (B, D) that modulate the decoder (SANet.low_stats); None for a style without them.
    low: torch.Tensor | None = None


class StyleAttention(nn.Module):
    """One SANet module: ``residual + out(softmax(f(norm c)ᵀ g(norm s)) · h(s))``.

    ``residual="content"`` is the paper's: the content features themselves. ``"adain"`` carries
    AdaIN(c, s), the content re-coloured with the style's channel statistics, so the attended part
    only has to add the style's local patterns; the global colour comes for free (as in AdaAttN).
    Identity pairs are unchanged, since AdaIN(c, c) = c.
    """

    def __init__(self, channels: int, chunk: int = 4096, residual: str = "content") -> None:
        super().__init__()
        if residual not in RESIDUALS:
            raise ValueError(f"residual must be one of {RESIDUALS}, got {residual!r}")
        self.query = nn.Conv2d(channels, channels, 1)
        self.key = nn.Conv2d(channels, channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)
        # Start as the identity (content passes through untouched): training then learns to
        # reconstruct the content before it learns to inject style, instead of first collapsing to
        # a content-free texture, as it did in our CPU runs with the default init.
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.chunk = chunk
        self.residual = residual

    def tokens(self, style: torch.Tensor) -> StyleTokens:
        """Keys, values and statistics of a style feature map (B, C, H, W) or token set (B, C, N)."""
        if style.dim() == 3:
            style = style.unsqueeze(-1)
        mean, std = channel_stats(style)
        return StyleTokens(
            keys=self.key(mean_variance_norm(style, stats=(mean, std))).flatten(2),
            values=self.value(style).flatten(2),
            mean=mean,
            std=std,
        )

    def forward(
        self,
        content: torch.Tensor,
        style: StyleTokens,
        attention_out: list | None = None,
        stats: Stats | None = None,
    ) -> torch.Tensor:
        """``stats``: the content's channel statistics when ``content`` is one tile of a larger map.

        ``attention_out`` (when given) receives the attention matrices, one per block of query
        positions, undetached so a loss can train through them.
        """
        return self.blend(content, [(1.0, style)], attention_out, stats)

    def blend(
        self,
        content: torch.Tensor,
        parts: Sequence[tuple[float, StyleTokens]],
        attention_out: list | None = None,
        stats: Stats | None = None,
    ) -> torch.Tensor:
        """``Σ share · forward(content, tokens)`` over ``parts`` (shares summing to 1) in one pass.

        Only the attention itself is per part: the query projection is shared, and the residual and
        the output projection are affine, so they apply once to the share-weighted sums.
        ``attention_out`` receives each part's attention blocks in turn.
        """
        if not parts or abs(sum(share for share, _ in parts) - 1) > 1e-4:
            raise ValueError(f"blend shares must sum to 1, got {[share for share, _ in parts]}")
        b, c, h, w = content.shape
        normed = mean_variance_norm(content, stats=stats)
        queries = self.query(normed).flatten(2).transpose(1, 2)  # B, HW, C
        attended = mean = std = 0.0
        for share, style in parts:
            keys, values = style.keys, style.values
            if keys.shape[0] != b:  # one style shared by a batch of content images
                keys, values = keys.expand(b, -1, -1), values.expand(b, -1, -1)
            if attention_out is None:
                part = fused_attention(queries, keys, values)
            else:
                part = explicit_attention(queries, keys, values, self.chunk, attention_out)
            attended = attended + share * part if len(parts) > 1 else part
            mean, std = mean + share * style.mean, std + share * style.std
        if self.residual == "adain":
            base = (normed.flatten(2) * std + mean).view_as(content)
        else:
            base = content
        return base + self.out(attended.view(b, c, h, w))


def fused_attention(queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``values · softmax(queries · keys)ᵀ`` as (B, C, Nq), by PyTorch's fused attention kernel.

    Unscaled (``scale=1``), as SANet's attention is. The fused kernel never materialises the weights,
    so memory stays bounded at any size and, unlike a float32 ``bmm`` over a peaked softmax, it does
    not slow down on denormal weights (10-70x on Intel CPUs; see benchmarks/attention.py).
    """
    if torch.onnx.is_in_onnx_export():
        # ONNX has no fused attention: onnxruntime runs the softmax and the product apart, and the
        # product over denormal weights took 0.9 s of a 2.4 s run at 512 px (Intel Xeon).
        return _weighted_values(values, torch.softmax(torch.bmm(queries, keys), dim=-1))
    out = F.scaled_dot_product_attention(
        queries.unsqueeze(1).contiguous(),
        keys.transpose(1, 2).unsqueeze(1).contiguous(),
        values.transpose(1, 2).unsqueeze(1).contiguous(),
        scale=1.0,
    )
    return out[:, 0].transpose(1, 2)


# Below this, softmax weights are denormal (float32's smallest normal is 1.2e-38), and a product over
# them runs at a fraction of the speed on many CPUs; zeroing them changes the result by < 1e-30.
_NEGLIGIBLE = 1e-30


def explicit_attention(
    queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, chunk: int, attention_out: list
) -> torch.Tensor:
    """The same product with the weights materialised (for attention maps and the sparsity loss), in
    blocks of ``chunk`` query positions: the full (Nq × N) matrix at 4096 px would not fit."""
    blocks = []
    for start in range(0, queries.shape[1], chunk):
        attn = torch.softmax(torch.bmm(queries[:, start : start + chunk], keys), dim=-1)
        attention_out.append(attn)
        blocks.append(_weighted_values(values, attn))
    return torch.cat(blocks, dim=2)


def _weighted_values(values: torch.Tensor, attn: torch.Tensor) -> torch.Tensor:
    """``values · attnᵀ`` with the negligible weights zeroed first, so the product meets no denormals."""
    return torch.bmm(values, attn.masked_fill(attn.detach() < _NEGLIGIBLE, 0.0).transpose(1, 2))


class Transform(nn.Module):
    """Two-level fusion: attention at relu4_1 plus upsampled attention at relu5_1, then a 3×3 merge."""

    def __init__(self, channels: int, chunk: int = 4096, residual: str = "content") -> None:
        super().__init__()
        self.attn4 = StyleAttention(channels, chunk, residual)
        self.attn5 = StyleAttention(channels, chunk, residual)
        self.merge = nn.Conv2d(channels, channels, 3)

    def style_tokens(self, style4: torch.Tensor, style5: torch.Tensor) -> tuple[StyleTokens, StyleTokens]:
        return self.attn4.tokens(style4), self.attn5.tokens(style5)

    def forward(
        self,
        content4: torch.Tensor,
        content5: torch.Tensor,
        style: tuple[StyleTokens, StyleTokens],
        attention_out: list | None = None,
        stats: tuple[Stats, Stats] | None = None,
    ) -> torch.Tensor:
        """``stats``: relu4_1 and relu5_1 statistics of the whole content when these maps are a tile of it."""
        return self.blend(content4, content5, [(1.0, style)], attention_out, stats)

    def blend(
        self,
        content4: torch.Tensor,
        content5: torch.Tensor,
        parts: Sequence[tuple[float, tuple[StyleTokens, StyleTokens]]],
        attention_out: list | None = None,
        stats: tuple[Stats, Stats] | None = None,
    ) -> torch.Tensor:
        """``Σ share · forward(..., style)`` over ``parts`` (shares summing to 1): upsampling and the
        merge convolution are linear, so they too run once."""
        stats4, stats5 = stats if stats is not None else (None, None)
        fused4 = self.attn4.blend(content4, [(share, style[0]) for share, style in parts], attention_out, stats4)
        fused5 = self.attn5.blend(content5, [(share, style[1]) for share, style in parts], stats=stats5)
        fused5 = nn.functional.interpolate(fused5, size=fused4.shape[-2:], mode="nearest")
        return self.merge(nn.functional.pad(fused4 + fused5, (1, 1, 1, 1), mode="replicate"))
