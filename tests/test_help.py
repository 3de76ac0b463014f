"""Every command's --help reads as plain text and says each option's default."""

from __future__ import annotations

import argparse
import re
import runpy
import sys
from pathlib import Path
from typing import Callable

import pytest

from sanet_text import export
from sanet_text.evaluation import bench, eval as eval_command
from sanet_text.frontends import cli
from sanet_text.training import train

ROOT = Path(__file__).resolve().parents[1]
# Sphinx/RST that leaks from docstrings: ``literal``, `interpreted`, :mod:`x`, **bold**.
MARKUP = re.compile(r"`|:[a-z]+:|\*\*")


def _script(relative: str) -> Callable[[], object]:
    return lambda: runpy.run_path(str(ROOT / relative), run_name="__main__")


COMMANDS: dict[str, Callable[[], object]] = {
    "sanet-text": lambda: cli.main(["--help"]),
    "sanet-text-eval": lambda: eval_command.main(["--help"]),
    "python -m sanet_text.train": lambda: train.main(["--help"]),
    "python -m sanet_text.bench": lambda: bench.main(["--help"]),
    "python -m sanet_text.export": lambda: export.main(["--help"]),
    **{path: _script(path) for path in ("benchmarks/fast_inference.py", "benchmarks/highres.py",
                                        "benchmarks/loss_curves.py", "benchmarks/peer_comparison.py",
                                        "benchmarks/video.py",
                                        "scripts/prepare_cpu_data.py", "scripts/make_exemplars.py",
                                        "scripts/make_gallery.py")},
}


def render_help(command: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
                ) -> tuple[str, argparse.ArgumentParser]:
    """What ``COMMAND --help`` prints, and the parser that printed it."""
    shown: list[argparse.ArgumentParser] = []
    print_help = argparse.ArgumentParser.print_help

    def record(parser: argparse.ArgumentParser, file=None) -> None:  # noqa: ANN001 - argparse's signature
        shown.append(parser)
        print_help(parser, file)

    monkeypatch.setattr(argparse.ArgumentParser, "print_help", record)
    monkeypatch.setattr(sys, "argv", [command, "--help"])  # the scripts parse sys.argv
    try:
        COMMANDS[command]()
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    assert len(shown) == 1, f"{command} --help printed no help"
    return capsys.readouterr().out, shown[0]


def shows_default(action: argparse.Action) -> bool:
    help_text = action.help or ""
    values = {str(action.default)}
    if isinstance(action.default, bool):
        values.add("on" if action.default else "off")
    elif isinstance(action.default, float):
        values.add(f"{action.default:g}")
    return "default" in help_text and any(value in help_text for value in values)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_plain_text_and_every_option_says_its_default(command, monkeypatch, capsys) -> None:
    text, parser = render_help(command, monkeypatch, capsys)
    assert not MARKUP.findall(text), f"{command} --help shows markup: {MARKUP.findall(text)}"
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)) or action.help == argparse.SUPPRESS:
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{command}: {name} has no help"
        # None/False/[]: no value to show (a flag, or an option that is simply absent unless given).
        no_value = (action.default is None or action.default is False or action.default == []
                    or isinstance(action, argparse._StoreFalseAction))  # a switch-off flag: its help says what it turns off
        has_default = action.option_strings and not action.required and not no_value
        if has_default:
            assert shows_default(action), f"{command}: {name} does not say its default {action.default!r}"


def test_train_help_says_where_the_data_comes_from(monkeypatch, capsys) -> None:
    text, _ = render_help("python -m sanet_text.train", monkeypatch, capsys)
    assert "content_dirs" in text and "scripts/prepare_cpu_data.py" in text


def test_rerun_rules_are_in_the_main_help(monkeypatch, capsys) -> None:
    text, _ = render_help("sanet-text", monkeypatch, capsys)
    assert "running the same command again replaces it" in " ".join(text.split())


def test_main_help_is_one_short_page_in_plain_words(monkeypatch, capsys) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # what a terminal, or a pipe, gets
    text, parser = render_help("sanet-text", monkeypatch, capsys)
    lines = text.splitlines()
    assert len(lines) <= 60 and max(map(len, lines)) <= 80
    examples = [line.strip() for line in lines if line.strip().startswith("sanet-text ")]
    assert len(examples) == 2 and examples[0].endswith('"Van Gogh starry night"')  # a prompt in quotes
    for jargon in ("YCbCr", "relu", "AVX", "AMX", "SANet", "torch", "H.264", "luminance"):
        assert jargon not in text, jargon
    # Each option is explained once: one entry per option, no second list of the same options below.
    entries = [line.split()[0].rstrip(",") for line in lines if line.startswith("  -")]
    options = [a.option_strings[0] for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS]
    assert sorted(entries) == sorted(options)


def test_version_names_the_package_and_the_model_in_one_scheme(capsys) -> None:
    import sanet_text
    from sanet_text.models.weights import registry

    assert cli.main(["--version"]) == 0
    shown = capsys.readouterr().out.strip()
    model = registry()["sanet-base"]
    assert shown == f"sanet-text {sanet_text.__version__} (model sanet-base {model.version})"
    assert sanet_text.__version__ == model.version  # the package is released with its model's version
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject and 'attr = "sanet_text.__version__"' in pyproject
