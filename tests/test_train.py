"""Training on the tiny model: losses fall, checkpoints resume exactly, accelerate runs 2 processes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sanet_text import losses as L
from sanet_text.checkpoint import latest_checkpoint
from sanet_text.config import load_train_config
from sanet_text.errors import UserError
from sanet_text.model import build_model
from sanet_text.stages import ImageStage
from sanet_text.train import train
from train_helpers import final_weights, write_run_config


def _write_images(folder: Path, kind: str, n: int = 3) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0 if kind == "content" else 1)
    for i in range(n):
        y, x = np.mgrid[0:48, 0:64]
        if kind == "content":  # smooth gradients with a blob: photo-like structure
            img = np.stack([x / 64, y / 48, ((x - 32) ** 2 + (y - 24) ** 2 < 150 + 50 * i) * 0.8], -1)
        else:  # saturated stripes: strong, easy-to-measure style statistics
            img = np.stack([(np.sin(x / (2 + i)) > 0) * 1.0, rng.random((48, 64)) * 0.3, (np.cos(y / 3) > 0) * 0.9], -1)
        Image.fromarray((img * 255).astype(np.uint8)).save(folder / f"{kind}_{i}.png")


@pytest.fixture
def train_config(tmp_path: Path):
    _write_images(tmp_path / "content", "content")
    _write_images(tmp_path / "style" / "nested", "style")

    def make(name: str, **overrides):
        return write_run_config(Path("configs/train/tiny.yaml"), tmp_path, name, content_dirs=[str(tmp_path / "content")],
                                style_dirs=[str(tmp_path / "style")], **overrides)

    return make


def test_directional_loss_is_0_aligned_and_2_opposite() -> None:
    content = torch.zeros(2, 8)
    direction = torch.randn(1, 8)
    assert L.clip_directional_loss(content + direction, content, direction).item() == pytest.approx(0, abs=1e-6)
    assert L.clip_directional_loss(content - direction, content, direction).item() == pytest.approx(2, abs=1e-6)


def test_patch_loss_rejects_aligned_patches() -> None:
    direction = torch.randn(1, 8)
    patches = torch.stack([direction[0], -direction[0]])  # one aligned (loss 0), one opposite (loss 2)
    assert L.patch_clip_directional_loss(patches, torch.zeros(2, 8), direction, threshold=0.5).item() == pytest.approx(1.0)


def test_attention_entropy_is_1_for_uniform_and_0_for_one_hot() -> None:
    uniform = torch.full((1, 3, 10), 0.1)
    one_hot = torch.nn.functional.one_hot(torch.tensor([[1, 2, 3]]), 10).float()
    assert L.attention_entropy(uniform).item() == pytest.approx(1.0, abs=1e-4)
    assert L.attention_entropy(one_hot).item() == pytest.approx(0.0, abs=1e-4)


def test_training_lowers_the_loss_and_writes_checkpoint_samples_metrics(train_config) -> None:
    config = load_train_config(train_config("run", steps=40, lr=0.01, checkpoint_every=20, sample_every=20))
    stage = ImageStage(build_model("tiny"), config.losses)
    batch = next(stage.batches(dataclasses.replace(config, seed=99), 0, 0, 1))  # crops training never sees

    def loss() -> float:
        with torch.no_grad():
            return float(stage(**batch)[0])

    before = loss()
    run = train(config)
    stage.model.load_state_dict(final_weights(run), strict=False)
    assert loss() < 0.7 * before
    assert (run / "metrics.csv").read_text().splitlines()[0].startswith("step,lr,loss")
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000020.png", "step_0000040.png"]
    assert latest_checkpoint(run).name == "step_0000040"


def test_interrupted_run_resumes_to_identical_state(train_config) -> None:
    straight = train(load_train_config(train_config("straight")))
    interrupted = load_train_config(train_config("interrupted"))
    train(interrupted, max_minutes=0)  # stops (with a checkpoint) after its first step, like a kill
    assert latest_checkpoint(Path(interrupted.output_dir)).name == "step_0000001"
    with pytest.raises(UserError, match="--resume"):
        train(interrupted)  # never silently restarts over an existing run
    resumed = train(interrupted, resume=True)
    a, b = final_weights(straight), final_weights(resumed)
    assert latest_checkpoint(resumed).name == "step_0000006"
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_half_written_checkpoint_is_ignored(train_config) -> None:
    config = load_train_config(train_config("partial"))
    run = train(config, max_minutes=0)
    (run / "checkpoints" / ".step_0000002.tmp").mkdir()  # what a kill during a save leaves behind
    assert latest_checkpoint(run).name == "step_0000001"
    train(config, resume=True)
    assert latest_checkpoint(run).name == "step_0000006"


def _launch(config: Path, *extra: str) -> None:
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "-m", "sanet_text.train", "--config", str(config), *extra]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_two_process_accelerate_run_resumes_exactly(train_config) -> None:
    straight, interrupted = train_config("ddp_straight"), train_config("ddp_interrupted")
    _launch(straight)
    _launch(interrupted, "--max-minutes", "0")
    _launch(interrupted, "--resume")
    a = final_weights(Path(load_train_config(straight).output_dir))
    b = final_weights(Path(load_train_config(interrupted).output_dir))
    assert all(torch.equal(a[k], b[k]) for k in a)
