"""Stage "captions": the text mapper learns captioned styles in VGG feature space, decoding nothing.

Each captioned style (:mod:`sanet_text.training.captions`) is encoded once into what the mapper's
tokens must match: the per-channel quantiles of its relu4_1 and relu5_1 features, their quantiles
along fixed random directions, and its low-level statistics. A step then costs the mapper alone
(milliseconds on a CPU core), where stage "text" renders every sample through SANet (seconds).
The summaries and the caption embeddings are kept in the run folder, keyed by what they depend on,
so a resumed run or a second one on the same captions starts training at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Iterator

import torch
from torch.nn import functional as F
from tqdm import tqdm

from ..core.config import MapperConfig, TrainConfig, load_mapper_config
from ..core.disk_cache import cached_tensors
from ..models import losses as L
from ..models.mapper import MapperOutput, build_mapper, check_fits
from ..models.model import SANet, low_stats
from ..styles.exemplar_cache import cached_exemplar_features, encoder_hash
from ..styles.library import LibrarySpec
from ..styles.text_encoders import build_text_encoder
from .captions import CaptionSpec, CaptionedStyle, caption_set, style_picture
from .stages import MAPPER_PREFIX, PromptDraws, Stage, step_stream

TARGETS = ("q4", "q5", "s4", "s5", "low")


def random_directions(count: int, channels: int, seed: int) -> torch.Tensor:
    """``count`` unit vectors (count, channels), fixed by ``seed``: the sliced loss's directions."""
    return F.normalize(torch.randn(count, channels, generator=torch.Generator().manual_seed(seed)), dim=-1)


@torch.no_grad()
def style_summaries(model: SANet, items: list[CaptionedStyle], config: TrainConfig, mapper: MapperConfig,
                    directions: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each item's targets, stacked: ``q4``/``q5`` per-channel quantiles (N, C, tokens), ``s4``/``s5``
    quantiles along ``directions`` (N, P, tokens), ``low`` its low-level statistics (N, L)."""
    styles = {s.name: s for s in LibrarySpec.load().styles}
    rows: dict[str, list[torch.Tensor]] = {name: [] for name in TARGETS}
    for item in tqdm(items, desc="encoding captioned styles", dynamic_ncols=True):
        if item.kind == "library":
            # The features the library route attends over: its exemplars at exemplar_size, pooled.
            ex = cached_exemplar_features(model, styles[item.name], config.exemplar_size)
            feat4, feat5, low = ex.feat4, ex.feat5, ex.low
        else:
            feats = model.encode(style_picture(item, styles, config.exemplar_size, config.crop)[None])
            feat4, feat5, low = feats[3], feats[4], low_stats(feats)
        for level, feat, n in (("4", feat4, mapper.tokens4), ("5", feat5, mapper.tokens5)):
            flat = feat.flatten(2)[0]
            rows["q" + level].append(L.set_quantiles(flat, n))
            rows["s" + level].append(L.set_quantiles(flat, n, directions))
        rows["low"].append(low.reshape(-1))
    return {name: torch.stack(values) for name, values in rows.items()}


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


class CaptionStage(Stage):
    """The mapper alone trains, on captions of the library's, recoloured and procedural styles; the
    SANet only encodes the styles' pictures, once."""

    def __init__(self, model: SANet, config: TrainConfig) -> None:
        super().__init__()
        mapper_config = load_mapper_config(config.mapper)
        check_fits(mapper_config, model.config)
        self.model, self.weights = model.requires_grad_(False), config.losses
        self.mapper = build_mapper(mapper_config, weights="random")
        self.items = caption_set(CaptionSpec.load(config.captions_file), LibrarySpec.load(), config.procedural_styles,
                                 config.recoloured_styles, config.validation_share, config.seed)
        directions = random_directions(config.slices, mapper_config.channels, config.seed)
        self.register_buffer("directions", directions, persistent=False)
        run = Path(config.output_dir) / "targets"
        what = [dataclasses.asdict(i) for i in self.items]
        key = _key(what, config.exemplar_size, config.crop, config.slices, config.seed,
                   mapper_config.tokens4, mapper_config.tokens5, encoder_hash(model))
        targets = cached_tensors(run / f"styles-{key}.safetensors", TARGETS,
                                 lambda: style_summaries(model, self.items, config, mapper_config, directions),
                                 what="captioned style targets")
        for name in TARGETS:
            self.register_buffer(name, targets[name], persistent=False)
        # Row i of text / val_text is a caption of style owner[i] / val_owner[i].
        train = [(c, i) for i, item in enumerate(self.items) for c in item.train]
        held = [(c, i) for i, item in enumerate(self.items) for c in item.held_out]
        captions = [c for c, _ in train + held]
        # The encoder inference uses with this mapper (see Stylizer.mapper): same name, no templates.
        encoder = build_text_encoder(mapper_config.text_encoder)
        text = cached_tensors(run / f"captions-{_key(captions, encoder.name, encoder.templates)}.safetensors",
                              ("embeddings",), lambda: {"embeddings": encoder.encode(captions)},
                              what="caption embeddings")["embeddings"]
        self.register_buffer("text", text[:len(train)], persistent=False)
        self.register_buffer("owner", torch.tensor([i for _, i in train]), persistent=False)
        self.register_buffer("val_text", text[len(train):], persistent=False)
        self.register_buffer("val_owner", torch.tensor([i for _, i in held], dtype=torch.long), persistent=False)

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        return {MAPPER_PREFIX + k: v for k, v in self.mapper.state_dict().items()}

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.mapper.load_state_dict({k[len(MAPPER_PREFIX):]: v for k, v in state.items() if k.startswith(MAPPER_PREFIX)})

    def batches(self, config: TrainConfig, start: int, rank: int, world: int) -> Iterator[dict[str, torch.Tensor]]:
        for caption, _ in step_stream(PromptDraws(len(self.owner), config.seed + 2), config, start, rank, world):
            yield {"caption": caption}

    def terms(self, out: MapperOutput, style: torch.Tensor) -> dict[str, torch.Tensor]:
        """The loss terms of mapper outputs for captions of the styles ``style`` (indices into the items)."""
        q4, s4 = L.token_set_terms(out.feat4, self.q4[style], self.s4[style], self.directions)
        q5, s5 = L.token_set_terms(out.feat5, self.q5[style], self.s5[style], self.directions)
        terms = {"token_quantiles": q4 + q5, "token_slices": s4 + s5}
        if out.low is not None:
            terms["low_stats"] = F.mse_loss(out.low, self.low[style])
        return terms

    def forward(self, caption: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        out = self.mapper.predict(self.text[caption])
        terms = self.terms(out, self.owner[caption])
        return self.weighted_total(terms, out.feat4, None), terms, out.feat4

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """The loss terms on the held-out captions (styles and compositions training never sees)."""
        if not len(self.val_owner):
            return {}
        terms = self.terms(self.mapper.predict(self.val_text), self.val_owner)
        return {f"val_{name}": float(value) for name, value in terms.items()}

    def preview(self, batch: dict[str, torch.Tensor], output: torch.Tensor, rows: int = 4) -> torch.Tensor:
        """Per sample, the target's relu4_1 quantiles beside the mapper's sorted tokens (channels down,
        quantiles across), each pair scaled by the target's largest value."""
        pairs = []
        for i in range(min(rows, output.shape[0])):
            target = self.q4[self.owner[batch["caption"][i]]]
            pair = torch.cat([target, output[i].detach().float().sort(-1).values], dim=-1)
            pairs.append(pair / target.max().clamp(min=1e-6))
        return torch.cat(pairs, dim=-1).clamp(0, 1)[None].expand(3, -1, -1)
