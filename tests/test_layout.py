"""The package's shape: no import cycles, inference imports no benchmark code, only runtime code ships."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
