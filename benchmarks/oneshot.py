"""Where the seconds of one ``sanet-text`` command go: each run a fresh process, as a user runs it.

    python benchmarks/oneshot.py [--runs 3] [--size 512] [--cache DIR] [--config base]

Runs the README's quick starts (image style; prompt "Van Gogh starry night") and a prompt that
blends three library styles, first with an empty cache (the first run: VGG conversion, text
embeddings, exemplar features, the quick path's ONNX graph) and then ``--runs`` times with that
cache warm, and prints each stage's median seconds. Warm single-style runs take the quick path
(:mod:`sanet_text.frontends.quick`: onnxruntime, no torch); ``--full`` sends every run down the full path
(``SANET_TEXT_QUICK=0``), for the before/after. Stages are timed inside the child by wrapping the functions that do them
(exclusive times: a stage nested in another is not counted twice); "interpreter start and exit" is
the wall time the child's own clock does not see. The machine and its load come first, because on
a shared machine every number moves with the load; the CPU seconds move less. Unix only (resource).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "sanet_text" / "assets" / "examples"
COMMANDS = {
    "image style": [str(EXAMPLES / "chelsea.jpg"), "--style", str(EXAMPLES / "starry_night.jpg")],
    "prompt": [str(EXAMPLES / "chelsea.jpg"), "Van Gogh starry night"],
    "prompt, 3-style blend": [str(EXAMPLES / "chelsea.jpg"), "Klimt gold"],
}
# (label, module, attribute): the functions timed in the child. "." in the attribute reaches into a
# class; properties are timed by their getter. Those the code does not have are skipped, so the
# same script also measures older commits (the before/after in docs/BENCHMARKS.md): in them the sentence
# encoder loaded in build_text_encoder and exemplars were encoded by stylizer.exemplar_features.
PROBES = (
    ("model build + weights", "sanet_text.stylizer", "build_model"),
    ("sentence encoder load", "sanet_text.styles.text_encoders", "MiniLMEncoder.model"),
    ("sentence encoder load", "sanet_text.styles.library", "build_text_encoder"),
    ("text embeddings (cache or encoder)", "sanet_text.styles.library", "StyleLibrary.encode"),
    ("exemplar features: cache lookup", "sanet_text.stylizer", "cached_exemplar_features"),
    ("exemplar features: encoder hash", "sanet_text.styles.exemplar_cache", "encoder_hash"),
    ("exemplar features: VGG pass", "sanet_text.styles.exemplar_cache", "exemplar_features"),
    ("exemplar features: VGG pass", "sanet_text.stylizer", "exemplar_features"),
    ("style image: VGG pass", "sanet_text.stylizer", "style_from_image"),
    ("style tokens", "sanet_text.stylizer", "prepare_style"),
    ("content: VGG pass, blend", "sanet_text.render.pipeline", "_render"),
    ("attention (fuse)", "sanet_text.models.model", "SANet.fuse"),
    ("attention (fuse)", "sanet_text.models.model", "SANet.fuse_parts"),
    ("decode", "sanet_text.models.model", "SANet.decode"),
    ("write PNG", "sanet_text.frontends.cli", "save_image"),
    ("quick plan: ONNX export (first run)", "sanet_text.render.export", "export_onnx"),
)
# The quick path's stages, timed before it runs (it must not import torch).
QUICK_PROBES = (
    ("quick: plan lookup (code and weight files checked)", "sanet_text.frontends.quick", "_load_plan"),
    ("quick: content load + resize", "sanet_text.frontends.quick", "load_pil"),
    ("quick: content load + resize", "sanet_text.frontends.quick", "resize_longer"),
    ("quick: content load + resize", "sanet_text.frontends.quick", "resize_to"),
    ("quick: import onnxruntime + session", "sanet_text.frontends.quick", "_session"),
    ("quick: graph run (VGG, attention, decoder)", "sanet_text.frontends.quick", "_render"),
    ("write PNG", "sanet_text.frontends.quick", "save_pil"),
    ("write PNG", "sanet_text.frontends.quick", "save_image"),
)
IMPORT_TORCH, IMPORT_CLI = "import torch", "import sanet_text.frontends.cli (rest)"
OTHER, INTERPRETER = "other (arguments, checks, library file, ...)", "interpreter start and exit"
ORDER = tuple(dict.fromkeys((*(label for label, _, _ in QUICK_PROBES), IMPORT_TORCH, IMPORT_CLI,
                             *(label for label, _, _ in PROBES), OTHER, INTERPRETER)))


class _Clock:
    """Exclusive seconds per label: time spent in a nested probe is its own, not its caller's."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.nested = [0.0]

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.nested.append(0.0)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                took = time.perf_counter() - start
                inner = self.nested.pop()
                self.nested[-1] += took
                self.seconds[label] = self.seconds.get(label, 0.0) + took - inner
        return timed


def _install(clock: _Clock, probes: tuple[tuple[str, str, str], ...]) -> None:
    for label, module_name, attribute in probes:
        try:
            owner: Any = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            target = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        except (ImportError, AttributeError, KeyError):
            continue
        if isinstance(target, property):
            setattr(owner, name, property(clock.wrap(label, target.fget)))
        else:
            setattr(owner, name, clock.wrap(label, target))


def probe(out: Path, argv: list[str]) -> None:
    """In the child: run ``sanet-text argv`` as the console script does (the quick path when it
    applies, else the full CLI; then a quick exit) with every probe installed; write the seconds to ``out``."""
    start = time.perf_counter()
    clock = _Clock()

    def report(code: int) -> None:
        end = time.perf_counter()
        clock.seconds[OTHER] = (end - start) - sum(clock.seconds.values())
        out.write_text(json.dumps({"code": code, "inside": end - start, "seconds": clock.seconds}))
        sys.stdout.flush()
        os._exit(code)  # as the console script ends

    try:
        import sanet_text.frontends.quick as quick
    except ImportError:  # older commits: no quick path
        quick = None
    if quick is not None:
        _install(clock, QUICK_PROBES)
        code = quick.try_run(argv)
        if code is not None:
            report(code)
    torch_start = time.perf_counter()
    import torch  # noqa: F401  (timed on its own: the largest import)

    torch_done = time.perf_counter()
    import sanet_text.frontends.cli as cli

    clock.seconds[IMPORT_TORCH] = torch_done - torch_start
    clock.seconds[IMPORT_CLI] = time.perf_counter() - torch_done
    _install(clock, PROBES)
    report(cli.main(argv))


def run_once(argv: list[str], env: dict[str, str], workdir: Path) -> dict[str, float]:
    """One fresh process: each stage's seconds, with the wall time it took from outside."""
    out = workdir / "probe.json"
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, __file__, "--probe", str(out), "--", *argv],
                            env=env, cwd=workdir, capture_output=True, text=True)
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"sanet-text {' '.join(argv)} failed:\n{result.stderr[-2000:]}")
    report = json.loads(out.read_text())
    seconds = dict(report["seconds"])
    seconds[INTERPRETER] = wall - report["inside"]
    seconds["wall"] = wall
    seconds["cpu"] = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    seconds["_output"] = result.stdout.strip()
    return seconds


def table(columns: dict[str, list[dict[str, float]]]) -> str:
    """Markdown: one row per stage, one column per (command, cold/warm), medians over runs."""
    def median(runs: list[dict[str, float]], label: str) -> str:
        value = statistics.median(run.get(label, 0.0) for run in runs)
        return f"{value:.2f}" if value >= 0.005 else "-"

    lines = ["| stage | " + " | ".join(columns) + " |", "| --- |" + " ---: |" * len(columns)]
    for label in ORDER:
        lines.append(f"| {label} | " + " | ".join(median(runs, label) for runs in columns.values()) + " |")
    lines.append("| **wall** | " + " | ".join(f"**{median(runs, 'wall')}**" for runs in columns.values()) + " |")
    lines.append("| CPU seconds (user + system) | " + " | ".join(median(runs, "cpu") for runs in columns.values()) + " |")
    return "\n".join(lines)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def main(argv: list[str] | None = None) -> int:
    from sanet_text.options.commands import add_model_options

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="warm runs per command; medians are shown (default 3)")
    parser.add_argument("--size", type=int, default=512, help="--size and --style-size of every run (default 512)")
    parser.add_argument("--cache", type=Path, help="cache folder (default: a new empty one per command, so first runs are cold)")
    parser.add_argument("--full", action="store_true", help="every run on the full path (SANET_TEXT_QUICK=0)")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("cli", nargs="*", help=argparse.SUPPRESS)
    add_model_options(parser, device=None)  # passed on to every sanet-text run, which picks the CPU itself
    args = parser.parse_args(argv)
    if args.probe:
        probe(args.probe, args.cli)
        return 0

    from sanet_text.core.sysinfo import system_info

    print(system_info().line())
    print(f"# {load()} before")
    # Only the options that differ from the defaults, so the commands are the ones a user types.
    extra = ["--force", "-o", "out.png"] + (["--config", args.config] if args.config else [])
    extra += ["--size", str(args.size), "--style-size", str(args.size)] if args.size != 512 else []
    extra += ["--weights", args.weights] if args.weights else []
    extra += ["--vgg-weights", args.vgg_weights] if args.vgg_weights else []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        columns: dict[str, list[dict[str, float]]] = {}
        for index, (name, command) in enumerate(COMMANDS.items()):
            # Each command's first run starts from an empty cache, as a new user's would.
            cache = args.cache or workdir / f"cache{index}"
            env = {**os.environ, "SANET_TEXT_CACHE": str(cache), **({"SANET_TEXT_QUICK": "0"} if args.full else {}),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
            cold = run_once(command + extra, env, workdir)
            warm = [run_once(command + extra, env, workdir) for _ in range(args.runs)]
            columns[f"{name}, first"] = [cold]
            columns[f"{name}, warm"] = warm
            print(f"# {name}: {warm[-1]['_output']}", flush=True)
    print(f"# {load()} after")
    print(table(columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
