"""Tensors kept in the user cache as safetensors: read when present and whole, else computed and written.

For results that cost seconds to compute and are the same every run (text embeddings, the VGG
features of the library's exemplars). The file name must say everything the tensors depend on.
Writes are atomic, so concurrent runs never read half a file; a damaged file is computed again;
an unwritable cache only costs the computation next time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .weights import save_safetensors

Tensors = dict[str, torch.Tensor]


def cached_tensors(path: Path, names: tuple[str, ...], compute: Callable[[], Tensors],
                   device: torch.device | str = "cpu") -> Tensors:
    """The tensors ``names`` from ``path`` (onto ``device``), or ``compute()``'s, saved to ``path`` for next time."""
    try:
        tensors = load_file(path, device=str(device))
        if set(names) <= set(tensors):
            return tensors
    except (OSError, SafetensorError):
        pass  # missing or damaged: computed (again) below
    tensors = compute()
    try:
        save_safetensors(tensors, path)
    except OSError:
        pass
    return tensors
