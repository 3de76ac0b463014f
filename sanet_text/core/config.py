"""Configuration as data: YAML files in ``configs/<kind>/`` loaded into typed dataclasses.

Kinds: ``model`` (:class:`ModelConfig`), ``mapper`` (:class:`MapperConfig`), ``train``
(:class:`TrainConfig`) and ``accelerate`` (read by ``accelerate launch``); ``configs/weights.yaml`` is
the weights registry. A config file lists only what differs from its dataclass's defaults; a model or
mapper config is named after its file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import UserError, first_line
from .paths import configs_dir


T = TypeVar("T")


# What each attention module adds its output to (see sanet_text.models.attention.StyleAttention).
RESIDUALS = ("content", "adain")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture and weight names of one SANet model.

    ``widths`` are the channel counts at relu1_1 … relu5_1; the decoder mirrors them, so one list
    describes the whole network. ``encoder_weights``/``weights`` are names resolved by
    :mod:`sanet_text.models.weights` ("random" means: keep the random initialisation, for tests).
    """

    name: str
    widths: tuple[int, int, int, int, int] = (64, 128, 256, 512, 512)
    encoder_weights: str = "vgg19"
    weights: str = "sanet-base"
    # Content positions attended per block: bounds the attention matrix's memory at high resolution.
    attention_chunk: int = 4096
    # What each attention module adds its output to: "content" (the SANet paper) or "adain" (the
    # content re-coloured with the style's channel statistics; see sanet_text.models.attention).
    residual: str = "content"
    # Multi-level style injection (v0.3): how many decoder levels below relu4_1 (relu3_1, then
    # relu2_1, then relu1_1 resolution) are modulated by the style's encoder statistics at that
    # layer, so colour and strokes are drawn where the decoder draws them. 0 = the SANet paper's
    # decoder, which sees the style only through the fused relu4_1 features.
    style_levels: int = 0
    # Width of the style code those statistics are projected to; it rides beside the fused features
    # (see SANet.fuse_parts), so blends, masks and alpha mix it exactly as they mix the features.
    style_code: int = 64

    def __post_init__(self) -> None:
        if not 0 <= self.style_levels <= 3:
            raise UserError(f"config {self.name!r}: style_levels must be 0 to 3, got {self.style_levels}")
        if self.residual not in RESIDUALS:
            raise UserError(f"config {self.name!r}: residual must be one of {', '.join(RESIDUALS)}, got {self.residual!r}")
        if len(self.widths) != 5 or self.widths[3] != self.widths[4]:
            raise UserError(
                f"config {self.name!r}: widths must list 5 channel counts with relu4_1 == relu5_1"
            )


def from_dict(cls: type[T], data: dict[str, Any], source: str = "config") -> T:
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys (typos must not pass silently)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise UserError(f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(fields)}")
    kwargs = {}
    for key, value in data.items():
        default = fields[key].default
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise UserError(f"{source}: {err}") from None


def find_config(name_or_path: str | Path, kind: str) -> Path:
    """A config is a path to a YAML file, or the name of one in ``configs/<kind>/``."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml", ".json"}:
        if not path.is_file():
            raise UserError(f"config file not found: {path}")
        return path
    candidate = configs_dir() / kind / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    raise UserError(f"no {kind} config named {name_or_path!r}; give a .yaml path or one of: "
                    f"{', '.join(config_names(kind))}")


def config_names(kind: str) -> list[str]:
    """The names of the configs of ``kind`` that ship."""
    return sorted(p.stem for p in (configs_dir() / kind).glob("*.yaml"))


def parse_yaml(text: str | bytes) -> Any:
    """``yaml.safe_load``, by libyaml where PyYAML has it: ten times faster on the prompt library."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise UserError(f"cannot read config {path}: {first_line(err)}") from None
    if not isinstance(data, dict):
        raise UserError(f"config {path} must hold a mapping of keys to values")
    return data


def _load_named(cls: type[T], kind: str, name_or_path: str | Path) -> T:
    """A model or mapper config: its file's keys over the dataclass defaults, named after the file."""
    path = find_config(name_or_path, kind)
    return from_dict(cls, {"name": path.stem, **load_yaml(path)}, source=str(path))


def load_model_config(name_or_path: str | Path) -> ModelConfig:
    return _load_named(ModelConfig, "model", name_or_path)


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """Weights of the training losses (SANet paper values for content/style/identity)."""

    content: float = 1.0
    style: float = 3.0
    # Relative weight of relu1_1 … relu5_1 within the style loss: low layers carry colour and fine
    # strokes, which the raw sum (dominated by relu4_1) under-weights.
    style_layers: tuple[float, float, float, float, float] = (1.0, 1.0, 1.0, 1.0, 1.0)
    identity_pixel: float = 50.0
    identity_feature: float = 1.0
    tv: float = 0.0
    # Text stage: channel mean/std of the output vs. those of the prompt's library exemplars.
    exemplar_style: float = 0.0
    clip_direction: float = 0.0
    clip_patch: float = 0.0
    attention_sparsity: float = 0.0
    # Captions stage: the mapper's token sets vs. the captioned style's VGG features, per channel and
    # along random directions (squared Wasserstein), and its low-level statistics vs. the style's.
    token_quantiles: float = 0.0
    token_slices: float = 0.0
    low_stats: float = 0.0


@dataclasses.dataclass(frozen=True)
class ClipConfig:
    """The CLIP model that scores images against prompts in the text stage's CLIP losses.

    Either an open_clip ``model``/``pretrained`` pair (downloads once; users with internet) or a
    ``config`` dict for ``open_clip.CLIP`` built with random weights from ``seed`` (tests). No
    ``model`` and no ``config`` means: no CLIP losses.
    """

    model: str = ""
    pretrained: str = ""
    config: dict | None = None
    seed: int = 0
    # ΔT is averaged over these phrasings of the prompt and of "a photo" (StyleGAN-NADA).
    templates: tuple[str, ...] = ("{}", "a photo in the style of {}", "an artwork of {}", "a rendition of {}")
    # Patch loss: random crops per image, their side as a fraction of the image, and CLIPstyler's
    # rejection threshold (crops already this well aligned stop pulling).
    patches: int = 8
    patch_fraction: float = 0.5
    patch_threshold: float = 0.7

    @property
    def enabled(self) -> bool:
        return bool(self.model or self.config)


@dataclasses.dataclass(frozen=True)
class MapperConfig:
    """The text-to-style-token mapper (:mod:`sanet_text.models.mapper`).

    ``channels`` must equal the SANet's relu4_1 width; ``text_dim`` the text encoder's output size.
    ``tokens4``/``tokens5`` are how many style positions the mapper invents at relu4_1/relu5_1.
    ``memory``: how many tokens each text vector is expanded into, for the queries to choose among.
    """

    name: str
    text_encoder: str = "minilm"
    text_dim: int = 384
    channels: int = 512
    tokens4: int = 64
    tokens5: int = 16
    width: int = 256
    heads: int = 4
    layers: int = 2
    memory: int = 8
    # Initial output scale: the order of magnitude of the encoder's relu4_1/relu5_1 activations.
    init_scale: float = 1.0
    # Length of the low-level statistics (sanet_text.models.model.low_stats) the mapper also
    # predicts, which modulate a multi-level decoder as an exemplar's do; 0 = none (no modulation).
    low: int = 0
    weights: str = "random"


def load_mapper_config(name_or_path: str | Path) -> MapperConfig:
    return _load_named(MapperConfig, "mapper", name_or_path)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run. Paths are folders of images of any layout (searched recursively)."""

    model: str = "base"
    # image: attention + decoder on style images; text: the mapper on prompts, rendered through SANet;
    # captions: the mapper on captioned styles, in feature space
    stage: str = "image"
    content_dirs: tuple[str, ...] = ()
    style_dirs: tuple[str, ...] = ()
    output_dir: str = "runs/base"
    init_weights: str = ""  # start the trainable parts from these weights ("" = random init)
    crop: int = 256
    # Short side (px) images are seen at before cropping: the inference sizes the model should suit.
    scale: tuple[int, int] = (384, 640)
    # Style samples: the share that are procedural paintings in random palettes, the share of real
    # ones that are recoloured, and GIMP-style palettes (JSON) to draw colours from ("" = random only).
    synthetic_styles: float = 0.0
    style_jitter: float = 0.0
    palettes_file: str = ""
    batch_size: int = 4
    steps: int = 2000
    lr: float = 1e-3
    # The decoder's style modulation learns this many times faster than the rest: fine-tuned from
    # weights without it, it starts from zero (the old decoder exactly) and must catch up.
    modulation_lr_scale: float = 1.0
    lr_min: float = 1e-6
    warmup_steps: int = 100
    grad_clip: float = 1.0
    grad_accum: int = 1
    # Pairs per step that also get the identity losses (0 = all). They double the decoder work;
    # a CPU run trades some of it for more steps.
    identity_batch: int = 0
    # Processes preparing each data stream (content, style) ahead of the step (0 = in the training
    # process). A GPU step is faster than decoding, cropping and painting a batch on one core.
    num_workers: int = 0
    mixed_precision: str = "no"  # no | bf16 | fp16
    seed: int = 0
    log_every: int = 10
    sample_every: int = 200
    checkpoint_every: int = 100
    keep_checkpoints: int = 3
    losses: LossWeights = LossWeights()
    # Text stage: prompts (one per line; "" = the packaged prompts/train.txt), the mapper config,
    # whether the SANet transform+decoder train too, the size library exemplars are encoded at.
    prompts_file: str = ""
    mapper: str = "base"
    train_sanet: bool = False
    exemplar_size: int = 256
    clip: ClipConfig = ClipConfig()
    # Captions stage (sanet_text.training.captions): the caption words ("" = prompts/captions.yaml),
    # how many generated styles of each kind join the library's, the share of captions held out for
    # validation, and how many random directions the sliced loss looks along. Generated pictures
    # are drawn at exemplar_size and encoded as a centre crop of crop pixels.
    captions_file: str = ""
    procedural_styles: int = 0
    recoloured_styles: int = 0
    validation_share: float = 0.1
    slices: int = 64


def load_train_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """A training config from YAML; ``losses``/``clip`` are nested mappings; ``overrides`` win (CLI flags)."""
    source = find_config(path, "train")
    data = {**load_yaml(source), **(overrides or {})}
    losses = from_dict(LossWeights, data.pop("losses", {}) or {}, source=f"{source}: losses")
    clip = from_dict(ClipConfig, data.pop("clip", {}) or {}, source=f"{source}: clip")
    return dataclasses.replace(from_dict(TrainConfig, data, source=str(source)), losses=losses, clip=clip)
