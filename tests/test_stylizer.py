"""The Stylizer: built once, styles encoded once, inputs refused before any work, the same pictures as the CLI."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import sanet_text
from sanet_text import Prompt, Stylizer, list_pretrained
from sanet_text.core.errors import UserError
from sanet_text.frontends.cli import build_parser, main
from sanet_text.images.processor import load_image
from sanet_text.models.weights import (CONFIG_KEY, VERSION_KEY, WeightSpec, download_pinned, find_pretrained,
                                       read_metadata, read_safetensors, registry, save_safetensors)
from sanet_text.render.pipeline import stylize
from sanet_text.styles.diffusion import DiffusionSettings
from sanet_text.styles.image import style_from_image
from sanet_text.styles.library import load_library


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    load_library.cache_clear()


@pytest.fixture
def files(photo_and_styles) -> dict[str, Path]:
    return photo_and_styles


@pytest.fixture
def encodes(tiny_model):
    """How many images the encoder has seen so far: ``encodes()``."""
    seen = []
    hook = tiny_model.encoder.register_forward_hook(lambda module, args, output: seen.append(args[0].shape[0]))
    yield lambda: sum(seen)
    hook.remove()


def test_a_cached_style_gives_what_a_fresh_stylizer_gives(tiny_model, files) -> None:
    stylizer = Stylizer(tiny_model, style_size=0)
    first = stylizer(files["content"], [files["style"]], size=0)
    again = stylizer(files["content"], [files["style"]], size=0)
    fresh = Stylizer(tiny_model, style_size=0)(files["content"], [files["style"]], size=0)
    assert again.styles[0] is first.styles[0]  # served from the cache, not encoded again
    assert torch.equal(first.image, again.image) and torch.equal(first.image, fresh.image)
    assert first.image.shape == (3, 45, 67)


def test_a_style_is_encoded_once_for_many_frames(tiny_model, files, encodes) -> None:
    stylizer = Stylizer(tiny_model, style_size=0)
    frames = [torch.rand(3, 40, 56, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    styles = stylizer.prepare([files["style"]])
    assert encodes() == 1
    outputs = [stylizer(frame, styles, size=0).image for frame in frames]
    assert encodes() == 1 + len(frames)  # one pass per frame, none for the style
    # Naming the file on every call instead costs nothing more: the file's encoding is cached.
    assert all(torch.equal(stylizer(frame, [files["style"]], size=0).image, out) for frame, out in zip(frames, outputs))
    assert encodes() == 1 + 2 * len(frames)


def test_the_cache_keeps_the_most_recent_styles(tiny_model, encodes) -> None:
    stylizer = Stylizer(tiny_model, cache_size=2)
    a, b, c = (torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(i)) for i in range(3))
    stylizer.prepare([a, b, c])
    stylizer.prepare([c])
    assert encodes() == 3
    stylizer.prepare([a])  # dropped to make room for c
    assert encodes() == 4


def test_pictures_in_memory_give_what_their_files_give(tiny_model, files) -> None:
    stylizer = Stylizer(tiny_model, style_size=0)
    reference = stylizer(files["content"], [files["style"]], size=0).image
    with Image.open(files["content"]) as content, Image.open(files["style"]) as style:
        content, style = content.convert("RGB"), style.convert("RGB")
    pixels = np.array(content)
    for picture in (content, pixels, torch.from_numpy(pixels).permute(2, 0, 1), load_image(files["content"])[None]):
        assert torch.equal(stylizer(picture, [style], size=0).image, reference)


def test_the_stylizer_is_the_pipeline_with_its_styles_prepared(tiny_model, files) -> None:
    content = load_image(files["content"])
    group = style_from_image(load_image(files["style"]), tiny_model, "paint.png")
    expected = stylize(tiny_model, content[None], [group]).image[0]
    assert torch.equal(Stylizer(tiny_model, style_size=0)(content, [files["style"]], size=0).image, expected)


def test_results_are_what_the_cli_writes(tiny_weights, files, tmp_path) -> None:
    mask = np.zeros((45, 67), dtype=np.uint8)
    mask[:, :40] = 255
    Image.fromarray(mask, "L").save(tmp_path / "mask.png")
    written = tmp_path / "cli.png"
    options = ["--alpha", "0.7", "--preserve-color", "--mask", str(tmp_path / "mask.png")]
    assert main([str(files["content"]), "--style", str(files["style"]), "--size", "0", "--style-size", "0",
                 "-o", str(written), *options, *tiny_weights]) == 0

    flags = dict(zip(tiny_weights[::2], tiny_weights[1::2]))
    stylizer = Stylizer.from_pretrained(flags["--weights"], config=flags["--config"],
                                        vgg_weights=flags["--vgg-weights"], device="cpu", style_size=0)
    out = stylizer(files["content"], [files["style"]], alpha=0.7, preserve_color=True, masks=[tmp_path / "mask.png"],
                   size=0)
    with Image.open(written) as picture:
        assert np.array_equal(np.asarray(out.pil()), np.asarray(picture.convert("RGB")))
    in_memory = stylizer(files["content"], [files["style"]], alpha=0.7, preserve_color=True, masks=[mask], size=0)
    assert torch.equal(in_memory.image, out.image)  # a mask array is the mask file


def test_output_says_what_the_styles_became_and_how_long_it_took(tiny_model, files) -> None:
    stylizer = Stylizer(tiny_model, style_size=64, mapper="tiny")
    out = stylizer(files["content"], [files["style"], "watercolor", Prompt("ink wash", source="mapper")],
                   mix=[2, 1, 1], size=0)
    styles = out.description.split(" + ")
    assert styles[0] == "0.50×paint.png"
    assert styles[1].startswith("0.25×") and "watercolor" in styles[1]  # a prompt names the library styles it became
    assert styles[2] == "0.25×ink wash"  # mapper tokens are the prompt itself
    assert out.seconds >= out.style_seconds > 0
    again = stylizer(files["content"], out.styles, mix=[2, 1, 1], size=0)
    assert again.style_seconds < out.style_seconds and torch.equal(again.image, out.image)


def test_attention_is_returned_on_request_and_drawn(tiny_model, files) -> None:
    stylizer = Stylizer(tiny_model, style_size=0)
    plain = stylizer(files["content"], [files["style"]], size=0)
    assert plain.attention is None
    with pytest.raises(UserError, match="return_attention"):
        plain.attention_picture()
    out = stylizer(files["content"], [files["style"], files["style2"]], mix=[1, 1], return_attention=True, size=0)
    assert [len(parts) for parts in out.attention] == [1, 1]
    first = out.attention[0][0]
    assert first.shape == (6, 9, 5, 7)  # content cells (45×67 px / 8) × style cells (38×50 px / 8)
    torch.testing.assert_close(first.sum((-2, -1)), torch.ones(6, 9))
    assert out.attention_picture().width > 3 * 240


BAD_CALLS = {
    "mix count": (["words"], {"mix": [1, 2]}, "--mix gives 2"),
    "negative alpha": (["words"], {"alpha": -1}, "--alpha"),
    "empty prompt": ([" "], {}, "empty text prompt"),
    "missing style file": ([Path("nowhere.png")], {}, "not found"),
    "missing mask": (["words"], {"masks": ["nowhere.png"]}, "not found"),
    "file name as words": (["{style}"], {}, "pathlib.Path"),
    "unknown source": ([Prompt("words", source="clip")], {}, "unknown text source"),
    "mapper without weights": ([Prompt("words", source="mapper")], {}, "mapper is not available"),
    "flat picture": ([np.zeros((40, 40))], {}, "(height, width, 3)"),
    "tiny picture": ([torch.rand(3, 8, 8)], {}, "at least"),
}


@pytest.mark.parametrize("case", BAD_CALLS)
def test_bad_inputs_are_refused_before_the_model_is_loaded(case, files, monkeypatch) -> None:
    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the inputs were checked")

    monkeypatch.setattr("sanet_text.stylizer.build_model", no_model)
    monkeypatch.delenv("SANET_TEXT_MAPPER", raising=False)
    styles, options, message = BAD_CALLS[case]
    styles = [files["style"].name if isinstance(s, str) and s == "{style}" else s for s in styles]
    monkeypatch.chdir(files["style"].parent)
    stylizer = Stylizer.from_pretrained(config="tiny", device="cpu")
    with pytest.raises(UserError, match=message):
        stylizer(files["content"], styles, **options)


def test_import_stays_light_until_the_stylizer_is_used() -> None:
    code = ("import sys, sanet_text; assert 'torch' not in sys.modules, 'torch imported'; "
            "from sanet_text import Stylizer; assert 'torch' in sys.modules and Stylizer.__name__ == 'Stylizer'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_unavailable_sources_say_why_without_loading_anything(tiny_model, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SANET_TEXT_OFFLINE", "1")
    monkeypatch.delenv("SANET_TEXT_MAPPER", raising=False)
    offline = Stylizer(tiny_model, diffusion=DiffusionSettings(model="nobody/no-such-model"))
    reasons = offline.unavailable_sources()
    assert sorted(reasons) == ["diffusion", "mapper"]
    assert "SANET_TEXT_MAPPER" in reasons["mapper"] and "offline" in reasons["diffusion"]

    (tmp_path / "painter").mkdir()
    (tmp_path / "painter" / "model_index.json").write_text("{}")
    (tmp_path / "mapper.safetensors").write_bytes(b"trained elsewhere")
    monkeypatch.setenv("SANET_TEXT_MAPPER", str(tmp_path / "mapper.safetensors"))
    local = Stylizer(tiny_model, diffusion=DiffusionSettings(model=str(tmp_path / "painter")))
    assert local.unavailable_sources() == {}


def test_one_style_needs_no_list_and_the_default_size_is_the_clis(tiny_model, files) -> None:
    stylizer = Stylizer(tiny_model, style_size=64)
    words = stylizer(files["content"], "watercolor")  # a str is one prompt, not a sequence of letters
    assert words.description == stylizer(files["content"], ["watercolor"]).description
    picture = stylizer(files["content"], files["style"])  # a Path is one style picture
    assert torch.equal(picture.image, stylizer(files["content"], [files["style"]]).image)
    assert "paint.png" in picture.description
    assert torch.equal(stylizer.prepare(files["style"])[0].group.parts[0].feat4,
                       stylizer.prepare([files["style"]])[0].group.parts[0].feat4)
    # The content (67×45) is painted at the command line's default size, as `sanet-text` would.
    assert max(words.image.shape[-2:]) == build_parser().get_default("size") == 512


def _style_side(result) -> int:
    """The longer side, in relu4_1 cells, of the style picture a result was painted with."""
    return max(result.styles[0].group.parts[0].feat4.shape[-2:])


def test_the_style_takes_the_results_size_unless_one_is_given(tiny_weights, files, tmp_path) -> None:
    # Style and result at one scale keep the style's strokes their size in the picture; a given
    # --style-size is kept exactly, and the default stops at 512 px (the attention's cost).
    flags = dict(zip(tiny_weights[::2], tiny_weights[1::2]))
    stylizer = Stylizer.from_pretrained(flags["--weights"], config=flags["--config"],
                                        vgg_weights=flags["--vgg-weights"], device="cpu")
    assert _style_side(stylizer(files["content"], files["style"], size=64)) == 64 // 8
    assert _style_side(stylizer(files["content"], files["style"], size=128)) == 128 // 8
    assert _style_side(stylizer(files["content"], files["style"], size=64, style_size=128)) == 128 // 8
    # "As given" (0) is not known before a folder's pictures: the CLI and Python both take 512 then.
    assert [stylizer.style_size_for(size) for size in (2048, None, 0)] == [512, 512, 512]
    assert Stylizer(stylizer.model, style_size=96).style_size_for(64) == 96
    # The command line paints the same picture from the same style size.
    written = tmp_path / "cli.png"
    assert main([str(files["content"]), "--style", str(files["style"]), "--size", "64", "-o", str(written),
                 *tiny_weights]) == 0
    with Image.open(written) as picture:
        expected = stylizer(files["content"], files["style"], size=64)
        assert np.array_equal(np.asarray(expected.pil()), np.asarray(picture.convert("RGB")))
        assert not np.array_equal(np.asarray(stylizer(files["content"], files["style"], size=64,
                                                      style_size=512).pil()), np.asarray(picture.convert("RGB")))


def _same_model(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_save_pretrained_then_from_pretrained_rebuilds_the_model_and_its_pictures(tiny_model, files, tmp_path) -> None:
    saved = Stylizer(tiny_model).save_pretrained(tmp_path / "my-model", version="9.9.9")
    assert sorted(p.name for p in saved.iterdir()) == ["encoder.safetensors", "model.safetensors"]
    metadata = read_metadata(saved / "model.safetensors")
    assert metadata[VERSION_KEY] == "9.9.9"
    assert json.loads(metadata[CONFIG_KEY]) == json.loads(json.dumps(dataclasses.asdict(tiny_model.config)))

    loaded = Stylizer.from_pretrained(saved, device="cpu")  # no config given: it travels in the file
    assert loaded.model.config == tiny_model.config and loaded.model_version == "9.9.9"
    assert _same_model(loaded.model, tiny_model)
    result = loaded(files["content"], files["style"], size=64)
    # Loaded for the CPU, the model runs channels-last: other kernels, the same picture to rounding.
    torch.testing.assert_close(result.image, Stylizer(tiny_model)(files["content"], files["style"], size=64).image,
                               rtol=0, atol=1e-4)
    # The CLI takes the folder as --weights, config and all.
    assert main([str(files["content"]), "--style", str(files["style"]), "--weights", str(saved), "--size", "64",
                 "-o", str(tmp_path / "cli.png")]) == 0
    with Image.open(tmp_path / "cli.png") as written:
        assert np.array_equal(np.asarray(written.convert("RGB")), np.asarray(result.pil()))


def test_a_config_field_the_code_does_not_know_is_refused_by_name(tiny_model, tmp_path) -> None:
    path = Stylizer(tiny_model).save_pretrained(tmp_path / "m") / "model.safetensors"
    state, metadata = read_safetensors(path, "weights")
    config = {**json.loads(metadata[CONFIG_KEY]), "from_the_future": 1}
    save_safetensors(state, path, {**metadata, CONFIG_KEY: json.dumps(config)})
    with pytest.raises(UserError, match="from_the_future"):
        Stylizer.from_pretrained(tmp_path / "m", device="cpu")


def test_weights_without_a_config_load_as_before(tiny_model, files, tmp_path) -> None:
    # Files saved before configs travelled (the v0.2.2 file was one) carry no config: the
    # registry's or the one given is used, and the pictures are the same.
    plain = tmp_path / "old.safetensors"
    save_safetensors(tiny_model.trainable_state_dict(), plain)
    encoder = tmp_path / "vgg.safetensors"
    save_safetensors(tiny_model.encoder.state_dict(), encoder)
    old = Stylizer.from_pretrained(plain, config="tiny", vgg_weights=encoder, device="cpu")
    assert old.model_version is None and _same_model(old.model, tiny_model)
    shipped = find_pretrained()  # the shipped file: its config and the registry's agree
    assert shipped.config.name == "base" and shipped.version == registry()["sanet-base"].version
    assert "sanet-base" in list_pretrained() and sanet_text.list_pretrained() == list_pretrained()
    with pytest.raises(UserError, match="not SANet weights"):
        Stylizer.from_pretrained("vgg19")


def test_hub_downloads_are_pinned_and_checked(monkeypatch, tmp_path) -> None:
    good = tmp_path / "good.safetensors"
    good.write_bytes(b"the pinned bytes")
    spec = WeightSpec(name="remote", env="NO_SUCH_VARIABLE", help="", hf_repo="someone/remote",
                      hf_file="remote.safetensors", revision="abc123",
                      sha256=hashlib.sha256(b"the pinned bytes").hexdigest())
    asked = []

    def fake_download(repo: str, filename: str, revision: str | None = None) -> str:
        asked.append((repo, filename, revision))
        return str(good)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    assert download_pinned(spec) == good and asked == [("someone/remote", "remote.safetensors", "abc123")]
    good.write_bytes(b"other bytes")
    with pytest.raises(UserError, match="not the pinned"):
        download_pinned(spec)
    with pytest.raises(UserError, match="pinned revision"):
        download_pinned(dataclasses.replace(spec, revision=None))
    assert all(spec.revision and spec.sha256 for spec in registry().values() if spec.hf_repo)


def test_an_encoder_given_as_a_file_travels_with_the_saved_model(tiny_model, tmp_path, monkeypatch) -> None:
    encoder = tmp_path / "vgg.safetensors"
    save_safetensors(tiny_model.encoder.state_dict(), encoder)
    weights = tmp_path / "sanet.safetensors"
    save_safetensors(tiny_model.trainable_state_dict(), weights)
    # As if the config named the registry's VGG-19 while the user gave their own file.
    monkeypatch.setattr("sanet_text.stylizer.registry", lambda: {"random": None})
    saved = Stylizer.from_pretrained(weights, config="tiny", vgg_weights=encoder, device="cpu").save_pretrained(
        tmp_path / "out")
    assert (saved / "encoder.safetensors").is_file()
    monkeypatch.undo()
    assert _same_model(Stylizer.from_pretrained(saved, device="cpu").model, tiny_model)
