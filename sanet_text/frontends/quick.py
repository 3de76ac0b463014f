"""Warm one-shot runs without torch: ``sanet-text photo.jpg STYLE`` again, through a cached ONNX graph.

A single CLI call spends more time importing torch (1.5-3 s on a 2-core machine) than stylising a
512 px image. So when a plain single-image command (``CONTENT STYLE`` or ``CONTENT --style STYLE``,
optionally ``-o OUT`` and ``--force``, every other option at its default) has run once on the CPU,
the full path leaves a *plan* in the cache: the style's attention tokens, the
description and output name it printed, and the model exported to ONNX. The next call with the same
style on any content image runs that graph with onnxruntime, numpy and Pillow only.

A plan is used only while everything it was made from is unchanged: the package's code, configs,
prompt library and shipped weights, the SANet and VGG-19 weight files, the weight environment
variables and the style image. Anything else (another option, a folder, a clip, a style blended from
several library styles, a GPU, a missing or stale plan, a file that fails a check) takes the full
path, which also reports every error. ``SANET_TEXT_QUICK=0`` turns the quick path off.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from safetensors.numpy import load_file, save_file

from ..core.atomic import atomic_path, write_text
from ..core.clock import command_seconds
from ..core.disk_cache import damaged, drop_record, matches_record, write_record
from ..core.errors import UserError
from ..core.onnx_session import onnx_session
from ..core.paths import PACKAGE_DIR, cache_dir, configs_dir, prompts_dir
from ..images.palette import transfer
from ..images.processor import IMAGE_SUFFIXES, load_pil, path_exists, pil_to_array, resize_to, save_image
from .outputs import is_image_path, plan_outputs

if TYPE_CHECKING:
    from ..render.pipeline import PreparedStyle
    from ..stylizer import Stylizer

SWITCH = "SANET_TEXT_QUICK"
# What decides which weights load, besides the files themselves.
WEIGHT_VARIABLES = ("SANET_TEXT_WEIGHTS", "SANET_TEXT_VGG")
# The content size and the style picture size of the commands the quick path takes (the CLI defaults).
SIZE = 512
# 2: plans carry the style picture's colour moments (colour matching became the default).
PLAN_VERSION = 2
# Plans kept (the most recently made); each holds a style's tokens, about 17 MB for a 512 px style.
KEEP_PLANS = 16


@dataclass(frozen=True)
class Request:
    """A command the quick path can take: one content image, one style, where to write, which model."""

    content: str
    style: str
    output: str | None = None
    force: bool = False
    config: str = "base"
    weights: str | None = None
    vgg_weights: str | None = None


# The options a quick command may have besides CONTENT and STYLE, each given at most once.
_VALUED = {"-o": "output", "--output": "output", "--style": "style", "--config": "config",
           "--weights": "weights", "--vgg-weights": "vgg_weights"}


def parse(argv: Sequence[str]) -> Request | None:
    """The request when ``argv`` is ``CONTENT STYLE`` or ``CONTENT --style STYLE`` with at most
    ``-o/--output OUT``, ``--force``, ``--config``, ``--weights`` and ``--vgg-weights``; else None."""
    positional: list[str] = []
    options: dict[str, Any] = {}
    args = iter(argv)
    for arg in args:
        if arg in _VALUED:
            value = next(args, None)
            if value is None or _VALUED[arg] in options:
                return None
            options[_VALUED[arg]] = value
        elif arg == "--force":
            options["force"] = True
        elif arg.startswith("-") or len(positional) == 2:
            return None
        else:
            positional.append(arg)
    if "style" in options:
        positional.append(options.pop("style"))
    if len(positional) != 2:
        return None
    return Request(*positional, **options)


def _stat(path: Path) -> list[int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return [info.st_mtime_ns, info.st_size]


def _code_signature() -> list:
    """Every file of the package, its configs and its prompt library, by name, time and size."""
    folders = dict.fromkeys([PACKAGE_DIR, configs_dir(), prompts_dir()])
    return sorted((str(path), *(_stat(path) or []))
                  for folder in folders for path in folder.rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:24]


def _plan_dir(request: Request) -> Path:
    """Where the plan for ``request``'s style and model lives; the name changes with anything that
    could change the plan (the weight files themselves are checked against the plan's record)."""
    key: dict[str, Any] = {"version": PLAN_VERSION, "code": _code_signature(),
                           "env": {name: os.environ.get(name) for name in WEIGHT_VARIABLES}}
    for name in ("style", "config", "weights", "vgg_weights"):
        value = getattr(request, name)
        key[name] = [str(Path(value).resolve()), _stat(Path(value))] if value and path_exists(value) else value
    return cache_dir() / "quick" / _digest(key)


def _no_gpu() -> bool:
    """No device the full path would pick over the CPU (``--device auto`` takes a CUDA or ROCm GPU)."""
    return not any(Path(device).exists() for device in ("/dev/nvidiactl", "/dev/kfd"))


def available() -> bool:
    return (os.environ.get(SWITCH) != "0" and _no_gpu()
            and importlib.util.find_spec("onnxruntime") is not None)


# ---------------------------------------------------------------- the full path leaves a plan


def remember(request: Request, stylizer: Stylizer, style: PreparedStyle, description: str, slug: str) -> None:
    """Leave the plan for ``request`` after the full path ran it (CPU, fp32, one single-part style)."""
    from ..core.config import load_model_config
    from ..models.weights import encoder_files, resolve_weights
    from ..render.export import ONNX_INPUTS, export_onnx, token_arrays
    from ..render.pipeline import MATCH_COLOR

    if not available() or stylizer.device.type != "cpu" or stylizer.precision != "fp32" or len(style.tokens) != 1:
        return
    if style.group.paint is not None:
        return  # the plan has no step that paints named colours: such prompts take the full path
    model_config = load_model_config(request.config)
    files = [resolve_weights(request.weights or model_config.weights),
             *encoder_files(request.vgg_weights or model_config.encoder_weights)]
    signature = {str(path.resolve()): _stat(path) for path in files}
    graph = cache_dir() / "quick" / f"graph-{_digest([signature, _code_signature(), request.config])}.onnx"
    if not matches_record(graph):
        if graph.exists():
            damaged(graph, "quick-path graph")
        with atomic_path(graph) as tmp:
            export_onnx(stylizer.model, tmp)
        write_record(graph)
    # Contiguous: safetensors writes an array's buffer as it lies (a channels-last model's tokens are strided).
    arrays = {name: np.ascontiguousarray(tensor.detach().float().cpu().numpy())
              for name, tensor in zip(ONNX_INPUTS[1:], token_arrays(style.tokens[0][1]))}
    colours = style.group.color() if MATCH_COLOR else None
    if colours is not None:
        # The quick path matches colours as the full path's default does, in numpy.
        arrays.update({name: value.detach().cpu().numpy() for name, value in zip(_COLOUR_MOMENTS, colours)})
    folder = _plan_dir(request)
    with atomic_path(folder / "style.safetensors") as tmp:
        save_file(arrays, str(tmp))
    write_text(folder / "plan.json", json.dumps(
        {"description": description, "slug": slug, "graph": graph.name, "files": signature}, indent=1))
    _prune(folder.parent)


def _prune(root: Path) -> None:
    """Keep the ``KEEP_PLANS`` newest plans and the graphs they use, so the cache stays bounded."""
    plans = sorted(root.glob("*/plan.json"), key=lambda path: path.stat().st_mtime_ns, reverse=True)
    for stale in plans[KEEP_PLANS:]:
        shutil.rmtree(stale.parent, ignore_errors=True)
    used = {json.loads(plan.read_text(encoding="utf-8")).get("graph") for plan in plans[:KEEP_PLANS]}
    for graph in root.glob("graph-*.onnx"):
        if graph.name not in used:
            graph.unlink(missing_ok=True)
            drop_record(graph)


# ---------------------------------------------------------------- the quick path


# The style picture's colour mean (3,) and covariance (3, 3), float64, kept beside its tokens.
_COLOUR_MOMENTS = ("colour_mean", "colour_covariance")


@dataclass
class _Plan:
    description: str
    slug: str
    graph: Path
    style: dict[str, np.ndarray]


def _load_plan(request: Request) -> _Plan | None:
    folder = _plan_dir(request)
    try:
        meta = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        if any(_stat(Path(path)) != stat for path, stat in meta["files"].items()):
            return None  # a weights file changed since the plan was made
        graph = folder.parent / meta["graph"]
        plan = _Plan(meta["description"], meta["slug"], graph, load_file(str(folder / "style.safetensors")))
        os.utime(folder / "plan.json")  # in use: the last plan to be pruned
    except (OSError, ValueError, KeyError):
        return None
    # By size only: checksumming the 76 MB graph would cost the quick path a tenth of its time; a
    # graph damaged in place fails to load, which drops its record (see _render).
    return plan if matches_record(graph, checksum=False) else None


def _session(graph: Path) -> Any:
    # As torch does: OMP_NUM_THREADS when set (onnxruntime ignores it), else onnxruntime's default.
    threads = os.environ.get("OMP_NUM_THREADS", "")
    return onnx_session(graph, threads=int(threads) if threads.isdigit() else 0, denormal_as_zero=True)


def _render(plan: _Plan, content: np.ndarray) -> np.ndarray:
    """The stylised (3, h, w) image in [0, 1], as the full path renders it with the default options."""
    try:
        session = _session(plan.graph)
    except Exception:
        # Unreadable: the next full run of this command makes the graph again.
        drop_record(plan.graph)
        raise
    wanted = {i.name for i in session.get_inputs()}
    feeds = {"content": content[None], **{name: array for name, array in plan.style.items() if name in wanted}}
    image = np.clip(session.run(None, feeds)[0][0], 0, 1)
    if _COLOUR_MOMENTS[0] in plan.style:
        moments = tuple(plan.style[name] for name in _COLOUR_MOMENTS)
        image = transfer(image.reshape(3, -1).astype(np.float64), moments).reshape(image.shape)
    return image.astype(np.float32)


def run(request: Request) -> int | None:
    """Run ``request`` through its plan and return the exit code; None when the full path must run it."""
    plan = _load_plan(request)
    if plan is None or Path(request.content).suffix.lower() not in IMAGE_SUFFIXES:
        return None
    content_path = Path(request.content)
    try:
        style = Path(request.style) if is_image_path(request.style) else request.style
        outputs = plan_outputs([content_path], [style], request.output, plan.slug, request.force)
        content = resize_to(pil_to_array(load_pil(content_path)), SIZE)
    except UserError:
        return None  # the full path reports it, in its words
    image = _render(plan, content)
    try:
        save_image(image, outputs.paths[0], force=outputs.replace)
    except UserError:
        return None
    print(f"{outputs.paths[0]}  {plan.description}  {command_seconds():.1f}s")
    return 0


def try_run(argv: Sequence[str]) -> int | None:
    """The exit code of ``argv`` run on the quick path, or None: then the full path runs it."""
    request = parse(argv)
    if request is None or not available():
        return None
    try:
        return run(request)
    except Exception:  # an unusable cache or graph: the full path still works, and refreshes the plan
        if os.environ.get("SANET_TEXT_DEBUG"):
            raise
        print("sanet-text: note: quick path failed; running the full path", file=sys.stderr)
        return None
