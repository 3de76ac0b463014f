"""A text prompt as a style through the learned mapper: no exemplar images, the mapper invents the
style tokens SANet attends to (see :mod:`sanet_text.models.mapper`)."""

from __future__ import annotations

import torch

from ..models.mapper import TextMapper, check_fits
from ..models.model import SANet
from .base import StyleFeatures, StyleGroup, check_prompt
from .text_encoders import TextEncoder


@torch.no_grad()
def mapper_style(prompt: str, model: SANet, mapper: TextMapper, text_encoder: TextEncoder) -> StyleGroup:
    """One part whose feat4/feat5 are the mapper's token sets (1, C, tokens4) and (1, C, tokens5),
    with its low-level statistics when it predicts them.

    ``text_encoder`` must be the one the mapper was trained with (its config's ``text_encoder``).
    """
    prompt = check_prompt(prompt)
    check_fits(mapper.config, model.config)
    device = next(mapper.parameters()).device
    out = mapper.predict(text_encoder.encode([prompt]).to(device))
    return StyleGroup(source=prompt, parts=[StyleFeatures(label=prompt, feat4=out.feat4, feat5=out.feat5, low=out.low)])
