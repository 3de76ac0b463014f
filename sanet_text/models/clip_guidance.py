"""CLIP as a frozen judge of images against prompts, for the text stage's CLIP losses.

Images go in as RGB in [0, 1] at any size and are resized and normalised the way the CLIP model
expects; gradients flow back to the images, never into CLIP. Text directions follow StyleGAN-NADA:
ΔT = mean over templates of CLIP(prompt) − the same for "a photo". Augmented crops (crop, shear,
rotation, perspective) are drawn with plain torch ops from an explicit generator, so a resumed run
draws the same crops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..core.config import ClipConfig
from ..core.errors import UserError, first_line
from . import losses as L
from .weights import hub_reachable

SOURCE_TEXT = "a photo"
OFFLINE_ADVICE = ("offline, train with configs/train/text_cpu.yaml (exemplar losses only) and match prompts "
                  "with the minilm text encoder")
# Crop distortions, in the spirit of CLIPstyler's RandomPerspective + RandomResizedCrop: mild enough
# that a crop still shows what it shows, strong enough that the loss cannot be met by one pixel grid.
_SCALE_JITTER = 0.2
_MAX_ROTATION = 0.26  # radians, about 15°
_MAX_SHEAR = 0.2
_MAX_PERSPECTIVE = 0.25


class ClipGuide(nn.Module):
    """A frozen open_clip model with its preprocessing and the text stage's two CLIP losses."""

    def __init__(self, model: nn.Module, tokenizer: Any, config: ClipConfig) -> None:
        super().__init__()
        import open_clip

        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        self.config = config
        preprocess = open_clip.get_model_preprocess_cfg(model)
        size = preprocess["size"]
        self.image_size = (size, size) if isinstance(size, int) else tuple(size)
        mean = preprocess.get("mean", open_clip.OPENAI_DATASET_MEAN)
        std = preprocess.get("std", open_clip.OPENAI_DATASET_STD)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> ClipGuide:
        # The judge never trains: a stage's .train() must not switch on CLIP's dropout.
        return super().train(False)

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        """Unit CLIP embeddings (B, E) of RGB images (B, 3, H, W) in [0, 1]."""
        if tuple(images.shape[-2:]) != self.image_size:
            images = F.interpolate(images, size=self.image_size, mode="bicubic", antialias=True, align_corners=False)
        return F.normalize(self.model.encode_image((images - self.mean) / self.std).float(), dim=-1)

    @torch.no_grad()
    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        """Unit embeddings (N, E), each the normalised mean over ``config.templates`` (StyleGAN-NADA)."""
        templates = self.config.templates
        tokens = self.tokenizer([t.format(text) for text in texts for t in templates]).to(self.mean.device)
        emb = F.normalize(self.model.encode_text(tokens).float(), dim=-1)
        return F.normalize(emb.view(len(texts), len(templates), -1).mean(1), dim=-1)

    def text_directions(self, prompts: list[str]) -> torch.Tensor:
        """ΔT (P, E): where each prompt lies from "a photo" in CLIP's text space."""
        return self.embed_texts(prompts) - self.embed_texts([SOURCE_TEXT])

    def random_crops(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``config.patches`` distorted crops of each image at CLIP's input size; crop k of image b is row k·B + b.

        Any channel count works, so stacking two images along channels crops both identically.
        """
        b, n = images.shape[0], self.config.patches
        count = n * b

        def uniform(low: float, high: float) -> torch.Tensor:
            return low + (high - low) * torch.rand(count, generator=generator)

        scale = self.config.patch_fraction * uniform(1 - _SCALE_JITTER, 1 + _SCALE_JITTER)
        angle = uniform(-_MAX_ROTATION, _MAX_ROTATION)
        shear = uniform(-_MAX_SHEAR, _MAX_SHEAR)
        tilt = torch.stack([uniform(-_MAX_PERSPECTIVE, _MAX_PERSPECTIVE), uniform(-_MAX_PERSPECTIVE, _MAX_PERSPECTIVE)], -1)
        centre = (1 - scale)[:, None] * torch.stack([uniform(-1, 1), uniform(-1, 1)], -1)
        h, w = self.image_size
        y, x = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        points = torch.stack([x, y], -1).view(1, -1, 2)
        # Sampling positions in grid_sample's [-1, 1] frame: perspective, shear, rotation, scale, shift.
        points = points / (1 + (points * tilt[:, None]).sum(-1, keepdim=True))
        px, py = points[..., 0] + shear[:, None] * points[..., 1], points[..., 1]
        cos, sin = angle.cos()[:, None], angle.sin()[:, None]
        points = torch.stack([cos * px - sin * py, sin * px + cos * py], -1)
        grid = (centre[:, None] + scale[:, None, None] * points).view(count, h, w, 2)
        return F.grid_sample(images.repeat(n, 1, 1, 1), grid.to(images), mode="bilinear",
                             padding_mode="reflection", align_corners=False)

    def direction_loss(self, output: torch.Tensor, content: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
        """Whole-image directional loss: did the output move from the content along ΔT?"""
        with torch.no_grad():
            content_emb = self.embed_images(content)
        return L.clip_directional_loss(self.embed_images(output), content_emb, directions)

    def patch_loss(self, output: torch.Tensor, content: torch.Tensor, directions: torch.Tensor,
                   generator: torch.Generator) -> torch.Tensor:
        """CLIPstyler's patch loss on paired crops: the same region of output and content."""
        crops = self.random_crops(torch.cat([output, content.to(output.dtype)], 1), generator)
        with torch.no_grad():
            content_emb = self.embed_images(crops[:, 3:])
        return L.patch_clip_directional_loss(
            self.embed_images(crops[:, :3]), content_emb, directions.repeat(self.config.patches, 1),
            self.config.patch_threshold,
        )


def _cached_checkpoint(model_name: str, tag: str) -> str | None:
    """A released checkpoint already in the Hugging Face cache (works offline)."""
    import open_clip
    from huggingface_hub import try_to_load_from_cache

    repo = str(open_clip.get_pretrained_cfg(model_name, tag).get("hf_hub", "")).strip("/")
    for filename in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
        hit = try_to_load_from_cache(repo, filename) if repo else None
        if isinstance(hit, str):
            return hit
    return None


def open_clip_model(config: ClipConfig) -> tuple[nn.Module, Any]:
    """An open_clip model and its tokenizer: released weights by name (from the Hugging Face cache when
    there, so it works offline once downloaded), or random weights from a config dict (tests)."""
    import open_clip

    if config.config:
        from open_clip.tokenizer import SimpleTokenizer

        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(config.seed)
                model = open_clip.CLIP(**config.config)
            tokenizer = SimpleTokenizer(context_length=int(config.config["text_cfg"].get("context_length", 77)))
        except (TypeError, KeyError, ValueError) as err:
            raise UserError(f"clip.config is not an open_clip model config: {err}") from None
        return model, tokenizer
    if not (config.model and config.pretrained):
        raise UserError("clip needs both model and pretrained (e.g. ViT-B-32 and laion2b_s34b_b79k), or a config dict")
    source = config.pretrained if Path(config.pretrained).is_file() else _cached_checkpoint(config.model, config.pretrained)
    if source is None:
        # Checked first because open_clip, offline, retries the hub for most of a minute before failing.
        if not hub_reachable("https://huggingface.co"):
            raise UserError(
                f"cannot load CLIP {config.model}:{config.pretrained}: not in the Hugging Face cache and "
                f"huggingface.co is unreachable (offline); {OFFLINE_ADVICE}"
            )
        source = config.pretrained
    try:
        model = open_clip.create_model(config.model, pretrained=source, require_pretrained=True)
    except Exception as err:  # offline, unknown tag, hub errors: all mean "not available here"
        raise UserError(f"cannot load CLIP {config.model}:{config.pretrained} ({first_line(err)}); "
                        f"it downloads once with internet; {OFFLINE_ADVICE}") from None
    return model, open_clip.get_tokenizer(config.model)


def load_clip(config: ClipConfig) -> ClipGuide:
    """The configured CLIP as a frozen judge (see :func:`open_clip_model` for where it comes from)."""
    model, tokenizer = open_clip_model(config)
    return ClipGuide(model, tokenizer, config)
