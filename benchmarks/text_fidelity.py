"""Do text prompts get what their words ask for? Style resolution and colour words, measured.

    python benchmarks/text_fidelity.py                   # everything: resolution, colours, seconds
    python benchmarks/text_fidelity.py --resolve-only    # resolution only (no SANet runs, seconds)
    python benchmarks/text_fidelity.py --source mapper --mapper-weights mapper.safetensors   # the trained mapper

On the labelled prompts of ``benchmarks/text_fidelity.yaml`` (painters, movements, media, colours,
compositions, typos, other languages, non-style prompts) it reports:

- top-1 / top-3 agreement: the first resolved style (top-3: one of the three closest) is one of the
  prompt's acceptable styles or of their family, and the output line does not say "no style"; for a
  non-style prompt, agreement is the output line saying so. Also the best-similarity threshold that
  separates style from non-style prompts on this list (what ``no_style_below`` is calibrated to).
- colour share: for each prompt that names colours, each named colour's share of the output's pixels,
  and its share for the same prompt without the colour words. A pixel counts for a colour when that
  colour is the nearest (CIELAB) of the prompt's colours and the basic colour terms, within
  ``--delta-e``. Done when each named colour covers >= 10 % and at least twice its share without
  the colour words (or >= 30 %).
- grey share for "black and white" prompts: pixels with CIELAB chroma below ``--grey-chroma``;
  done at >= 90 %.
- stroke scale: the mean absolute difference between neighbouring pixels (grey levels, 0-255) of
  "fine X", "X" and "X with thick strokes": finer strokes, more fine detail.
- seconds per prompt: resolving (parse, typo correction, sentence encoder; loaded, no cached
  embeddings), and a whole stylisation (the Stylizer warm, exemplar features cached after first use).

With ``--source mapper`` the same is measured for the text mapper, which is given the whole prompt
(colour words included: it is trained to follow them) and paints nothing after the decoder. Its
"resolved style" is the library style whose exemplar features (at the CLI's default style size, DEFAULT_SIZE) its
token sets are nearest to, by the per-channel squared Wasserstein distance it was trained with, at
relu4_1 and relu5_1; it cannot say that words name no style, so non-style prompts count as misses
(agreement is also given on the style prompts alone). Its resolving time is the sentence encoder
and the mapper.

The photos are scikit-image's astronaut, coffee and rocket (``pip install -e ".[train]"``): none
of them built the colour feature or the library's exemplars.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from sanet_text.core.sysinfo import system_info
from sanet_text.images.processor import DEFAULT_SIZE
from sanet_text.styles.colour_words import colour_table, parse_prompt
from sanet_text.styles.library import LibrarySpec, StyleLibrary
from sanet_text.styles.text_encoders import build_text_encoder

PROMPTS = Path(__file__).with_name("text_fidelity.yaml")
PHOTOS = ("astronaut", "coffee", "rocket")
# The basic colour terms (Berlin & Kay) a pixel may be nearer to than to any named colour.
BASIC_COLOURS = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple", "pink", "brown")
MIN_SHARE, MIN_GAIN, ENOUGH_SHARE, MIN_GREY = 0.10, 2.0, 0.30, 0.90


@dataclass
class Labelled:
    prompt: str
    styles: list[str]
    colours: list[str] = field(default_factory=list)
    grey: bool = False


def load_prompts(path: Path = PROMPTS) -> list[Labelled]:
    return [Labelled(**entry) for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["prompts"]]


def accepts(library: StyleLibrary, name: str, wanted: list[str]) -> bool:
    return name in wanted or library.styles[name].family in wanted


def resolution_table(library: StyleLibrary, prompts: list[Labelled]) -> dict:
    """Top-1/top-3 agreement, the misses, the calibration threshold and seconds per prompt."""
    top1 = top3 = 0
    misses, style_best, other_best, seconds = [], [], [], []
    for item in prompts:
        start = time.perf_counter()
        result = library.match(parse_prompt(item.prompt).style_text)
        seconds.append(time.perf_counter() - start)
        best = result.closest[0][1]
        if not item.styles:
            other_best.append(best)
            ok1 = ok3 = not result.named
        else:
            style_best.append(best)
            ok1 = result.named and accepts(library, result.parts[0][0], item.styles)
            ok3 = result.named and any(accepts(library, name, item.styles) for name, _ in result.closest)
        top1 += ok1
        top3 += ok3
        if not ok1:
            misses.append(f"{item.prompt!r}: {'named' if result.named else 'NO STYLE'} "
                          f"{', '.join(f'{n} {s:.2f}' for n, s in result.closest)} (wanted {item.styles or 'no style'})")
    return {"n": len(prompts), "top1": top1 / len(prompts), "top3": top3 / len(prompts), "misses": misses,
            "threshold": calibrate(style_best, other_best), "seconds": statistics.median(seconds[1:] or seconds)}


def mapper_table(library: StyleLibrary, prompts: list[Labelled], weights: Path) -> dict:
    """Top-1/top-3 agreement of the mapper's nearest library styles (see the module docstring)."""
    from sanet_text.models.losses import set_quantiles
    from sanet_text.models.mapper import build_mapper
    from sanet_text.models.model import build_model
    from sanet_text.styles.exemplar_cache import cached_exemplar_features

    mapper = build_mapper("base", weights)
    encoder = build_text_encoder(mapper.config.text_encoder)
    model = build_model("base")
    names = [style.name for style in library.spec.styles]
    exemplars = [cached_exemplar_features(model, library.styles[name], DEFAULT_SIZE) for name in names]
    targets = [torch.stack([set_quantiles(getattr(ex, f"feat{level}").flatten(2)[0], n) for ex in exemplars])
               for level, n in ((4, mapper.config.tokens4), (5, mapper.config.tokens5))]
    top1 = top3 = 0
    misses, seconds = [], []
    for item in prompts:
        start = time.perf_counter()
        with torch.no_grad():
            out = mapper.predict(encoder.encode([item.prompt]))
        seconds.append(time.perf_counter() - start)
        distance = sum(((tokens.sort(-1).values - target) ** 2).mean((1, 2))
                       for tokens, target in zip((out.feat4, out.feat5), targets))
        order = [names[i] for i in distance.argsort()[:3].tolist()]
        ok1 = bool(item.styles) and accepts(library, order[0], item.styles)
        top1 += ok1  # a non-style prompt is never a hit, so this also counts the style prompts' hits
        top3 += bool(item.styles) and any(accepts(library, name, item.styles) for name in order)
        if not ok1:
            misses.append(f"{item.prompt!r}: nearest {', '.join(order)} (wanted {item.styles or 'no style'})")
    styled = sum(bool(item.styles) for item in prompts)
    return {"n": len(prompts), "top1": top1 / len(prompts), "top3": top3 / len(prompts), "misses": misses,
            "styled_top1": top1 / styled, "seconds": statistics.median(seconds[1:] or seconds)}


def calibrate(style_best: list[float], other_best: list[float]) -> tuple[float, float]:
    """The best-similarity threshold that classifies this list's prompts as style / non-style with the
    fewest errors (midway between neighbouring scores), and its accuracy."""
    scores = sorted(style_best + other_best)
    candidates = [(a + b) / 2 for a, b in zip(scores, scores[1:])] or [0.0]
    def accuracy(t: float) -> float:
        return (sum(s >= t for s in style_best) + sum(s < t for s in other_best)) / len(scores)
    best = max(candidates, key=lambda t: (accuracy(t), -t))
    return round(best, 3), accuracy(best)


def to_lab(image: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(np.clip(image, 0, 1))


def colour_shares(image: np.ndarray, names: list[str], table: dict, delta_e: float) -> dict[str, float]:
    """Each named colour's share of the (H, W, 3) image's pixels (see the module docstring)."""
    references = list(dict.fromkeys([*names, *BASIC_COLOURS]))
    ref_lab = to_lab(np.array([[table[n] for n in references]]))[0]
    lab = to_lab(image).reshape(-1, 3)
    distance = np.linalg.norm(lab[:, None, :] - ref_lab[None], axis=-1)
    nearest = distance.argmin(1)
    close = distance[np.arange(len(lab)), nearest] < delta_e
    return {name: float(np.mean((nearest == references.index(name)) & close)) for name in names}


def grey_share(image: np.ndarray, chroma: float) -> float:
    lab = to_lab(image)
    return float(np.mean(np.hypot(lab[..., 1], lab[..., 2]) < chroma))


def photos() -> dict[str, np.ndarray]:
    from skimage import data

    return {name: getattr(data, name)()[..., :3] for name in PHOTOS}


def colour_table_rows(prompts: list[Labelled], size: int, delta_e: float, chroma: float,
                      **options: object) -> tuple[list[str], list[float], int, int]:
    """Stylise every colour and black-and-white prompt, with and without its colour words, on each photo;
    ``options`` go to the Stylizer (the text source)."""
    from sanet_text import Stylizer

    stylizer = Stylizer.from_pretrained(device="cpu", **options)
    table = colour_table()
    rows, seconds, passed, total = [], [], 0, 0
    pictures = photos()
    renders: dict[tuple[str, str], np.ndarray] = {}

    def render(photo: str, prompt: str) -> np.ndarray:
        if (photo, prompt) not in renders:
            start = time.perf_counter()
            out = stylizer(pictures[photo], [prompt], size=size)
            seconds.append(time.perf_counter() - start)
            renders[photo, prompt] = out.image.permute(1, 2, 0).numpy()
        return renders[photo, prompt]

    for item in [p for p in prompts if p.colours or p.grey]:
        plain = parse_prompt(item.prompt).style_text
        for photo in pictures:
            total += 1
            if item.grey:
                share = grey_share(render(photo, item.prompt), chroma)
                before = grey_share(render(photo, plain), chroma)
                ok = share >= MIN_GREY
                cells = f"grey {share:.0%} (without: {before:.0%})"
            else:
                with_words = colour_shares(render(photo, item.prompt), item.colours, table, delta_e)
                without = colour_shares(render(photo, plain), item.colours, table, delta_e)
                ok = all(with_words[c] >= MIN_SHARE and (with_words[c] >= MIN_GAIN * without[c] or with_words[c] >= ENOUGH_SHARE)
                         for c in item.colours)
                cells = ", ".join(f"{c} {with_words[c]:.0%} (without: {without[c]:.0%})" for c in item.colours)
            passed += ok
            rows.append(f"| {item.prompt} | {photo} | {cells} | {'yes' if ok else 'NO'} |")
    return rows + ["", "| style | photo | fine | as is | thick |", "| --- | --- | ---: | ---: | ---: |",
                   *stroke_rows(render)], seconds, passed, total


SCALE_STYLES = ("oil painting", "watercolour", "cubism")


def stroke_detail(image: np.ndarray) -> float:
    grey = image.mean(-1) * 255
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean()) / 2


def stroke_rows(render) -> list[str]:
    """Fine detail of "fine X" / "X" / "X with thick strokes" on each photo."""
    rows = []
    for style in SCALE_STYLES:
        for photo in PHOTOS:
            details = [stroke_detail(render(photo, prompt))
                       for prompt in (f"fine {style}", style, f"{style} with thick strokes")]
            rows.append(f"| {style} | {photo} | {details[0]:.1f} | {details[1]:.1f} | {details[2]:.1f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=Path, default=PROMPTS, help="labelled prompt list (YAML)")
    parser.add_argument("--resolve-only", action="store_true", help="only resolution agreement (no SANet runs)")
    parser.add_argument("--size", type=int, default=512, help="content size for the colour runs (default 512)")
    parser.add_argument("--delta-e", type=float, default=25.0, help="CIELAB distance within which a pixel counts for a colour")
    parser.add_argument("--grey-chroma", type=float, default=8.0, help="CIELAB chroma below which a pixel is grey")
    parser.add_argument("--source", choices=("library", "mapper"), default="library", help="the text source measured")
    parser.add_argument("--mapper-weights", type=Path, help="the mapper's .safetensors (with --source mapper)")
    args = parser.parse_args(argv)
    if args.source == "mapper" and args.mapper_weights is None:
        parser.error("--source mapper needs --mapper-weights")
    print(system_info().line())
    prompts = load_prompts(args.prompts)
    # Without the disk cache of prompt embeddings, so every prompt's seconds include embedding it.
    spec = LibrarySpec.load()
    library = StyleLibrary(spec, build_text_encoder("minilm", spec.templates), cache=False)
    if args.source == "mapper":
        summary = mapper_table(library, prompts, args.mapper_weights)
        print(f"\nmapper {args.mapper_weights}, {summary['n']} prompts, nearest of {len(library.styles)} library styles: "
              f"top-1 {summary['top1']:.1%} (style prompts alone {summary['styled_top1']:.1%}), top-3 {summary['top3']:.1%}; "
              f"resolving {summary['seconds'] * 1000:.0f} ms per prompt (median)")
    else:
        summary = resolution_table(library, prompts)
        threshold, accuracy = summary["threshold"]
        print(f"\n{summary['n']} prompts, {len(library.styles)} library styles: top-1 {summary['top1']:.1%}, "
              f"top-3 {summary['top3']:.1%}; resolving {summary['seconds'] * 1000:.0f} ms per prompt (median)")
        print(f"no_style_below in use {library.spec.no_style_below}; best on this list {threshold} "
              f"(style / non-style accuracy {accuracy:.1%})")
    print("misses:\n  " + "\n  ".join(summary["misses"]))
    if args.resolve_only:
        return 0
    torch.set_num_threads(max(1, torch.get_num_threads()))
    options = {"source": "mapper", "mapper_weights": args.mapper_weights} if args.source == "mapper" else {}
    rows, seconds, passed, total = colour_table_rows(prompts, args.size, args.delta_e, args.grey_chroma, **options)
    print(f"\ncolour prompts: {passed}/{total} prompt x photo pairs meet the target; "
          f"{statistics.median(seconds):.1f} s per stylisation (median, {args.size} px)")
    print("| prompt | photo | named colours' share (without the colour words) | target met |\n| --- | --- | --- | --- |")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
