"""``python -m sanet_text.bench`` on the tiny model at a tiny size: the table's structure, not its timings."""

from __future__ import annotations

import pytest

from sanet_text.core.sysinfo import system_info
from sanet_text.evaluation import bench
from sanet_text.evaluation.baselines import magenta_model_dir
from sanet_text.styles.library import load_library


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    load_library.cache_clear()


def _table(out: str) -> list[list[str]]:
    """The Markdown table's body rows as lists of cells."""
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("|")]
    return rows[2:]


def test_bench_prints_floor_first_and_every_method_as_a_ratio_of_it(capsys) -> None:
    code = bench.main(["--config", "tiny", "--weights", "random", "--size", "32", "--repeats", "1",
                       "--threads", "1", "--gatys-steps", "2", "--gatys-full-steps", "8"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == system_info().line()  # timings are only comparable on the same machine
    rows = _table(out)
    labels = [row[0] for row in rows]
    assert "(floor)" in labels[0] and float(rows[0][2]) == 1.0 and rows[0][3] == "-"
    assert any("image style" in label for label in labels) and any("text style" in label for label in labels)
    assert any("Magenta" in label for label in labels) == (magenta_model_dir() is not None)
    assert "8 L-BFGS evaluations (extrapolated from 2)" in labels[-1]
    floor = float(rows[0][1])
    for row in rows:
        seconds, ratio, rss = float(row[1]), float(row[2]), float(row[4])
        assert seconds > 0 and rss > 0
        assert ratio == pytest.approx(seconds / floor, rel=0.02, abs=0.01)
        if "(floor)" not in row[0]:
            assert float(row[3]) >= 0  # style preparation is timed apart from the per-image time
    assert "process peak RSS:" in out.splitlines()[-1]


def test_peak_memory_restarts_after_a_reset() -> None:
    import torch

    cpu = torch.device("cpu")
    bench.reset_peak_memory(cpu)
    before, cuda = bench.peak_memory_mb(cpu)
    block = torch.ones(64 * 2**20 // 4)  # 64 MB, touched
    grown, _ = bench.peak_memory_mb(cpu)
    del block
    assert cuda is None
    assert grown >= before + 50


def test_missing_weights_are_a_one_line_error(tmp_path, capsys) -> None:
    code = bench.main(["--config", "tiny", "--weights", str(tmp_path / "none.safetensors"), "--size", "32"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("sanet-text bench: error: ") and "not found" in err[0]
