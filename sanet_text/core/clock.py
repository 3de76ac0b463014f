"""The clock behind the seconds every command prints: started by the package's first line, so it
counts what a user waits for from then on, start-up and imports included."""

from __future__ import annotations

import time

# Started when ``sanet_text/__init__.py`` imports this module, its first statement: the earliest
# moment this code controls on every way in (the console scripts, ``python -m``, the web page, the
# tests). Not the process's start time from /proc/self/stat: Linux records when a process was
# forked and exec keeps it, so `bash -c "pip install ...; exec sanet-text ..."` counted the whole
# install (CI printed about 120 s), and Python records nothing of its own start. Left out: the
# interpreter's own start-up before the package is imported, about 20 ms (`python -c pass`).
STARTED = time.monotonic()


def command_seconds() -> float:
    """Wall seconds since the package was first imported: what a command's run took, imports included."""
    return time.monotonic() - STARTED
