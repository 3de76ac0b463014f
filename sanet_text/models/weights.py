"""Weight resolution, one place for every model: explicit path > env var > cache/shipped > hub.

Weights are read with safetensors, or ``torch.load(weights_only=True)`` for third-party ``.pth``
files; nothing is ever unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

import torch
from safetensors.torch import load_file, save_file

from ..core.atomic import atomic_path
from ..core.config import ModelConfig, from_dict, load_model_config, load_yaml
from ..core.disk_cache import load_checked, save_checked
from ..core.errors import UserError, first_line
from ..core.paths import SHIPPED_DIR, cache_dir, configs_dir



# What makes a SANet weights file self-describing: its safetensors metadata holds the model config
# (every ModelConfig field, as JSON) and the model version, so the file alone rebuilds its model.
CONFIG_KEY = "model_config"
VERSION_KEY = "model_version"
# A folder written by Stylizer.save_pretrained: the SANet (with that metadata), and the encoder when
# it is not one the registry can find by name.
MODEL_FILE = "model.safetensors"
ENCODER_FILE = "encoder.safetensors"


@dataclass(frozen=True)
class WeightSpec:
    """One entry of ``configs/weights.yaml``: where a named set of weights can come from.

    SANet entries name their model ``config`` and ``version``; a hub download (``hf_repo``) is pinned
    to a ``revision`` and must match its ``sha256``.
    """

    name: str
    env: str
    help: str
    cache_file: str | None = None
    installed: dict | None = None
    url: str | None = None
    shipped: str | None = None
    hf_repo: str | None = None
    hf_file: str | None = None
    revision: str | None = None
    sha256: str | None = None
    config: str | None = None
    version: str | None = None


def registry() -> dict[str, WeightSpec]:
    return {name: WeightSpec(name=name, **entry) for name, entry in load_yaml(configs_dir() / "weights.yaml").items()}


def list_pretrained() -> list[str]:
    """The names of the SANet models :meth:`Stylizer.from_pretrained` can load by name."""
    return [name for name, spec in registry().items() if spec.config is not None]


def model_metadata(config: ModelConfig, version: str | None = None) -> dict[str, str]:
    """The safetensors metadata that makes SANet weights self-describing (see :data:`CONFIG_KEY`);
    ``version`` None (a training run's export) leaves the version out."""
    return {CONFIG_KEY: json.dumps(dataclasses.asdict(config)), **({VERSION_KEY: version} if version else {})}


def read_metadata(path: Path) -> dict[str, str]:
    """A safetensors file's metadata (its header only, no tensors), or one UserError."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}
    except Exception as err:  # missing, damaged or foreign files fail in several ways
        raise UserError(f"cannot read weights {path}: {first_line(err)}") from None


def config_from_metadata(metadata: dict[str, str], source: Path) -> ModelConfig | None:
    """The model config a weights file carries, or None for files saved before configs travelled."""
    if CONFIG_KEY not in metadata:
        return None
    try:
        data = json.loads(metadata[CONFIG_KEY])
    except ValueError as err:
        raise UserError(f"{source}: its model config is not valid JSON ({err})") from None
    # An unknown field means a newer sanet-text wrote the file: from_dict refuses it, naming the field.
    return from_dict(ModelConfig, data, source=f"{source} (model config)")


@dataclass(frozen=True)
class Pretrained:
    """A model to build: its config, SANet weights and encoder weights (registry names or files)."""

    config: ModelConfig
    weights: str | Path
    encoder_weights: str | Path
    version: str | None = None


def find_pretrained(name_or_path: str | Path | None = None, config: ModelConfig | None = None) -> Pretrained:
    """What ``Stylizer.from_pretrained(name_or_path)`` builds, read from headers and the registry only.

    ``name_or_path``: a folder from ``save_pretrained``, a ``.safetensors`` file, a registry name
    (:func:`list_pretrained`), ``"random"``, or None for the default model. ``config``: use this
    config instead of the one the weights carry (files from before configs travelled carry none;
    they get the registry's, else ``base``).
    """
    if name_or_path is None or str(name_or_path) == "random":
        chosen = config or load_model_config("base")
        weights = chosen.weights if name_or_path is None else "random"
        spec = registry().get(str(weights))
        return Pretrained(chosen, weights, chosen.encoder_weights, spec.version if spec else None)
    if not is_file_name(name_or_path) and not Path(name_or_path).is_dir():
        spec = _spec(str(name_or_path))
        if spec.config is None:
            raise UserError(f"{spec.name!r} are not SANet weights; use one of {', '.join(list_pretrained())}")
        chosen = config or load_model_config(spec.config)
        return Pretrained(chosen, spec.name, chosen.encoder_weights, spec.version)
    folder = Path(name_or_path) if Path(name_or_path).is_dir() else None
    path = folder / MODEL_FILE if folder is not None else Path(name_or_path)
    if not path.is_file():
        raise UserError(f"{folder} holds no {MODEL_FILE}: not a folder written by save_pretrained"
                        if folder is not None else f"weights file not found: {path}")
    metadata = read_metadata(path)
    chosen = config or config_from_metadata(metadata, path) or load_model_config("base")
    encoder = folder / ENCODER_FILE if folder is not None and (folder / ENCODER_FILE).is_file() else chosen.encoder_weights
    return Pretrained(chosen, path, encoder, metadata.get(VERSION_KEY))


def save_safetensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Atomic safetensors write (temp file + rename), so a killed process never leaves half a file."""
    with atomic_path(path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, tmp, metadata=metadata)


def hub_reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether ``url``'s host answers at all: offline machines fail fast instead of retrying for minutes."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("SANET_TEXT_OFFLINE") == "1":
        return False
    if os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy"):
        return True  # behind a proxy a direct probe says nothing; let the download try
    host = urlparse(url).hostname or ""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _spec(name: str) -> WeightSpec:
    specs = registry()
    if name not in specs:
        # A name is never guessed into the default weights: a typo, or a file path without its
        # suffix, must not silently run another model.
        raise UserError(f"unknown weights {name!r}: not a registry name ({', '.join(specs)}) and not a file "
                        "path with a .safetensors suffix (.h5 or .pth also work for VGG-19)")
    return specs[name]


def is_file_name(name_or_path: str | Path) -> bool:
    """Whether weights are named by a file (it has a suffix) rather than a registry name."""
    return Path(str(name_or_path)).suffix != ""


def read_safetensors(path: Path, what: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """A safetensors file's tensors (as float32) and metadata, or one UserError naming ``what``."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(path)
    except Exception as err:  # safetensors raises several types for missing, damaged or foreign files
        raise UserError(f"cannot read {what} {path}: {first_line(err)}") from None
    return {k: v.float() for k, v in state.items()}, metadata


def load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str, fits: str,
                keys: dict | None = None) -> None:
    """Load ``state`` into ``module`` only when it matches exactly (``keys``: the part it must match).

    ``what`` names the weights and ``fits`` what they must fit, for the one-line error.
    """
    expected = keys if keys is not None else module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        detail = (missing or unexpected or wrong)[0]
        raise UserError(
            f"{what} do not fit {fits} ({len(missing)} missing, {len(unexpected)} unexpected, "
            f"{len(wrong)} mis-shaped tensors, e.g. {detail}); check that the config matches the weights"
        )
    nonfinite = next((k for k in expected if k in state and not torch.isfinite(state[k]).all()), None)
    if nonfinite is not None:
        raise UserError(f"{what} hold NaN or infinite values (e.g. {nonfinite}): the file is damaged or "
                        "comes from a diverged training run; use another weights file")
    # assign: the module takes the loaded tensors (a module built on the meta device has no storage).
    module.load_state_dict(state, strict=keys is None, assign=True)


def installed_file(spec: WeightSpec) -> Path | None:
    if not spec.installed:
        return None
    found = importlib.util.find_spec(spec.installed["package"])
    if found is None or not found.submodule_search_locations:
        return None
    candidate = Path(list(found.submodule_search_locations)[0]) / spec.installed["file"]
    return candidate if candidate.is_file() else None


# ---------------------------------------------------------------- encoder (VGG-19)


def vgg_state_from_file(path: Path) -> dict[str, torch.Tensor]:
    """Encoder state from our safetensors, a Keras/Caffe .h5 or a torchvision .pth file."""
    from . import vgg_convert

    if not path.is_file():
        raise UserError(f"VGG-19 weights file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            return load_file(path)
        if suffix == ".h5":
            return vgg_convert.build_encoder_state(vgg_convert.convs_from_keras_h5(path), vgg_convert.caffe_input_conv())
        if suffix in {".pth", ".pt", ".bin"}:
            state = torch.load(path, map_location="cpu", weights_only=True)
            return vgg_convert.build_encoder_state(
                vgg_convert.convs_from_torchvision(state), vgg_convert.torchvision_input_conv()
            )
    except UserError:
        raise
    except Exception as err:  # third-party files fail in many library-specific ways
        raise UserError(f"cannot read VGG-19 weights {path}: {first_line(err)}") from None
    raise UserError(f"VGG-19 weights must be .safetensors, .h5 or .pth, got {path}")


def resolve_vgg(name_or_path: str | Path = "vgg19") -> dict[str, torch.Tensor]:
    """VGG-19 encoder weights: a file, or a registry name by the resolution order (env var > cache >
    installed package > download); converted files are cached as safetensors."""
    if is_file_name(name_or_path):
        return vgg_state_from_file(Path(name_or_path))
    spec = _spec(str(name_or_path))
    if spec.cache_file is None:
        raise UserError(f"{spec.name!r} names SANet or mapper weights, not VGG-19 encoder weights")
    if os.environ.get(spec.env):
        return vgg_state_from_file(Path(os.environ[spec.env]))
    cached = cache_dir() / str(spec.cache_file)
    state = load_checked(cached, "VGG-19 weights")
    if state is not None:
        return state
    installed = installed_file(spec)
    if installed is not None:
        state = vgg_state_from_file(installed)
        save_checked(state, cached, {"source": str(installed)})
        return state
    if not hub_reachable(str(spec.url)):
        raise UserError(f"VGG-19 weights not found and the internet is not reachable; {spec.help}")
    try:
        # check_hash: the file must match the SHA-256 prefix its torchvision name carries (-dcbb9e9d).
        downloaded = torch.hub.load_state_dict_from_url(str(spec.url), map_location="cpu", weights_only=True,
                                                        progress=True, check_hash=True)
    except Exception:  # offline, proxy, DNS: all mean "not available here"
        raise UserError(f"VGG-19 weights not found and could not be downloaded; {spec.help}") from None
    from . import vgg_convert

    state = vgg_convert.build_encoder_state(
        vgg_convert.convs_from_torchvision(downloaded), vgg_convert.torchvision_input_conv()
    )
    save_checked(state, cached, {"source": str(spec.url)})
    return state


def encoder_files(name_or_path: str | Path = "vgg19") -> list[Path]:
    """Every file :func:`resolve_vgg` may read for ``name_or_path``, existing or not: when none of
    them changes, the encoder it loads is the same."""
    if is_file_name(name_or_path):
        return [Path(name_or_path)]
    spec = _spec(str(name_or_path))
    files = [Path(os.environ[spec.env])] if os.environ.get(spec.env) else []
    installed = installed_file(spec)
    return files + [cache_dir() / str(spec.cache_file)] + ([installed] if installed else [])


def load_encoder_weights(encoder: torch.nn.Module, name_or_path: str | Path) -> None:
    if str(name_or_path) == "random":
        return
    # Widened like SANet weights are: a half-precision copy (packed for a GPU machine) computes in fp32.
    state = {k: v.float() for k, v in resolve_vgg(name_or_path).items()}
    load_strict(encoder, state, "VGG-19 weights", "this model config")


# ---------------------------------------------------------------- SANet (transform + decoder)


def resolve_weights(name_or_path: str | Path) -> Path:
    """Path of SANet or mapper weights: an explicit file or a folder from ``save_pretrained``, or by
    registry name the env var, the shipped file, or a hub download."""
    if (Path(name_or_path) / MODEL_FILE).is_file():
        return Path(name_or_path) / MODEL_FILE
    if is_file_name(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise UserError(f"weights file not found: {path}")
        return path
    spec = _spec(str(name_or_path))
    if os.environ.get(spec.env):
        path = Path(os.environ[spec.env])
        if not path.is_file():
            raise UserError(f"{spec.env} points to a missing file: {path}")
        return path
    if spec.shipped and (SHIPPED_DIR / spec.shipped).is_file():
        return SHIPPED_DIR / spec.shipped
    if spec.hf_repo and hub_reachable("https://huggingface.co"):
        downloaded = download_pinned(spec)
        if downloaded is not None:
            return downloaded
    raise UserError(f"weights {spec.name!r} not found locally and not downloadable; {spec.help}")


def download_pinned(spec: WeightSpec) -> Path | None:
    """``spec``'s file from the hub at its pinned revision, verified by its SHA-256 (None: not reachable).

    A registry entry without both pins is refused: an unpinned name could change what it downloads.
    """
    if not (spec.revision and spec.sha256):
        raise UserError(f"weights {spec.name!r}: configs/weights.yaml names a hub file without a pinned revision "
                        "and sha256; add both, or pass --weights PATH")
    try:
        from huggingface_hub import hf_hub_download

        path = Path(hf_hub_download(spec.hf_repo, str(spec.hf_file), revision=spec.revision))
    except Exception:  # offline or repo missing: both mean "not available here"
        return None
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    if digest != spec.sha256:
        raise UserError(f"downloaded weights {spec.name!r} ({path}) have SHA-256 {digest}, not the pinned "
                        f"{spec.sha256}; delete the file and try again, or pass --weights PATH")
    return path


def load_sanet_weights(model: torch.nn.Module, name_or_path: str | Path,
                       upgrade: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None) -> dict[str, str]:
    """Load transform+decoder weights; returns the file's metadata (training facts).

    ``upgrade``: completes a state saved by an older architecture before the strict check.
    """
    if str(name_or_path) == "random":
        return {}
    path = resolve_weights(name_or_path)
    state, metadata = read_safetensors(path, "weights")
    trainable = {k: v for k, v in model.state_dict().items() if not k.startswith("encoder.")}
    if upgrade is not None:
        state = upgrade(state)
    load_strict(model, state, f"weights {path}", "this model config", keys=trainable)
    return metadata
