"""Pack what a GPU fine-tune needs into one folder small enough to travel to a lent GPU machine.

    python scripts/pack_device_data.py --data data --out .device

A lent machine has PyTorch but no internet and takes at most 64 MiB with the repository, so the
folder holds, beside the checkout's own shipped weights:

* ``vgg19.safetensors``: the encoder in fp16 (half the size; its features differ from fp32's by
  about one part in a thousand, far below what the losses resolve);
* ``data/content``, ``data/styles``: every training image, downscaled to the largest short side
  training looks at (``scale[1]`` of the config, by the same :func:`sanet_text.training.data.shrink_short_side`
  that :class:`sanet_text.training.data.RandomCrops` applies on load) and stored as high-quality JPEG;
* ``data/palettes.json`` as is.

``scripts/gpu_finetune.sh`` trains from it. The validation folder is not packed: choosing a
checkpoint happens here, on the CPU, with ``benchmarks/peer_comparison.py``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from safetensors.torch import save_file

from sanet_text.core.config import load_train_config
from sanet_text.images.processor import load_image, tensor_to_pil
from sanet_text.models.weights import resolve_vgg
from sanet_text.training.data import find_images, shrink_short_side

JPEG_QUALITY = 92


def pack_images(source: Path, target: Path, short_side: int) -> int:
    """Every image under ``source`` as JPEG under ``target`` (same layout), short side ≤ ``short_side``."""
    written = 0
    for path in find_images([str(source)]):
        image = shrink_short_side(load_image(path), short_side)
        out = target / path.relative_to(source).with_suffix(".jpg")
        out.parent.mkdir(parents=True, exist_ok=True)
        tensor_to_pil(image).save(out, quality=JPEG_QUALITY)
        written += out.stat().st_size
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("data"), help="scripts/prepare_cpu_data.py's output")
    parser.add_argument("--out", type=Path, default=Path(".device"), help="folder to write (replaced)")
    parser.add_argument("--config", default="configs/train/gpu.yaml", help="the training config it is packed for")
    args = parser.parse_args(argv)
    short_side = load_train_config(args.config).scale[1]
    if args.out.exists():
        shutil.rmtree(args.out)
    (args.out / "data").mkdir(parents=True)
    vgg = {k: v.half().contiguous() for k, v in resolve_vgg("vgg19").items()}
    save_file(vgg, str(args.out / "vgg19.safetensors"))
    sizes = {name: pack_images(args.data / name, args.out / "data" / name, short_side) for name in ("content", "styles")}
    shutil.copy(args.data / "palettes.json", args.out / "data" / "palettes.json")
    total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{args.out}: {total / 2**20:.1f} MiB (VGG {(args.out / 'vgg19.safetensors').stat().st_size / 2**20:.1f}, "
          + ", ".join(f"{k} {v / 2**20:.1f}" for k, v in sizes.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
