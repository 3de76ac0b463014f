"""Atomic, resumable training checkpoints.

A checkpoint is a folder ``step_XXXXXXX`` holding the trainable weights (safetensors), the
optimizer and scheduler state (``torch.save`` of plain tensors/numbers, read back with
``weights_only=True``) and ``state.json``. It is written under a temporary name and renamed, and
``latest`` is replaced atomically after it, so a run killed at any moment leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from .atomic import write_text
from .weights import save_safetensors

WEIGHTS_FILE = "weights.safetensors"


def save_checkpoint(
    run_dir: Path,
    step: int,
    weights: dict[str, torch.Tensor],
    optimizer: dict[str, Any],
    scheduler: dict[str, Any],
    state: dict[str, Any],
    keep: int = 3,
) -> Path:
    ckpt_root = run_dir / "checkpoints"
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / f"step_{step:07d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".step_{step:07d}.", dir=ckpt_root))
    save_safetensors({k: v.detach().cpu() for k, v in weights.items()}, tmp / WEIGHTS_FILE)
    torch.save({"optimizer": optimizer, "scheduler": scheduler}, tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({**state, "step": step}, indent=1), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    write_text(ckpt_root / "latest", final.name)
    for old in sorted(ckpt_root.glob("step_*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    pointer = run_dir / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    path = run_dir / "checkpoints" / pointer.read_text(encoding="utf-8").strip()
    return path if path.is_dir() else None


def load_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]]:
    """(weights, {"optimizer", "scheduler"}, state) of a checkpoint folder; no unpickling."""
    weights = load_file(path / WEIGHTS_FILE)
    optim = torch.load(path / "optimizer.pt", map_location="cpu", weights_only=True)
    state = json.loads((path / "state.json").read_text(encoding="utf-8"))
    return weights, optim, state
