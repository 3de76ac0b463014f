"""The package's shape: no import cycles, inference imports no benchmark code, configs by kind with only their own keys."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from sanet_text.config import (MapperConfig, ModelConfig, config_names, load_mapper_config, load_model_config,
                               load_train_config, load_yaml)
from sanet_text.errors import UserError
from sanet_text.paths import configs_dir

PACKAGE = Path(__file__).resolve().parents[1] / "sanet_text"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere (top level or inside functions)."""
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


def test_inference_imports_no_benchmark_or_command_line_code() -> None:
    code = ("import sys, sanet_text.pipeline, sanet_text.stylizer; "
            "print(sorted(m for m in sys.modules if m == 'resource' or m.startswith(('sanet_text.bench', "
            "'sanet_text.cli', 'sanet_text.eval', 'sanet_text.baselines', 'sanet_text.commands'))))")
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
    with pytest.raises(UserError, match=r"no model config named 'tiyn'.*base, base_v01, base_v03, tiny"):
        load_model_config("tiyn")
