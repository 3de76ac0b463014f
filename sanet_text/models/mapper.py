"""A learned mapper from a text embedding to SANet style tokens at relu4_1 and relu5_1.

SANet's keys are mean-variance normalised over style positions, so a style must be a *set* of
differing vectors: one vector copied to every position normalises to zero, every key becomes the
same and attention degenerates into a uniform average (a global modulation, no local patterns).
The mapper therefore invents ``tokens4 + tokens5`` distinct positions: learned queries, one per
position, cross-attend to the text and keep themselves in the residual stream, so positions differ
even when the text is one pooled vector. Outputs are non-negative (they stand in for VGG relu
features) with a learned per-channel scale.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import MapperConfig, ModelConfig, load_mapper_config
from ..core.errors import UserError


class _Block(nn.Module):
    """Pre-norm decoder block: tokens look at each other, then at the text, then think alone."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.norm_self = nn.LayerNorm(width)
        self.self_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm_cross = nn.LayerNorm(width)
        self.cross_attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm_mlp = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        h = self.norm_self(tokens)
        tokens = tokens + self.self_attn(h, h, h, need_weights=False)[0]
        tokens = tokens + self.cross_attn(self.norm_cross(tokens), memory, memory, need_weights=False)[0]
        return tokens + self.mlp(self.norm_mlp(tokens))


class MapperOutput(NamedTuple):
    """Token sets (B, C, tokens4) and (B, C, tokens5), and the low-level statistics (B, low) when the
    config asks for them."""

    feat4: torch.Tensor
    feat5: torch.Tensor
    low: torch.Tensor | None


class TextMapper(nn.Module):
    """Text embeddings (B, T, D) or (B, D) → style tokens (B, C, tokens4) and (B, C, tokens5)."""

    def __init__(self, config: MapperConfig) -> None:
        super().__init__()
        self.config = config
        width = config.width
        # Softmax over a single key is constant, so with one pooled text vector every query would
        # read the same thing; expanding each text vector into `memory` tokens gives them a choice.
        self.memory = nn.Linear(config.text_dim, config.memory * width)
        self.memory_norm = nn.LayerNorm(width)
        # Unit-variance positional queries: distinct from the start, and they stay in the residual.
        self.queries = nn.Parameter(torch.randn(config.tokens4 + config.tokens5, width))
        self.blocks = nn.ModuleList(_Block(width, config.heads) for _ in range(config.layers))
        self.out_norm = nn.LayerNorm(width)
        self.head4 = nn.Linear(width, config.channels)
        self.head5 = nn.Linear(width, config.channels)
        self.log_scale = nn.Parameter(torch.full((2, config.channels), math.log(config.init_scale)))
        self.head_low = nn.Linear(width, config.low) if config.low else None

    def forward(self, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.predict(text)
        return out.feat4, out.feat5

    def predict(self, text: torch.Tensor) -> MapperOutput:
        """What :meth:`forward` returns, and the low-level statistics."""
        if text.dim() == 2:
            text = text[:, None]
        b, t, d = text.shape
        if d != self.config.text_dim:
            raise UserError(
                f"mapper {self.config.name!r} expects {self.config.text_dim}-d text embeddings "
                f"({self.config.text_encoder}), got {d}-d; use the text encoder it was trained with"
            )
        memory = self.memory_norm(self.memory(text).view(b, t * self.config.memory, -1))
        tokens = self.queries.expand(b, -1, -1)
        for block in self.blocks:
            tokens = block(tokens, memory)
        tokens = self.out_norm(tokens)
        n4 = self.config.tokens4
        scale = self.log_scale.exp()
        # softplus: VGG relu features are non-negative; the values SANet copies must look like them.
        t4 = F.softplus(self.head4(tokens[:, :n4])) * scale[0]
        t5 = F.softplus(self.head5(tokens[:, n4:])) * scale[1]
        # log1p of means and stds are non-negative too; they describe the whole set, so read from its mean.
        low = F.softplus(self.head_low(tokens.mean(1))) if self.head_low is not None else None
        return MapperOutput(t4.transpose(1, 2), t5.transpose(1, 2), low)


def check_fits(config: MapperConfig, model: ModelConfig) -> None:
    """The mapper's tokens must have the SANet's relu4_1 width, or attention cannot use them; its
    low-level statistics, if any, the length of the encoder's (means and stds of relu1_1 … relu3_1)."""
    if config.channels != model.widths[3]:
        raise UserError(f"mapper {config.name!r} makes {config.channels}-channel tokens but model {model.name!r} "
                        f"attends over {model.widths[3]}; pick a matching mapper config")
    low = 2 * sum(model.widths[:3])
    if config.low not in (0, low):
        raise UserError(f"mapper {config.name!r} predicts {config.low} low-level statistics but model {model.name!r}'s "
                        f"encoder has {low}; pick a matching mapper config")


def load_mapper_weights(mapper: TextMapper, name_or_path: str | Path) -> None:
    """Load a mapper's safetensors by name (``configs/weights.yaml``) or path; "random" keeps the init."""
    from .weights import load_strict, read_safetensors, resolve_weights

    if str(name_or_path) == "random":
        return
    path = resolve_weights(name_or_path)
    state, _ = read_safetensors(path, "mapper weights")
    load_strict(mapper, state, f"mapper weights {path}", f"mapper config {mapper.config.name!r}")


def build_mapper(config: MapperConfig | str | Path = "base", weights: str | Path | None = None) -> TextMapper:
    """A mapper from a config (object, name in ``configs/mapper/`` or YAML path) with its weights loaded."""
    if not isinstance(config, MapperConfig):
        config = load_mapper_config(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # a "random" mapper (tests, training from scratch) is reproducible
        mapper = TextMapper(config)
    load_mapper_weights(mapper, weights or config.weights)
    return mapper.eval()
