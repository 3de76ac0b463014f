"""Where the package's data lives, in a source checkout and in an installed wheel alike."""

from __future__ import annotations

import os
from pathlib import Path

# paths.py lives in sanet_text/core/; the package's root is one folder up.
PACKAGE_DIR = Path(__file__).resolve().parents[1]
# The bundled example photos (and Starry Night), with their attribution.
EXAMPLES_DIR = PACKAGE_DIR / "assets" / "examples"
# Shipped weights. Named "pretrained", not "weights", so the folder cannot shadow weights.py.
SHIPPED_DIR = PACKAGE_DIR / "pretrained"


def data_dir(name: str) -> Path:
    """A top-level data folder of the repository (``configs``, ``prompts``) or its packaged copy.

    The wheel installs them inside the package (``sanet_text/configs``, ...); a source checkout or an
    editable install has them beside the package.
    """
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / name


def prompts_dir() -> Path:
    """The style library, its exemplars and the prompt lists."""
    return data_dir("prompts")


def configs_dir() -> Path:
    """The model, mapper, training and accelerate configs and the weights registry."""
    return data_dir("configs")


def cache_dir() -> Path:
    """Where converted weights, text embeddings, exemplar features and quick-run plans are cached."""
    root = os.environ.get("SANET_TEXT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "sanet-text"
    )
    return Path(root)
