"""``python -m sanet_text.export``, the public command: a SANet (encoder, attention, decoder) written as
ONNX by :func:`sanet_text.render.export.export_onnx`, with the model options every command shares."""

import argparse
import sys
from typing import Sequence

from .options.commands import add_model_options


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sanet_text.export",
                                     description="Export a SANet (encoder, attention, decoder) to ONNX.")
    parser.add_argument("output", help="the .onnx file to write")
    add_model_options(parser, device=None)  # exported on the CPU
    args = parser.parse_args(argv)
    from .render.export import export_onnx
    from .stylizer import Stylizer

    stylizer = Stylizer.from_pretrained(args.weights, config=args.config, vgg_weights=args.vgg_weights, device="cpu")
    print(export_onnx(stylizer.model, args.output))


if __name__ == "__main__":
    sys.exit(main())
