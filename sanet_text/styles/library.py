"""The named style library (``prompts/library.yaml``) and text-prompt resolution against it.

A prompt is embedded with a :class:`TextEncoder`, compared with every style description, and
becomes a softmax blend of the best ``top_k`` styles. Embeddings (of the descriptions, and of every
prompt) are cached on disk, keyed by encoder, templates and text: a prompt asked before resolves
without loading the encoder at all, which takes seconds.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ..core.config import parse_yaml
from ..core.disk_cache import cached_tensors
from ..core.errors import UserError
from ..core.paths import prompts_dir
from ..core.paths import cache_dir
from .base import check_prompt
from .text_encoders import TextEncoder, build_text_encoder


# Words of a prompt, for typo correction; shorter ones ("of", "in") are never corrected.
_WORD = re.compile(r"[^\W\d_]+")
_MIN_TYPO_WORD = 3
# How many closest styles a prompt that names none is told about.
_CLOSEST = 3


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
    # Below this best cosine similarity a prompt names no style of the library (calibrated on
    # benchmarks/text_fidelity.yaml's style and non-style prompts); 0 = never say so.
    no_style_below: float = 0.0
    # difflib ratio from which an unknown prompt word is read as a library word ("Gog" -> "gogh").
    typo_cutoff: float = 0.8

    @classmethod
    def load(cls, path: Path | None = None) -> LibrarySpec:
        path = path or prompts_dir() / "library.yaml"
        raw = path.read_bytes()
        spec = parse_yaml(raw)
        styles = tuple(
            LibraryStyle(
                name,
                tuple(s["descriptions"]) + tuple(s.get("in_other_languages", ())) + tuple(s.get("artists", ())),
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
            no_style_below=float(spec.get("no_style_below", cls.no_style_below)),
            typo_cutoff=float(spec.get("typo_cutoff", cls.typo_cutoff)),
        )


@dataclass(frozen=True)
class Resolution:
    """What a prompt resolved to: ``parts`` ``[(style, weight), ...]`` best first, weights summing to 1;
    ``closest`` the best three styles by cosine similarity; ``named`` whether the best is similar
    enough for the prompt to name a library style at all; ``text`` what was embedded (the prompt with
    typos of library words corrected)."""

    parts: list[tuple[str, float]]
    closest: list[tuple[str, float]]
    named: bool
    text: str


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
        # The words the library knows (names and descriptions), which prompt typos are corrected towards.
        self.words = sorted({w for s in spec.styles for text in (s.name.replace("_", " "), *s.descriptions)
                             for w in _WORD.findall(text.lower()) if len(w) >= _MIN_TYPO_WORD})
        self._known = set(self.words)

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

    def correct_typos(self, prompt: str) -> str:
        """``prompt`` with each word the library does not know replaced by the library word it is
        closest to, when that is close enough ("Van Gog stary nigth" -> "Van gogh starry night");
        words with no close library word stay as they are."""

        def fix(match: re.Match) -> str:
            word = match.group(0)
            if len(word) < _MIN_TYPO_WORD or word.lower() in self._known:
                return word
            close = difflib.get_close_matches(word.lower(), self.words, n=1, cutoff=self.spec.typo_cutoff)
            return close[0] if close else word

        return _WORD.sub(fix, prompt)

    def resolve(self, prompt: str, temperature: float | None = None, top_k: int | None = None) -> list[tuple[str, float]]:
        """The prompt as ``[(style, weight), ...]``, best first, weights summing to 1."""
        return self.match(prompt, temperature, top_k).parts

    def match(self, prompt: str, temperature: float | None = None, top_k: int | None = None) -> Resolution:
        """The prompt resolved, with its closest styles and whether it names a style at all."""
        text = self.correct_typos(check_prompt(prompt))
        temperature = self.spec.temperature if temperature is None else temperature
        if temperature <= 0:
            raise UserError(f"temperature must be positive, got {temperature}")
        k = min(top_k or self.spec.top_k, len(self.spec.styles))
        scores = self.scores(text)
        probs = torch.softmax(scores / temperature, dim=0)
        weights, idx = probs.topk(k)
        weights = weights / weights.sum()
        # Parts too light to see in the result cost a full SANet fusion each: drop them.
        keep = weights >= self.spec.min_weight
        keep[0] = True
        weights, idx = weights[keep], idx[keep]
        weights = weights / weights.sum()
        parts = [(self.spec.styles[i].name, float(w)) for i, w in zip(idx.tolist(), weights)]
        best, order = scores.topk(min(_CLOSEST, len(scores)))
        closest = [(self.spec.styles[i].name, float(v)) for i, v in zip(order.tolist(), best)]
        return Resolution(parts, closest, closest[0][1] >= self.spec.no_style_below, text)


@lru_cache(maxsize=4)
def load_library(encoder_name: str = "minilm") -> StyleLibrary:
    """The packaged library with the named encoder (loaded once per process: encoders take seconds)."""
    spec = LibrarySpec.load()
    return StyleLibrary(spec, build_text_encoder(encoder_name, spec.templates))


def resolve(prompt: str, temperature: float | None = None, top_k: int | None = None,
            encoder_name: str = "minilm") -> list[tuple[str, float]]:
    """Resolve a text prompt to weighted library styles with the packaged library."""
    return load_library(encoder_name).resolve(prompt, temperature, top_k)
