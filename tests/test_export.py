"""Fast inference paths agree with eager fp32: ONNX export round trip, INT8, bf16, channels-last; CLI flags."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from conftest import noise_image
from PIL import Image

from sanet_text.core.errors import UserError
from sanet_text.frontends.cli import main
from sanet_text.images.processor import pil_to_tensor
from sanet_text.render import export
from sanet_text.render.export import InferenceOptions, autocast, prepare
from sanet_text.render.pipeline import Blend, stylize

# These tests measure the network's numerics; the colour matching after it would rescale their errors.
NETWORK_ONLY = Blend(match_color=False)
from sanet_text.styles.image import style_from_image

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def pair(tiny_model):
    content = pil_to_tensor(noise_image(67, 45, seed=1))[None]
    style_image = pil_to_tensor(noise_image(50, 40, seed=2))
    return content, style_image, style_from_image(style_image, tiny_model, "s")


@pytest.fixture(scope="module")
def reference(tiny_model, pair) -> torch.Tensor:
    return stylize(tiny_model, pair[0], [pair[2]], NETWORK_ONLY).image


@pytest.mark.parametrize("model_name", ["tiny_model", "tiny_multilevel_model"])
def test_onnx_round_trip_matches_eager_at_other_sizes(model_name, pair, tmp_path, request) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    tiny_model = request.getfixturevalue(model_name)
    path = export.export_onnx(tiny_model, tmp_path / "tiny.onnx", example_size=64)
    runner = export.OnnxStylizer(path)
    content, _, style = pair  # content and style sizes differ from the example the graph was traced with
    tokens = tiny_model.style_tokens([style.parts[0].feat4, style.parts[0].feat5], style.parts[0].low)
    with torch.no_grad():
        eager = tiny_model.decode(tiny_model.fuse(tiny_model.encode(content), tokens), content.shape[-2:])
    exported = runner(content, tokens)
    assert exported.shape == eager.shape == (1, 3, 45, 67)
    torch.testing.assert_close(exported, eager, atol=1e-4, rtol=1e-4)
    assert tiny_model.transform.attn4.chunk == tiny_model.config.attention_chunk  # export left the model alone


def test_int8_is_close_to_fp32_and_really_quantised(tiny_model, pair, reference) -> None:
    content, style_image, style = pair
    quantized = prepare(tiny_model, InferenceOptions("int8"), calibration=[(content, style_image[None])])
    assert isinstance(quantized.decoder.layers[1].module, torch.ao.nn.intrinsic.quantized.ConvReLU2d)
    assert isinstance(quantized.transform.attn4.query.module, torch.ao.nn.quantized.Conv2d)
    assert isinstance(tiny_model.decoder.layers[1], torch.nn.Conv2d)  # the original stays float
    out = stylize(quantized, content, [style_from_image(style_image, quantized, "s")], NETWORK_ONLY).image
    other = style_from_image(pil_to_tensor(noise_image(50, 40, 7)), tiny_model, "o")
    other_style = stylize(tiny_model, content, [other], NETWORK_ONLY).image
    error = (out - reference).abs().mean()
    assert 0 < error < 0.03 and error < (other_style - reference).abs().mean() / 3


def test_int8_calibrates_on_the_bundled_examples_by_default(tiny_model, pair) -> None:
    pairs = export.calibration_pairs(size=32, count=2)
    assert len(pairs) == 2 and all(c.shape[1] == 3 and max(c.shape[-2:]) == 32 for c, _ in pairs)
    quantized = prepare(tiny_model, InferenceOptions("int8"), calibration=pairs)
    out = stylize(quantized, pair[0], [pair[2]], NETWORK_ONLY).image
    assert out.shape == pair[0].shape and torch.isfinite(out).all()


# oneDNN runs bf16 on any AVX-512 CPU (emulated where there are no bf16 instructions): slow, but
# the numbers are the same, so these tests run wherever it can.
BF16_RUNS = torch.backends.mkldnn.is_available() and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@pytest.fixture
def bf16(monkeypatch) -> None:
    if not BF16_RUNS:
        pytest.skip("oneDNN cannot run bf16 on this CPU")
    monkeypatch.setattr(export, "bf16_supported", lambda device: True)


def test_bf16_autocast_is_close_to_fp32(tiny_model, pair, reference, bf16) -> None:
    model = prepare(tiny_model, InferenceOptions("bf16"))
    with autocast("bf16", CPU):
        out = stylize(model, pair[0], [pair[2]], NETWORK_ONLY).image
    assert out.dtype == torch.float32
    assert 0 < (out - reference).abs().mean() < 0.05


def test_channels_last_gives_the_same_image(tiny_model, pair, reference) -> None:
    model = prepare(tiny_model, InferenceOptions(channels_last=True))
    assert model.decoder.layers[1].weight.is_contiguous(memory_format=torch.channels_last)
    assert tiny_model.decoder.layers[1].weight.is_contiguous()  # a copy was changed, not the original
    torch.testing.assert_close(stylize(model, pair[0], [pair[2]], NETWORK_ONLY).image, reference, atol=1e-4, rtol=0)


def test_compile_compiles_the_convolution_stacks(tiny_model, monkeypatch) -> None:
    compiled = []
    # Compiling for real takes half a minute on a CPU; what is checked here is what gets compiled.
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, *a, **k: compiled.append(type(self).__name__))
    prepare(tiny_model, InferenceOptions(compile=True))
    assert sorted(compiled) == ["Decoder", "Encoder"]


def test_unsupported_combinations_are_user_errors(tiny_model, monkeypatch) -> None:
    with pytest.raises(UserError, match="--compile"):
        prepare(tiny_model, InferenceOptions("int8", compile=True), calibration=[])
    monkeypatch.setattr(export, "bf16_supported", lambda device: False)
    with pytest.raises(UserError, match="no native bf16"):
        prepare(tiny_model, InferenceOptions("bf16"))


@pytest.mark.parametrize("precision", ["int8", "bf16"])
def test_cli_precision(precision, tiny_weights, write_image, tmp_path, capsys, request) -> None:
    if precision == "bf16":
        request.getfixturevalue("bf16")
    content, style = write_image("photo.png", 67, 45, seed=1), write_image("paint.png", 50, 38, seed=2)
    out = tmp_path / "out.png"
    code = main([str(content), "--style", str(style), "--size", "0", "--style-size", "0", "--device", "cpu",
                 "--precision", precision, "-o", str(out), *tiny_weights])
    assert code == 0, capsys.readouterr().err
    with Image.open(out) as image:
        assert np.asarray(image).shape == (45, 67, 3)


def test_bf16_counts_as_native_only_with_bf16_instructions(monkeypatch) -> None:
    if not BF16_RUNS:
        pytest.skip("oneDNN cannot run bf16 on this CPU")
    monkeypatch.setattr(export.platform, "machine", lambda: "x86_64")
    info = export.system_info()
    for flags, native in [(("AVX2", "AVX-512"), False), (("AVX-512", "AVX512_BF16"), True), (("AMX-BF16",), True)]:
        monkeypatch.setattr(export, "system_info", lambda: dataclasses.replace(info, flags=flags))
        assert export.bf16_supported(CPU) is native
