"""The ``sanet-text`` console script: a warm one-shot command on the quick path when one applies
(:mod:`sanet_text.frontends.quick`, no torch import), else the full CLI; then a quick exit."""

from __future__ import annotations

import os
import sys

from . import quick


def console() -> None:
    """Run the command line, flush, and leave without the interpreter's teardown.

    Every output is written and closed by then, so skipping the teardown (freeing each torch module
    and tensor one by one) loses nothing: a tenth of a second or more of a one-shot run.
    """
    argv = sys.argv[1:]
    try:
        code = quick.try_run(argv)
    except KeyboardInterrupt:
        print("sanet-text: interrupted", file=sys.stderr)
        code = 130
    if code is None:
        from .cli import main

        code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    console()
