"""``python -m sanet_text.export`` (the ONNX export), the public command, runs
:func:`sanet_text.render.export.main`."""

import sys

from .render.export import main

if __name__ == "__main__":
    sys.exit(main())
