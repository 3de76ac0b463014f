"""Every benchmark says which machine it ran on: CPU model, cores, AVX/AMX flags, torch and its threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_video import write_clip

from sanet_text.core.sysinfo import system_info

ROOT = Path(__file__).resolve().parents[1]

# Two logical CPUs on one hyper-threaded core of a Sapphire Rapids-like Xeon.
XEON = """\
processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw amx_tile avx512_bf16 amx_bf16 amx_int8

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw amx_tile avx512_bf16 amx_bf16 amx_int8
"""

EPYC = """\
processor\t: 0
model name\t: AMD EPYC 7B13
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse2 avx avx2 fma

processor\t: 1
model name\t: AMD EPYC 7B13
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse2 avx avx2 fma
"""


def test_names_the_cpu_its_cores_and_the_units_that_decide_speed(tmp_path) -> None:
    (tmp_path / "xeon").write_text(XEON)
    (tmp_path / "epyc").write_text(EPYC)
    xeon, epyc = system_info(tmp_path / "xeon"), system_info(tmp_path / "epyc")
    assert xeon.cpu == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz" and xeon.cores == 1
    assert xeon.flags == ("AVX2", "AVX-512", "AVX512_BF16", "AMX-BF16", "AMX-TILE")
    assert epyc.cpu == "AMD EPYC 7B13" and epyc.cores == 2 and epyc.flags == ("AVX2",)
    line = xeon.line()
    assert line.startswith("# machine: Intel(R) Xeon(R) Platinum 8481C")
    assert "AVX2 AVX-512 AVX512_BF16 AMX-BF16 AMX-TILE" in line and f"torch {torch.__version__}" in line


def test_reports_torch_threads_as_currently_set() -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        assert system_info().torch_threads == 3 and "3 threads)" in system_info().line()
    finally:
        torch.set_num_threads(before)


def test_without_proc_cpuinfo_still_reports_something(tmp_path) -> None:
    info = system_info(tmp_path / "missing")
    assert info.cpu and info.cores >= 1 and info.threads >= 1 and info.flags == ()
    assert "no AVX2, AVX-512 or AMX" in info.line()


BENCHMARKS = {  # each at its quickest: the first line is what is checked, not the numbers
    "fast_inference.py": ["--config", "tiny", "--size", "32", "--quality-size", "32", "--repeats", "1"],
    "highres.py": ["--config", "tiny", "--sizes", "64", "--untiled-up-to", "0"],
    "peer_comparison.py": ["--model", "tiny=tiny:random", "--pairs", "examples", "--size", "32"],
    # The clip is written by the test (CLIP below): the benchmark's default clip is not in a user's clone.
    "video.py": ["--config", "tiny", "--weights", "random", "--frames", "3", "--size", "32", "--clip", "clip.mp4"],
    "oneshot.py": ["--config", "tiny", "--size", "64", "--runs", "1"],
    # Resolution only: the offline sentence encoder, no SANet runs.
    "text_fidelity.py": ["--resolve-only"],
}


def test_every_timing_benchmark_is_covered() -> None:
    # loss_curves.py only draws a training run's metrics; every other script there times something.
    scripts = {p.name for p in (ROOT / "benchmarks").glob("*.py")} - {"loss_curves.py"}
    assert scripts == set(BENCHMARKS)


@pytest.mark.parametrize("script", BENCHMARKS)
def test_benchmark_output_starts_with_the_machine(script, tmp_path) -> None:
    write_clip(tmp_path / "clip.mp4", frames=3)  # only video.py reads it (relative to its working folder)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "SANET_TEXT_CACHE": str(tmp_path)}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *BENCHMARKS[script]],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == system_info().line(), result.stdout[:500]  # both on 1 thread
