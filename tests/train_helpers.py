"""Helpers shared by the training tests: tiny run configs and a run's final weights."""

from __future__ import annotations

from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

from sanet_text.checkpoint import latest_checkpoint


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
