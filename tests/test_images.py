"""The image processor (sanet_text/images/processor.py): one resize for tensors and for the torch-free
arrays of the quick path, within a tolerance of the video frames' OpenCV resize; one 8-bit conversion;
every kind of picture in; torch imported only for tensors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from sanet_text.core.paths import EXAMPLES_DIR
from sanet_text.images.processor import (array_to_pil, fit_frame, load_image, load_pil, pil_to_array, picture_tensor,
                                         resize_to, tensor_to_pil, to_uint8)

PHOTOS = ("chelsea.jpg", "starry_night.jpg", "coffee.jpg")


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("size, exact", [(256, False), (512, False), (1000, False), (300, True)])
def test_arrays_and_tensors_are_resized_alike(name, size, exact) -> None:
    array = pil_to_array(load_pil(EXAMPLES_DIR / name))
    from_array = resize_to(array, size, exact)
    from_tensor = resize_to(torch.from_numpy(array), size, exact).numpy()
    assert isinstance(from_array, np.ndarray) and from_array.dtype == np.float32
    assert from_array.shape == from_tensor.shape
    assert np.abs(from_array - from_tensor).max() < 1e-4  # the same filter, float rounding apart


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("longer", [256, 1000])
def test_video_frames_are_resized_within_a_tolerance_of_pictures(name, longer) -> None:
    """OpenCV's area/cubic filter on 8-bit frames against the pictures' antialiased bicubic: under a
    level on average, a few at the sharpest edges (the widest gap here: Starry Night's strokes at
    256 px, 2.0 levels on average, 8 at the 99th percentile)."""
    image = load_pil(EXAMPLES_DIR / name)
    width, height = longer, round(longer * image.height / image.width)
    frame = fit_frame(np.asarray(image), (width, height))
    picture = to_uint8(resize_to(picture_tensor(image), longer).permute(1, 2, 0).numpy())
    difference = np.abs(frame.astype(np.int16) - picture.astype(np.int16))
    assert frame.shape == picture.shape == (height, width, 3)
    assert difference.mean() < 2.5 and np.percentile(difference, 99) < 10


def test_eight_bit_levels_round_to_the_nearest_and_clip() -> None:
    values = np.array([-0.2, 0.0, 0.4 / 255, 0.6 / 255, 0.5, 1.0, 1.3], dtype=np.float32)
    assert to_uint8(values).tolist() == [0, 0, 0, 1, 128, 255, 255]


def test_pictures_of_every_kind_come_in_as_the_same_tensor(tmp_path) -> None:
    path = EXAMPLES_DIR / "chelsea.jpg"
    expected = load_image(path)
    pil = load_pil(path)
    levels = np.array(pil)
    for picture in (path, str(path), pil, levels, levels / np.float32(255), torch.from_numpy(levels).permute(2, 0, 1),
                    expected[None]):
        assert torch.allclose(picture_tensor(picture), expected, atol=1e-6), type(picture)
    assert np.array_equal(np.asarray(tensor_to_pil(expected)), levels)
    assert np.array_equal(np.asarray(array_to_pil(expected.numpy())), levels)


def test_reading_resizing_and_writing_arrays_imports_no_torch(tmp_path) -> None:
    code = ("import sys; from sanet_text.images import processor as p; "
            f"image = p.resize_to(p.pil_to_array(p.load_pil({str(EXAMPLES_DIR / 'chelsea.jpg')!r})), 128); "
            f"p.save_image(image, {str(tmp_path / 'out.png')!r}); print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    assert Image.open(tmp_path / "out.png").size == (128, 85)
