"""The library exemplars' VGG features and colours, kept on disk: after a style's first use, a
prompt that resolves to it costs no encoder pass over its exemplar images (about a second each on a
CPU) and no decoding of them.

The file name is a hash of everything the features depend on: the encoder's weights (so another
VGG file or model config gets its own entry), the exemplar files' bytes, the size they are encoded
at, the precision and the device type.
"""

from __future__ import annotations

import hashlib
import json
import weakref

import torch

from ..core.disk_cache import cached_tensors
from ..core.paths import cache_dir
from ..models.model import SANet
from .library import LibraryStyle
from .text import ExemplarFeatures, exemplar_features

# Small tensors (biases, the input conv) go into the encoder's hash whole, larger ones by every 61st
# element: hashing all 52 MB of VGG-19 took 0.1-0.3 s, in a run that should take 3, while weights
# from another file or another training differ in nearly every element. The stride is prime, so it
# does not fall into step with any channel or kernel layout.
_SAMPLE_STRIDE = 61
# The encoder is frozen, so its hash is computed once per encoder object.
_ENCODER_HASHES: weakref.WeakKeyDictionary[torch.nn.Module, str] = weakref.WeakKeyDictionary()


def encoder_hash(model: SANet) -> str:
    """SHA-256 of the encoder's parameter names, shapes and dtypes, its small tensors and a sample of its weights."""
    encoder = model.encoder
    if encoder not in _ENCODER_HASHES:
        digest = hashlib.sha256()
        for name, tensor in encoder.state_dict().items():
            digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
            values = tensor.detach().flatten()
            if values.numel() > 1000:
                values = values[::_SAMPLE_STRIDE]
            digest.update(values.cpu().contiguous().view(torch.uint8).numpy().tobytes())
        _ENCODER_HASHES[encoder] = digest.hexdigest()
    return _ENCODER_HASHES[encoder]


def cached_exemplar_features(model: SANet, style: LibraryStyle, size: int, precision: str = "fp32") -> ExemplarFeatures:
    """:func:`exemplar_features`, read from the user cache when computed before with the same inputs.

    ``precision``: the autocast the features are computed under (it changes them, so it keys them).
    """
    device = next(model.parameters()).device
    try:
        files = [hashlib.sha256(path.read_bytes()).hexdigest() for path in style.exemplars]
    except OSError:
        return exemplar_features(model, style, size)  # which says, in one line, what is wrong with the file
    key = json.dumps([encoder_hash(model), files, size, precision, device.type])
    path = (cache_dir() / "exemplar_features"
            / f"{style.name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.safetensors")

    def compute() -> dict[str, torch.Tensor]:
        return exemplar_features(model, style, size)._asdict()

    tensors = cached_tensors(path, ExemplarFeatures._fields, compute, device, what="exemplar features")
    return ExemplarFeatures(*(tensors[name] for name in ExemplarFeatures._fields))
