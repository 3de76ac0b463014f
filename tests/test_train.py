"""Training on the tiny model: losses fall, checkpoints resume exactly, accelerate runs 2 processes."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sanet_text.core.config import TrainConfig, load_train_config
from sanet_text.core.errors import UserError
from sanet_text.models import losses as L
from sanet_text.models.model import build_model
from sanet_text.training.checkpoint import checkpoint_folders, latest_checkpoint, resume_point
from sanet_text.training.overrides import apply_overrides
from sanet_text.training.stages import ImageStage
from sanet_text.training.train import main as train_main
from sanet_text.training.train import train
from train_helpers import final_weights, train_config  # noqa: F401 (a fixture)


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


def test_a_recipe_in_phases_stops_at_exact_steps_and_resumes_with_new_weights(train_config) -> None:
    straight = train(load_train_config(train_config("straight")))
    phased = load_train_config(train_config("phased"))
    train(phased, until=2)
    assert latest_checkpoint(Path(phased.output_dir)).name == "step_0000002"
    with pytest.raises(UserError, match="already at step 2"):
        train(phased, resume=True, until=2)
    resumed = train(phased, resume=True)  # same weights: the same run as the straight one
    a, b = final_weights(straight), final_weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = load_train_config(train_config("other"))
    train(other, until=2)
    heavier = dataclasses.replace(other, losses=dataclasses.replace(other.losses, content=50.0))
    c = final_weights(train(heavier, resume=True))  # a second phase with another content weight
    assert not all(torch.equal(a[k], c[k]) for k in a)


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


def test_set_overrides_any_field_typed_by_the_dataclass() -> None:
    config = apply_overrides(TrainConfig(), [
        "steps=7", "lr=3e-4", "train_sanet=yes", "mixed_precision=no", "content_dirs=a,b",
        "losses.style=5", "clip.model=ViT-B-32", "clip.config={embed_dim: 8}", "clip.templates=",
    ])
    assert (config.steps, config.lr, config.train_sanet, config.mixed_precision) == (7, 3e-4, True, "no")
    assert config.content_dirs == ("a", "b") and config.losses.style == 5.0 and config.losses.content == 1.0
    assert config.clip.model == "ViT-B-32" and config.clip.config == {"embed_dim": 8} and config.clip.templates == ()


@pytest.mark.parametrize("assignment, expected", [
    ("stepz=3", "unknown key 'stepz'"),
    ("losses.styel=3", "unknown key 'styel'"),
    ("steps=1.5", "whole number"),
    ("lr=nan", "finite"),
    ("train_sanet=maybe", "true or false"),
    ("losses=3", "is a group"),
    ("steps.x=3", "no keys of its own"),
    ("steps", "key=value"),
    ("clip.config=[1, 2]", "mapping"),
])
def test_set_rejects_bad_keys_and_values_in_one_line(train_config, capsys, assignment, expected) -> None:
    assert train_main(["--config", str(train_config("bad")), "--set", assignment]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and expected in err[0] and assignment in err[0]


def test_set_and_shortcuts_reach_the_run(train_config, tmp_path) -> None:
    out = tmp_path / "elsewhere"
    assert train_main(["--config", str(train_config("set")), "--steps", "2", "--output-dir", str(out),
                       "--set", "losses.style=4", "--set", "checkpoint_every=1"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["steps"] == 2 and saved["losses"]["style"] == 4 and saved["checkpoint_every"] == 1
    assert [p.name for p in checkpoint_folders(out)] == ["step_0000001", "step_0000002"]


def test_grad_scaler_state_is_checkpointed_and_restored(train_config, monkeypatch) -> None:
    """fp16 runs have a GradScaler only on GPUs; a CPU scaler injected into accelerate stands in for it.

    It doubles its scale every step, and clipping sees scaled gradients here, so a resume that
    forgot the scale would end with another scale and other weights.
    """
    from accelerate import Accelerator

    real_init = Accelerator.__init__

    def with_scaler(self, *args, **kwargs) -> None:
        real_init(self, *args, **kwargs)
        self.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**4, growth_interval=1)

    monkeypatch.setattr(Accelerator, "__init__", with_scaler)
    straight = train(load_train_config(train_config("straight")))
    interrupted = load_train_config(train_config("interrupted"))
    train(interrupted, max_minutes=0)
    resumed = train(interrupted, resume=True)
    scales = [resume_point(run).optimizer["scaler"]["scale"] for run in (straight, resumed)]
    assert scales == [2.0**10, 2.0**10]
    a, b = final_weights(straight), final_weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
