"""Atomic file writes: nothing half-written is ever left where a reader (or a resumed run) looks."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``, else removed.

    Same folder, so the rename is atomic; the suffix is kept so writers that pick a format by file
    name still work.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        give_usual_permissions(Path(tmp))
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def give_usual_permissions(path: Path) -> None:
    """Set the mode open() or mkdir() would have given ``path`` under the umask.

    mkstemp/mkdtemp create private files (0600) and folders (0700), which would lock other users and
    group members (a shared run folder, a web server) out of finished outputs and checkpoints.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~umask)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
