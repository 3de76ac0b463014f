"""The named style library (``prompts/library.yaml``) and text-prompt resolution against it.

A prompt is embedded with a :class:`TextEncoder`, compared with every style description, and
becomes a softmax blend of the best ``top_k`` styles. Embeddings (of the descriptions, and of every
prompt) are cached on disk, keyed by encoder, templates and text: a prompt asked before resolves
without loading the encoder at all, which takes seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ..config import parse_yaml
from ..disk_cache import cached_tensors
from ..errors import UserError
from ..paths import prompts_dir
from ..paths import cache_dir
from .base import check_prompt
from .text_encoders import TextEncoder, build_text_encoder


@dataclass(frozen=True)
class LibraryStyle:
    name: str
    descriptions: tuple[str, ...]
    exemplars: tuple[Path, ...]
    # Styles a user asking for this one would also accept (Munch and expressionism): "" = its own name.
    family: str = ""


@dataclass(frozen=True)
class LibrarySpec:
    """The library file as data: styles, templates and resolution settings."""

    styles: tuple[LibraryStyle, ...]
    templates: tuple[str, ...]
    temperature: float
    top_k: int
    reduce: str
    min_weight: float

    @classmethod
    def load(cls, path: Path | None = None) -> LibrarySpec:
        path = path or prompts_dir() / "library.yaml"
        raw = path.read_bytes()
        spec = parse_yaml(raw)
        styles = tuple(
            LibraryStyle(
                name,
                tuple(s["descriptions"]),
                tuple(path.parent / ex["file"] for ex in s["exemplars"]),
                s.get("family", name),
            )
            for name, s in spec["styles"].items()
        )
        if spec.get("reduce", "max") not in {"max", "mean"}:
            raise ValueError(f"{path}: reduce must be 'max' or 'mean'")
        return cls(
            styles=styles,
            templates=tuple(spec.get("templates", ["{}"])),
            temperature=float(spec.get("temperature", 0.05)),
            top_k=int(spec.get("top_k", 3)),
            reduce=spec.get("reduce", "max"),
            min_weight=float(spec.get("min_weight", 0.03)),
        )


class StyleLibrary:
    """A library bound to a text encoder, with every description embedded."""

    def __init__(self, spec: LibrarySpec, encoder: TextEncoder, cache: bool = True) -> None:
        self.spec = spec
        self.encoder = encoder
        self.cache = cache
        self.styles = {s.name: s for s in spec.styles}
        # Row i of the description matrix belongs to style owner[i].
        self.owner = torch.tensor([i for i, s in enumerate(spec.styles) for _ in s.descriptions])
        self.descriptions = self.encode([d for s in spec.styles for d in s.descriptions])

    def encode(self, texts: list[str]) -> torch.Tensor:
        """The encoder's embeddings of ``texts``, from the disk cache when these texts were embedded before."""
        if not self.cache:
            return self.encoder.encode(texts)
        key = hashlib.sha256(json.dumps([self.encoder.templates, texts]).encode()).hexdigest()[:16]
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.encoder.name)
        path = cache_dir() / "text_library" / f"{safe}-{key}.safetensors"
        return cached_tensors(path, ("embeddings",), lambda: {"embeddings": self.encoder.encode(texts)},
                              what="text embeddings")["embeddings"]

    def scores(self, prompt: str) -> torch.Tensor:
        """Cosine similarity of the prompt to each style (best or mean of its descriptions)."""
        # In float32 whatever autocast computes the product in (bf16 under --precision bf16): the
        # reductions below write into float32 tensors.
        sims = (self.encode([prompt])[0] @ self.descriptions.T).float()
        n = len(self.spec.styles)
        if self.spec.reduce == "max":
            return torch.full((n,), -2.0).scatter_reduce(0, self.owner, sims, "amax")
        return torch.zeros(n).index_add(0, self.owner, sims) / torch.bincount(self.owner, minlength=n)

    def resolve(self, prompt: str, temperature: float | None = None, top_k: int | None = None) -> list[tuple[str, float]]:
        """The prompt as ``[(style, weight), ...]``, best first, weights summing to 1."""
        prompt = check_prompt(prompt)
        temperature = self.spec.temperature if temperature is None else temperature
        if temperature <= 0:
            raise UserError(f"temperature must be positive, got {temperature}")
        k = min(top_k or self.spec.top_k, len(self.spec.styles))
        probs = torch.softmax(self.scores(prompt) / temperature, dim=0)
        weights, idx = probs.topk(k)
        weights = weights / weights.sum()
        # Parts too light to see in the result cost a full SANet fusion each: drop them.
        keep = weights >= self.spec.min_weight
        keep[0] = True
        weights, idx = weights[keep], idx[keep]
        weights = weights / weights.sum()
        return [(self.spec.styles[i].name, float(w)) for i, w in zip(idx.tolist(), weights)]


@lru_cache(maxsize=4)
def load_library(encoder_name: str = "minilm") -> StyleLibrary:
    """The packaged library with the named encoder (loaded once per process: encoders take seconds)."""
    spec = LibrarySpec.load()
    return StyleLibrary(spec, build_text_encoder(encoder_name, spec.templates))


def resolve(prompt: str, temperature: float | None = None, top_k: int | None = None,
            encoder_name: str = "minilm") -> list[tuple[str, float]]:
    """Resolve a text prompt to weighted library styles with the packaged library."""
    return load_library(encoder_name).resolve(prompt, temperature, top_k)
