"""The warm one-shot path: a command run once leaves a plan; the same command again runs it through
onnxruntime without importing torch, with the full path's result, and only while the plan is valid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sanet_text.core.paths import EXAMPLES_DIR
from sanet_text.frontends import quick
from sanet_text.frontends.cli import main

pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parents[1]
CHELSEA, STARRY = str(EXAMPLES_DIR / "chelsea.jpg"), str(EXAMPLES_DIR / "starry_night.jpg")


@pytest.mark.parametrize("argv, expected", [
    (["a.jpg", "ink wash"], quick.Request("a.jpg", "ink wash")),
    (["a.jpg", "--style", "s.png", "-o", "o.png", "--force"], quick.Request("a.jpg", "s.png", "o.png", True)),
    (["--config", "tiny", "a.jpg", "ink", "--weights", "w.safetensors"],
     quick.Request("a.jpg", "ink", config="tiny", weights="w.safetensors")),
    (["a.jpg", "ink", "--alpha", "0.5"], None),  # any other option: the full path
    (["a.jpg", "ink", "--style", "s.png"], None),  # two styles
    (["a.jpg", "--style", "s.png", "--style", "t.png"], None),
    (["a.jpg"], None),
    (["a.jpg", "ink", "-o"], None),
    (["a.jpg", "ink", "--output=o.png"], None),
])
def test_only_plain_single_style_commands_are_quick_requests(argv, expected) -> None:
    assert quick.parse(argv) == expected


@pytest.fixture
def warm(tmp_path, monkeypatch, tiny_weights) -> list[str]:
    """A quick-path cache warmed by one full run of chelsea in Starry Night's style (tiny model)."""
    monkeypatch.delenv("SANET_TEXT_QUICK")
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert main([CHELSEA, "--style", STARRY, "-o", "full.png", *tiny_weights]) == 0
    assert len(list((tmp_path / "cache" / "quick").glob("*/plan.json"))) == 1
    return tiny_weights


def _levels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.int16)


def test_a_second_run_takes_the_quick_path_without_torch_and_gives_the_same_picture(tmp_path, warm) -> None:
    argv = [CHELSEA, "--style", STARRY, "-o", "quick.png", *warm]
    child = subprocess.run(
        [sys.executable, "-c", "import sys; from sanet_text.frontends import console, quick; "
         "code = quick.try_run(sys.argv[1:]); "
         "print(code, 'torch' in sys.modules)", *argv],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    assert child.returncode == 0, child.stderr[-2000:]
    printed, result = child.stdout.strip().splitlines()
    assert result == "0 False"  # stylised, and torch never imported
    assert printed.startswith("quick.png  starry_night.jpg  ")
    full, fast = _levels(tmp_path / "full.png"), _levels(tmp_path / "quick.png")
    assert full.shape == fast.shape == (341, 512, 3)
    difference = np.abs(full - fast)
    assert difference.max() <= 2 and (difference > 0).mean() < 0.01, (difference.max(), (difference > 0).mean())


def test_a_changed_weights_file_or_another_style_or_the_switch_sends_a_run_down_the_full_path(
        tmp_path, warm, monkeypatch) -> None:
    argv = [CHELSEA, "--style", STARRY, "-o", "again.png", *warm]
    assert quick.try_run([CHELSEA, "--style", "watercolor", "-o", "other.png", *warm]) is None
    monkeypatch.setenv("SANET_TEXT_QUICK", "0")
    assert quick.try_run(argv) is None
    monkeypatch.delenv("SANET_TEXT_QUICK")
    assert quick.try_run(argv) == 0
    weights = Path(warm[warm.index("--weights") + 1])
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    assert quick.try_run(argv) is None


def test_the_quick_path_leaves_inputs_and_user_files_to_the_full_paths_rules(tmp_path, warm) -> None:
    content = tmp_path / "content.jpg"
    content.write_bytes(Path(CHELSEA).read_bytes())
    assert quick.try_run([str(content), "--style", STARRY, "-o", str(content), *warm]) is None
    assert content.read_bytes() == Path(CHELSEA).read_bytes()
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"not to be lost")
    assert quick.try_run([CHELSEA, "--style", STARRY, "-o", str(mine), *warm]) is None
    assert mine.read_bytes() == b"not to be lost"
    assert quick.try_run([CHELSEA, "--style", STARRY, "-o", str(mine), "--force", *warm]) == 0
    assert Image.open(mine).size == (512, 341)


def test_only_the_newest_plans_and_the_graphs_they_use_are_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(quick, "KEEP_PLANS", 2)
    for index in range(4):
        folder = tmp_path / f"plan{index}"
        folder.mkdir()
        (tmp_path / f"graph-{index}.onnx").write_bytes(b"")
        (folder / "plan.json").write_text(json.dumps({"graph": f"graph-{index}.onnx"}))
        os.utime(folder / "plan.json", ns=(index * 10**9, index * 10**9))
    quick._prune(tmp_path)
    assert sorted(p.parent.name for p in tmp_path.glob("*/plan.json")) == ["plan2", "plan3"]
    assert sorted(p.name for p in tmp_path.glob("graph-*.onnx")) == ["graph-2.onnx", "graph-3.onnx"]
