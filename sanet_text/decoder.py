"""The decoder: relu4_1 features back to an RGB image, mirroring the encoder (as in AdaIN/SANet)."""

from __future__ import annotations

import torch
from torch import nn


class Decoder(nn.Module):
    """Mirror of VGG-19 from relu4_1: 1 + 4 + 2 + 2 convolutions with three 2× nearest upsamplings."""

    def __init__(self, widths: tuple[int, ...]) -> None:
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

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.layers(feat)
