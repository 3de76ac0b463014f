"""One validation of run options and training configs: ranges, types and combinations, checked
before any work.

The CLI, the Python API (:class:`~sanet_text.stylizer.Stylizer`), the web page and training all
refuse a value here, so the same value gets the same one-line :class:`UserError` wherever it comes
from. Torch-free: only numbers and names are looked at.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..core.errors import UserError
from ..images.processor import MAX_PIXELS, MIN_SIDE

# Longest side a run renders at. At 8192 px a CPU already needs minutes per image (tiled), and a
# larger side soon asks for more pixels than any input may have (MAX_PIXELS).
MAX_SIDE = 8192
# Beyond this the style is not exaggerated any more, only saturated: every pixel clips to a corner
# of the colour cube (1e9 gave a two-colour image).
MAX_ALPHA = 4.0
# Denoising steps of the diffusion source: turbo models need 1-4, classic samplers about 50.
MAX_DIFFUSION_STEPS = 200
# The sentence encoder reads about 256 tokens; a longer prompt changes nothing but the output line.
MAX_PROMPT = 1000


@dataclass(frozen=True)
class Rule:
    """A number a setting must be: a whole number or any finite number, from ``low`` to ``high``.

    ``open_low``: ``low`` itself is not allowed. ``zero``: 0 is allowed too, with that meaning.
    """

    integer: bool
    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    zero: str = ""

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if self.high < math.inf:
            span = f"from {_number(self.low)} to {_number(self.high)}"
        else:
            span = f"{'>' if self.open_low else '>='} {_number(self.low)}"
        return f"0 ({self.zero}) or {kind} {span}" if self.zero else f"{kind} {span}"

    def check(self, name: str, value: Any) -> None:
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = is_number and (isinstance(value, int) or not self.integer)
        if ok and not (self.zero and value == 0):
            ok = (math.isfinite(value) and (value > self.low if self.open_low else value >= self.low)
                  and value <= self.high)
        if not ok:
            raise UserError(f"{name} must be {self.describe()}, got {value!r}")


def _number(value: float) -> str:
    return f"{value:g}"


SIDE = Rule(True, MIN_SIDE, MAX_SIDE, zero="keep the original size")
# The options of a run, by their command-line names.
RUN_RULES: dict[str, Rule] = {
    "--size": SIDE,
    "--style-size": SIDE,
    "--alpha": Rule(False, 0, MAX_ALPHA),
    "--diffusion-steps": Rule(True, 1, MAX_DIFFUSION_STEPS),
}


def check_run_options(**options: Any) -> None:
    """Refuse run options out of range: ``size``, ``style_size``, ``alpha``, ``diffusion_steps``
    (keyword names; None = not given). ``--temporal`` is checked by TemporalSettings."""
    for key, value in options.items():
        if value is not None:
            RUN_RULES["--" + key.replace("_", "-")].check("--" + key.replace("_", "-"), value)


def check_render_size(height: int, width: int) -> None:
    """Refuse a content that, at the size asked for, would have more pixels than any input may."""
    if height * width > MAX_PIXELS:
        raise UserError(f"at this --size the image would be {width}×{height} px, over the "
                        f"{MAX_PIXELS / 1e6:.1f} MP limit; give a smaller --size")


def check_content_arg(content: str) -> None:
    """CONTENT names something: an empty string would mean the current folder."""
    if not content.strip():
        raise UserError("empty CONTENT; give an image, a folder of images or a video clip")


def check_output_arg(output: str | None) -> None:
    """``-o`` names something when given: an empty name would be silently ignored."""
    if output is not None and not output.strip():
        raise UserError("-o is empty; give an output file or folder, or leave -o out for the default name")


def check_prompt_length(prompt: str) -> None:
    if len(prompt) > MAX_PROMPT:
        raise UserError(f"the prompt is {len(prompt)} characters long; describe the style in at most {MAX_PROMPT}")


# ---------------------------------------------------------------- training configs

COUNT, AT_LEAST_ONE = Rule(True, 0), Rule(True, 1)
SHARE, WEIGHT = Rule(False, 0, 1), Rule(False, 0)
TRAIN_RULES: dict[str, Rule] = {
    "steps": AT_LEAST_ONE, "batch_size": AT_LEAST_ONE, "grad_accum": AT_LEAST_ONE, "log_every": AT_LEAST_ONE,
    "sample_every": AT_LEAST_ONE, "checkpoint_every": AT_LEAST_ONE, "keep_checkpoints": AT_LEAST_ONE,
    "warmup_steps": COUNT, "identity_batch": COUNT, "num_workers": COUNT, "seed": COUNT,
    "crop": Rule(True, MIN_SIDE), "exemplar_size": Rule(True, MIN_SIDE),
    "lr": Rule(False, 0, open_low=True), "lr_min": WEIGHT, "grad_clip": WEIGHT,
    "synthetic_styles": SHARE, "style_jitter": SHARE,
    "procedural_styles": COUNT, "recoloured_styles": COUNT, "validation_share": SHARE, "slices": AT_LEAST_ONE,
}
CLIP_RULES: dict[str, Rule] = {"patches": AT_LEAST_ONE, "patch_fraction": Rule(False, 0, 1, open_low=True),
                               "seed": COUNT}
TRAIN_CHOICES: dict[str, tuple[str, ...]] = {"stage": ("image", "text", "captions"), "mixed_precision": ("no", "bf16", "fp16")}


def check_train_config(config: Any) -> None:
    """Refuse a :class:`~sanet_text.core.config.TrainConfig` that cannot train, with the field's name."""
    _check_fields(config, TRAIN_RULES, "")
    _check_fields(config.clip, CLIP_RULES, "clip.")
    for field in dataclasses.fields(config.losses):
        value = getattr(config.losses, field.name)
        for item in value if isinstance(value, (tuple, list)) else (value,):
            WEIGHT.check(f"losses.{field.name}", item)
    for name, choices in TRAIN_CHOICES.items():
        if getattr(config, name) not in choices:
            raise UserError(f"{name} must be one of {', '.join(choices)}, got {getattr(config, name)!r}")
    scale = config.scale
    if not (isinstance(scale, (tuple, list)) and len(scale) == 2
            and all(isinstance(s, int) and not isinstance(s, bool) for s in scale)
            and config.crop <= scale[0] <= scale[1]):
        raise UserError(f"scale must be two whole numbers, the smaller first and neither below crop ({config.crop}), "
                        f"got {scale!r}")
    if config.lr_min > config.lr:
        raise UserError(f"lr_min ({config.lr_min:g}) must not exceed lr ({config.lr:g})")
    if config.identity_batch > config.batch_size:
        raise UserError(f"identity_batch ({config.identity_batch}) must not exceed batch_size ({config.batch_size})")
    check_folders([*config.content_dirs, *config.style_dirs])


def check_folders(folders: Iterable[str]) -> None:
    """Every image folder a run reads exists (an empty one is reported when it is searched)."""
    missing = [folder for folder in folders if not Path(folder).is_dir()]
    if missing:
        raise UserError(f"image folder not found: {missing[0]} (check content_dirs and style_dirs)")


def _check_fields(config: Any, rules: Mapping[str, Rule], prefix: str) -> None:
    for name, rule in rules.items():
        rule.check(prefix + name, getattr(config, name))
