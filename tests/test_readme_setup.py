"""The README's two set-up commands are the ones CI runs, so a green CI means they work as printed."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def setup_commands() -> list[str]:
    """The first two one-line bash blocks of the Install section: install + quick start, install + tests."""
    return re.findall(r"```bash\n([^\n]+)\n```", section("Install"))[:2]


def test_ci_runs_the_readme_setup_commands_as_printed() -> None:
    quick_start, tests = setup_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert f"({quick_start})" in ci and f"({tests})" in ci
    assert ci.index(f"({quick_start})") < ci.index(f"({tests})")


def test_the_quick_start_names_a_bundled_example_and_the_tests_section_agrees() -> None:
    quick_start, tests = setup_commands()
    content = shlex.split(quick_start.split("&&")[1])[1]
    assert (ROOT / content).is_file()
    assert f"```bash\n{tests}\n```" in section("Tests")
