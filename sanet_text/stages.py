"""Training stages: what one step computes. Each stage is a module (so DDP sees one forward) that
also says which batches it consumes; :mod:`sanet_text.train` runs any of them the same way."""

from __future__ import annotations

from typing import Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader

from . import losses as L
from .config import LossWeights, TrainConfig
from .data import RandomCrops, StepSampler
from .errors import UserError
from .model import SANet


def crop_stream(dirs: tuple[str, ...], config: TrainConfig, seed: int, start: int, rank: int, world: int) -> Iterator[torch.Tensor]:
    """Batches of random crops for micro-steps ``start`` … (see :class:`StepSampler`)."""
    sampler = StepSampler(config.batch_size, start, rank, world, config.steps * config.grad_accum)
    return iter(DataLoader(RandomCrops(dirs, config.crop, seed=seed), batch_size=config.batch_size, sampler=sampler))


class ImageStage(nn.Module):
    """SANet's training objective as a module, so DDP sees one forward per step."""

    def __init__(self, model: SANet, weights: LossWeights, identity_batch: int = 0) -> None:
        super().__init__()
        self.model = model
        self.weights = weights
        self.identity_batch = identity_batch

    def batches(self, config: TrainConfig, start: int, rank: int, world: int) -> Iterator[dict[str, torch.Tensor]]:
        contents = crop_stream(config.content_dirs, config, config.seed, start, rank, world)
        styles = crop_stream(config.style_dirs, config, config.seed + 1, start, rank, world)
        for content, style in zip(contents, styles):
            yield {"content": content, "style": style}

    def preview(self, batch: dict[str, torch.Tensor], output: torch.Tensor, rows: int = 4) -> torch.Tensor:
        """content | style | output, one row per sample."""
        return torch.cat([
            torch.cat([batch["content"][i], batch["style"][i], output[i]], dim=-1).float().clamp(0, 1)
            for i in range(min(rows, output.shape[0]))
        ], dim=-2)

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        model, n = self.model, content.shape[0]
        with torch.no_grad():
            feats = model.encode(torch.cat([content, style]))
        content_feats = [f[:n] for f in feats]
        style_feats = [f[n:] for f in feats]
        k = self.identity_batch or n
        id_content, id_style = [f[:k] for f in content_feats], [f[:k] for f in style_feats]
        attention: list[torch.Tensor] = []
        # Stylised output and the two identity reconstructions share one decoder and one encoder pass.
        fused = torch.cat([
            model.fuse(content_feats, model.style_tokens(style_feats), attention),
            model.fuse(id_content, model.style_tokens(id_content)),
            model.fuse(id_style, model.style_tokens(id_style)),
        ])
        images = model.decode(fused, content.shape[-2:])
        out_feats = model.encode(images)
        out, identity = images[:n], images[n:]
        originals = torch.cat([content[:k], style[:k]])
        terms = {
            "content": L.content_loss([f[:n] for f in out_feats], content_feats),
            "style": L.style_loss([f[:n] for f in out_feats], style_feats),
            "identity_pixel": L.identity_pixel_loss(identity, originals),
            "identity_feature": L.identity_feature_loss(
                [f[n:] for f in out_feats], [torch.cat([c[:k], s[:k]]) for c, s in zip(content_feats, style_feats)]
            ),
        }
        if self.weights.tv:
            terms["tv"] = L.total_variation(out)
        if self.weights.attention_sparsity:
            terms["attention_sparsity"] = torch.stack([L.attention_entropy(a) for a in attention]).mean()
        total = sum(getattr(self.weights, k) * v for k, v in terms.items())
        return total, terms, out


def build_stage(config: TrainConfig, model: SANet) -> nn.Module:
    if config.stage == "image":
        return ImageStage(model, config.losses, config.identity_batch)
    raise UserError(f"unknown training stage {config.stage!r}; known: image")
