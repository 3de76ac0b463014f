"""Style attention (SANet): content positions attend to style positions.

Query and key come from mean-variance normalised features, so attention matches local patterns
regardless of their overall statistics; the value is the raw style feature, so what is copied
carries the style's statistics. The two-level transform fuses relu4_1 and relu5_1 attention.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


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
    """A style as seen by one attention module: keys (B, C, N) and values (B, C, N).

    Computed once per style, so tiled or batched content can reuse them.
    """

    keys: torch.Tensor
    values: torch.Tensor


class StyleAttention(nn.Module):
    """One SANet module: ``content + out(softmax(f(norm c)ᵀ g(norm s)) · h(s))``."""

    def __init__(self, channels: int, chunk: int = 4096) -> None:
        super().__init__()
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

    def tokens(self, style: torch.Tensor) -> StyleTokens:
        """Keys and values of a style feature map (B, C, H, W) or token set (B, C, N)."""
        if style.dim() == 3:
            style = style.unsqueeze(-1)
        return StyleTokens(
            keys=self.key(mean_variance_norm(style)).flatten(2),
            values=self.value(style).flatten(2),
        )

    def forward(
        self,
        content: torch.Tensor,
        style: StyleTokens,
        attention_out: list | None = None,
        stats: Stats | None = None,
    ) -> torch.Tensor:
        """``stats``: the content's channel statistics when ``content`` is one tile of a larger map."""
        b, c, h, w = content.shape
        queries = self.query(mean_variance_norm(content, stats=stats)).flatten(2).transpose(1, 2)  # B, HW, C
        keys, values = style.keys, style.values
        if keys.shape[0] != b:  # one style shared by a batch of content images
            keys, values = keys.expand(b, -1, -1), values.expand(b, -1, -1)
        blocks = []
        # Attend in blocks of query positions: the full (HW × N) matrix at 4096 px would not fit.
        for start in range(0, h * w, self.chunk):
            attn = torch.softmax(torch.bmm(queries[:, start : start + self.chunk], keys), dim=-1)
            if attention_out is not None:
                attention_out.append(attn)  # not detached: the sparsity loss trains through it
            blocks.append(torch.bmm(values, attn.transpose(1, 2)))
        attended = torch.cat(blocks, dim=2).view(b, c, h, w)
        return content + self.out(attended)


class Transform(nn.Module):
    """Two-level fusion: attention at relu4_1 plus upsampled attention at relu5_1, then a 3×3 merge."""

    def __init__(self, channels: int, chunk: int = 4096) -> None:
        super().__init__()
        self.attn4 = StyleAttention(channels, chunk)
        self.attn5 = StyleAttention(channels, chunk)
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
        stats4, stats5 = stats if stats is not None else (None, None)
        fused4 = self.attn4(content4, style[0], attention_out, stats4)
        fused5 = self.attn5(content5, style[1], stats=stats5)
        fused5 = nn.functional.interpolate(fused5, size=fused4.shape[-2:], mode="nearest")
        return self.merge(nn.functional.pad(fused4 + fused5, (1, 1, 1, 1), mode="replicate"))
