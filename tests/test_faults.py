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
import yaml
from PIL import Image

import sanet_text.models.weights as weights_module
import sanet_text.training.train as train_module
from conftest import _png_header_only
from safetensors.torch import load_file, save_file
from sanet_text.core.config import load_train_config
from sanet_text.core.disk_cache import cached_tensors
from sanet_text.core.errors import UserError
from sanet_text.frontends import cli
from sanet_text.images.processor import load_pil
from sanet_text.render.tiling import render_tiled, tile_windows
from sanet_text.stylizer import Stylizer
from sanet_text.training.checkpoint import checkpoint_folders, latest_checkpoint, save_checkpoint
from sanet_text.training.stages import ImageStage
from sanet_text.training.train import train
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
    from sanet_text.training.train import main
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
    name = out[0].split("  ")[0]
    assert name.startswith("photo_prompt-") and Path(name).is_file() and prompt[:40] in out[0]


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


# ---------------------------------------------------------------- issue 22: a hostile user's inputs
#
# The 19 cases issue 22 found wrong, and the rest of its battery: each bad input ends in one line
# and exit code 2 (never 1, the code of a bug), or works where it should. The table's rows are
# marked "#22"; every case must hold without a traceback.


def _nan_weights(tiny_weights: list[str], folder: Path) -> Path:
    state = load_file(tiny_weights[tiny_weights.index("--weights") + 1])
    name = sorted(state)[0]
    state[name] = state[name].clone().fill_(float("nan"))
    save_file(state, folder / "nan.safetensors")
    return folder / "nan.safetensors"


@pytest.fixture
def hostile(tmp_path, write_image, tiny_weights, monkeypatch) -> dict[str, str]:
    """Files a hostile user hands over, by name for the case tables (``{photo}`` etc.)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("SANET_TEXT_MAPPER", raising=False)
    paths = {"photo": write_image("photo.png", 67, 45, seed=1), "paint": write_image("paint.png", 50, 38, seed=2)}
    (tmp_path / "photos").mkdir()
    (tmp_path / "nothing").mkdir()
    shutil.copy(paths["photo"], tmp_path / "photos" / "a.png")
    paths["notes"] = tmp_path / "notes.png"
    paths["notes"].write_text("this is text, not a picture\n")
    paths["empty"] = tmp_path / "empty.png"
    paths["empty"].write_bytes(b"")
    paths["still_clip"] = tmp_path / "still.mp4"
    Image.open(paths["photo"]).save(paths["still_clip"], format="JPEG")  # a JPEG named .mp4
    paths["nan_weights"] = _nan_weights(tiny_weights, tmp_path)
    paths["half_weights"] = tmp_path / "half.safetensors"
    data = Path(tiny_weights[tiny_weights.index("--weights") + 1]).read_bytes()
    paths["half_weights"].write_bytes(data[: len(data) // 2])
    paths["vgg"] = Path(tiny_weights[tiny_weights.index("--vgg-weights") + 1])
    paths["existing"] = write_image("mine.png", 20, 20, seed=3)
    return {name: str(path) for name, path in paths.items()}


def styled(*options: str) -> list[str]:
    """The photo in the painting's style, with ``options``."""
    return ["{photo}", "--style", "{paint}", *options]


LONG_PROMPT = "a swirling night sky over a quiet village, thick impasto strokes, " * 80  # 5,280 characters

# name: (arguments, with {file} names from the hostile fixture; exit code; what the one line says)
CLI_CASES: dict[str, tuple[list[str], int, str]] = {
    "#22 empty CONTENT": (["", "watercolor"], 2, "empty CONTENT"),
    "#22 blank CONTENT": (["  ", "--style", "{paint}"], 2, "empty CONTENT"),
    "#22 empty PROMPT": (["{photo}", ""], 2, "empty text prompt"),
    "#22 empty --style": (["{photo}", "--style", ""], 2, "empty text prompt"),
    "#22 --size 100000": (styled("--size", "100000"), 2, "--size must be 0"),
    "#22 --weights holding NaN": (styled("--weights", "{nan_weights}"), 2,
                                  "hold NaN or infinite values"),
    "#22 --alpha 1e9": (styled("--alpha", "1e9"), 2, "--alpha must be a number from 0 to 4"),
    "#22 --size 12000": (styled("--size", "12000"), 2, "to 8192"),
    "#22 a 5,000-character prompt": (["{photo}", LONG_PROMPT], 2, "describe the style in at most 1000"),
    "#22 a JPEG named .mp4": (["{still_clip}", "--style", "{paint}"], 2, "is a still picture (mjpeg), not a video"),
    "#22 -o ''": (styled("-o", ""), 2, "-o is empty"),
    "#22 a 0-byte file": (["{empty}", "--style", "{paint}"], 2, "TIFF, BMP or GIF"),
    "--style-size 100000": (styled("--style-size", "100000"), 2, "--style-size must be"),
    "--size -5": (styled("--size", "-5"), 2, "must be 0"),
    "--size 2.5": (styled("--size", "2.5"), 2, "whole number of pixels"),
    "--size abc": (styled("--size", "abc"), 2, "whole number of pixels"),
    "--alpha nan": (styled("--alpha", "nan"), 2, "--alpha must be"),
    "--alpha inf": (styled("--alpha", "inf"), 2, "--alpha must be"),
    "--alpha words": (styled("--alpha", "strong"), 2, "invalid float value"),
    "--temporal 2": (styled("--temporal", "2"), 2, "--temporal must be between 0 (per frame) and 1"),
    "--temporal nan": (styled("--temporal", "nan"), 2, "--temporal must be between"),
    "--diffusion-steps 0": (styled("--diffusion-steps", "0"), 2, "steps >= 1"),
    "--diffusion-steps 100000": (styled("--diffusion-steps", "100000"), 2,
                                 "--diffusion-steps must be"),
    "--tile 5": (styled("--tile", "5"), 2, "--tile must be 0"),
    "--tile -1": (styled("--tile", "-1"), 2, "--tile must be 0"),
    "--mix nan": (styled("--mix", "nan"), 2, "--mix weights must be"),
    "--mix all zero": (styled("--style", "ink", "--mix", "0,0"), 2, "not all 0"),
    "--seed words": (styled("--seed", "lucky"), 2, "invalid int value"),
    "--precision fp64": (styled("--precision", "fp64"), 2, "invalid choice"),
    "--source nowhere": (["{photo}", "ink", "--source", "nowhere"], 2, "invalid choice"),
    "an unknown option": (styled("--sharpen"), 2, "unrecognized arguments"),
    "three positionals": (["{photo}", "ink", "wash"], 2, "unrecognized arguments"),
    "no CONTENT at all": ([], 2, "the following arguments are required"),
    "CONTENT /dev/zero": (["/dev/zero", "--style", "{paint}"], 2, "not a regular file"),
    "style /dev/null.png": (["{photo}", "--style", "/dev/null"], 2, "not a regular file"),
    "CONTENT a folder without images": (["nothing", "--style", "{paint}"], 2, "no images in folder"),
    "style a folder": (["{photo}", "--style", "photos"], 2, "is a folder, not an image"),
    "style a text file named .png": (["{photo}", "--style", "{notes}"], 2, "not an image Pillow can read"),
    "style truncated weights": (styled("--weights", "{half_weights}"), 2, "cannot read weights"),
    "VGG weights as SANet weights": (styled("--weights", "{vgg}"), 2, "do not fit"),
    "--weights missing": (styled("--weights", "gone.safetensors"), 2, "weights file not found"),
    "--weights a registry typo": (styled("--weights", "sanet-bse"), 2, "unknown weights"),
    "--vgg-weights a text file": (styled("--vgg-weights", "{notes}"), 2, "VGG-19 weights must be"),
    "--config unknown": (styled("--config", "enormous"), 2, "no model config named"),
    "-o a folder for one image that is a file": (styled("-o", "{notes}/x.png"), 2,
                                                  "is a file, not a folder"),
    "-o an input": (styled("-o", "{paint}", "--force"), 2, "is one of the inputs"),
    "-o an existing file": (styled("-o", "{existing}"), 2, "exists; pass --force"),
    "-o a file for a folder": (["photos", "--style", "{paint}", "-o", "out.png"], 2, "-o must be a folder too"),
    "-o a clip format for an image": (styled("-o", "out.mp4"), 2, "unknown output format"),
    "a mask for no style": (["{photo}", "--mask", "{paint}"], 2, "no style given"),
    "a 0-byte mask": (styled("--mask", "{empty}"), 2, "not an image Pillow can read"),
    "--save-attention on a clip-named still": (["{still_clip}", "--style", "{paint}", "--save-attention"], 2,
                                                "--save-attention works on images"),
    # good inputs that must keep working
    "a Chinese prompt": (["{photo}", "梵高的星空"], 0, ""),
    "#22 --precision bf16 with a text prompt": (["{photo}", "watercolor", "--precision", "bf16"], 0, ""),
    "an emoji prompt": (["{photo}", "🌊🎨"], 0, ""),
    "a prompt that looks like a flag's value": (["{photo}", "--style=ink wash"], 0, ""),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_hostile_command_lines_get_one_line_and_exit_2(hostile, tiny_weights, capsys, case) -> None:
    arguments, expected_code, message = CLI_CASES[case]
    # The case's own options come last, so its --weights or --config is the one that counts.
    code = cli.main(["--size", "32", "--style-size", "32", *tiny_weights, *(a.format(**hostile) for a in arguments)])
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if not line.startswith("sanet-text: note: ")]
    assert code == expected_code, err
    if expected_code:
        assert len(lines) == 1 and lines[0].startswith("sanet-text: error: ") and message in lines[0], err
        assert not out
    else:
        assert not lines and len(out.splitlines()) == 1, err


# name: (config fields or --set/--steps arguments; what the one line says)
TRAIN_CASES: dict[str, tuple[dict | list[str], str]] = {
    "#22 steps: -1": ({"steps": -1}, "steps must be a whole number >= 1, got -1"),
    "#22 batch_size: 0": ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
    "#22 checkpoint_every: 0": ({"checkpoint_every": 0}, "checkpoint_every must be"),
    "#22 log_every: 0": ({"log_every": 0}, "log_every must be"),
    "#22 --set lr=-1": (["--set", "lr=-1"], "lr must be a number > 0, got -1.0"),
    "#22 --steps abc": (["--steps", "abc"], "argument --steps: invalid int value"),
    "#22 a missing style folder": ({"style_dirs": ["no/such/styles"]}, "image folder not found: no/such/styles"),
    "steps: abc": ({"steps": "abc"}, "steps must be a whole number >= 1, got 'abc'"),
    "steps: 1.5": ({"steps": 1.5}, "steps must be a whole number"),
    "steps: true": ({"steps": True}, "steps must be a whole number"),
    "lr: .nan": ({"lr": float("nan")}, "lr must be a number > 0"),
    "lr_min above lr": ({"lr": 1e-4, "lr_min": 1e-3}, "lr_min (0.001) must not exceed lr"),
    "sample_every: 0": ({"sample_every": 0}, "sample_every must be"),
    "keep_checkpoints: 0": ({"keep_checkpoints": 0}, "keep_checkpoints must be"),
    "grad_accum: 0": ({"grad_accum": 0}, "grad_accum must be"),
    "warmup_steps: -5": ({"warmup_steps": -5}, "warmup_steps must be a whole number >= 0"),
    "crop: 4": ({"crop": 4}, "crop must be a whole number >= 16"),
    "scale reversed": ({"scale": [640, 384]}, "scale must be two whole numbers, the smaller first"),
    "scale below crop": ({"crop": 256, "scale": [128, 384]}, "neither below crop (256)"),
    "identity_batch above batch_size": ({"batch_size": 2, "identity_batch": 4}, "identity_batch (4) must not exceed"),
    "synthetic_styles: 2": ({"synthetic_styles": 2}, "synthetic_styles must be a number from 0 to 1"),
    "mixed_precision: fp8": ({"mixed_precision": "fp8"}, "mixed_precision must be one of no, bf16, fp16"),
    "stage: video": ({"stage": "video"}, "stage must be one of image, text"),
    "losses.style: -3": ({"losses": {"style": -3}}, "losses.style must be a number >= 0"),
    "clip.patches: 0": ({"clip": {"patches": 0}}, "clip.patches must be"),
    "--set nonsense=1": (["--set", "nonsense=1"], "unknown key 'nonsense'"),
    "an unknown YAML key": ({"stpes": 10}, "unknown key(s) stpes"),
}


@pytest.mark.parametrize("case", TRAIN_CASES)
def test_hostile_training_configs_get_one_line_and_exit_2_before_any_work(train_config, capsys, case) -> None:
    change, message = TRAIN_CASES[case]
    config = with_fields(train_config("run"), change if isinstance(change, dict) else {})
    arguments = change if isinstance(change, list) else []
    code = train_module.main(["--config", str(config), *arguments])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("sanet-text train: error: ") and message in err[0], err
    assert not (config.parent / "run").exists()  # refused before the run folder is made


def with_fields(config: Path, fields: dict) -> Path:
    """``config`` rewritten with ``fields`` (any key, folders too)."""
    data = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**data, **fields}))
    return config


def test_a_failed_training_run_leaves_no_config_behind(train_config, tmp_path) -> None:
    (tmp_path / "no_images").mkdir()
    config = with_fields(train_config("run"), {"style_dirs": [str(tmp_path / "no_images")]})
    assert train_module.main(["--config", str(config)]) == 2
    assert not (config.parent / "run" / "config.json").exists()


def _api_cases() -> dict[str, Callable[[Stylizer, torch.Tensor, torch.Tensor], object]]:
    nan = torch.full((3, 40, 40), float("nan"))
    return {
        "#22 a NaN content tensor": lambda s, photo, paint: s(nan, [paint]),
        "#22 size=-5": lambda s, photo, paint: s(photo, [paint], size=-5),
        "#22 style_size=-3": lambda s, photo, paint: s(photo, [paint], style_size=-3),
        "#22 a 4-D mask": lambda s, photo, paint: s(photo, [paint], masks=[torch.ones(1, 1, 45, 67)]),
        "#22 size=100000": lambda s, photo, paint: s(photo, [paint], size=100000),
        "a NaN style tensor": lambda s, photo, paint: s(photo, [nan]),
        "an infinite mask": lambda s, photo, paint: s(photo, [paint], masks=[torch.full((45, 67), float("inf"))]),
        "alpha=1e9": lambda s, photo, paint: s(photo, [paint], alpha=1e9),
        "size=512.0": lambda s, photo, paint: s(photo, [paint], size=512.0),
        "Stylizer(style_size=-3)": lambda s, photo, paint: Stylizer(s.model, style_size=-3),
        "a 5,000-character prompt": lambda s, photo, paint: s(photo, [LONG_PROMPT]),
    }


@pytest.mark.parametrize("case", _api_cases())
def test_hostile_python_api_calls_raise_user_error(tiny_model, case) -> None:
    photo, paint = torch.rand(3, 45, 67), torch.rand(3, 38, 50)
    with pytest.raises(UserError) as caught:
        _api_cases()[case](Stylizer(tiny_model), photo, paint)
    assert "\n" not in str(caught.value)


def test_size_up_to_the_limit_still_fits_the_pixel_budget() -> None:
    from sanet_text.options.validation import MAX_SIDE, check_render_size

    check_render_size(MAX_SIDE, MAX_SIDE * 4 // 3)  # a 4:3 photo at the largest --size
    with pytest.raises(UserError, match="over the 89.5 MP limit"):
        check_render_size(MAX_SIDE, MAX_SIDE * 2)


# ---------------------------------------------------------------- issue 22: names and caches


def test_prompts_in_other_scripts_get_names_of_their_own(hostile, run) -> None:
    names = []
    for prompt in ("梵高的星空", "لوحة زيتية", "🌟"):
        code, out, err = run(hostile["photo"], prompt, "--size", 32, "--style-size", 32)
        assert code == 0, err
        names.append(out[0].split("  ")[0])
    code, out, err = run(hostile["photo"], "--style", shutil.copy(hostile["paint"], "starry.png"), "--size", 32)
    names.append(out[0].split("  ")[0])
    # Words beside an emoji keep their slug.
    code, out, err = run(hostile["photo"], "starry ✨", "--size", 32, "--style-size", 32)
    names.append(out[0].split("  ")[0])
    assert len(set(names)) == len(names) and all(Path(name).is_file() for name in names), names
    assert names[-1].startswith("photo_starry-") and names[0].startswith("photo_prompt-")


def test_a_long_prompt_is_shortened_in_the_output_line(hostile, run) -> None:
    prompt = "thick swirling brush strokes of a starry night over a village " * 10  # 630 characters
    code, out, err = run(hostile["photo"], prompt, "--size", 32, "--style-size", 32)
    assert code == 0, err
    assert prompt.strip() not in out[0] and f"{prompt[:79]}…" in out[0]


@pytest.mark.parametrize("place", ["a file", "under a file", "a read-only folder"])
def test_an_unusable_cache_location_is_one_note_and_the_run_goes_on(hostile, run, tmp_path, monkeypatch,
                                                                     place) -> None:
    if place == "a read-only folder" and os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    cache = {"a file": blocker, "under a file": blocker / "cache", "a read-only folder": tmp_path / "locked"}[place]
    if place == "a read-only folder":
        cache.mkdir(mode=0o500)
    monkeypatch.setenv("SANET_TEXT_CACHE", str(cache))
    # A prompt: text embeddings and exemplar features would be cached.
    code, out, err = run(hostile["photo"], "ink wash", "--size", 32, "--style-size", 32)
    assert code == 0, err
    assert len(err) == 1 and err[0].startswith("sanet-text: note: the cache folder") and "running without it" in err[0]
    assert "SANET_TEXT_CACHE" in err[0] and Path(out[0].split("  ")[0]).is_file()


@pytest.fixture
def installed_vgg(tiny_weights, tmp_path, monkeypatch) -> Path:
    """The registry's VGG-19 resolves to the tiny encoder's file, cached in a private cache."""
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SANET_TEXT_VGG", raising=False)
    monkeypatch.setattr(weights_module, "installed_file", lambda spec: Path(tiny_weights[3]))
    return tmp_path / "cache" / weights_module.registry()["vgg19"].cache_file


@pytest.mark.parametrize("damage", [truncate, corrupt_tail, lambda path: path.write_bytes(b"")],
                         ids=["truncated", "corrupted in place", "emptied"])
def test_a_damaged_cached_vgg_is_rebuilt_with_one_note(installed_vgg, capsys, damage) -> None:
    first = weights_module.resolve_vgg("vgg19")
    assert installed_vgg.is_file() and not capsys.readouterr().err
    damage(installed_vgg)
    again = weights_module.resolve_vgg("vgg19")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"the cached VGG-19 weights {installed_vgg} was damaged" in err[0]
    assert again.keys() == first.keys() and all(torch.equal(again[k], first[k]) for k in first)
    assert weights_module.resolve_vgg("vgg19").keys() == first.keys()  # rebuilt: read back without a note
    assert not capsys.readouterr().err


def test_damaged_cached_tensors_are_computed_again(tmp_path, capsys) -> None:
    path, calls = tmp_path / "embeddings.safetensors", []

    def compute() -> dict[str, torch.Tensor]:
        calls.append(1)
        return {"embeddings": torch.arange(6.0).view(2, 3)}

    for damage in (None, corrupt_tail, truncate):
        if damage is not None:
            path.write_bytes(path.read_bytes() * 3000)  # big enough to damage the data, not only the header
            cached_tensors(path, ("embeddings",), compute, what="text embeddings")
            damage(path)
        assert torch.equal(cached_tensors(path, ("embeddings",), compute, what="text embeddings")["embeddings"],
                           torch.arange(6.0).view(2, 3))
    assert len(calls) == 5  # the first, then each damaged file (the tripled one too) made again
    assert capsys.readouterr().err.count("the cached text embeddings") == 1  # once per process
    save_file({"embeddings": torch.zeros(2, 3)}, path)  # as versions before checksums wrote it
    assert torch.equal(cached_tensors(path, ("embeddings",), compute)["embeddings"], torch.arange(6.0).view(2, 3))
    assert len(calls) == 6 and not capsys.readouterr().err  # made again, quietly


def test_a_truncated_quick_path_graph_is_rebuilt_by_the_next_full_run(tiny_weights, tmp_path, monkeypatch,
                                                                    capsys) -> None:
    pytest.importorskip("onnxruntime")
    from sanet_text.core.paths import EXAMPLES_DIR
    from sanet_text.frontends import quick

    monkeypatch.delenv("SANET_TEXT_QUICK")
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    argv = [str(EXAMPLES_DIR / "chelsea.jpg"), "--style", str(EXAMPLES_DIR / "starry_night.jpg"), "-o", "out.png",
            "--force", *tiny_weights]
    assert cli.main(argv) == 0
    (graph,) = (tmp_path / "cache" / "quick").glob("graph-*.onnx")
    truncate(graph)
    capsys.readouterr()
    assert quick.try_run(argv) is None  # the damaged graph is not used
    assert cli.main(argv) == 0
    assert "quick-path graph" in capsys.readouterr().err
    assert quick.try_run(argv) == 0  # rebuilt: the quick path runs again
