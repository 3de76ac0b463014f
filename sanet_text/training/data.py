"""Training data: folders of images of any layout, cut into random crops that depend only on an index.

Sample ``i`` is always the same crop of the same image (its randomness is seeded by ``i``), so a
resumed run sees exactly the batches the killed run would have seen, on any number of processes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch
from torch.utils.data import Dataset, Sampler

from ..core.errors import UserError
from ..images.processor import IMAGE_SUFFIXES, load_image, resize_to
from ..options.validation import check_folders


def find_images(folders: tuple[str, ...] | list[str]) -> list[Path]:
    check_folders(folders)
    files = sorted(
        p for folder in folders for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not files:
        raise UserError(f"no images found under {', '.join(map(str, folders)) or '(no folders given)'}")
    return files


def shrink_short_side(image: torch.Tensor, limit: int) -> torch.Tensor:
    """``image`` downscaled so its short side is at most ``limit`` px (aspect kept); smaller ones as is."""
    short = min(image.shape[-2:])
    if short <= limit:
        return image
    return resize_to(image, round(max(image.shape[-2:]) * limit / short))


class RandomCrops(Dataset):
    """Index-seeded random crops (scale jitter, flips) of images found under ``folders``.

    Each folder that directly holds images is one group, and groups are drawn equally often, so a
    style with one painting is not drowned by a folder of three hundred generated exemplars.

    ``scale`` is the range of short sides (px) an image is seen at: a crop of ``crop`` px shows
    ``crop / scale`` of the short side, as it would at inference with ``--size`` in that range, so
    strokes and detail are learnt at the size they are used. Decoded images are kept in memory,
    downscaled to the top of that range; the training sets this project uses are small enough that
    this beats decoding every step.
    """

    def __init__(self, folders: tuple[str, ...] | list[str], crop: int, seed: int = 0,
                 scale: tuple[int, int] = (384, 640)) -> None:
        self.files = find_images(folders)
        groups: dict[Path, list[int]] = {}
        for index, path in enumerate(self.files):
            groups.setdefault(path.parent, []).append(index)
        self.groups = list(groups.values())
        self.crop = crop
        self.seed = seed
        self.scale = scale
        self._cache: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return 1 << 40  # an endless stream; the sampler decides which indices are drawn

    def _image(self, index: int) -> torch.Tensor:
        if index not in self._cache:
            self._cache[index] = shrink_short_side(load_image(self.files[index]), self.scale[1])
        return self._cache[index]

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = random.Random(self.seed * 1_000_003 + index)
        image = self._image(rng.choice(rng.choice(self.groups)))
        h, w = image.shape[-2:]
        # The window the crop covers at a short side drawn from ``scale``, in this image's pixels.
        side = min(h, w, max(8, round(min(h, w) * self.crop / rng.uniform(*self.scale))))
        top, left = rng.randrange(h - side + 1), rng.randrange(w - side + 1)
        window = image[:, top : top + side, left : left + side]
        window = resize_to(window, self.crop, exact=True)
        if rng.random() < 0.5:
            window = window.flip(-1)
        return window


class StyleSamples(Dataset):
    """Style images for training: real crops (``real``), recoloured with probability ``jitter``, or,
    with probability ``synthetic`` (always when there are no real styles), procedural paintings in
    random palettes (:mod:`sanet_text.training.synth_styles`). Index-seeded like :class:`RandomCrops`."""

    def __init__(self, real: RandomCrops | None, crop: int, seed: int, synthetic: float = 0.0,
                 jitter: float = 0.0, palettes: list[list[list[int]]] | None = None) -> None:
        self.real, self.crop, self.seed = real, crop, seed
        self.synthetic, self.jitter, self.palettes = synthetic, jitter, palettes or []

    def __len__(self) -> int:
        return 1 << 40

    def __getitem__(self, index: int) -> torch.Tensor:
        from .synth_styles import jitter_colours, procedural_style

        rng = random.Random((self.seed * 1_000_003 + index) * 7 + 3)
        if self.real is None or rng.random() < self.synthetic:
            return procedural_style(rng, self.crop, self.palettes)
        image = self.real[index]
        return jitter_colours(image, rng) if rng.random() < self.jitter else image


def read_palettes(path: str) -> list[list[list[int]]]:
    """Colour palettes (lists of 0–255 RGB triples) from a JSON file; "" = none (random harmonies only)."""
    if not path:
        return []
    try:
        palettes = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read palettes file {path}: {err}") from None
    return [p for p in palettes if isinstance(p, list) and len(p) >= 3]


class StepSampler(Sampler[int]):
    """Indices for one process from global step ``start_step`` on: step s, process r, slot j gets
    index ``(s * world + r) * batch + j``; disjoint across processes and independent of restarts."""

    def __init__(self, batch_size: int, start_step: int = 0, rank: int = 0, world: int = 1, steps: int | None = None):
        self.batch_size, self.start_step, self.rank, self.world, self.steps = batch_size, start_step, rank, world, steps

    def __iter__(self):
        step = self.start_step
        while self.steps is None or step < self.steps:
            base = (step * self.world + self.rank) * self.batch_size
            yield from range(base, base + self.batch_size)
            step += 1

    def __len__(self) -> int:
        return 0 if self.steps is None else max(0, self.steps - self.start_step) * self.batch_size
