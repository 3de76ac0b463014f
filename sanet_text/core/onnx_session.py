"""The one place an onnxruntime session is made (the quick path, the exported model's runner and the
Magenta peer), with its settings as arguments so the differences between callers stay visible."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def onnx_session(path: str | Path, *, threads: int = 0, denormal_as_zero: bool = False, quiet: bool = False,
                 gpu: bool = False) -> Any:
    """An ``onnxruntime.InferenceSession`` for the graph at ``path`` (typed Any: onnxruntime is imported here only).

    ``threads``: intra-op threads; 0 is onnxruntime's own choice, one per physical core (it ignores
    OMP_NUM_THREADS, so callers that follow it pass it). ``denormal_as_zero``: flush denormal floats,
    which x86 CPUs compute tens of times slower, to zero. ``quiet``: log errors only. ``gpu``: run on
    CUDA when this onnxruntime build has it, else on the CPU.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    if denormal_as_zero:
        options.add_session_config_entry("session.set_denormal_as_zero", "1")
    if quiet:
        options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if gpu and "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    return onnxruntime.InferenceSession(str(path), options, providers=providers)
