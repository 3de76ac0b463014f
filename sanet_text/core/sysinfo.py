"""Which machine a timing came from: CPU model, cores, the vector/matrix units torch can use, torch's threads.

The same benchmark can differ several-fold between an AMD EPYC and an Intel Xeon with AMX (denormals,
bf16 kernels), so every benchmark prints this first: a number without its machine cannot be compared.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

# /proc/cpuinfo flag -> the name people search for. bf16 and AMX decide whether --precision bf16 pays.
FLAGS = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_bf16": "AVX512_BF16", "amx_bf16": "AMX-BF16",
         "amx_tile": "AMX-TILE"}


@dataclass(frozen=True)
class SystemInfo:
    cpu: str
    cores: int  # physical cores
    threads: int  # logical CPUs this process may run on
    flags: tuple[str, ...]  # those of FLAGS the CPU has, in FLAGS' order
    torch: str
    torch_capability: str  # the kernel set ATen dispatches to: DEFAULT, AVX2, AVX512, ...
    torch_threads: int
    gpu: str | None

    def line(self) -> str:
        """One line for the top of a benchmark's output."""
        gpu = f"; GPU {self.gpu}" if self.gpu else ""
        return (f"# machine: {self.cpu}, {self.cores} cores / {self.threads} threads, "
                f"{' '.join(self.flags) or 'no AVX2, AVX-512 or AMX'}; "
                f"torch {self.torch} ({self.torch_capability} kernels, {self.torch_threads} "
                f"thread{'' if self.torch_threads == 1 else 's'}){gpu}")


def _cpuinfo(path: Path) -> list[dict[str, str]]:
    """/proc/cpuinfo as one dict per logical CPU; empty where there is no such file (macOS, Windows)."""
    try:
        text = path.read_text()
    except OSError:
        return []
    blocks = []
    for block in text.strip().split("\n\n"):
        fields = (line.partition(":") for line in block.splitlines())
        blocks.append({key.strip(): value.strip() for key, _, value in fields})
    return blocks


def system_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> SystemInfo:
    """What this process runs on now (torch's thread count as currently set)."""
    blocks = _cpuinfo(cpuinfo)
    first = blocks[0] if blocks else {}
    # x86 names the CPU in "model name"; ARM kernels often give only "CPU part", hence the fallbacks.
    cpu = first.get("model name") or platform.processor() or platform.machine() or "unknown CPU"
    present = set(first.get("flags", "").split())
    flags = tuple(name for flag, name in FLAGS.items() if flag in present)
    physical = {(b.get("physical id"), b.get("core id")) for b in blocks if "core id" in b}
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return SystemInfo(cpu=cpu, cores=len(physical) or os.cpu_count() or 1, threads=threads, flags=flags,
                      torch=torch.__version__, torch_capability=torch.backends.cpu.get_cpu_capability(),
                      torch_threads=torch.get_num_threads(), gpu=gpu)
