"""Seconds per image of sanet-text and its peers, against the floor of one VGG-19 forward pass.

Times, in one process and on one content/style pair at --size: the bare encoder to relu5_1 (no
feed-forward stylisation can be cheaper: every method here but Magenta runs it at least once),
sanet-text with an image style and with a text style (library path), the Magenta peer and Gatys
optimisation. Style preparation (encoding the style, resolving a prompt) happens once per style and
is reported apart from the per-image time. Each timing is the median of --repeats rounds after one
warm-up run, each round running every method once, so a host's drift moves them alike. The first line of the output names the machine (CPU, AVX/AMX flags, torch, threads).
High-resolution memory and the fast-inference paths have their own benchmarks in benchmarks/.
--weights random times the architecture without trained weights (--config names it).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

import torch

from ..core.paths import EXAMPLES_DIR
from ..options.commands import add_model_options

if TYPE_CHECKING:
    from ..stylizer import Stylizer

T = TypeVar("T")



# ---------------------------------------------------------------- measuring


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak: Linux resets VmHWM on writing 5 to clear_refs; CUDA has its own counter."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # elsewhere the peak stays the process-lifetime peak (ru_maxrss)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> tuple[float, float | None]:
    """Peak RSS since the last reset and, on a GPU, the peak of CUDA memory allocated (MB)."""
    rss = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1]) / 1024
    except OSError:
        pass
    if rss is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss = peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere
    cuda = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return rss, cuda


def timed(fn: Callable[[], T], device: torch.device) -> tuple[T, float]:
    """``fn()``'s result and its wall seconds, including the GPU work it queued."""
    synchronize(device)
    start = time.perf_counter()
    result = fn()
    synchronize(device)
    return result, time.perf_counter() - start


def interleaved_medians(calls: Sequence[Callable[[], object]], device: torch.device, repeats: int) -> list[float]:
    """Median seconds of each call over ``repeats`` rounds, every round calling each once (warm them up
    first: allocator, kernels, caches). On a shared host whose speed drifts by 1.5x within minutes,
    timing one method after another skewed the ratios by as much; in rounds, a drift moves every
    method alike."""
    seconds: list[list[float]] = [[] for _ in calls]
    for _ in range(max(1, repeats)):
        for times, fn in zip(seconds, calls):
            times.append(timed(fn, device)[1])
    return [statistics.median(times) for times in seconds]


# ---------------------------------------------------------------- the benchmark


@dataclass
class BenchRow:
    label: str
    seconds: float
    prep_seconds: float | None
    peak_rss_mb: float
    cuda_peak_mb: float | None


@dataclass
class _Method:
    """A row to time: its per-image call, the once-per-style seconds and the memory after preparing it."""

    label: str
    run: Callable[[], object]
    prep_seconds: float | None
    peak_rss_mb: float
    cuda_peak_mb: float | None


def _prepare(label: str, device: torch.device, prepare: Callable[[], Callable[[], object]],
             timed_prep: bool = True) -> _Method:
    """``prepare()`` does the once-per-style work (timed once) and returns the per-image call; one
    warm-up call, so the memory reading includes a whole image."""
    reset_peak_memory(device)
    run, prep_seconds = timed(prepare, device)
    run()
    return _Method(label, run, prep_seconds if timed_prep else None, *peak_memory_mb(device))


def _rows(methods: list[_Method], device: torch.device, repeats: int, scale: float = 1.0) -> list[BenchRow]:
    seconds = interleaved_medians([method.run for method in methods], device, repeats)
    return [BenchRow(m.label, s * scale, m.prep_seconds, m.peak_rss_mb, m.cuda_peak_mb) for m, s in zip(methods, seconds)]


def run_bench(stylizer: Stylizer, size: int, repeats: int, gatys_steps: int, gatys_full_steps: int,
              prompt: str) -> list[BenchRow]:
    """Every row of the table; the first is the floor. The style picture is Starry Night."""
    from ..images.processor import load_image, resize_to
    from .baselines import GatysConfig, GatysMethod, MagentaMethod, SanetMethod, image_eval_style, magenta_model_dir
    from .baselines import text_eval_style

    model, device = stylizer.model, stylizer.device
    content = resize_to(load_image(EXAMPLES_DIR / "astronaut.jpg"), size, exact=True)[None].to(device)
    style_path = EXAMPLES_DIR / "starry_night.jpg"
    _ = stylizer.library  # loading the text encoder is a once-per-process cost, not a per-style one
    sanet = SanetMethod(stylizer)

    def floor() -> None:
        with torch.inference_mode():
            model.encode(content)

    def per_image(stylizer: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], object]:
        return lambda: stylizer(content)

    methods = [
        _prepare("VGG-19 forward to relu5_1 (floor)", device, lambda: floor, timed_prep=False),
        _prepare("sanet-text, image style", device,
                 lambda: per_image(sanet.prepare(image_eval_style(style_path, stylizer, size)))),
        _prepare(f"sanet-text, text style {prompt!r} (library)", device,
                 lambda: per_image(sanet.prepare(text_eval_style(prompt, stylizer, size)))),
    ]
    if magenta_model_dir() is not None:
        magenta = MagentaMethod(device)
        image_style = image_eval_style(style_path, stylizer, size)
        methods.append(_prepare("Magenta arbitrary (ONNX, 384² inside, resized back)", device,
                                lambda: per_image(magenta.prepare(image_style))))
    rows = _rows(methods, device, repeats)
    gatys = GatysMethod(model, GatysConfig(steps=gatys_steps))
    how = "measured" if gatys_steps == gatys_full_steps else f"extrapolated from {gatys_steps}"
    gatys_method = _prepare(f"Gatys, {gatys_full_steps} L-BFGS evaluations ({how})", device,
                            lambda: per_image(gatys.prepare(image_eval_style(style_path, stylizer, size))))
    rows += _rows([gatys_method], device, 1, scale=gatys_full_steps / gatys_steps)
    return rows


def format_table(rows: list[BenchRow]) -> str:
    """A Markdown table with each row's ratio to the first (the floor)."""
    floor = rows[0].seconds
    cuda = any(row.cuda_peak_mb is not None for row in rows)
    lines = ["| method | s / image | × floor | style prep s (once per style) | peak RSS MB"
             + (" | peak CUDA MB |" if cuda else " |"),
             "| --- | ---: | ---: | ---: | ---:" + (" | ---: |" if cuda else " |")]
    for row in rows:
        prep = "-" if row.prep_seconds is None else f"{row.prep_seconds:.4g}"
        line = f"| {row.label} | {row.seconds:.4g} | {row.seconds / floor:.2f} | {prep} | {row.peak_rss_mb:.0f}"
        lines.append(line + (f" | {row.cuda_peak_mb:.0f} |" if cuda else " |"))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from .baselines import GatysConfig

    parser = argparse.ArgumentParser(prog="python -m sanet_text.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512, metavar="N",
                        help="content and style side in pixels (default 512)")
    parser.add_argument("--repeats", type=int, default=3, metavar="N",
                        help="timed rounds (each runs every method once); the medians are shown (default 3)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads for torch and onnxruntime (default: torch's own, from OMP_NUM_THREADS "
                             "or the cores)")
    parser.add_argument("--gatys-steps", type=int, default=10, metavar="N",
                        help="Gatys evaluations actually run (default 10)")
    parser.add_argument("--gatys-full-steps", type=int, default=GatysConfig.steps, metavar="N",
                        help=f"Gatys evaluations the row is scaled to (default {GatysConfig.steps}, the eval default)")
    parser.add_argument("--prompt", default="Van Gogh starry night", metavar="TEXT",
                        help="the text style timed (default 'Van Gogh starry night')")
    add_model_options(parser, device="cpu")
    return parser


def run(args: argparse.Namespace) -> int:
    from ..core.sysinfo import system_info
    from ..stylizer import Stylizer

    if args.threads:
        torch.set_num_threads(args.threads)
    print(system_info().line(), flush=True)  # first, so even an interrupted run says where it ran
    stylizer = Stylizer.from_pretrained(args.weights, config=args.config, vgg_weights=args.vgg_weights,
                                        device=args.device)
    rows = run_bench(stylizer, args.size, args.repeats, args.gatys_steps, args.gatys_full_steps, args.prompt)
    print(f"sanet-text bench: {args.size}×{args.size} px content and style, {stylizer.device.type}, "
          f"{torch.get_num_threads()} threads, median of {args.repeats} interleaved rounds after 1 warm-up; "
          f"config {args.config or 'of the weights'}, weights {args.weights or 'shipped'}")
    print(format_table(rows))
    print(f"process peak RSS: {max(row.peak_rss_mb for row in rows):.0f} MB")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from ..core.errors import run_command

    return run_command("sanet-text bench", lambda: run(build_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
