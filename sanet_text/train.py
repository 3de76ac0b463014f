"""``python -m sanet_text.train`` (training), the public command, runs
:func:`sanet_text.training.train.main`."""

import sys

from .training.train import main

if __name__ == "__main__":
    sys.exit(main())
