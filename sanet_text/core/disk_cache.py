"""The user cache: files that cost seconds to make and are the same every run, verified on every load.

Tensors (the converted VGG-19, text embeddings, the library exemplars' VGG features) are kept as
safetensors that carry the SHA-256 of their data in their own header, so one atomic file holds
both; :func:`load_checked` reads a file only when its header parses, its size matches the header
and the checksum matches the data. Anything else is damaged (a full disk, a killed copy, a bad
block) and is made again, with one note. Other files (the quick path's ONNX graph) get the same
check from a small record beside them (:func:`write_record`, :func:`matches_record`). Files from a
version that kept no checksum are made again without a note.

An unusable cache location (``SANET_TEXT_CACHE`` a file, under a file, or read-only) costs only the
computation next time: the run goes on without it, with one note. Torch-free at import, so the warm
one-shot path (:mod:`sanet_text.frontends.quick`) can use it.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .atomic import atomic_path, write_text
from .paths import cache_dir

if TYPE_CHECKING:
    import torch

    Tensors = dict[str, torch.Tensor]

DIGEST = "sha256"
# Notes already printed in this process: a folder of images or a web server says each once.
_NOTED: set[str] = set()


def note(message: str, key: str | None = None) -> None:
    """One line on stderr, once per process for each ``key`` (default: the message itself)."""
    if (key or message) not in _NOTED:
        _NOTED.add(key or message)
        print(f"sanet-text: note: {message}", file=sys.stderr)


def unusable(err: OSError) -> None:
    """Say that the cache cannot be written and the run goes on without it."""
    note(f"the cache folder {cache_dir()} cannot be used ({err.strerror or err}); running without it "
         "(set SANET_TEXT_CACHE to a writable folder to keep converted weights and embeddings)", key=str(cache_dir()))


def damaged(path: Path, what: str) -> None:
    note(f"the cached {what} {path} was damaged; made it again")


def _header(head: bytes) -> tuple[dict, int] | None:
    """A safetensors file's header (from its first bytes) and the size its data must have, or None."""
    if len(head) < 8:
        return None
    (length,) = struct.unpack("<Q", head[:8])
    try:
        header = json.loads(head[8:8 + length])
        end = max((entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"), default=0)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return (header, end) if len(head) >= 8 + length else None


def _data_digest(blob: bytes) -> str:
    """The checksum of a safetensors file's data (everything after its header)."""
    (length,) = struct.unpack("<Q", blob[:8])
    return hashlib.sha256(memoryview(blob)[8 + length:]).hexdigest()


def load_checked(path: Path, what: str, device: str = "cpu") -> Tensors | None:
    """The tensors of ``path`` when it is whole, else None (with a note when it was there but damaged).

    The data is hashed as it streams from the file and then mapped, never copied: the 52 MB VGG-19
    costs about 0.07 s more than an unchecked load (measured on the AMD EPYC here).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(8)
            head += handle.read(min(struct.unpack("<Q", head)[0], size) if len(head) == 8 else 0)
            found = _header(head)
            digest = hashlib.file_digest(handle, "sha256").hexdigest()  # the rest: the data
    except OSError:
        return None  # missing, or the cache folder is unusable: made (and written if possible) by the caller
    metadata = (found[0].get("__metadata__") or {}) if found else {}
    if found is not None and DIGEST not in metadata:
        return None  # written by a version that kept no checksum: made again, without a note
    if found is None or size != len(head) + found[1] or metadata[DIGEST] != digest:
        damaged(path, what)
        return None
    try:
        return load_file(path, device=device)
    except (OSError, SafetensorError):  # replaced or removed meanwhile: made again
        return None


def save_checked(tensors: Tensors, path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write ``tensors`` atomically with the checksum of their data; an unusable cache is a note."""
    from safetensors.torch import save

    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in tensors.items()}
    blob = save(tensors, metadata={**(metadata or {}), DIGEST: _data_digest(save(tensors))})
    try:
        with atomic_path(path) as tmp:
            tmp.write_bytes(blob)
    except OSError as err:
        unusable(err)


def cached_tensors(path: Path, names: tuple[str, ...], compute: Callable[[], Tensors],
                   device: torch.device | str = "cpu", what: str = "tensors") -> Tensors:
    """The tensors ``names`` from ``path`` (onto ``device``), or ``compute()``'s, saved to ``path`` for next time."""
    tensors = load_checked(path, what, str(device))
    if tensors is not None and set(names) <= set(tensors):
        return tensors
    tensors = compute()
    save_checked(tensors, path)
    return tensors


# ---------------------------------------------------------------- other files: a record beside them


def _record(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def drop_record(path: Path) -> None:
    """Forget ``path``'s record, so the file counts as damaged until it is written again."""
    _record(path).unlink(missing_ok=True)


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_record(path: Path) -> None:
    """Record ``path``'s size and checksum beside it (after ``path`` itself was written atomically)."""
    write_text(_record(path), json.dumps({"bytes": path.stat().st_size, DIGEST: _file_digest(path)}))


def matches_record(path: Path, checksum: bool = True) -> bool:
    """Whether ``path`` is the file its record describes (by size alone when ``checksum`` is False: cheap)."""
    try:
        record = json.loads(_record(path).read_text(encoding="utf-8"))
        if path.stat().st_size != record["bytes"]:
            return False
        return not checksum or _file_digest(path) == record[DIGEST]
    except (OSError, ValueError, KeyError, TypeError):
        return False
