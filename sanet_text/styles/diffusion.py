"""Diffusion exemplars: a text-to-image model paints the prompt, and the painting is used as a style image.

The default model is a distilled one (SD-Turbo: one step at 512 px, no classifier-free guidance),
so a new prompt costs seconds, not minutes. Exemplars are cached as PNG files keyed by everything
that shapes the picture (model, prompt, seed, size, steps, ...), so asking again, or using the same
prompt on a whole folder, never loads the pipeline at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from ..core.errors import UserError, first_line
from ..core.paths import cache_dir
from ..images.processor import save_image
from ..models.model import SANet
from ..models.weights import hub_reachable
from .base import StyleGroup, check_prompt, prompt_slug
from .image import load_style_image, style_from_image

# (model id or folder, device) -> a diffusers text-to-image pipeline.
PipelineLoader = Callable[[str, torch.device], Any]


@dataclass(frozen=True)
class DiffusionSettings:
    """How an exemplar is painted; every field is part of the cache key."""

    # A diffusers hub id (downloaded once into the Hugging Face cache) or a local pipeline folder.
    model: str = "stabilityai/sd-turbo"
    steps: int = 1
    seed: int = 0
    # Side of the square exemplar; SD-Turbo is trained at 512.
    size: int = 512
    # Distilled turbo models are trained without classifier-free guidance; > 1 turns it on.
    guidance: float = 0.0
    # Asks for an artwork whose texture SANet can copy, rather than a photo of the named things.
    template: str = "a painting in the style of {}, detailed brushwork"


def paint_size(style_size: int, default: int = DiffusionSettings.size) -> int:
    """The exemplar side for a ``--style-size``: a multiple of 64 (UNet and VAE strides), 0 = the model's default."""
    if style_size <= 0:
        return default
    return max(64, round(style_size / 64) * 64)


def _model_key(model: str) -> str:
    """Local folders by absolute path (``./m`` and ``m`` are one model), hub ids as given."""
    local = Path(model).expanduser()
    return str(local.resolve()) if local.is_dir() else model


def exemplar_path(prompt: str, settings: DiffusionSettings) -> Path:
    """Where the exemplar of ``prompt`` painted with ``settings`` is cached (it may not exist yet)."""
    key = json.dumps({**dataclasses.asdict(settings), "model": _model_key(settings.model), "prompt": prompt},
                     sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "exemplars" / f"{prompt_slug(prompt)}-{digest}.png"


def diffusion_unavailable(model: str) -> str | None:
    """Why ``model`` cannot paint here (no diffusers; neither a pipeline folder, cached, nor downloadable), or None."""
    if importlib.util.find_spec("diffusers") is None:
        return "needs the diffusers and transformers packages: pip install diffusers transformers"
    local = Path(model).expanduser()
    if local.is_dir():
        return None if (local / "model_index.json").is_file() else f"{local} is not a diffusers pipeline folder"
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        if isinstance(try_to_load_from_cache(model, "model_index.json"), str):
            return None
    except ValueError:  # not a hub id either (a mistyped folder, say)
        return f"diffusion model {model!r} is neither a pipeline folder nor a Hugging Face hub id"
    if hub_reachable(constants.ENDPOINT):
        return None
    return f"diffusion model {model!r} is not in the Hugging Face cache and the hub is not reachable (offline)"


def load_pipeline(model: str, device: torch.device) -> Any:
    """A diffusers text-to-image pipeline from a local folder, the Hugging Face cache, or a download."""
    try:
        from diffusers import AutoPipelineForText2Image
    except ImportError:
        raise UserError("--source diffusion needs the diffusers and transformers packages; "
                        "pip install diffusers transformers") from None
    local = Path(model).expanduser()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the libraries' deprecation notices are not the user's to act on
        if local.is_dir():
            try:
                pipe = AutoPipelineForText2Image.from_pretrained(local, local_files_only=True)
            except Exception as err:  # diffusers/transformers fail in many library-specific ways
                raise UserError(f"cannot load the diffusion model in folder {local} ({first_line(err)}); it must be "
                                "a diffusers pipeline folder (save_pretrained layout, with model_index.json)") from None
        else:
            pipe = _from_hub(AutoPipelineForText2Image, model)
    pipe.set_progress_bar_config(disable=True)
    # Half precision halves a GPU's memory and time; CPUs run float32 (their fp16 kernels are slow).
    return pipe.to(device, torch.float16 if device.type == "cuda" else torch.float32)


def _from_hub(loader: Any, model: str) -> Any:
    # The local cache first: no network round trips (and no retries while offline) once downloaded.
    try:
        return loader.from_pretrained(model, local_files_only=True)
    except Exception:  # not cached (yet)
        pass
    from huggingface_hub import constants

    reason = "the hub is not reachable"
    if hub_reachable(constants.ENDPOINT):
        try:
            return loader.from_pretrained(model)
        except Exception as err:  # offline, proxy, DNS, unknown repo: all mean "not available here"
            reason = first_line(err)
    raise UserError(
        f"diffusion model {model!r} is not a local folder, not in the Hugging Face cache, and could not be "
        f"downloaded ({reason}); connect to the internet once (it is cached afterwards), or pass "
        "--diffusion-model PATH to a diffusers pipeline folder"
    )


def paint_exemplar(prompt: str, settings: DiffusionSettings, device: torch.device | str = "cpu",
                   load: PipelineLoader | None = None) -> Path:
    """The cached exemplar of ``prompt``, painted now only if it is not cached yet; returns its path.

    ``load``: where the pipeline comes from when one is needed (a caller's cache); default :func:`load_pipeline`.
    """
    check_prompt(prompt)
    path = exemplar_path(prompt, settings)
    if path.is_file():
        return path
    device = torch.device(device)
    pipe = (load or load_pipeline)(settings.model, device)
    # A CPU generator gives the same picture for a seed on any device.
    generator = torch.Generator().manual_seed(settings.seed)
    with torch.inference_mode():
        image = pipe(prompt=settings.template.format(prompt), num_inference_steps=settings.steps,
                     guidance_scale=settings.guidance, height=settings.size, width=settings.size,
                     generator=generator, output_type="pil").images[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_image(image.convert("RGB"), path, force=True)  # atomic: a killed run leaves no half file


def diffusion_style(prompt: str, model: SANet, size: int, settings: DiffusionSettings = DiffusionSettings(),
                    load: PipelineLoader | None = None) -> StyleGroup:
    """``prompt`` painted into an exemplar (at ``paint_size(size)``) and encoded as an image style of side ``size``."""
    settings = dataclasses.replace(settings, size=paint_size(size, settings.size))
    path = paint_exemplar(prompt, settings, next(model.parameters()).device, load)
    group = style_from_image(load_style_image(path, size), model, str(path))
    return StyleGroup(source=prompt, parts=group.parts, picture=group.picture)
