"""The frozen VGG-19 encoder, cut into slices that end at relu1_1 … relu5_1.

The ImageNet weights expect Caffe input (BGR, 0–255, mean-subtracted) or torchvision input (RGB,
ImageNet mean/std); a fixed 1×1 ``input_conv`` folds either convention into the network so callers
always pass RGB in [0, 1]. Layer outputs are rescaled when weights are converted (see
:mod:`sanet_text.models.vgg_convert`) so each relu has a mean activation near 1, which keeps loss weights
comparable across layers, as with the ``vgg_normalised`` encoder of AdaIN/SANet.
"""

from __future__ import annotations

import torch
from torch import nn

LAYER_NAMES = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
# Convolutions per slice of VGG-19 up to conv5_1, and which slices start with a max-pool.
SLICE_CONVS = (1, 2, 2, 4, 4)
# Index of each conv in torchvision's ``vgg19().features`` (the layout every checkpoint uses).
TORCHVISION_CONV_INDEX = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28)


def conv_widths(widths: tuple[int, ...]) -> list[tuple[int, int]]:
    """(in, out) channels of the 13 convolutions up to conv5_1 for relu widths ``widths``."""
    block_convs = (2, 2, 4, 4, 1)
    pairs, cin = [], 3
    for width, n in zip(widths, block_convs):
        for _ in range(n):
            pairs.append((cin, width))
            cin = width
    return pairs


class Encoder(nn.Module):
    """VGG-19 to relu5_1; ``forward`` returns the five relu_X_1 feature maps."""

    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.input_conv = nn.Conv2d(3, 3, 1)
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3) for i, o in conv_widths(widths))
        self.requires_grad_(False)

    def forward(self, image: torch.Tensor, every_relu: bool = False) -> list[torch.Tensor]:
        """relu1_1 … relu5_1; with ``every_relu`` the outputs of all 13 convolutions instead."""
        x = self.input_conv(image)
        feats, relus, conv_iter = [], [], iter(self.convs)
        for index, n_convs in enumerate(SLICE_CONVS):
            for k in range(n_convs):
                # Pools sit before the last conv of slices 2-5 (after conv1_2, conv2_2, conv3_4, conv4_4);
                # ceil_mode keeps odd sizes from losing their last row/column.
                if index > 0 and k == n_convs - 1:
                    x = nn.functional.max_pool2d(x, 2, ceil_mode=True)
                conv = next(conv_iter)
                # Replicate (not zero) padding avoids dark borders and, unlike reflect, works at 1 px.
                x = torch.relu(conv(nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")))
                relus.append(x)
            feats.append(x)
        return relus if every_relu else feats

    def train(self, mode: bool = True) -> "Encoder":
        # Always frozen and in eval mode, whatever the surrounding model does.
        return super().train(False)
