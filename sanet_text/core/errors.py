"""The one exception type the commands turn into a one-line message and a non-zero exit."""

from __future__ import annotations

import os
import sys
from typing import Callable


class UserError(Exception):
    """A problem the user can fix (bad input, missing weights, unwritable output).

    The message must be one line that says what is wrong and what to do about it.
    """


def one_line(err: BaseException) -> str:
    """All of an error's message on one line (a UserError's own message, which must fit one)."""
    return " ".join(str(err).splitlines()) or type(err).__name__


def first_line(err: BaseException) -> str:
    """The first line of a third-party error (the rest is usually a traceback or a long dump), or its type."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def run_command(prog: str, command: Callable[[], int]) -> int:
    """Run a console command so users never see a traceback; returns the exit code.

    UserError → its one line and 2; Ctrl-C → 130; GPU out of memory → advice and 2; anything else →
    one line and 1 (``SANET_TEXT_DEBUG=1`` re-raises it for the traceback).
    """
    import torch

    try:
        return command()
    except SystemExit as exit_:  # --help, --version
        return int(exit_.code or 0)
    except UserError as err:
        print(f"{prog}: error: {one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except torch.cuda.OutOfMemoryError:
        print(f"{prog}: error: out of GPU memory; use a smaller --size/--style-size or --device cpu", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - the last resort that keeps tracebacks away from users
        if os.environ.get("SANET_TEXT_DEBUG"):
            raise
        print(f"{prog}: error: unexpected {type(err).__name__}: {one_line(err)}; "
              "rerun with SANET_TEXT_DEBUG=1 for the traceback", file=sys.stderr)
        return 1
