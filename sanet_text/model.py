"""The SANet model (encoder + two-level style attention + decoder) and the one factory that builds it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from .attention import Stats, StyleTokens, Transform
from .config import ModelConfig, load_model_config
from .decoder import Decoder
from .encoder import Encoder

StylePair = tuple[StyleTokens, StyleTokens]


class SANet(nn.Module):
    """Frozen encoder, trainable ``transform`` (attention at relu4_1/relu5_1) and ``decoder``."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = Encoder(config.widths)
        self.transform = Transform(config.widths[3], config.attention_chunk, config.residual)
        self.decoder = Decoder(config.widths)

    def encode(self, image: torch.Tensor) -> list[torch.Tensor]:
        """relu1_1 … relu5_1 of an RGB image in [0, 1], shape (B, 3, H, W)."""
        return self.encoder(image)

    def style_tokens(self, feats: list[torch.Tensor]) -> StylePair:
        """Attention keys/values of a style from its encoder features (maps or token sets)."""
        return self.transform.style_tokens(feats[-2], feats[-1])

    def fuse(
        self,
        content_feats: list[torch.Tensor],
        style: StylePair,
        attention_out: list | None = None,
        stats: tuple[Stats, Stats] | None = None,
    ) -> torch.Tensor:
        """relu4_1-level features of the content rendered in ``style``.

        ``stats``: relu4_1/relu5_1 channel statistics of the whole content, when ``content_feats``
        are those of one tile (see :mod:`sanet_text.tiling`); default: the features' own.
        """
        return self.transform(content_feats[3], content_feats[4], style, attention_out, stats)

    def fuse_parts(
        self,
        content_feats: list[torch.Tensor],
        parts: Sequence[tuple[float, StylePair]],
        attention_out: list | None = None,
        stats: tuple[Stats, Stats] | None = None,
    ) -> torch.Tensor:
        """``Σ share · fuse(content_feats, style)`` over ``parts`` (shares summing to 1), in one pass:
        a blend of N styles costs N attention products, not N fusions (see ``Transform.blend``)."""
        return self.transform.blend(content_feats[3], content_feats[4], parts, attention_out, stats)

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


def build_model(
    config: ModelConfig | str | Path = "base",
    weights: str | Path | None = None,
    encoder_weights: str | Path | None = None,
    device: torch.device | str = "cpu",
) -> SANet:
    """Build a SANet from a config (object, name in ``configs/model/`` or YAML path) and load its weights.

    ``weights``/``encoder_weights`` override the config's weight names with explicit files; weight
    names are resolved by :func:`sanet_text.weights.resolve` (explicit > env var > shipped > hub).
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
    load_sanet_weights(model, weights)
    return model.to(device).eval()
