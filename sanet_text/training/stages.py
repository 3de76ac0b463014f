"""Training stages: what one step computes. Each stage is a module (so DDP sees one forward) that
also says which batches it consumes; :mod:`sanet_text.training.train` runs any of them the same way."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..core.config import LossWeights, TrainConfig, load_mapper_config
from ..core.errors import UserError
from ..core.paths import prompts_dir
from ..images.processor import load_image, resize_to
from ..models import losses as L
from ..models.clip_guidance import load_clip
from ..models.mapper import build_mapper, check_fits
from ..models.model import SANet
from ..styles.library import load_library
from .data import RandomCrops, StepSampler, StyleSamples, read_palettes

# Checkpoint keys of the text stage's mapper; SANet keys keep their own names.
MAPPER_PREFIX = "mapper."


def step_stream(dataset: Dataset, config: TrainConfig, start: int, rank: int, world: int) -> Iterator:
    """Batches of ``dataset`` items for micro-steps ``start`` … (see :class:`StepSampler`)."""
    sampler = StepSampler(config.batch_size, start, rank, world, config.steps * config.grad_accum)
    # Workers change where a batch is made, never what it holds: every item is seeded by its index.
    workers = {"num_workers": config.num_workers, "persistent_workers": True, "prefetch_factor": 4} if config.num_workers else {}
    return iter(DataLoader(dataset, batch_size=config.batch_size, sampler=sampler, **workers))


def crop_stream(dirs: tuple[str, ...], config: TrainConfig, seed: int, start: int, rank: int, world: int) -> Iterator[torch.Tensor]:
    """Batches of random crops for micro-steps ``start`` … (see :class:`StepSampler`)."""
    return step_stream(RandomCrops(dirs, config.crop, seed=seed, scale=config.scale), config, start, rank, world)


def style_stream(config: TrainConfig, start: int, rank: int, world: int) -> Iterator[torch.Tensor]:
    """Batches of style samples (real crops, recoloured or procedural; see :class:`StyleSamples`)."""
    seed = config.seed + 1
    real = RandomCrops(config.style_dirs, config.crop, seed=seed, scale=config.scale) if config.style_dirs else None
    samples = StyleSamples(real, config.crop, seed, config.synthetic_styles, config.style_jitter,
                           read_palettes(config.palettes_file))
    return step_stream(samples, config, start, rank, world)


class Stage(nn.Module):
    """What :mod:`sanet_text.training.train` needs of every stage besides ``batches``/``forward``/``preview``:
    the weights a checkpoint holds. By default the SANet's trainable parts."""

    model: SANet

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        return self.model.trainable_state_dict()

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state, strict=False)

    def evaluate(self) -> dict[str, float]:
        """Held-out measurements logged beside the training terms; none by default."""
        return {}

    def weighted_total(self, terms: dict[str, torch.Tensor], out: torch.Tensor, attention: list[torch.Tensor] | None) -> torch.Tensor:
        """Add the optional regularisers (those with a non-zero weight) to ``terms``; the weighted sum."""
        weights: LossWeights = self.weights
        if weights.tv:
            terms["tv"] = L.total_variation(out)
        if weights.attention_sparsity:
            terms["attention_sparsity"] = torch.stack([L.attention_entropy(a) for a in attention]).mean()
        return sum(getattr(weights, name) * value for name, value in terms.items())


class ImageStage(Stage):
    """SANet's training objective as a module, so DDP sees one forward per step."""

    def __init__(self, model: SANet, weights: LossWeights, identity_batch: int = 0) -> None:
        super().__init__()
        self.model = model
        self.weights = weights
        self.identity_batch = identity_batch

    def batches(self, config: TrainConfig, start: int, rank: int, world: int) -> Iterator[dict[str, torch.Tensor]]:
        contents = crop_stream(config.content_dirs, config, config.seed, start, rank, world)
        styles = style_stream(config, start, rank, world)
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
        # Materialised attention only for the sparsity loss: the fused kernel is far faster.
        attention: list[torch.Tensor] | None = [] if self.weights.attention_sparsity else None
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
            "style": L.style_loss([f[:n] for f in out_feats], style_feats, self.weights.style_layers),
            "identity_pixel": L.identity_pixel_loss(identity, originals),
            "identity_feature": L.identity_feature_loss(
                [f[n:] for f in out_feats], [torch.cat([c[:k], s[:k]]) for c, s in zip(content_feats, style_feats)]
            ),
        }
        return self.weighted_total(terms, out, attention), terms, out


class PromptDraws(Dataset):
    """Sample ``i`` → (prompt index, ``i``): the prompt is seeded by ``i`` alone, like the crops, so
    resumed and multi-process runs draw the same prompts; ``i`` seeds the sample's CLIP crops."""

    def __init__(self, n_prompts: int, seed: int) -> None:
        self.n_prompts, self.seed = n_prompts, seed

    def __len__(self) -> int:
        return 1 << 40

    def __getitem__(self, index: int) -> tuple[int, int]:
        return random.Random(self.seed * 1_000_003 + index).randrange(self.n_prompts), index


def read_prompts(path: str) -> list[str]:
    """Training prompts, one per line; blank lines and ``#`` comments skipped. "" = the packaged list."""
    file = Path(path) if path else prompts_dir() / "train.txt"
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise UserError(f"cannot read prompts file {file}: {err.strerror}") from None
    prompts = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not prompts:
        raise UserError(f"prompts file {file} holds no prompts")
    return prompts


@torch.no_grad()
def exemplar_moments(model: SANet, paths: tuple[Path, ...], size: int) -> list[torch.Tensor]:
    """A style's channel statistics at relu1_1 … relu5_1 as two points per channel, mean ∓ std (C, 2).

    Two such points have exactly the style's mean and std, so :func:`losses.style_loss` reads them as
    style features; and a weighted sum of them has the weighted means and stds, so a blend of library
    styles is one weighted sum. Several exemplars pool their positions.
    """
    device = next(model.parameters()).device
    feats = [model.encode(resize_to(load_image(p), size)[None].to(device)) for p in paths]
    moments = []
    for level in zip(*feats):
        flat = torch.cat([f.flatten(2)[0] for f in level], -1)
        mean, std = flat.mean(-1), flat.std(-1, unbiased=False)
        moments.append(torch.stack([mean - std, mean + std], -1))
    return moments


class TextStage(Stage):
    """Stage 2: a mapper turns frozen text embeddings of training prompts into SANet style tokens.

    Everything about a prompt that does not change during training (text embedding, target
    statistics of its library styles, CLIP text direction, a preview exemplar) is computed once here.
    Only the mapper trains unless ``train_sanet`` also unfreezes the transform and decoder.
    """

    def __init__(self, model: SANet, config: TrainConfig) -> None:
        super().__init__()
        mapper_config = load_mapper_config(config.mapper)
        check_fits(mapper_config, model.config)
        wants_clip = config.losses.clip_direction or config.losses.clip_patch
        if wants_clip and not config.clip.enabled:
            raise UserError("losses clip_direction/clip_patch need a CLIP model: set clip.model and clip.pretrained")
        self.model, self.weights, self.seed = model, config.losses, config.seed
        model.transform.requires_grad_(config.train_sanet)
        model.decoder.requires_grad_(config.train_sanet)
        self.train_sanet = config.train_sanet
        self.mapper = build_mapper(mapper_config, weights="random")  # stage 2 starts every mapper afresh
        self.prompts = read_prompts(config.prompts_file)
        library = load_library(mapper_config.text_encoder)
        self.register_buffer("text", library.encoder.encode(self.prompts)[:, None], persistent=False)

        resolved = [library.resolve(p) for p in self.prompts]
        names = sorted({name for parts in resolved for name, _ in parts})
        moments = {n: exemplar_moments(model, library.styles[n].exemplars, config.exemplar_size) for n in names}
        for level in range(len(model.config.widths)):
            target = torch.stack([sum(w * moments[n][level] for n, w in parts) for parts in resolved])
            self.register_buffer(f"target{level}", target, persistent=False)
        self.register_buffer("top_style", torch.tensor([names.index(parts[0][0]) for parts in resolved]), persistent=False)
        self.register_buffer("exemplars", torch.stack([
            resize_to(load_image(library.styles[n].exemplars[0]), config.crop, exact=True) for n in names
        ]), persistent=False)

        self.clip = load_clip(config.clip) if wants_clip else None
        if self.clip is not None:
            self.register_buffer("directions", self.clip.text_directions(self.prompts), persistent=False)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        mapper = {MAPPER_PREFIX + k: v for k, v in self.mapper.state_dict().items()}
        return {**mapper, **super().trainable_state_dict()} if self.train_sanet else mapper

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.mapper.load_state_dict({k[len(MAPPER_PREFIX):]: v for k, v in state.items() if k.startswith(MAPPER_PREFIX)})
        super().load_trainable_state_dict({k: v for k, v in state.items() if not k.startswith(MAPPER_PREFIX)})

    def batches(self, config: TrainConfig, start: int, rank: int, world: int) -> Iterator[dict[str, torch.Tensor]]:
        contents = crop_stream(config.content_dirs, config, config.seed, start, rank, world)
        draws = step_stream(PromptDraws(len(self.prompts), config.seed + 2), config, start, rank, world)
        for content, (prompt, sample) in zip(contents, draws):
            yield {"content": content, "prompt": prompt, "sample": sample}

    def preview(self, batch: dict[str, torch.Tensor], output: torch.Tensor, rows: int = 4) -> torch.Tensor:
        """content | first exemplar of the prompt's top library style | output, one row per sample."""
        styles = self.exemplars[self.top_style[batch["prompt"]]]
        return torch.cat([
            torch.cat([batch["content"][i], styles[i], output[i]], dim=-1).float().clamp(0, 1)
            for i in range(min(rows, output.shape[0]))
        ], dim=-2)

    def forward(self, content: torch.Tensor, prompt: torch.Tensor, sample: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        model = self.model
        with torch.no_grad():
            content_feats = model.encode(content)
        attention: list[torch.Tensor] | None = [] if self.weights.attention_sparsity else None
        tokens = model.style_tokens(list(self.mapper(self.text[prompt])))
        out = model.decode(model.fuse(content_feats, tokens, attention), content.shape[-2:])
        out_feats = model.encode(out)
        terms = {"content": L.content_loss(out_feats, content_feats)}
        if self.weights.exemplar_style:
            targets = [getattr(self, f"target{level}")[prompt] for level in range(len(out_feats))]
            terms["exemplar_style"] = L.style_loss(out_feats, targets)
        if self.weights.clip_direction:
            terms["clip_direction"] = self.clip.direction_loss(out, content, self.directions[prompt])
        if self.weights.clip_patch:
            # Crops are seeded by the batch's first sample index: a resumed run draws the same crops.
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + int(sample[0]))
            terms["clip_patch"] = self.clip.patch_loss(out, content, self.directions[prompt], generator)
        return self.weighted_total(terms, out, attention), terms, out

