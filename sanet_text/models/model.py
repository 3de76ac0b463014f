"""The SANet model (encoder + two-level style attention + decoder) and the one factory that builds it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from ..core.config import ModelConfig, load_model_config
from .attention import Stats, StyleTokens, Transform, channel_stats
from .decoder import Decoder
from .encoder import Encoder

StylePair = tuple[StyleTokens, StyleTokens]


# relu3_1, relu2_1, relu1_1: the decoder's modulated resolutions, in the order it reaches them.
LOW_LAYERS = (2, 1, 0)


def low_stats(feats: list[torch.Tensor]) -> torch.Tensor:
    """Channel mean and std at relu3_1, relu2_1 and relu1_1 of encoder features, as (B, D) in that order
    (a model modulating fewer levels reads a prefix), log1p-compressed: relu1_1 activations are a
    hundred times relu3_1's, and no layer should drown the others. The encoder's alone, so style
    sources keep it for any model."""
    parts = [stat.flatten(1) for i in LOW_LAYERS for stat in channel_stats(feats[i])]
    return torch.log1p(torch.cat(parts, dim=1))


# Trainable tensors a model with style_levels > 0 has and a v0.2 one lacks: fine-tuning from v0.2
# weights starts them fresh (see SANet.upgrade_state).
MODULATION_PREFIXES = ("style_code.", "decoder.modulation.")


class SANet(nn.Module):
    """Frozen encoder, trainable ``transform`` (attention at relu4_1/relu5_1) and ``decoder``; with
    ``config.style_levels`` > 0 also ``style_code``, which turns the style's statistics below relu4_1
    into the code that modulates the decoder."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.widths)
        self.transform = Transform(config.widths[3], config.attention_chunk, config.residual)
        levels = config.style_levels
        self.decoder = Decoder(config.widths, levels, config.style_code)
        self.style_code = (nn.Linear(2 * sum(config.widths[i] for i in LOW_LAYERS[:levels]), config.style_code,
                                     bias=False) if levels else None)

    def encode(self, image: torch.Tensor) -> list[torch.Tensor]:
        """relu1_1 … relu5_1 of an RGB image in [0, 1], shape (B, 3, H, W)."""
        return self.encoder(image)

    def style_tokens(self, feats: list[torch.Tensor], low: torch.Tensor | None = None) -> StylePair:
        """Attention keys/values of a style from its encoder features: all five maps, or relu4_1 and
        relu5_1 alone (maps or token sets) with ``low``, the :func:`low_stats` of the picture(s) they
        came from when known."""
        pair = self.transform.style_tokens(feats[-2], feats[-1])
        if self.style_code is not None:
            if len(feats) == 5:
                low = low_stats(feats)
            # Zero statistics (a style with none, such as mapper tokens) give a zero code: no modulation.
            pair[0].low = low if low is not None else feats[-2].new_zeros(1, self.style_code.in_features)
        return pair

    def fuse(
        self,
        content_feats: list[torch.Tensor],
        style: StylePair,
        attention_out: list | None = None,
        stats: tuple[Stats, Stats] | None = None,
    ) -> torch.Tensor:
        """relu4_1-level features of the content rendered in ``style``.

        ``stats``: relu4_1/relu5_1 channel statistics of the whole content, when ``content_feats``
        are those of one tile (see :mod:`sanet_text.render.tiling`); default: the features' own.
        """
        return self.fuse_parts(content_feats, [(1.0, style)], attention_out, stats)

    def fuse_parts(
        self,
        content_feats: list[torch.Tensor],
        parts: Sequence[tuple[float, StylePair]],
        attention_out: list | None = None,
        stats: tuple[Stats, Stats] | None = None,
    ) -> torch.Tensor:
        """``Σ share · fuse(content_feats, style)`` over ``parts`` (shares summing to 1), in one pass:
        a blend of N styles costs N attention products, not N fusions (see ``Transform.blend``).

        With ``style_levels`` > 0 the parts' share-weighted style code follows as more channels: what
        blends the features by mix weights, masks or alpha then blends the code the same way.
        """
        fused = self.transform.blend(content_feats[3], content_feats[4], parts, attention_out, stats)
        if self.style_code is None:
            return fused
        width = self.style_code.in_features
        code = sum(share * self.style_code(style[0].low[:, :width].to(fused.dtype)) for share, style in parts)
        code = code[:, :, None, None].expand(fused.shape[0], -1, *fused.shape[-2:])
        return torch.cat([fused, code.to(fused.dtype)], dim=1)

    def decode(self, feat: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        """Image from relu4_1-level features, cropped to ``size`` (odd inputs decode a few px larger)."""
        image = self.decoder(feat)
        if size is not None:
            image = image[..., : size[0], : size[1]]
        return image

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Stylise ``content`` with ``style`` (both images); the training-time path."""
        fused = self.fuse(self.encode(content), self.style_tokens(self.encode(style)))
        return self.decode(fused, content.shape[-2:])

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """What training changes and shipped weights hold: the transform and the decoder."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}

    def upgrade_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``state`` with the style code and modulation a new model of this config starts with (seeded)
        added when it has none: weights from before multi-level injection make this model with its
        modulation at zero, which is where fine-tuning them into it begins."""
        if self.style_code is None or any(k.startswith(MODULATION_PREFIXES) for k in state):
            return state
        with torch.random.fork_rng(devices=[]), torch.device("cpu"):
            torch.manual_seed(0)
            fresh = {"style_code": nn.Linear(self.style_code.in_features, self.style_code.out_features, bias=False),
                     "decoder": Decoder(self.config.widths, self.config.style_levels, self.config.style_code)}
        added = {f"{name}.{k}": v for name, module in fresh.items() for k, v in module.state_dict().items()}
        return {**state, **{k: v for k, v in added.items() if k.startswith(MODULATION_PREFIXES)}}


def build_model(
    config: ModelConfig | str | Path = "base",
    weights: str | Path | None = None,
    encoder_weights: str | Path | None = None,
    device: torch.device | str = "cpu",
) -> SANet:
    """Build a SANet from a config (object, name in ``configs/model/`` or YAML path) and load its weights.

    ``weights``/``encoder_weights`` override the config's weight names with explicit files; weight
    names are resolved by :func:`sanet_text.models.weights.resolve` (explicit > env var > shipped > hub).
    """
    from .weights import load_encoder_weights, load_sanet_weights

    if not isinstance(config, ModelConfig):
        config = load_model_config(config)
    encoder_weights = encoder_weights or config.encoder_weights
    weights = weights or config.weights
    if "random" in (str(encoder_weights), str(weights)):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # "random" weights (tests, training from scratch) are reproducible
            model = SANet(config)
    else:
        # Built without storage and then given the loaded tensors themselves (the loaders are strict,
        # so every tensor is replaced): no random init and no copy, a tenth of a second of a one-shot run.
        with torch.device("meta"):
            model = SANet(config)
    load_encoder_weights(model.encoder, encoder_weights)
    load_sanet_weights(model, weights, upgrade=model.upgrade_state)
    return model.to(device).eval()
