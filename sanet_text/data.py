"""Training data: folders of images of any layout, cut into random crops that depend only on an index.

Sample ``i`` is always the same crop of the same image (its randomness is seeded by ``i``), so a
resumed run sees exactly the batches the killed run would have seen, on any number of processes.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from torch.utils.data import Dataset, Sampler

from .errors import UserError
from .imageio import IMAGE_SUFFIXES, load_image, resize_to


def find_images(folders: tuple[str, ...] | list[str]) -> list[Path]:
    files = sorted(
        p for folder in folders for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not files:
        raise UserError(f"no images found under {', '.join(map(str, folders)) or '(no folders given)'}")
    return files


class RandomCrops(Dataset):
    """Index-seeded random crops (scale jitter, flips) of images found under ``folders``.

    Each folder that directly holds images is one group, and groups are drawn equally often, so a
    style with one painting is not drowned by a folder of three hundred generated exemplars.

    Decoded images are kept in memory, downscaled so the short side is at most ``2 * crop``; the
    training sets this project uses are small enough that this beats decoding every step.
    """

    def __init__(self, folders: tuple[str, ...] | list[str], crop: int, seed: int = 0) -> None:
        self.files = find_images(folders)
        groups: dict[Path, list[int]] = {}
        for index, path in enumerate(self.files):
            groups.setdefault(path.parent, []).append(index)
        self.groups = list(groups.values())
        self.crop = crop
        self.seed = seed
        self._cache: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return 1 << 40  # an endless stream; the sampler decides which indices are drawn

    def _image(self, index: int) -> torch.Tensor:
        if index not in self._cache:
            image = load_image(self.files[index])
            short = min(image.shape[-2:])
            if short > 2 * self.crop:
                image = resize_to(image, round(max(image.shape[-2:]) * 2 * self.crop / short))
            self._cache[index] = image
        return self._cache[index]

    def __getitem__(self, index: int) -> torch.Tensor:
        rng = random.Random(self.seed * 1_000_003 + index)
        image = self._image(rng.choice(rng.choice(self.groups)))
        h, w = image.shape[-2:]
        # Crop a window of 0.5-1.0 of the short side, then resize to the training crop: scale jitter.
        side = max(8, round(min(h, w) * rng.uniform(0.5, 1.0)))
        top, left = rng.randrange(h - side + 1), rng.randrange(w - side + 1)
        window = image[:, top : top + side, left : left + side]
        window = resize_to(window, self.crop, exact=True)
        if rng.random() < 0.5:
            window = window.flip(-1)
        return window


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
