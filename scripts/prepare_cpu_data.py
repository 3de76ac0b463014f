"""Assemble the training folders of configs/train_cpu.yaml from what the registries provide.

    python scripts/prepare_cpu_data.py --opencv-doc ../shared/data/opencv-doc --out data

data/content: colour photos from scikit-image (CC0 / public domain), scikit-learn (CC BY 2.0) and
OpenCV's sample data (Debian opencv-doc; Apache-2.0/BSD). data/styles/starry_night: Van Gogh,
public domain (from opencv-doc). data/styles/textures: scikit-image brick/grass/gravel (CC0).
data/styles_synth: 12 media x 30 generated exemplars (prompts/make_exemplars.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

SKIMAGE = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg")
SKLEARN = ("china.jpg", "flower.jpg")
OPENCV = ("apple.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg", "home.jpg", "orange.jpg",
          "squirrel_cls.jpg")
TEXTURES = ("brick.png", "grass.png", "gravel.png")


def package_dir(name: str, sub: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"pip install {name} first")
    return Path(list(spec.submodule_search_locations)[0]) / sub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opencv-doc", type=Path, required=True, help="folder with OpenCV's sample images")
    parser.add_argument("--out", type=Path, default=Path("data"), help="folder to fill (default data)")
    args = parser.parse_args()
    skimage, sklearn = package_dir("skimage", "data"), package_dir("sklearn", "datasets/images")
    plan = [(skimage / f, "content") for f in SKIMAGE] + [(sklearn / f, "content") for f in SKLEARN]
    plan += [(args.opencv_doc / f, "content") for f in OPENCV]
    plan += [(args.opencv_doc / "starry_night.jpg", "styles/starry_night")]
    plan += [(skimage / f, "styles/textures") for f in TEXTURES]
    for source, folder in plan:
        (args.out / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(source, args.out / folder / source.name)
    maker = Path(__file__).resolve().parents[1] / "prompts" / "make_exemplars.py"
    subprocess.run([sys.executable, str(maker), "--train-dir", str(args.out / "styles_synth"), "--per-style", "30"],
                   check=True)


if __name__ == "__main__":
    main()
