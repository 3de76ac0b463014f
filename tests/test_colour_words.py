"""Colour, palette and stroke-scale words leave the style text and paint the output (no sentence encoder needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sanet_text.images.palette import PaintColours, gradient_map
from sanet_text.render.pipeline import Blend, stylize
from sanet_text.styles.colour_words import colour_table, parse_prompt, vocabulary
from sanet_text.styles.image import style_from_image


def test_named_colours_leave_the_style_text_with_their_joiners() -> None:
    words = parse_prompt("watercolor painting in pink and teal")
    assert words.style_text == "watercolor painting"
    assert [c.name for c in words.colours] == ["pink", "teal"]
    table = colour_table()
    assert words.colours[0].rgb == table["pink"] and words.paint is not None
    assert "colours pink, teal" in words.describe()


@pytest.mark.parametrize("prompt, style_text, colours", [
    ("deep red and gold cubism", "cubism", ["deep red", "gold"]),
    ("Piet Mondrian red, yellow & blue grid", "Piet Mondrian grid", ["red", "yellow", "blue"]),
    ("emerald impressionism", "impressionism", ["emerald"]),
    ("ink wash in navy blue tones", "ink wash", ["navy blue"]),
    ("light grey and dark gray mosaic", "mosaic", ["light grey", "dark gray"]),
    ("blue green watercolour", "watercolour", ["blue green"]),
    # In a list each colour word is a colour, though "red orange" and "yellow green" are table names too.
    ("red orange yellow green blue cubism", "cubism", ["red", "orange", "yellow", "green", "blue"]),
])
def test_colour_names_come_from_the_table_longest_first(prompt: str, style_text: str, colours: list[str]) -> None:
    words = parse_prompt(prompt)
    assert (words.style_text, [c.name for c in words.colours]) == (style_text, colours)


@pytest.mark.parametrize("prompt", ["charcoal drawing", "brick wall", "starry sky over the sea", "Van Gogh",
                                    "grass texture", "a cat", "oil pastel", "soft pastel drawing", "neon sign"])
def test_words_that_name_things_are_not_colours(prompt: str) -> None:
    words = parse_prompt(prompt)
    assert words.style_text == prompt and words.paint is None and words.scale == 1.0


@pytest.mark.parametrize("prompt, style_text, colours, palette", [
    ("acuarela en rosa y turquesa", "acuarela", ["pink", "turquoise"], None),
    ("Aquarell in Rot und Gold", "Aquarell", ["red", "gold"], None),
    ("cubismo con colores rojos y verdes", "cubismo", ["red", "green"], None),
    ("dessin au fusain en noir et blanc", "dessin au fusain", [], "black and white"),
    ("schwarz-weiß Bleistiftzeichnung", "Bleistiftzeichnung", [], "black and white"),
    ("b/w ink drawing", "ink drawing", [], "black and white"),
])
def test_colour_words_of_other_languages_mean_the_table_colours(prompt: str, style_text: str, colours: list[str],
                                                               palette: str | None) -> None:
    words = parse_prompt(prompt)
    assert (words.style_text, [c.name for c in words.colours], words.palette) == (style_text, colours, palette)
    table = colour_table()
    assert all(c.rgb == table[c.name] for c in words.colours)


def test_palette_words_paint_without_a_named_colour() -> None:
    words = parse_prompt("black and white pencil drawing")
    assert words.style_text == "pencil drawing" and words.palette == "black and white" and not words.colours
    assert words.paint is not None and set(words.paint.colours) == {(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)}
    assert parse_prompt("B&W comic").palette == "black and white"
    assert parse_prompt("sepia etching").palette == "sepia"


def test_pastel_tints_a_named_colour_and_a_lone_colour_gets_shades() -> None:
    teal = np.array(colour_table()["teal"])
    plain = parse_prompt("teal pop art").paint
    pastel = parse_prompt("pastel teal pop art").paint
    assert plain is not None and pastel is not None
    # A lone colour: its shade, itself on half the bands, its tint.
    assert len(plain.colours) == 4 and sum(np.allclose(c, teal) for c in plain.colours) == 2
    assert all(np.mean(p) > np.mean(c) for p, c in zip(pastel.colours, plain.colours))


@pytest.mark.parametrize("prompt, scale, style_text", [
    ("pastel blue watercolour with thick strokes", 1.6, "watercolour"),
    ("fine delicate ink wash", 0.6, "ink wash"),
    ("oil painting with bold brush strokes", 1.6, "oil painting"),
    ("watercolour", 1.0, "watercolour"),
])
def test_stroke_words_set_the_scale(prompt: str, scale: float, style_text: str) -> None:
    words = parse_prompt(prompt)
    assert words.scale == scale and words.style_text == style_text


def test_a_prompt_of_colour_words_only_keeps_its_text_for_the_library() -> None:
    words = parse_prompt("pink and teal")
    assert words.style_text == "pink and teal" and len(words.colours) == 2


def test_many_named_colours_each_keep_a_tenth_of_the_picture() -> None:
    words = parse_prompt("red, yellow, green, blue, purple and pink cubism")
    assert words.paint is not None and len(words.paint.colours) == 6
    painted = gradient_map(_smooth_image(3), words.paint)
    assert all(_share(painted, c.rgb) >= 0.10 for c in words.colours)


def test_every_palette_colour_is_in_the_table() -> None:
    vocab = vocabulary()
    assert {"black and white", "monochrome", "sepia", "pastel", "neon", "warm", "cool", "earth tones"} <= set(vocab.palettes)


def _smooth_image(seed: int, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = torch.from_numpy(rng.random((1, 3, 8, 8)))
    return torch.nn.functional.interpolate(small, size=(size, size), mode="bilinear")[0].reshape(3, -1).numpy()


def _share(pixels: np.ndarray, rgb: tuple[float, float, float], within: float = 0.12) -> float:
    return float(np.mean(np.linalg.norm(pixels.T - np.asarray(rgb), axis=1) < within))


def test_gradient_map_gives_each_colour_its_band_darkest_on_darkest() -> None:
    pixels = _smooth_image(0)
    pink, teal = colour_table()["pink"], colour_table()["teal"]
    painted = gradient_map(pixels, PaintColours((pink, teal), smooth=0.3, texture=0.0))
    assert _share(painted, pink) > 0.3 and _share(painted, teal) > 0.3
    luma = np.array([0.299, 0.587, 0.114]) @ pixels
    dark = luma < np.median(luma)
    # Teal is the darker colour: it goes where the picture was dark, so the layout stays.
    assert _share(painted[:, dark], teal) > 0.6 and _share(painted[:, ~dark], pink) > 0.6


def test_gradient_map_keeps_the_light_and_dark_layout() -> None:
    pixels = _smooth_image(1)
    luma = np.array([0.299, 0.587, 0.114]) @ pixels
    painted = gradient_map(pixels, PaintColours(((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)), smooth=1.0))
    assert np.allclose(painted[0], painted[1]) and np.allclose(painted[1], painted[2])  # grey
    assert np.corrcoef(luma, painted[0])[0, 1] > 0.9


def test_stylize_paints_the_output_in_the_group_colours(tiny_model) -> None:
    style = torch.rand(3, 48, 48)
    content = torch.from_numpy(_smooth_image(2, 48).reshape(1, 3, 48, 48)).float()
    plain = style_from_image(style, tiny_model, "style")
    painted = style_from_image(style, tiny_model, "style")
    pink, teal = colour_table()["pink"], colour_table()["teal"]
    painted.paint = PaintColours((pink, teal))
    before = stylize(tiny_model, content, [plain]).image[0].reshape(3, -1).numpy()
    after = stylize(tiny_model, content, [painted]).image[0].reshape(3, -1).numpy()
    assert _share(before, pink) + _share(before, teal) < 0.1
    assert _share(after, pink, 0.25) > 0.25 and _share(after, teal, 0.25) > 0.25
    # alpha 0 is the content's reconstruction: no colour either.
    none = stylize(tiny_model, content, [painted], Blend(alpha=0.0)).image[0].reshape(3, -1).numpy()
    assert _share(none, pink, 0.25) + _share(none, teal, 0.25) < 0.1


def test_a_colour_prompt_leaves_no_quick_plan(tmp_path, monkeypatch, tiny_weights) -> None:
    """The quick path has no step that paints named colours: a second run must take the full path."""
    pytest.importorskip("onnxruntime")
    from sanet_text.core.paths import EXAMPLES_DIR
    from sanet_text.frontends.cli import main

    monkeypatch.delenv("SANET_TEXT_QUICK")
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    content = str(EXAMPLES_DIR / "chelsea.jpg")
    assert main([content, "watercolour in pink and teal", "-o", "out.png", *tiny_weights]) == 0
    assert not list((tmp_path / "cache").glob("quick/*/plan.json"))
