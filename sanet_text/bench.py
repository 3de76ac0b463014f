"""``python -m sanet_text.bench`` (the speed benchmark), the public command, runs
:func:`sanet_text.evaluation.bench.main`."""

import sys

from .evaluation.bench import main

if __name__ == "__main__":
    sys.exit(main())
