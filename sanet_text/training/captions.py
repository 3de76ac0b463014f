"""Captioned styles for training the text mapper: style pictures and the words that describe them.

Three sources. The library's styles, captioned by their names and descriptions (their exemplars are
the pictures). Library exemplars painted in named colours the way a colour prompt paints its output
(:func:`sanet_text.images.palette.gradient_map`), captioned "<description> in <colours>". And
procedural styles of :mod:`sanet_text.training.synth_styles` in named colours or a palette word, some
enlarged or reduced by a stroke-scale word, captioned from ``prompts/captions.yaml`` ("dense hatching
in deep blue and cream, fine strokes"). Colour, palette and scale words are those the prompt parser
knows (``prompts/colour_words.yaml``), so a caption says what a user would type.

Every style is fixed by (seed, index), and which captions are held out for validation is decided
here, before any training or scoring.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.config import parse_yaml
from ..core.paths import prompts_dir
from ..images.processor import load_image, resize_to
from ..images.palette import gradient_map
from ..styles.colour_words import colour_table, parse_prompt, vocabulary
from ..styles.library import LibrarySpec, LibraryStyle
from .synth_styles import COMPOSITIONS, KINDS

FAMILIES = {**KINDS, **COMPOSITIONS}
# Per-index seeds of the two generated sources must never coincide.
_PROCEDURAL, _RECOLOURED = 1, 2


@dataclass(frozen=True)
class CaptionSpec:
    """``prompts/captions.yaml`` as data (see the comments there)."""

    families: dict[str, tuple[str, ...]]
    colours: tuple[str, ...]
    min_colours: int
    max_colours: int
    palette_share: float
    scale_share: float
    templates: tuple[str, ...]
    scaled_templates: tuple[str, ...]
    recoloured_templates: tuple[str, ...]

    @classmethod
    def load(cls, path: str | Path = "") -> CaptionSpec:
        path = Path(path) if path else prompts_dir() / "captions.yaml"
        raw = parse_yaml(path.read_bytes())
        unknown = sorted(set(raw["families"]) - set(FAMILIES))
        if unknown:
            raise ValueError(f"{path}: families {unknown} are not procedural families ({', '.join(sorted(FAMILIES))})")
        missing = [c for c in raw["colours"] if c not in colour_table()]
        if missing:
            raise ValueError(f"{path}: colours {missing} are not in the colour tables")
        return cls(
            families={name: tuple(words) for name, words in raw["families"].items()},
            colours=tuple(raw["colours"]),
            min_colours=int(raw["min_colours"]),
            max_colours=int(raw["max_colours"]),
            palette_share=float(raw["palette_share"]),
            scale_share=float(raw["scale_share"]),
            templates=tuple(raw["templates"]),
            scaled_templates=tuple(raw["scaled_templates"]),
            recoloured_templates=tuple(raw["recoloured_templates"]),
        )


@dataclass(frozen=True)
class CaptionedStyle:
    """One style picture and its captions, split into training and held-out ones.

    ``kind``: "library" (``name`` is the style; its exemplars are the pictures), "recoloured" (the
    library style ``name``'s first exemplar painted in ``colours``) or "procedural" (``name`` is the
    synth_styles family). ``palette``: the palette word whose colours ``colours`` are, if any.
    ``scale``: the stroke-scale factor the picture is resized by before encoding.
    """

    kind: str
    name: str
    train: tuple[str, ...]
    held_out: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    palette: str = ""
    scale: float = 1.0
    seed: int = 0


def colour_phrase(colours: tuple[str, ...]) -> str:
    """``("red", "gold", "teal")`` -> ``"red, gold and teal"``."""
    return colours[0] if len(colours) == 1 else ", ".join(colours[:-1]) + " and " + colours[-1]


def library_styles(library: LibrarySpec, validation_share: float, seed: int) -> list[CaptionedStyle]:
    """Each library style captioned by its name and descriptions; of styles with three or more
    captions, about ``validation_share`` of the descriptions are held out (never the name)."""
    styles = []
    for index, style in enumerate(library.styles):
        r = random.Random(seed * 1_000_003 + index)
        name = style.name.replace("_", " ")
        descriptions = [d for d in dict.fromkeys(style.descriptions) if d.lower() != name]
        held = [d for d in descriptions if len(descriptions) >= 2 and r.random() < validation_share]
        train = [name] + [d for d in descriptions if d not in held]
        styles.append(CaptionedStyle("library", style.name, tuple(train), tuple(held)))
    return styles


def _draw_colours(spec: CaptionSpec, r: random.Random) -> tuple[str, ...]:
    return tuple(r.sample(spec.colours, r.randint(spec.min_colours, spec.max_colours)))


def procedural_style(spec: CaptionSpec, index: int, seed: int, held_out: bool) -> CaptionedStyle:
    """Procedural style ``index``: a family, named colours (or a palette word), maybe a stroke scale,
    and two captions that name them; all fixed by ``seed`` and ``index``."""
    r = random.Random((seed * 1_000_003 + index) * 4 + _PROCEDURAL)
    vocab = vocabulary()
    family = r.choice(sorted(spec.families))
    palette = ""
    if r.random() < spec.palette_share:
        palette = r.choice(sorted(vocab.palettes))
        colours = tuple(c.name for c in vocab.palettes[palette]["colours"])
    else:
        colours = _draw_colours(spec, r)
    scale_word, scale = "", 1.0
    if r.random() < spec.scale_share:
        factors = _scale_words()
        scale_word = r.choice(sorted(factors))
        scale = factors[scale_word]
    templates = spec.scaled_templates if scale_word else spec.templates
    words = palette or colour_phrase(colours)
    captions = tuple(template.format(family=phrase, colours=words, scale=scale_word)
                     for template, phrase in zip(r.sample(templates, 2), r.sample(spec.families[family], 2)))
    train, held = ((), captions) if held_out else (captions, ())
    return CaptionedStyle("procedural", family, train, held, colours, palette, scale, r.getrandbits(32))


def recoloured_style(spec: CaptionSpec, library: LibrarySpec, index: int, seed: int, held_out: bool) -> CaptionedStyle:
    """A library style painted in two or three named colours, captioned with one of its descriptions."""
    r = random.Random((seed * 1_000_003 + index) * 4 + _RECOLOURED)
    style = r.choice(library.styles)
    colours = _draw_colours(spec, r)
    # Descriptions with colour or scale words of their own ("black and white line drawing", "thick
    # impasto") would contradict the paint and the picture's scale.
    plain = [d for d in style.descriptions if not parse_prompt(d).describe()]
    description = r.choice([style.name.replace("_", " "), *plain])
    caption = r.choice(spec.recoloured_templates).format(style=description, colours=colour_phrase(colours))
    train, held = ((), (caption,)) if held_out else ((caption,), ())
    return CaptionedStyle("recoloured", style.name, train, held, colours, seed=r.getrandbits(32))


def caption_set(spec: CaptionSpec, library: LibrarySpec, procedural: int, recoloured: int,
                validation_share: float, seed: int) -> list[CaptionedStyle]:
    """The library's styles, then ``recoloured`` painted exemplars, then ``procedural`` styles; about
    ``validation_share`` of the generated styles are held out whole (their composition of family,
    colours and scale is never trained on)."""
    split = random.Random(seed)
    return [
        *library_styles(library, validation_share, seed),
        *(recoloured_style(spec, library, i, seed, split.random() < validation_share) for i in range(recoloured)),
        *(procedural_style(spec, i, seed, split.random() < validation_share) for i in range(procedural)),
    ]


def _scale_words() -> dict[str, float]:
    """Stroke-scale words of ``colour_words.yaml`` and their factors ("thick": 1.6)."""
    return {phrase[0]: value for phrase, (kind, value) in vocabulary().phrases.items() if kind == "scale"}


def _centre_crop(image: torch.Tensor, crop: int) -> torch.Tensor:
    top, left = (image.shape[-2] - crop) // 2, (image.shape[-1] - crop) // 2
    return image[..., top:top + crop, left:left + crop]


def style_picture(item: CaptionedStyle, styles: dict[str, LibraryStyle], size: int, crop: int) -> torch.Tensor:
    """The generated picture (3, crop, crop) of a procedural or recoloured ``item``: drawn (or its
    exemplar loaded) at ``size``, resized by its stroke scale, centre-cropped, so its strokes have
    the pixel size they have in a ``size`` picture the library encodes."""
    if item.kind == "procedural":
        table = colour_table()
        r = random.Random(item.seed)
        rng = np.random.default_rng(r.getrandbits(64))
        palette = np.asarray([table[c] for c in item.colours], np.float32)
        drawn = np.clip(FAMILIES[item.name](rng, r, size, palette), 0, 1)
        image = torch.from_numpy(np.ascontiguousarray(drawn, dtype=np.float32)).permute(2, 0, 1)
    elif item.kind == "recoloured":
        image = resize_to(load_image(styles[item.name].exemplars[0]), size)
        paint = parse_prompt(colour_phrase(item.colours)).paint
        pixels = gradient_map(image.flatten(1).numpy(), paint)
        image = torch.from_numpy(np.clip(pixels, 0, 1).astype(np.float32)).view_as(image)
    else:
        raise ValueError(f"library style {item.name!r} has exemplars, not a generated picture")
    scaled = resize_to(image, max(crop, round(size * item.scale)))
    return _centre_crop(scaled, crop)
