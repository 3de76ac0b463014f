"""Weight resolution, one place for every model: explicit path > env var > cache/shipped > hub.

Weights are read with safetensors, or ``torch.load(weights_only=True)`` for third-party ``.pth``
files; nothing is ever unpickled.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from safetensors.torch import load_file, save_file

from .atomic import atomic_path
from .config import find_config, load_yaml
from .errors import UserError
from .paths import SHIPPED_DIR



@dataclass(frozen=True)
class WeightSpec:
    name: str
    env: str
    help: str
    cache_file: str | None = None
    installed: dict | None = None
    url: str | None = None
    shipped: str | None = None
    hf_repo: str | None = None
    hf_file: str | None = None


def registry() -> dict[str, WeightSpec]:
    return {name: WeightSpec(name=name, **entry) for name, entry in load_yaml(find_config("weights")).items()}


def cache_dir() -> Path:
    root = os.environ.get("SANET_TEXT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "sanet-text"
    )
    return Path(root)


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
        raise UserError(f"unknown weights {name!r}; known: {', '.join(specs)}, or give a file path")
    return specs[name]


def _installed_file(spec: WeightSpec) -> Path | None:
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
        raise UserError(f"cannot read VGG-19 weights {path}: {str(err).splitlines()[0] if str(err) else type(err).__name__}") from None
    raise UserError(f"VGG-19 weights must be .safetensors, .h5 or .pth, got {path}")


def resolve_vgg(explicit: str | Path | None = None) -> dict[str, torch.Tensor]:
    """VGG-19 encoder weights by the resolution order; converted files are cached as safetensors."""
    spec = _spec("vgg19")
    chosen = explicit or os.environ.get(spec.env)
    if chosen:
        return vgg_state_from_file(Path(chosen))
    cached = cache_dir() / str(spec.cache_file)
    if cached.is_file():
        return load_file(cached)
    installed = _installed_file(spec)
    if installed is not None:
        state = vgg_state_from_file(installed)
        save_safetensors(state, cached, {"source": str(installed)})
        return state
    if not hub_reachable(str(spec.url)):
        raise UserError(f"VGG-19 weights not found and the internet is not reachable; {spec.help}")
    try:
        downloaded = torch.hub.load_state_dict_from_url(str(spec.url), map_location="cpu", weights_only=True, progress=True)
    except Exception:  # offline, proxy, DNS: all mean "not available here"
        raise UserError(f"VGG-19 weights not found and could not be downloaded; {spec.help}") from None
    from . import vgg_convert

    state = vgg_convert.build_encoder_state(
        vgg_convert.convs_from_torchvision(downloaded), vgg_convert.torchvision_input_conv()
    )
    save_safetensors(state, cached, {"source": str(spec.url)})
    return state


def load_encoder_weights(encoder: torch.nn.Module, name_or_path: str | Path) -> None:
    if str(name_or_path) == "random":
        return
    is_path = Path(str(name_or_path)).suffix != ""
    state = resolve_vgg(name_or_path if is_path else None)
    _load_strict(encoder, state, "VGG-19")


# ---------------------------------------------------------------- SANet (transform + decoder)


def resolve_sanet(name_or_path: str | Path) -> Path:
    """Path of SANet weights: an explicit file, the env var, the shipped file, or a hub download."""
    if Path(str(name_or_path)).suffix:
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
        try:
            from huggingface_hub import hf_hub_download

            return Path(hf_hub_download(spec.hf_repo, str(spec.hf_file)))
        except Exception:  # offline or repo missing: both mean "not available here"
            pass
    raise UserError(f"weights {spec.name!r} not found locally and not downloadable; {spec.help}")


def load_sanet_weights(model: torch.nn.Module, name_or_path: str | Path) -> dict[str, str]:
    """Load transform+decoder weights; returns the file's metadata (training facts)."""
    if str(name_or_path) == "random":
        return {}
    path = resolve_sanet(name_or_path)
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        state = load_file(path)
    except Exception as err:
        raise UserError(f"cannot read weights {path}: {str(err).splitlines()[0]}") from None
    trainable = {k: v for k, v in model.state_dict().items() if not k.startswith("encoder.")}
    _load_strict(model, {k: v.float() for k, v in state.items()}, str(path), keys=trainable)
    return metadata


def _load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], what: str, keys: dict | None = None) -> None:
    expected = keys if keys is not None else module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        detail = (missing or unexpected or wrong)[0]
        raise UserError(
            f"{what} does not fit this model config ({len(missing)} missing, {len(unexpected)} unexpected, "
            f"{len(wrong)} mis-shaped tensors, e.g. {detail}); check --config matches the weights"
        )
    module.load_state_dict(state, strict=keys is None)
