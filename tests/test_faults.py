"""Fault injection: each way a run or a command was seen to lose work or crash (issue 10), and the
good behaviours that must stay (a SIGKILLed run resumes bit-exactly, pickles are refused, Ctrl-C
leaves no half image).

Every fault ends in a correct result or in one line naming the problem and the file, with nothing
lost. Training runs use the tiny config: 6 steps, checkpoints every 2.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest
import torch
from PIL import Image

import sanet_text.train as train_module
from conftest import _png_header_only
from sanet_text import cli
from sanet_text.checkpoint import checkpoint_folders, latest_checkpoint, save_checkpoint
from sanet_text.config import load_train_config
from sanet_text.errors import UserError
from sanet_text.imageio import load_pil
from sanet_text.stages import ImageStage
from sanet_text.tiling import render_tiled, tile_windows
from sanet_text.train import train
from train_helpers import final_weights, train_config  # noqa: F401 (a fixture)

# ---------------------------------------------------------------- training: damaged checkpoints


def stop_after(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    """Ctrl-C the next run right after it saved the checkpoint of ``step``."""
    real = train_module.save_checkpoint

    def save(run_dir: Path, at: int, *args, **kwargs) -> Path:
        path = real(run_dir, at, *args, **kwargs)
        if at == step:
            raise KeyboardInterrupt
        return path

    monkeypatch.setattr(train_module, "save_checkpoint", save)


@pytest.fixture
def stopped_run(train_config, monkeypatch) -> Callable[..., tuple[Path, dict[str, torch.Tensor]]]:
    """``make(at=4, **fields)``: a run stopped after its step-``at`` checkpoint, and its straight twin's final weights."""

    def make(at: int = 4, **fields) -> tuple[Path, dict[str, torch.Tensor]]:
        straight = train(load_train_config(train_config("straight", **fields)))
        config = load_train_config(train_config("run", **fields))
        with monkeypatch.context() as patch:
            stop_after(patch, at)
            with pytest.raises(KeyboardInterrupt):
                train(config)
        return Path(config.output_dir), final_weights(straight)

    return make


def resume(run: Path, capsys: pytest.CaptureFixture) -> str:
    """Resume ``run`` through the training command; its exit code must be 0. Returns stdout."""
    capsys.readouterr()  # the progress bars of the runs that made the folder
    code = train_module.main(["--config", str(run.with_suffix(".yaml")), "--resume"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def assert_same(run: Path, expected: dict[str, torch.Tensor]) -> None:
    """``run`` ended at step 6 with ``expected`` weights, bit for bit, and logged each step once."""
    assert latest_checkpoint(run).name == "step_0000006"
    weights = final_weights(run)
    assert weights.keys() == expected.keys() and all(torch.equal(weights[k], expected[k]) for k in weights)
    with (run / "metrics.csv").open(newline="") as handle:
        assert [int(row["step"]) for row in csv.DictReader(handle)] == [1, 2, 3, 4, 5, 6]


def step_file(run: Path, step: int, name: str) -> Path:
    return run / "checkpoints" / f"step_{step:07d}" / name


def corrupt_tail(path: Path) -> None:
    """Overwrite the last 4 KB with other bytes, keeping the size: what a failing disk block does."""
    data = bytearray(path.read_bytes())
    data[-4096:] = bytes((b + 101) % 256 for b in data[-4096:])
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE = {
    "weights corrupted in place": ("weights.safetensors", corrupt_tail),
    "weights truncated": ("weights.safetensors", truncate),
    "optimizer truncated": ("optimizer.pt", truncate),
    "state truncated": ("state.json", truncate),
}


@pytest.mark.parametrize("case", DAMAGE)
def test_damaged_newest_checkpoint_falls_back_to_the_previous_one(stopped_run, capsys, case) -> None:
    run, expected = stopped_run()
    name, damage = DAMAGE[case]
    damage(step_file(run, 4, name))
    out = resume(run, capsys)
    assert "from step 2" in out and f"step_0000004: {name}" in out
    assert_same(run, expected)


def test_missing_latest_still_guards_the_run_and_resumes_the_newest(stopped_run, capsys) -> None:
    run, expected = stopped_run()
    (run / "checkpoints" / "latest").unlink()
    with pytest.raises(UserError, match="already holds checkpoints"):
        train(load_train_config(run.with_suffix(".yaml")))
    out = resume(run, capsys)
    assert "from step 4" in out and "latest is missing" in out
    assert_same(run, expected)


def test_dangling_latest_resumes_the_newest_that_exists(stopped_run, capsys) -> None:
    run, expected = stopped_run()
    shutil.rmtree(step_file(run, 4, ""))  # latest still names it
    out = resume(run, capsys)
    assert "from step 2" in out and "names 'step_0000004', which does not exist" in out
    assert_same(run, expected)


NOTHING_VALID = {
    "only a dangling latest": lambda run: [shutil.rmtree(f) for f in checkpoint_folders(run)],
    "every checkpoint corrupted": lambda run: [corrupt_tail(f / "weights.safetensors") for f in checkpoint_folders(run)],
}


@pytest.mark.parametrize("case", NOTHING_VALID)
def test_nothing_valid_to_resume_is_one_line_and_touches_nothing(stopped_run, capsys, case) -> None:
    run, _ = stopped_run()
    NOTHING_VALID[case](run)
    before = sorted(p.relative_to(run) for p in (run / "checkpoints").rglob("*"))
    capsys.readouterr()  # the progress bars of the runs that made the folder
    code = train_module.main(["--config", str(run.with_suffix(".yaml")), "--resume"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and f"{run / 'checkpoints'} holds no valid checkpoint" in err[0]
    assert sorted(p.relative_to(run) for p in (run / "checkpoints").rglob("*")) == before


def test_rotation_keeps_the_new_checkpoint_past_invalid_newer_ones(stopped_run, capsys) -> None:
    # keep_checkpoints 2, and two invalid folders sorting after the one being written: rotating by
    # name alone would delete the fresh step 4 and the good step 2 and keep only the broken two.
    run, expected = stopped_run(at=2, steps=4, keep_checkpoints=2)
    for step in (6, 8):
        shutil.copytree(step_file(run, 2, ""), step_file(run, step, ""))
        corrupt_tail(step_file(run, step, "weights.safetensors"))
    out = resume(run, capsys)
    assert "from step 2" in out and "step_0000008: weights.safetensors" in out
    assert latest_checkpoint(run).name == "step_0000004"
    weights = final_weights(run)
    assert all(torch.equal(weights[k], expected[k]) for k in weights)


def test_nan_loss_stops_the_run_and_is_never_saved(train_config, monkeypatch) -> None:
    forward, calls = ImageStage.forward, []

    def nan_from_step_5(self, *args, **kwargs):
        calls.append(1)
        total, terms, out = forward(self, *args, **kwargs)
        return (total * float("nan") if len(calls) >= 5 else total), terms, out

    monkeypatch.setattr(ImageStage, "forward", nan_from_step_5)
    config = load_train_config(train_config("nan", log_every=3))  # found at the step-6 checkpoint, not the log
    with pytest.raises(UserError, match=r"loss is not finite .* at step 5; .* last good checkpoint is .*step_0000004"):
        train(config)
    run = Path(config.output_dir)
    assert [f.name for f in checkpoint_folders(run)] == ["step_0000002", "step_0000004"]
    assert latest_checkpoint(run).name == "step_0000004"  # verified, finite


def test_non_finite_weights_are_never_written(tmp_path) -> None:
    with pytest.raises(UserError, match="weight w is not finite"):
        save_checkpoint(tmp_path, 1, {"w": torch.tensor([1.0, float("inf")])}, {}, {}, {})
    assert not (tmp_path / "checkpoints").exists()


# A training run that SIGKILLs itself while writing step 4's optimizer state: no cleanup code runs.
KILLED_CHILD = textwrap.dedent("""
    import os, signal, sys, torch
    real_save = torch.save

    def save(obj, path, *args, **kwargs):
        if "step_0000004" in str(path):
            with open(path, "wb") as handle:
                handle.write(b"half an optimizer")
            os.kill(os.getpid(), signal.SIGKILL)
        return real_save(obj, path, *args, **kwargs)

    torch.save = save
    from sanet_text.train import main
    main(["--config", sys.argv[1]])
""")


def test_sigkill_during_a_save_resumes_bit_exactly(train_config, capsys) -> None:
    straight = train(load_train_config(train_config("straight")))
    config = train_config("killed")
    run = Path(load_train_config(config).output_dir)
    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), "OMP_NUM_THREADS": "1"}
    child = subprocess.run([sys.executable, "-c", KILLED_CHILD, str(config)], capture_output=True, text=True,
                           timeout=300, env=env)
    assert child.returncode == -9, child.stderr[-2000:]
    assert [p.name.split(".")[1] for p in (run / "checkpoints").glob(".step_*")] == ["step_0000004"]
    assert latest_checkpoint(run).name == "step_0000002"
    assert "from step 2" in resume(run, capsys)
    assert_same(run, final_weights(straight))  # rows 3 and 4 of the killed run are not there twice
    assert not list((run / "checkpoints").glob(".step_*"))  # the half-written folder is cleared


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_code_carrying_pickle_is_refused_even_with_matching_checksums(stopped_run, capsys, tmp_path) -> None:
    run, expected = stopped_run()
    marker, pickle_file = tmp_path / "pwned", step_file(run, 4, "optimizer.pt")
    torch.save({"optimizer": _RunsCode(marker)}, pickle_file)
    torch.load(pickle_file, weights_only=False)  # the payload is live: plain unpickling runs it
    assert marker.exists()
    marker.unlink()
    sums = json.loads(step_file(run, 4, "checksums.json").read_text())
    data = pickle_file.read_bytes()  # an attacker who can write the folder can forge its checksums too
    sums["files"]["optimizer.pt"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    step_file(run, 4, "checksums.json").write_text(json.dumps(sums))
    out = resume(run, capsys)
    assert not marker.exists()
    assert "from step 2" in out and "step_0000004: optimizer.pt is not a plain tensor file, refused" in out
    assert_same(run, expected)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_checkpoints_get_the_usual_permissions(train_config, umask) -> None:
    old = os.umask(umask)
    try:
        run = train(load_train_config(train_config("perms", steps=2)))
    finally:
        os.umask(old)
    folder = latest_checkpoint(run)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
    for path in [*folder.iterdir(), run / "checkpoints" / "latest", run / "metrics.csv"]:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


# ---------------------------------------------------------------- the sanet-text command


@pytest.fixture
def files(tmp_path, write_image, monkeypatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    return {"content": write_image("photo.png", 67, 45, seed=1), "style": write_image("paint.png", 50, 38, seed=2)}


@pytest.fixture
def run(tiny_weights, capsys):
    """The CLI with the tiny model; returns (exit code, stdout lines, stderr lines)."""

    def invoke(*args: object) -> tuple[int, list[str], list[str]]:
        code = cli.main(["--size", "0", "--style-size", "0", *map(str, args), *tiny_weights])
        out, err = capsys.readouterr()
        return code, out.splitlines(), err.splitlines()

    return invoke


def assert_one_line_error(code: int, err: list[str], expected: str) -> None:
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("sanet-text: error: ") and expected in err[0]


def test_long_non_latin_prompt_is_a_prompt(files, run) -> None:
    prompt = "梵高的星空，旋转的夜空与明亮的星星，浓厚的笔触" * 4  # 92 characters, 276 bytes: over NAME_MAX
    assert len(prompt.encode()) > 255
    code, out, err = run(files["content"], prompt, "--size", 32)
    assert code == 0, err
    assert Path("photo_prompt.png").is_file() and prompt in out[0]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("where", ["content", "style", "style.png"])
def test_fifo_is_refused_not_waited_on(files, run, where) -> None:
    fifo = Path("pipe.png" if where == "style.png" else "pipe")
    os.mkfifo(fifo)
    args = [fifo, "--style", files["style"]] if where == "content" else [files["content"], "--style", fifo]
    code, out, err = run(*args, "-o", "out.png")
    assert_one_line_error(code, err, f"{fifo} is not a regular file")
    assert not out and not Path("out.png").exists()


def test_size_limit_message_gives_the_real_limit(files, run, tmp_path) -> None:
    _png_header_only(tmp_path / "big.png", 10_000, 9_000)  # 90 MP
    code, _, err = run(tmp_path / "big.png", "--style", files["style"])
    assert_one_line_error(code, err, "over the 89.5 MP safety limit")
    _png_header_only(tmp_path / "fits.png", 9_900, 9_000)  # 89.1 MP: passes the guard, fails for lack of pixels
    with pytest.raises(UserError, match="corrupt or truncated"):
        load_pil(tmp_path / "fits.png")


def test_ctrl_c_while_writing_leaves_no_half_image(files, run, monkeypatch) -> None:
    def interrupted(self, fp, *args, **kwargs):
        Path(fp).write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", interrupted)
    code, out, _ = run(files["content"], "--style", files["style"], "-o", "out.png")
    assert code == 130 and not out
    assert sorted(p.name for p in Path(".").iterdir()) == ["paint.png", "photo.png"]


REFUSED_FOLDER_RUNS = {
    "two inputs, one output name": lambda folder, f: [(folder / "a.jpg").write_bytes(f["style"].read_bytes())],
    "every image broken": lambda folder, f: [(folder / "a.png").write_text("not an image")],
}


@pytest.mark.parametrize("case", REFUSED_FOLDER_RUNS)
def test_refused_folder_run_leaves_no_empty_output_folder(files, run, case) -> None:
    folder = Path("photos")
    folder.mkdir()
    shutil.copy(files["content"], folder / "a.png")
    REFUSED_FOLDER_RUNS[case](folder, files)
    code, out, err = run(folder, "--style", files["style"], "-o", "styled/deeper")
    assert code == 2 and not out and err
    assert not Path("styled").exists()


def test_folder_run_creates_its_output_folder_with_the_first_image(files, run) -> None:
    folder = Path("photos")
    folder.mkdir()
    shutil.copy(files["content"], folder / "a.png")
    code, _, err = run(folder, "--style", files["style"], "-o", "styled/deeper")
    assert code == 0, err
    assert [p.name for p in Path("styled/deeper").iterdir()] == ["a_paint.png"]


# ---------------------------------------------------------------- progress over tiles


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, shown", [(_Terminal, True), (io.StringIO, False)])
def test_tiled_render_shows_progress_on_a_terminal_only(monkeypatch, stream, shown) -> None:
    monkeypatch.setattr(sys, "stderr", stream())
    image = torch.rand(1, 3, 800, 500)
    result = render_tiled(lambda crop, where: crop, image, 384)
    tiles = len(tile_windows(800, 384)) * len(tile_windows(500, 384))
    assert tiles > 1 and torch.allclose(result, image)
    text = sys.stderr.getvalue()
    assert ("tiles:" in text and f" 0/{tiles} [" in text) == shown
