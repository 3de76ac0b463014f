"""The command line helps a newcomer: a prompt typed without quotes, a misspelled file name, and
seconds that are the time the user waited."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sanet_text.core.clock import command_seconds


@pytest.fixture
def files_here(photo_and_styles, monkeypatch):
    """The photo and style pictures, in the current folder (file names as a user types them)."""
    monkeypatch.chdir(photo_and_styles["content"].parent)
    return photo_and_styles


def test_an_unquoted_prompt_gets_a_hint_to_quote_it(run, files_here) -> None:
    code, out, err = run("photo.png", "Van", "Gogh", "starry", "night")
    assert code == 2 and len(err) == 1 and not out
    assert "unrecognized arguments: Gogh starry night" in err[0]
    assert 'needs quotes: sanet-text photo.png "Van Gogh starry night"' in err[0]


def test_an_unknown_option_is_not_taken_for_prompt_words(run, files_here) -> None:
    code, _, err = run("photo.png", "ink wash", "--colour-match")
    assert code == 2 and "unrecognized arguments: --colour-match" in err[0] and "quotes" not in err[0]


def test_a_misspelled_file_gets_the_names_it_may_have_meant(run, files_here) -> None:
    code, _, err = run("phtoo.png", "ink wash")
    assert code == 2 and err == ["sanet-text: error: file not found: phtoo.png; did you mean photo.png?"]
    code, _, err = run("photo.png", "--style", "pant.png")
    assert code == 2 and err[0].endswith("file not found: pant.png; did you mean paint.png?")
    code, _, err = run("photo.png", "--style", "nothing_like_it.png")
    assert code == 2 and err[0].endswith("file not found: nothing_like_it.png")


def test_printed_seconds_count_from_the_start(run, files_here) -> None:
    started_before = command_seconds()  # this test process has been running for a while
    code, out, err = run("photo.png", "--style", "paint.png", "-o", "out.png")
    assert code == 0, err
    printed = float(out[0].split()[-1].rstrip("s"))
    # The line prints one decimal: compare at that precision (37.6 printed for 37.6004 s passed).
    assert printed >= float(f"{started_before:.1f}")


def _printed_by(shell_command: str) -> float:
    code = ("import time, sanet_text; time.sleep(1); from sanet_text.core.clock import command_seconds; "
            "print(command_seconds())")
    result = subprocess.run(["bash", "-c", shell_command.format(python=f'exec {sys.executable} -c "{code}"')],
                            capture_output=True, text=True, check=True)
    return float(result.stdout)


def test_printed_seconds_include_start_up_after_the_package_is_imported() -> None:
    assert _printed_by("{python}") >= 1.0  # the imports and set-up that follow the package's first line


def test_printed_seconds_leave_out_what_a_shell_ran_before_exec_ing_the_command() -> None:
    # As CI runs it: `bash -c "pip install ...; exec sanet-text ..."` keeps the shell's process and start time.
    assert 1.0 <= _printed_by("sleep 3; {python}") < 3.0
