"""Text prompts resolve offline to weighted library styles and become SANet style features."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import yaml

from sanet_text.core.errors import UserError
from sanet_text.core.paths import prompts_dir
from sanet_text.models.model import build_model
from sanet_text.styles.library import LibrarySpec, StyleLibrary, load_library
from sanet_text.styles.text import exemplar_features, text_style
from sanet_text.styles.text_encoders import OpenCLIPEncoder, TextEncoder, build_text_encoder

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    """Description embeddings are cached in a temporary folder, never the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        folder = tmp_path_factory.mktemp("cache")
        mp.setenv("SANET_TEXT_CACHE", str(folder))
        load_library.cache_clear()
        yield folder
        load_library.cache_clear()


@pytest.fixture(scope="module")
def library(cache: Path) -> StyleLibrary:
    return load_library("minilm")


@pytest.mark.parametrize(
    "prompt, style",
    [
        ("Van Gogh starry night", "starry_night"),
        ("watercolor", "watercolor"),
        ("ink wash", "ink_wash"),
        ("sumi-e", "ink_wash"),
        ("cubism", "cubism"),
        ("Picasso", "cubism"),
        ("pointillism", "pointillism"),
        ("Seurat", "pointillism"),
        ("Hokusai great wave", "ukiyo_e"),
        ("Warhol", "pop_art"),
        ("cyberpunk city at night", "neon"),
    ],
)
def test_prompt_resolves_mostly_to_its_style(library: StyleLibrary, prompt: str, style: str) -> None:
    parts = library.resolve(prompt)
    assert parts[0][0] == style, parts
    assert parts[0][1] > 0.6, parts


@pytest.mark.parametrize(
    "prompt, style",
    [
        ("Piet Mondrian red yellow blue grid", "mondrian"),
        ("Jackson Pollock drip painting", "pollock"),
        ("Edvard Munch The Scream", "munch"),
        ("Kandinsky colourful abstract", "kandinsky"),
        ("Mark Rothko colour field", "rothko"),
        ("art nouveau Mucha poster", "art_nouveau"),
        ("graffiti street art", "graffiti"),
        ("origami paper craft", "origami"),
        ("charcoal drawing", "charcoal"),
        ("linocut print", "linocut"),
        ("splatter paint like Pollock", "pollock"),
        ("the scream painting", "munch"),
        ("Vasarely", "op_art"),
        ("riso print zine", "risograph"),
        ("kirigami", "paper_cutout"),
    ],
)
def test_painters_movements_and_media_resolve_to_their_own_style(library: StyleLibrary, prompt: str, style: str) -> None:
    """The prompts that fell into unrelated three-way blends with 16 styles (issue 20) find their style."""
    assert library.resolve(prompt)[0][0] == style


def test_library_styles_come_in_families(library: StyleLibrary) -> None:
    assert len(library.styles) >= 60
    family = {name: style.family for name, style in library.styles.items()}
    assert family["munch"] == family["expressionism"] != family["impressionism"] == family["monet"]
    assert family["brick"] == "brick", "a style without a family is its own"


@pytest.mark.parametrize("prompt", ["watercolor", "Klimt gold", "a moody landscape"])
def test_weights_are_a_sorted_distribution_over_library_styles(library: StyleLibrary, prompt: str) -> None:
    parts = library.resolve(prompt, top_k=3)
    assert 1 <= len(parts) <= 3
    assert math.isclose(sum(w for _, w in parts), 1.0, rel_tol=1e-5)
    assert [w for _, w in parts] == sorted((w for _, w in parts), reverse=True)
    assert all(name in library.styles for name, _ in parts)


def test_vague_prompt_blends_and_temperature_sharpens(library: StyleLibrary) -> None:
    soft = library.resolve("Klimt gold", temperature=1.0)
    sharp = library.resolve("Klimt gold", temperature=0.001)
    assert len(soft) == 3 and soft[0][1] < 0.5
    assert sharp[0][1] > 0.99 and sharp[0][0] == soft[0][0]


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_empty_prompt_is_a_one_line_user_error(library: StyleLibrary, prompt: str) -> None:
    with pytest.raises(UserError) as err:
        library.resolve(prompt)
    assert "\n" not in str(err.value) and "prompt" in str(err.value)


@pytest.mark.parametrize(
    "prompt",
    ["水彩画", "акварель", "Ölgemälde im Stil von Rembrandt", "peinture à l'huile", "🎨🌊✨", "x" * 2000,
     "a very long description of a painting " * 60],
)
def test_odd_prompts_do_not_crash(library: StyleLibrary, prompt: str) -> None:
    parts = library.resolve(prompt)
    assert math.isclose(sum(w for _, w in parts), 1.0, rel_tol=1e-5)
    assert all(w > 0 and not math.isnan(w) for _, w in parts)


def test_minilm_rows_are_unit_length(library: StyleLibrary) -> None:
    emb = library.encoder.encode(["watercolor", "word " * 1000])
    assert emb.shape == (2, 384)
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2))


def test_description_embeddings_come_from_the_disk_cache(library: StyleLibrary, cache: Path) -> None:
    class Refusing(TextEncoder):
        name = library.encoder.name

        def _embed(self, texts: list[str]) -> torch.Tensor:
            raise AssertionError("descriptions should have been read from the cache")

    assert list((cache / "text_library").glob("minilm-*.safetensors"))
    again = StyleLibrary(library.spec, Refusing(library.encoder.templates))
    torch.testing.assert_close(again.descriptions, library.descriptions)


def test_a_prompt_resolved_before_needs_no_encoder(library: StyleLibrary) -> None:
    first = library.resolve("a prompt for the cache test")

    class Refusing(TextEncoder):
        name = library.encoder.name

        def _embed(self, texts: list[str]) -> torch.Tensor:
            raise AssertionError(f"{texts[0]!r} should have been read from the cache")

    again = StyleLibrary(library.spec, Refusing(library.encoder.templates))
    cached = again.resolve("a prompt for the cache test")
    # The same styles; the weights to within float rounding (CPU kernels differ in the last bits).
    assert [name for name, _ in cached] == [name for name, _ in first]
    assert [weight for _, weight in cached] == pytest.approx([weight for _, weight in first], abs=1e-5)
    with pytest.raises(AssertionError):
        again.resolve("a prompt never asked before")


def test_cached_embeddings_are_keyed_by_templates(library: StyleLibrary) -> None:
    """Other templates embed a prompt differently, so they must not share its cache file."""
    library.resolve("watercolor")

    class Counting(TextEncoder):
        name = library.encoder.name
        calls = 0

        def _embed(self, texts: list[str]) -> torch.Tensor:
            Counting.calls += 1
            return library.encoder._embed(texts)

    StyleLibrary(library.spec, Counting(("{} painting",))).resolve("watercolor")
    assert Counting.calls == 2  # descriptions and prompt, both embedded afresh


def test_a_damaged_embedding_cache_is_recomputed(library: StyleLibrary, cache: Path) -> None:
    library.resolve("pencil drawing of a cat")
    for path in (cache / "text_library").glob("*.safetensors"):
        path.write_bytes(b"not a safetensors file")
    again = StyleLibrary(library.spec, library.encoder)
    torch.testing.assert_close(again.descriptions, library.descriptions)
    assert again.resolve("pencil drawing of a cat") == library.resolve("pencil drawing of a cat")


def test_minilm_loads_its_model_only_when_it_embeds() -> None:
    encoder = build_text_encoder("minilm")
    assert encoder._model is None  # building is cheap; sentence-transformers loads on the first miss


def test_tiny_openclip_encodes_long_prompts() -> None:
    encoder = OpenCLIPEncoder.from_config(TINY_CLIP, templates=("{}", "a painting in the style of {}"))
    emb = encoder.encode(["watercolor " * 500, "cubism"])
    assert emb.shape == (2, 16) and torch.isfinite(emb).all()
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(2))
    assert not torch.allclose(emb[0], emb[1])
    torch.testing.assert_close(encoder.encode(["cubism"]), emb[1:])  # frozen and deterministic


def test_library_works_with_any_text_encoder(cache: Path) -> None:
    spec = LibrarySpec.load()
    encoder = OpenCLIPEncoder.from_config(TINY_CLIP, templates=spec.templates)
    parts = StyleLibrary(spec, encoder, cache=False).resolve("cubism")
    assert math.isclose(sum(w for _, w in parts), 1.0, rel_tol=1e-5)


@pytest.mark.parametrize("name", ["clip", "clip:ViT-B-32", "dalle", "clip::x"])
def test_bad_encoder_names_are_user_errors(name: str) -> None:
    with pytest.raises(UserError):
        build_text_encoder(name)


def test_templates_need_a_slot() -> None:
    with pytest.raises(ValueError):
        TextEncoder(templates=("a painting",))


def test_every_library_style_has_licensed_exemplars() -> None:
    spec = yaml.safe_load((prompts_dir() / "library.yaml").read_text(encoding="utf-8"))
    assert {"starry_night", "watercolor", "ink_wash", "cubism", "pointillism", "ukiyo_e"} <= set(spec["styles"])
    for name, style in spec["styles"].items():
        assert 4 <= len(style["descriptions"]) <= 8, name
        for key in ("in_other_languages", "artists"):
            assert len(set(style.get(key, []))) == len(style.get(key, [])), (name, key)
        assert style["exemplars"], name
        for ex in style["exemplars"]:
            assert (prompts_dir() / ex["file"]).is_file(), ex["file"]
            assert ex["licence"].strip(), ex["file"]


def test_train_and_eval_prompts_are_disjoint() -> None:
    def lines(name: str) -> set[str]:
        text = (prompts_dir() / name).read_text(encoding="utf-8")
        return {ln.strip().lower() for ln in text.splitlines() if ln.strip()}

    train, evaluation = lines("train.txt"), lines("eval.txt")
    assert len(train) >= 200 and len(evaluation) >= 40
    assert not train & evaluation


def test_text_style_encodes_exemplars_with_the_model(library: StyleLibrary) -> None:
    model = build_model("tiny")
    group = text_style("Klimt gold", model, library, size=64)
    assert group.source == "Klimt gold"
    assert math.isclose(sum(p.weight for p in group.parts), 1.0, rel_tol=1e-5)
    width4, width5 = model.config.widths[3], model.config.widths[4]
    for part in group.parts:
        assert part.label in library.styles
        assert part.feat4.shape[:2] == (1, width4) and part.feat5.shape[:2] == (1, width5)
    assert group.describe().startswith("'Klimt gold' -> ")


def test_several_exemplars_become_one_token_set(library: StyleLibrary) -> None:
    model = build_model("tiny")
    part = text_style("watercolor", model, library, size=64).parts[0]
    assert part.label == "watercolor" and len(library.styles["watercolor"].exemplars) == 2
    assert part.feat4.dim() == 3  # (1, C, tokens of both exemplars)
    single = text_style("brick wall", model, library, size=64).parts[0]
    assert single.label == "brick" and single.feat4.dim() == 4  # one exemplar keeps its map
    # Two 64-px exemplars at relu4_1 (1/8 scale) give more tokens than one.
    assert part.feat4.shape[-1] > single.feat4.shape[-2] * single.feat4.shape[-1]


def test_text_style_rejects_empty_prompt_before_using_the_library() -> None:
    with pytest.raises(UserError):
        text_style("  ", build_model("tiny"), library=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("prompt, style", [
    ("Van Gog stary nigth", "starry_night"),
    ("wartercolor", "watercolor"),
    ("pointilism", "pointillism"),
    ("Mondrain", "mondrian"),
])
def test_typos_of_library_words_still_resolve(library: StyleLibrary, prompt: str, style: str) -> None:
    result = library.match(prompt)
    assert result.named and result.parts[0][0] == style, result


def test_typo_correction_leaves_known_and_unrelated_words(library: StyleLibrary) -> None:
    assert library.correct_typos("Van Gog stary nigth").lower() == "van gogh starry night"
    assert library.correct_typos("a cat on my sofa") == "a cat on my sofa"


@pytest.mark.parametrize("prompt", ["a cat", "hello", "quarterly sales report", "a photo of a car"])
def test_a_prompt_that_names_no_style_says_so_and_names_the_closest(library: StyleLibrary, prompt: str) -> None:
    result = library.match(prompt)
    assert not result.named and len(result.closest) == 3
    group = text_style(prompt, build_model("tiny"), library, size=64)
    assert "no library style matches these words; closest by similarity: " + result.closest[0][0] in group.describe()


@pytest.mark.parametrize("prompt", ["cubism", "Edvard Munch The Scream", "Hokusai great wave", "graffiti street art"])
def test_style_prompts_are_not_called_non_styles(library: StyleLibrary, prompt: str) -> None:
    result = library.match(prompt)
    assert result.named and "no library style" not in text_style(prompt, build_model("tiny"), library, size=64).describe()


def test_colour_words_paint_and_scale_words_resize_the_exemplars(library: StyleLibrary) -> None:
    model = build_model("tiny")
    sizes = []

    def features(style, size):
        sizes.append(size)
        return exemplar_features(model, style, size)

    group = text_style("pastel blue watercolour with thick strokes", model, library, size=64, features=features)
    assert [p.label for p in group.parts] == ["watercolor"] and sizes == [round(64 * 1.6)]
    assert group.paint is not None and "colours pastel blue" in group.describe()
    assert text_style("watercolour", model, library, size=64).paint is None


def test_help_and_web_page_offer_the_same_text_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sanet_text.frontends.cli import build_parser
    from sanet_text.stylizer import offered_sources

    monkeypatch.delenv("SANET_TEXT_MAPPER", raising=False)
    help_text = " ".join(build_parser().format_help().split())
    assert offered_sources() == ["library", "diffusion"]
    assert "library: built-in styles" in help_text and "diffusion: a picture" in help_text
    assert "mapper" not in help_text  # no trained mapper ships: not offered until one is given


def test_a_single_style_prompt_with_a_palette_word_still_says_the_palette(library: StyleLibrary) -> None:
    group = text_style("neon", build_model("tiny"), library, size=64)
    assert group.paint is not None and "palette neon" in group.describe()
