"""``--set key=value``: change any field of a (nested, frozen) config dataclass from the command line.

Values are parsed by the field's declared type, so ``--set steps=5e3`` or ``--set losses.style=lots``
fail at once with one line instead of deep inside training; nested dataclasses are reached with
dots (``losses.style=3``, ``clip.model=ViT-B-32``). Strings stay verbatim: YAML would turn
``mixed_precision=no`` into False.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Sequence, TypeVar

import yaml

from ..core.errors import UserError

T = TypeVar("T")
TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def apply_overrides(config: T, assignments: Sequence[str]) -> T:
    """``config`` with each ``key=value`` of ``assignments`` applied in order."""
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set {assignment!r}: expected key=value, e.g. --set lr=3e-4 or --set losses.style=3")
        config = _replace(config, key.strip().split("."), text, assignment)
    return config


def _replace(config: Any, path: list[str], text: str, assignment: str) -> Any:
    hints = typing.get_type_hints(type(config))
    fields = [f.name for f in dataclasses.fields(config)]
    name = path[0]
    if name not in fields:
        raise UserError(f"--set {assignment}: unknown key {name!r}; allowed: {', '.join(fields)}")
    hint = hints[name]
    if dataclasses.is_dataclass(hint):
        if len(path) == 1:
            example = dataclasses.fields(hint)[0].name
            raise UserError(f"--set {assignment}: {name} is a group; set one of its keys, e.g. {name}.{example}=...")
        value = _replace(getattr(config, name), path[1:], text, assignment)
    elif len(path) > 1:
        raise UserError(f"--set {assignment}: {name} has no keys of its own; use --set {name}=...")
    else:
        try:
            value = parse_value(text, hint)
        except ValueError as err:
            raise UserError(f"--set {assignment}: {err}") from None
    try:
        return dataclasses.replace(config, **{name: value})
    except (TypeError, ValueError) as err:  # a __post_init__ check
        raise UserError(f"--set {assignment}: {err}") from None


def parse_value(text: str, hint: Any) -> Any:
    """``text`` as a value of type ``hint`` (str, bool, int, float, tuple[X, ...], dict, X | None)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and text.strip().lower() in {"", "none", "null"}:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return parse_value(text, inner)
    if hint is str:
        return text
    if hint is bool:
        if text.strip().lower() not in TRUE | FALSE:
            raise ValueError(f"expected true or false, got {text!r}")
        return text.strip().lower() in TRUE
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {text!r}") from None
    if hint is float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {text!r}")
        return value
    if origin is tuple:
        # "a,b,c" ("" = empty), each item parsed as the first element type: the tuples in configs hold one type.
        return tuple(parse_value(item.strip(), args[0]) for item in text.split(",")) if text.strip() else ()
    if hint is dict or origin is dict:
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = None
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping such as {{embed_dim: 64}}, got {text!r}")
        return value
    raise ValueError(f"values of type {hint} cannot be set from the command line")
