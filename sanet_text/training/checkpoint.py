"""Verified, atomic, resumable training checkpoints.

A checkpoint is a folder ``step_XXXXXXX`` holding the trainable weights (safetensors), the
optimizer, scheduler and (fp16) grad-scaler state (``torch.save`` of plain tensors and numbers, read
back with ``weights_only=True``), ``state.json`` and, written last, ``checksums.json``: the size and
SHA-256 of each other file. The folder is written under a temporary name and renamed, and ``latest``
is replaced after it, so a run killed at any moment leaves the previous checkpoint intact.

A folder counts only if its checksums match, its files load and its weights are finite: a truncated
copy or a silently corrupted disk block is found on load instead of being trained on (and then
rotated over the good checkpoints). Folders from before checksums existed are still loaded, with the
other two checks. ``latest`` is a convenience for people; resuming trusts only verified folders,
newest first.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from ..core.atomic import give_usual_permissions, write_text
from ..core.errors import UserError
from ..models.weights import save_safetensors

WEIGHTS_FILE = "weights.safetensors"
OPTIMIZER_FILE = "optimizer.pt"
STATE_FILE = "state.json"
CHECKSUMS_FILE = "checksums.json"
STEP_FOLDER = re.compile(r"step_\d{7}")


class InvalidCheckpoint(UserError):
    """A checkpoint folder that must not be resumed from; the message names the folder or file and why."""


@dataclass
class Checkpoint:
    """A loaded, verified checkpoint; ``skipped`` says why newer folders were not used (empty normally)."""

    path: Path
    weights: dict[str, torch.Tensor]
    optimizer: dict[str, Any]  # "optimizer", "scheduler" and, from fp16 runs, "scaler" state dicts
    state: dict[str, Any]
    skipped: list[str] = field(default_factory=list)

    @property
    def step(self) -> int:
        return int(self.state["step"])


def first_nonfinite(tensors: dict[str, torch.Tensor]) -> str | None:
    """Name of the first floating-point tensor holding a NaN or infinity, if any."""
    return next((k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)


def save_checkpoint(
    run_dir: Path,
    step: int,
    weights: dict[str, torch.Tensor],
    optimizer: dict[str, Any],
    scheduler: dict[str, Any],
    state: dict[str, Any],
    keep: int = 3,
    scaler: dict[str, Any] | None = None,
) -> Path:
    """Write ``checkpoints/step_<step>`` (see the module docstring); keeps the newest ``keep``."""
    bad = first_nonfinite(weights)
    if bad is not None:
        raise UserError(f"step {step}: weight {bad} is not finite (NaN or inf); not saving a checkpoint of it")
    ckpt_root = run_dir / "checkpoints"
    ckpt_root.mkdir(parents=True, exist_ok=True)
    final = ckpt_root / f"step_{step:07d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".step_{step:07d}.", dir=ckpt_root))
    give_usual_permissions(tmp)
    save_safetensors({k: v.detach().cpu() for k, v in weights.items()}, tmp / WEIGHTS_FILE)
    torch.save({"optimizer": optimizer, "scheduler": scheduler, **({"scaler": scaler} if scaler else {})},
               tmp / OPTIMIZER_FILE)
    (tmp / STATE_FILE).write_text(json.dumps({**state, "step": step}, indent=1), encoding="utf-8")
    # Hashes of what reached the disk, written last: a folder without them is not complete.
    files = {name: _fingerprint(tmp / name) for name in (WEIGHTS_FILE, OPTIMIZER_FILE, STATE_FILE)}
    (tmp / CHECKSUMS_FILE).write_text(json.dumps({"step": step, "files": files}, indent=1), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)  # an invalid leftover of an earlier attempt at this step
    os.replace(tmp, final)
    write_text(ckpt_root / "latest", final.name)
    _rotate(ckpt_root, keep)
    return final


def _fingerprint(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _rotate(ckpt_root: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints, never the newest one that verifies.

    Names alone are not enough: invalid folders from before a fall-back resume sort after the
    checkpoint just written and would push it (and every good one) out of the window.
    """
    folders = checkpoint_folders(ckpt_root.parent)
    good = next((f for f in reversed(folders) if _verify_checksums(f) is None), None)
    for old in folders[:-keep] if keep > 0 else []:
        if old != good:
            shutil.rmtree(old, ignore_errors=True)
    for junk in ckpt_root.glob(".step_*"):  # temporary folders of saves that were killed
        shutil.rmtree(junk, ignore_errors=True)


def checkpoint_folders(run_dir: Path) -> list[Path]:
    """The run's ``step_*`` folders, oldest first, valid or not."""
    root = run_dir / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if STEP_FOLDER.fullmatch(p.name) and p.is_dir())


def holds_checkpoints(run_dir: Path) -> bool:
    """Whether a run was checkpointed here: any step folder, or a ``latest`` pointer even if it dangles."""
    return bool(checkpoint_folders(run_dir)) or (run_dir / "checkpoints" / "latest").exists()


def _verify_checksums(path: Path) -> str | None:
    """Why ``path``'s files do not match its checksums (None: they match)."""
    try:
        manifest = json.loads((path / CHECKSUMS_FILE).read_text(encoding="utf-8"))
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"{CHECKSUMS_FILE} is unreadable"
    for name in (WEIGHTS_FILE, OPTIMIZER_FILE, STATE_FILE):
        if name not in files:
            return f"{CHECKSUMS_FILE} does not list {name}"
        if not (path / name).is_file():
            return f"{name} is missing"
        actual = _fingerprint(path / name)
        if actual["bytes"] != files[name]["bytes"]:
            return f"{name} is truncated or altered ({actual['bytes']} bytes, {files[name]['bytes']} written)"
        if actual["sha256"] != files[name]["sha256"]:
            return f"{name} does not match its checksum (corrupted on disk or modified)"
    return None


def load_checkpoint(path: Path) -> Checkpoint:
    """Verify and load one checkpoint folder; nothing is unpickled. Raises :class:`InvalidCheckpoint`."""
    # Folders written before checksums existed have none; they are still parsed and checked below.
    problem = _verify_checksums(path) if (path / CHECKSUMS_FILE).exists() else None
    if problem is not None:
        raise InvalidCheckpoint(f"{path.name}: {problem}")
    try:
        weights = load_file(path / WEIGHTS_FILE)
    except Exception as err:  # safetensors reports bad files with several exception types
        raise InvalidCheckpoint(f"{path.name}: {WEIGHTS_FILE} is unreadable ({_first_line(err)})") from None
    bad = first_nonfinite(weights)
    if bad is not None:
        raise InvalidCheckpoint(f"{path.name}: weight {bad} is not finite (NaN or inf)")
    try:
        optimizer = torch.load(path / OPTIMIZER_FILE, map_location="cpu", weights_only=True)
    except Exception as err:  # weights_only refuses code-carrying pickles with UnpicklingError
        raise InvalidCheckpoint(f"{path.name}: {OPTIMIZER_FILE} is not a plain tensor file, refused "
                                f"({_first_line(err)})") from None
    try:
        state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
        int(state["step"])
    except (OSError, ValueError, KeyError, TypeError):
        raise InvalidCheckpoint(f"{path.name}: {STATE_FILE} is unreadable or has no step") from None
    return Checkpoint(path, weights, optimizer, state)


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def resume_point(run_dir: Path) -> Checkpoint | None:
    """The newest checkpoint of ``run_dir`` that verifies, with notes on what was passed over.

    None when the run was never checkpointed. When it was (step folders or a ``latest`` pointer)
    but nothing verifies, a one-line :class:`UserError` naming the folder: starting again from step 0
    would silently throw the run away.
    """
    ckpt_root = run_dir / "checkpoints"
    if not holds_checkpoints(run_dir):
        return None
    notes = _pointer_notes(ckpt_root)
    for folder in reversed(checkpoint_folders(run_dir)):
        try:
            found = load_checkpoint(folder)
        except InvalidCheckpoint as err:
            notes.append(str(err))
            continue
        found.skipped = notes
        return found
    raise UserError(f"{ckpt_root} holds no valid checkpoint to resume from ({'; '.join(notes)}); "
                    "restore one there, or start afresh with another --output-dir")


def _pointer_notes(ckpt_root: Path) -> list[str]:
    """What is wrong with ``latest`` (missing, dangling), as notes for the resume message."""
    pointer = ckpt_root / "latest"
    if not pointer.is_file():
        return ["checkpoints/latest is missing"]
    name = pointer.read_text(encoding="utf-8").strip()
    if not (STEP_FOLDER.fullmatch(name) and (ckpt_root / name).is_dir()):
        return [f"checkpoints/latest names {name!r}, which does not exist"]
    return []


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest checkpoint folder that verifies; None if there is none."""
    try:
        found = resume_point(run_dir)
    except UserError:
        return None
    return found.path if found else None
