"""Colour, palette and stroke-scale words taken out of a text prompt.

``"pastel blue watercolour with thick strokes"`` becomes the style text ``"watercolour"`` (what the
library resolves), the colour ``pastel blue`` (what the output is painted in, see
:func:`sanet_text.images.palette.gradient_map`) and a stroke scale of 1.6 (how much larger the style's
exemplars are encoded). Colour names come from matplotlib's XKCD and CSS4 tables; palette words,
the single-word names that are not taken as colours, and the scale words are data in
``prompts/colour_words.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..core.config import parse_yaml
from ..core.paths import prompts_dir
from ..images.palette import PaintColours

RGB = tuple[float, float, float]
# Words, and the joining symbols that can sit between colours ("red & gold", "red, gold").
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|[&+,]")
# Longest phrase looked for, in tokens ("black and white", "light grey blue").
_MAX_PHRASE = 4


@dataclass(frozen=True)
class NamedColour:
    name: str
    rgb: RGB


@dataclass(frozen=True)
class PromptWords:
    """A prompt split into what it asks of the style, the colours and the stroke scale.

    ``style_text``: the prompt without colour, palette and scale words (the whole prompt when
    nothing else is left). ``colours``: colours named explicitly, in prompt order. ``palette``: the
    palette word, if any. ``scale``: exemplar size factor (1 = as the library has it). ``paint``:
    how the output is recoloured, or None when the words ask for no colour.
    """

    style_text: str
    colours: tuple[NamedColour, ...] = ()
    palette: str | None = None
    scale: float = 1.0
    paint: PaintColours | None = None

    def describe(self) -> str:
        """E.g. ``"colours pink, teal; strokes x1.6"``; empty when the words ask nothing of colour or scale."""
        notes = []
        if self.palette:
            notes.append(f"palette {self.palette}")
        if self.colours:
            notes.append("colours " + ", ".join(c.name for c in self.colours))
        if self.scale != 1.0:
            notes.append(f"strokes x{self.scale:g}")
        return "; ".join(notes)


@dataclass(frozen=True)
class _Vocabulary:
    # tokens -> ("colour", NamedColour) / ("palette", name) / ("scale", factor) / ("keep", None)
    phrases: dict[tuple[str, ...], tuple[str, Any]]
    joiners: frozenset[str]
    colour_nouns: frozenset[tuple[str, ...]]
    stroke_nouns: frozenset[tuple[str, ...]]
    palettes: dict[str, dict[str, Any]]
    smooth: float
    smooth_many: float
    few: int
    texture: float
    shade: float


def tokens(text: str) -> list[str]:
    """``text``'s words and joining symbols, lower case: ``"Black & white"`` -> ``["black", "&", "white"]``."""
    return _TOKEN.findall(text.lower())


def _hex_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def colour_table() -> dict[str, RGB]:
    """Every colour name people use, lower case, to RGB in [0, 1]: XKCD's survey names over CSS4's
    (its "green" is what people mean by green), each "grey" name also spelt "gray" and back."""
    from matplotlib import colors

    table = {name.lower(): _hex_rgb(value) for name, value in colors.CSS4_COLORS.items()}
    table.update({name[len("xkcd:"):]: _hex_rgb(value) for name, value in colors.XKCD_COLORS.items()})
    for name in list(table):
        for a, b in (("grey", "gray"), ("gray", "grey")):
            table.setdefault(name.replace(a, b), table[name])
    return {name: rgb for name, rgb in table.items() if "/" not in name}


@lru_cache(maxsize=1)
def vocabulary() -> _Vocabulary:
    """The packaged word lists with matplotlib's colour tables (loaded once per process)."""
    spec = parse_yaml((prompts_dir() / "colour_words.yaml").read_bytes())
    table = colour_table()
    not_colours = set(spec["not_colours"])
    phrases: dict[tuple[str, ...], tuple[str, Any]] = {}
    for name, rgb in table.items():
        key = tuple(tokens(name))
        if key and len(key) <= _MAX_PHRASE and not (len(key) == 1 and key[0] in not_colours):
            phrases[key] = ("colour", NamedColour(name, rgb))
    palettes = spec["palettes"]
    for name, palette in palettes.items():
        for missing in [c for c in palette["colours"] if c not in table]:
            raise ValueError(f"colour_words.yaml: palette {name!r} names {missing!r}, which is not in the colour tables")
        for phrase in [name, *palette.get("aliases", [])]:
            phrases[tuple(tokens(phrase))] = ("palette", name)
    for meaning, phrases_of_meaning in spec["translations"].items():
        if meaning not in palettes and meaning not in table:
            raise ValueError(f"colour_words.yaml: translations name {meaning!r}, neither a palette nor in the colour tables")
        entry = ("palette", meaning) if meaning in palettes else ("colour", NamedColour(meaning, table[meaning]))
        for phrase in phrases_of_meaning:
            phrases[tuple(tokens(phrase))] = entry
    for word, factor in spec["scale_words"].items():
        phrases[(word,)] = ("scale", float(factor))
    for phrase in spec["keep"]:
        phrases[tuple(tokens(phrase))] = ("keep", None)
    return _Vocabulary(
        phrases=phrases,
        joiners=frozenset(spec["joiners"]),
        colour_nouns=frozenset(tuple(tokens(n)) for n in spec["colour_nouns"]),
        stroke_nouns=frozenset(tuple(tokens(n)) for n in spec["stroke_nouns"]),
        palettes={name: {**p, "colours": [NamedColour(c, table[c]) for c in p["colours"]]} for name, p in palettes.items()},
        smooth=float(spec["smooth"]),
        smooth_many=float(spec["smooth_many"]),
        few=int(spec["few_colours"]),
        texture=float(spec["texture"]),
        shade=float(spec["shade"]),
    )


def _match(words: list[str], start: int, table: dict[tuple[str, ...], Any] | frozenset) -> int:
    """Length of the longest phrase of ``table`` starting at ``words[start]`` (0 when none)."""
    for length in range(min(_MAX_PHRASE, len(words) - start), 0, -1):
        if tuple(words[start:start + length]) in table:
            return length
    return 0


def parse_prompt(prompt: str) -> PromptWords:
    """Split ``prompt`` into style text, colours, palette and stroke scale (see :class:`PromptWords`)."""
    vocab = vocabulary()
    spans = [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(prompt)]
    words = [w for w, _, _ in spans]
    dropped = [False] * len(words)
    colours: list[NamedColour] = []
    palette: str | None = None
    scale = 1.0
    i = 0
    while i < len(words):
        length = _match(words, i, vocab.phrases)
        if not length:
            i += 1
            continue
        kind, value = vocab.phrases[tuple(words[i:i + length])]
        if kind == "keep":
            i += length
            continue
        if kind == "colour" and length > 1 and _in_a_list(words, i, length, dropped, vocab):
            length, value = 1, vocab.phrases[(words[i],)][1]
        if kind == "colour" and value not in colours:
            colours.append(value)
        elif kind == "palette":
            palette = palette or value
        elif kind == "scale":
            scale = value
            length += _match(words, i + length, vocab.stroke_nouns)
        dropped[i:i + length] = [True] * length
        i += length
    if not any(dropped):
        return PromptWords(prompt.strip())
    # Colour nouns and joiners next to what was taken go too ("in pink and teal tones", "colores rojos").
    for i in range(len(words)):
        length = _match(words, i, vocab.colour_nouns)
        if length and ((i > 0 and dropped[i - 1]) or (i + length < len(words) and dropped[i + length])):
            dropped[i:i + length] = [True] * length
    changed = True
    while changed:
        changed = False
        for i, word in enumerate(words):
            near = (i > 0 and dropped[i - 1]) or (i + 1 < len(words) and dropped[i + 1]) or i + 1 == len(words)
            if not dropped[i] and word in vocab.joiners and near:
                dropped[i] = changed = True
    style_text = " ".join(prompt[start:end] for (_, start, end), gone in zip(spans, dropped) if not gone)
    return PromptWords(style_text or prompt.strip(), tuple(colours), palette, scale, _paint(colours, palette, vocab))


def _is_colour(phrase: tuple[str, ...], vocab: _Vocabulary) -> bool:
    return vocab.phrases.get(phrase, ("",))[0] == "colour"


def _in_a_list(words: list[str], start: int, length: int, dropped: list[bool], vocab: _Vocabulary) -> bool:
    """Whether a compound colour made of colour words ("red orange", "green blue") sits in a list of
    colours ("red orange yellow green blue"), where each word is a colour of its own."""
    if not all(_is_colour((word,), vocab) for word in words[start:start + length]):
        return False
    after = start + length < len(words) and _is_colour((words[start + length],), vocab)
    return after or (start > 0 and dropped[start - 1] and _is_colour((words[start - 1],), vocab))


def _mix(rgb: RGB, towards: float, amount: float) -> RGB:
    return tuple(c + (towards - c) * amount for c in rgb)  # type: ignore[return-value]


def _paint(colours: list[NamedColour], palette: str | None, vocab: _Vocabulary) -> PaintColours | None:
    """The colours the output is painted in: the named ones (tinted by a pastel word), else the palette's."""
    settings = vocab.palettes.get(palette, {}) if palette else {}
    smooth = float(settings.get("smooth", vocab.smooth if len(colours) <= vocab.few else vocab.smooth_many))
    if colours:
        rgbs = [_mix(c.rgb, 1.0, float(settings.get("tint", 0.0))) for c in colours]
    elif settings:
        rgbs = [c.rgb for c in settings["colours"]]
    else:
        return None
    if len(rgbs) == 1:
        # A lone colour gets half the picture, with its shade and tint for the darks and lights.
        rgb = rgbs[0]
        rgbs = [_mix(rgb, 0.0, vocab.shade), rgb, rgb, _mix(rgb, 1.0, vocab.shade)]
    return PaintColours(tuple(rgbs), smooth, vocab.texture)
