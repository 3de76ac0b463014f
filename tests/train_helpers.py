"""Helpers shared by the training tests: tiny run configs over small training images, a run's final weights."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from safetensors.torch import load_file

from sanet_text.training.checkpoint import latest_checkpoint


def write_run_config(base: Path, folder: Path, name: str, **fields) -> Path:
    """``base`` YAML with ``fields`` replaced and ``output_dir`` = folder/name, written to folder/name.yaml."""
    data = yaml.safe_load(base.read_text())
    data.update(output_dir=str(folder / name), **fields)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def final_weights(run_dir: Path) -> dict[str, torch.Tensor]:
    ckpt = latest_checkpoint(run_dir)
    assert ckpt is not None
    return load_file(ckpt / "weights.safetensors")


def _write_images(folder: Path, kind: str, n: int = 3) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0 if kind == "content" else 1)
    for i in range(n):
        y, x = np.mgrid[0:48, 0:64]
        if kind == "content":  # smooth gradients with a blob: photo-like structure
            img = np.stack([x / 64, y / 48, ((x - 32) ** 2 + (y - 24) ** 2 < 150 + 50 * i) * 0.8], -1)
        else:  # saturated stripes: strong, easy-to-measure style statistics
            img = np.stack([(np.sin(x / (2 + i)) > 0) * 1.0, rng.random((48, 64)) * 0.3, (np.cos(y / 3) > 0) * 0.9], -1)
        Image.fromarray((img * 255).astype(np.uint8)).save(folder / f"{kind}_{i}.png")


@pytest.fixture
def train_config(tmp_path: Path) -> Callable[..., Path]:
    """``make(name, **fields)``: a configs/train/tiny.yaml run over small content/style images, as a YAML path."""
    _write_images(tmp_path / "content", "content")
    _write_images(tmp_path / "style" / "nested", "style")

    def make(name: str, **overrides) -> Path:
        return write_run_config(Path("configs/train/tiny.yaml"), tmp_path, name, content_dirs=[str(tmp_path / "content")],
                                style_dirs=[str(tmp_path / "style")], **overrides)

    return make
