"""The package's shape: one folder per layer, imports only point down the layers, no import cycles,
inference imports no command-line, training or evaluation code, configs by kind with only their own keys."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from sanet_text.core.config import (MapperConfig, ModelConfig, config_names, load_mapper_config, load_model_config,
                                    load_train_config, load_yaml)
from sanet_text.core.errors import UserError
from sanet_text.core.paths import configs_dir

PACKAGE = Path(__file__).resolve().parents[1] / "sanet_text"

# Bottom to top; docs/ARCHITECTURE.md draws the same table. A module may import from its own layer
# and from the layers below it, never from above. Layers that share a row are siblings: neither
# imports the other (training shares the models and styles with inference but never the Stylizer).
LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("images",),
    ("models",),
    ("styles",),
    ("render",),
    ("options",),
    ("api", "training"),
    ("video",),
    ("evaluation",),
    ("frontends",),
    ("entry points",),
]
# Modules in the package root, which is no layer of its own: the public API, and the documented
# `python -m sanet_text.train/bench/export` commands (thin shims over the moved modules).
ROOT_MODULES = {"sanet_text": "api", "sanet_text.stylizer": "api",
                "sanet_text.train": "entry points", "sanet_text.bench": "entry points",
                "sanet_text.export": "entry points"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere (top level, inside functions, for type checking)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
                deps.update(m for m in submodules or [target] if m in modules)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in modules)
        graph[name] = deps - {name}
    return graph


def layer_of(module: str) -> str:
    """A module's layer: its folder under sanet_text/, or its entry in ROOT_MODULES."""
    if module in ROOT_MODULES:
        return ROOT_MODULES[module]
    folder = module.split(".")[1] if "." in module else ""
    return folder if (PACKAGE / folder).is_dir() and folder else "none (a module in the package root)"


def test_every_module_lives_in_a_layer_folder() -> None:
    known = {layer for row in LAYERS for layer in row}
    homeless = sorted(f"{m} ({layer_of(m)})" for m in import_graph() if layer_of(m) not in known)
    assert not homeless, f"modules outside the layers {sorted(known)}: {homeless}"


def test_imports_only_point_down_the_layers() -> None:
    rank = {layer: row for row, layers in enumerate(LAYERS) for layer in layers}
    upward = sorted(f"{a} ({layer_of(a)}) imports {b} ({layer_of(b)})"
                    for a, deps in import_graph().items() for b in deps
                    if layer_of(a) != layer_of(b) and rank[layer_of(b)] >= rank[layer_of(a)])
    assert not upward, "imports that point up or sideways:\n" + "\n".join(upward)


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = import_graph()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            module = todo.pop()
            if module == goal:
                return True
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
        return False

    # The package's __init__ only re-exports lazily; every module importing "sanet_text" is no cycle.
    cycles = sorted((a, b) for a, deps in graph.items() for b in deps
                    if a != "sanet_text" and b != "sanet_text" and reaches(b, a))
    assert not cycles, f"import cycles: {cycles}"


def test_inference_imports_no_command_line_training_or_evaluation_code() -> None:
    code = ("import sys, sanet_text.render.pipeline, sanet_text.stylizer; "
            "print(sorted(m for m in sys.modules if m == 'resource' or m.startswith(('sanet_text.evaluation', "
            "'sanet_text.frontends', 'sanet_text.training', 'sanet_text.options.commands'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(("kind", "load", "cls"), [("model", load_model_config, ModelConfig),
                                                   ("mapper", load_mapper_config, MapperConfig)])
def test_configs_load_by_name_and_list_only_what_differs_from_the_defaults(kind, load, cls) -> None:
    names = config_names(kind)
    assert "base" in names and "tiny" in names
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for name in names:
        config = load(name)
        assert config.name == name  # named after its file
        written = load_yaml(configs_dir() / kind / f"{name}.yaml")
        same = [key for key, value in written.items() if getattr(config, key) == defaults[key]]
        assert not same, f"{kind}/{name}.yaml repeats defaults: {same}"


def test_training_configs_load_by_name_and_name_real_models() -> None:
    for name in config_names("train"):
        config = load_train_config(name)
        load_model_config(config.model)
        if config.stage == "text":
            load_mapper_config(config.mapper)


def test_an_unknown_config_name_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match=r"no model config named 'tiyn'.*base, base_v01, base_v02, tiny"):
        load_model_config("tiyn")
