"""Shared fixtures: the tiny random model, small test images, and every odd kind of image file a user may give."""

from __future__ import annotations

import dataclasses
import struct
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from sanet_text.core.config import ModelConfig, load_model_config
from sanet_text.models.model import SANet, build_model

# Tiny models gain nothing from threads, and on a busy machine idle-spinning worker threads make
# each convolution a thousand times slower.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _full_path_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI tests run the full path and leave no quick-run plans; tests/test_quick.py turns it back on."""
    monkeypatch.setenv("SANET_TEXT_QUICK", "0")


def noise_image(width: int, height: int, seed: int) -> Image.Image:
    """Smooth random colours (not white noise), so images have structure the encoder can see."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
    return Image.fromarray(small, "RGB").resize((width, height), Image.BICUBIC)


def _lively_tiny_model(config: ModelConfig | str = "tiny") -> SANet:
    """The tiny config (or ``config``) with He-initialised convolutions.

    PyTorch's default init shrinks the signal through the random VGG until every feature is nearly
    constant and every output is flat grey, which would let option tests pass vacuously. He init
    keeps images distinguishable; the decoder is shifted to mid-grey so clamping hides little.
    """
    model = build_model(config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2 / fan_in) ** 0.5)
                if module.bias is not None:
                    module.bias.zero_()
        model.decoder.layers[-1].bias += 0.5
    return model


@pytest.fixture(scope="session")
def tiny_model() -> SANet:
    return _lively_tiny_model()


@pytest.fixture(scope="session")
def tiny_multilevel_model() -> SANet:
    """The lively tiny model with multi-level style injection at all three levels (the v0.3 architecture)."""
    return _lively_tiny_model(dataclasses.replace(load_model_config("tiny"), style_levels=3, style_code=8))


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """CLI arguments that run the lively tiny model: ``--config tiny`` plus its weight files."""
    model = _lively_tiny_model()
    folder = tmp_path_factory.mktemp("weights")
    save_file(model.encoder.state_dict(), folder / "vgg.safetensors")
    save_file(model.trainable_state_dict(), folder / "sanet.safetensors")
    return ["--config", "tiny", "--vgg-weights", str(folder / "vgg.safetensors"),
            "--weights", str(folder / "sanet.safetensors")]


@pytest.fixture
def write_image(tmp_path: Path) -> Callable[..., Path]:
    """Write a smooth random RGB image of ``width``×``height`` under tmp_path; returns its path."""

    def write(name: str, width: int = 67, height: int = 45, seed: int = 0) -> Path:
        path = tmp_path / name
        noise_image(width, height, seed).save(path)
        return path

    return write


@pytest.fixture
def photo_and_styles(write_image) -> dict[str, Path]:
    """A small content photo and two style pictures of other sizes."""
    return {
        "content": write_image("photo.png", 67, 45, seed=1),
        "style": write_image("paint.png", 50, 38, seed=2),
        "style2": write_image("other.png", 41, 53, seed=3),
    }


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims ``width``×``height`` with no pixel data: trips size guards without the memory."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def _truncated_jpeg(path: Path) -> None:
    """A valid JPEG cut off inside its pixel data (headers intact), like an interrupted download."""
    noise_image(256, 192, 1).save(path, format="JPEG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])


def _exif_rotated(path: Path) -> None:
    """Stored 48 wide × 32 high, EXIF orientation 6: viewers (and we) show it 32 wide × 48 high."""
    exif = Image.Exif()
    exif[0x0112] = 6
    noise_image(48, 32, 2).save(path, format="JPEG", exif=exif)


ODD_WRITERS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "grayscale": ("gray.png", lambda p: noise_image(40, 30, 3).convert("L").save(p)),
    "cmyk": ("cmyk.jpg", lambda p: noise_image(40, 30, 4).convert("CMYK").save(p, format="JPEG")),
    "16bit": ("deep.png", lambda p: Image.fromarray(  # uint16 arrays become mode I;16
        np.asarray(noise_image(40, 30, 5).convert("L"), dtype=np.uint16) * 257).save(p)),
    "rgba": ("alpha.png", lambda p: noise_image(40, 30, 6).convert("RGBA").save(p)),
    "exif_rotated": ("rotated.jpg", _exif_rotated),
    "one_pixel": ("dot.png", lambda p: Image.new("RGB", (1, 1), (200, 10, 10)).save(p)),
    "truncated": ("cut.jpg", _truncated_jpeg),
    "not_an_image": ("notes.png", lambda p: p.write_text("this is text, not a picture\n")),
    "bomb": ("huge.png", lambda p: _png_header_only(p, 100_000, 100_000)),
}


@pytest.fixture
def write_odd(tmp_path: Path) -> Callable[[str], Path]:
    """Write one odd image file by kind (see ODD_WRITERS); returns its path."""

    def write(kind: str) -> Path:
        name, writer = ODD_WRITERS[kind]
        path = tmp_path / name
        writer(path)
        return path

    return write


@pytest.fixture
def run(tiny_weights, capsys):
    """Run the CLI with the tiny model at the inputs' own (small) sizes; returns (exit code, stdout, stderr lines)."""
    from sanet_text.frontends.cli import main

    def invoke(*args: object) -> tuple[int, list[str], list[str]]:
        code = main(["--size", "0", "--style-size", "0", *map(str, args), *tiny_weights])
        out, err = capsys.readouterr()
        return code, out.splitlines(), err.splitlines()

    return invoke
