"""Faster inference: bf16 autocast, INT8 convolutions, channels-last memory, torch.compile, ONNX export.

All are opt-in; ``benchmarks/fast_inference.py`` measures what each one buys (seconds per image) and
costs (content and style loss against fp32) on the real model.

* bf16: autocast on CPUs with native bf16 (AVX512-BF16/AMX) and on GPUs that have it.
* INT8: post-training static quantisation (PyTorch eager mode, per-channel weights, activation ranges
  calibrated on the bundled example images) of the attention 1×1/3×3 convolutions and the decoder.
  Only the convolutions are quantised; the padding, upsampling, softmax and normalisation between
  them stay float, because PyTorch has no quantised replication padding.
* ONNX: encoder → attention → decoder for one style's precomputed tokens, with dynamic image and
  token sizes, for onnxruntime.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import platform
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ContextManager, Sequence

import torch
from torch import nn

from ..core.errors import UserError
from ..core.onnx_session import onnx_session
from ..core.paths import EXAMPLES_DIR
from ..core.sysinfo import system_info
from ..images.processor import load_image, resize_to
from ..models.attention import StyleTokens
from ..models.model import SANet, StylePair

PRECISIONS = ("fp32", "bf16", "int8")
# What the INT8 path quantises. The encoder stays float: its features are what content and style
# are matched by, and the pipeline needs one float parameter to know the model's device.
INT8_PARTS = ("transform", "decoder")
CALIBRATION_STYLES = ("starry_night.jpg",)


@dataclass(frozen=True)
class InferenceOptions:
    precision: str = "fp32"
    channels_last: bool = False
    compile: bool = False


def bf16_supported(device: torch.device) -> bool:
    """Whether ``device`` computes in bf16 natively (elsewhere bf16 is emulated and slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
        return False
    # On x86, oneDNN also runs bf16 on plain AVX-512, converting in software: 3x slower than fp32 on
    # an Intel Xeon without AVX512_BF16 (benchmarks/fast_inference.py). Where /proc/cpuinfo tells,
    # ask for the real thing.
    if platform.machine().lower() not in {"x86_64", "amd64"} or not Path("/proc/cpuinfo").exists():
        return True
    return bool({"AVX512_BF16", "AMX-BF16"} & set(system_info().flags))


def _check(options: InferenceOptions, device: torch.device) -> None:
    if options.precision not in PRECISIONS:
        raise UserError(f"--precision must be one of {', '.join(PRECISIONS)}, got {options.precision!r}")
    if options.precision == "bf16" and not bf16_supported(device):
        raise UserError(f"--precision bf16: this {device.type.upper()} has no native bf16 "
                        "(needs AVX512-BF16/AMX or a recent GPU); use --precision fp32 or int8")
    if options.precision == "int8" and device.type != "cpu":
        raise UserError("--precision int8 runs on the CPU only; add --device cpu, or use --precision bf16 on a GPU")
    if options.precision == "int8" and options.compile:
        raise UserError("--compile works with --precision fp32 or bf16, not int8")


def prepare(model: SANet, options: InferenceOptions,
            calibration: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None) -> SANet:
    """A copy of ``model`` made ready for ``options`` (``model`` itself is left as it is).

    Run the copy inside :func:`autocast`. ``calibration``: (content, style) image pairs, each
    (1, 3, H, W), for the INT8 activation ranges; default: the bundled examples.
    """
    device = next(model.parameters()).device
    _check(options, device)
    if options.precision == "int8":
        model = quantize_int8(model, calibration if calibration is not None else calibration_pairs())
    else:
        model = copy.deepcopy(model)
    if options.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if options.compile:
        # The convolution stacks have static structure; the attention's query loop depends on the
        # image size and stays eager. Each new image size compiles once more.
        model.encoder.compile()
        model.decoder.compile()
    return model


def autocast(precision: str, device: torch.device) -> ContextManager:
    """The context a prepared model runs in: bf16 autocast, or nothing."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


# ---------------------------------------------------------------- INT8


def calibration_pairs(size: int = 256, count: int = 4) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(content, style) pairs, (1, 3, H, W) each, from the bundled examples: photos against paintings."""
    photos = sorted(p for p in EXAMPLES_DIR.glob("*.jpg") if p.name not in CALIBRATION_STYLES)[:count]
    styles = [EXAMPLES_DIR / name for name in CALIBRATION_STYLES]
    return [(resize_to(load_image(photo), size)[None], resize_to(load_image(style), size)[None])
            for photo, style in zip(photos, itertools.cycle(styles))]


def _wrap_convs(module: nn.Module, qconfig: torch.ao.quantization.QConfig) -> None:
    """Each Conv2d below ``module`` becomes quantise → conv (+ the ReLU after it in a Sequential) → dequantise."""
    children = list(module.named_children())
    for index, (name, child) in enumerate(children):
        if not isinstance(child, nn.Conv2d):
            _wrap_convs(child, qconfig)
            continue
        follower = children[index + 1] if index + 1 < len(children) else None
        if isinstance(module, nn.Sequential) and follower is not None and isinstance(follower[1], nn.ReLU):
            # Fused, the ReLU is free and the int8 output keeps the full range for positive values.
            child = torch.ao.nn.intrinsic.ConvReLU2d(child, follower[1])
            setattr(module, follower[0], nn.Identity())
        wrapper = torch.ao.quantization.QuantWrapper(child)
        wrapper.qconfig = qconfig
        setattr(module, name, wrapper)


def quantize_int8(model: SANet, calibration: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> SANet:
    """A copy of ``model`` whose convolutions in INT8_PARTS run in INT8, calibrated on ``calibration`` pairs."""
    if not calibration:
        raise ValueError("INT8 calibration needs at least one (content, style) pair")
    quantized = copy.deepcopy(model).cpu().eval()
    qconfig = torch.ao.quantization.get_default_qconfig(torch.backends.quantized.engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization's own deprecation notices
        for part in INT8_PARTS:
            _wrap_convs(getattr(quantized, part), qconfig)
        torch.ao.quantization.prepare(quantized, inplace=True)
        with torch.no_grad():
            for content, style in calibration:
                quantized(content, style)
        torch.ao.quantization.convert(quantized, inplace=True)
    return quantized


# ---------------------------------------------------------------- ONNX

# "low": the style's statistics below relu4_1 for a v0.3 decoder; a model without modulation never
# reads them, and the exporter drops the input.
ONNX_INPUTS = ("content", "keys4", "values4", "mean4", "std4", "keys5", "values5", "mean5", "std5", "low")


class _StylizeGraph(nn.Module):
    """What the ONNX file computes: a content image and one style's attention tokens → the stylised image."""

    def __init__(self, model: SANet) -> None:
        super().__init__()
        self.model = model

    def forward(self, content: torch.Tensor, *tokens: torch.Tensor) -> torch.Tensor:
        style = (StyleTokens(*tokens[:4], low=tokens[8]), StyleTokens(*tokens[4:8]))
        fused = self.model.fuse(self.model.encode(content), style)
        return self.model.decode(fused, content.shape[-2:])


def export_onnx(model: SANet, path: str | Path, example_size: int = 256, opset: int = 17) -> Path:
    """Write encoder → attention → decoder as ONNX, any content size and style token count.

    The graph attends all content positions at once (ONNX attention has no block loop), so bound
    its memory by tiling large images.
    """
    graph = _StylizeGraph(copy.deepcopy(model).cpu().eval())
    with torch.no_grad():
        content = torch.rand(1, 3, example_size, example_size)
        style = graph.model.style_tokens(graph.model.encode(torch.rand(1, 3, example_size, example_size)))
    tokens = token_arrays(style)
    dynamic = {"content": {2: "height", 3: "width"}, "image": {2: "height", 3: "width"}}
    dynamic.update({name: {2: f"tokens{name[-1]}"} for name in ONNX_INPUTS[1:] if name.startswith(("keys", "values"))})
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
        # The TorchScript exporter needs only the onnx package (the dynamo one also needs onnxscript).
        torch.onnx.export(graph, (content, *tokens), str(path), input_names=list(ONNX_INPUTS),
                          output_names=["image"], dynamic_axes=dynamic, opset_version=opset, dynamo=False)
    return path


def token_arrays(style: StylePair) -> tuple[torch.Tensor, ...]:
    """A style's tensors in the order of ``ONNX_INPUTS[1:]`` (a model without modulation leaves ``low``
    unset: a placeholder then stands in for the input its graph does not have)."""
    low = style[0].low if style[0].low is not None else style[0].mean.new_zeros(1, 1)
    return (*(t for tokens in style for t in (tokens.keys, tokens.values, tokens.mean, tokens.std)), low)


class OnnxStylizer:
    """An exported model run by onnxruntime on the CPU: ``stylizer(content, style_tokens)`` → image."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        # onnxruntime ignores OMP_NUM_THREADS; follow torch's thread count so comparisons are fair.
        self.session = onnx_session(path, threads=threads or torch.get_num_threads())

    def __call__(self, content: torch.Tensor, style: StylePair) -> torch.Tensor:
        arrays = (content, *token_arrays(style))
        # A model with the paper's content residual never reads the style statistics, so the
        # exporter drops those inputs from the graph.
        wanted = {i.name for i in self.session.get_inputs()}
        feeds = {name: array.detach().float().cpu().numpy() for name, array in zip(ONNX_INPUTS, arrays) if name in wanted}
        return torch.from_numpy(self.session.run(None, feeds)[0])

