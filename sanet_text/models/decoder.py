"""The decoder: relu4_1 features back to an RGB image, mirroring the encoder (as in AdaIN/SANet).

From v0.3 it can also be modulated by a style code (see :class:`sanet_text.core.config.ModelConfig`
``style_levels``): at each modulated resolution a 1×1 convolution of the code gives a per-channel
scale and shift, so colour and fine strokes are set where the decoder draws them instead of only
through the relu4_1 features.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Decoder(nn.Module):
    """Mirror of VGG-19 from relu4_1: 1 + 4 + 2 + 2 convolutions with three 2× nearest upsamplings.

    With ``style_levels`` > 0 the input holds ``style_code`` more channels than relu4_1: the code,
    which modulates the activations of the first ``style_levels`` upsamplings (relu3_1, relu2_1
    and relu1_1 resolution, in that order).
    """

    def __init__(self, widths: tuple[int, ...], style_levels: int = 0, style_code: int = 0) -> None:
        super().__init__()
        w1, w2, w3, w4 = widths[:4]
        plan = [(w4, w3), "up", (w3, w3), (w3, w3), (w3, w3), (w3, w2), "up", (w2, w2), (w2, w1), "up", (w1, w1)]
        layers: list[nn.Module] = []
        for step in plan:
            if step == "up":
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            else:
                layers += [nn.ReplicationPad2d(1), nn.Conv2d(*step, 3), nn.ReLU()]
        layers += [nn.ReplicationPad2d(1), nn.Conv2d(w1, 3, 3)]
        self.layers = nn.Sequential(*layers)
        self.features = w4
        self.modulation = nn.ModuleList(nn.Conv2d(style_code, 2 * width, 1, bias=False)
                                        for width in (w3, w2, w1)[:style_levels])
        for conv in self.modulation:
            # Zero: the modulated decoder starts as the unmodulated one (weights fine-tuned from v0.2
            # keep their pictures), and a zero code (a style with no statistics) leaves it unmodulated.
            nn.init.zeros_(conv.weight)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        x, code = feat[:, : self.features], feat[:, self.features :]
        level = 0
        for layer in self.layers:
            if isinstance(layer, nn.Upsample) and level < len(self.modulation):
                # Modulating just before a nearest upsampling equals modulating just after it with the
                # scale and shift upsampled too, at a quarter of the cost (it was 12 % of a 512 px run).
                scale, shift = F.interpolate(self.modulation[level](code), size=x.shape[-2:]).chunk(2, dim=1)
                x = torch.addcmul(shift, x, 1 + scale)
                level += 1
            x = layer(x)
        return x
