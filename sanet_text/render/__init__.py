"""Prepared styles × content → image: the pipeline, tiling, attention maps, precision and ONNX export."""
