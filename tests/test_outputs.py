"""The one output planner: images, folders, clips and the quick path name, refuse and replace alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from sanet_text.core.errors import UserError
from sanet_text.frontends.outputs import plan_outputs
from sanet_text.images.processor import WRITE_FORMATS
from sanet_text.video.video import OUTPUT_FORMATS

# A picture and a clip: the content, its results' suffix and the formats its writer knows.
KINDS = [("photo.png", ".png", WRITE_FORMATS), ("clip.mp4", ".mp4", OUTPUT_FORMATS)]


@pytest.fixture
def here(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("photo.png", "clip.mp4", "paint.png"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "out").mkdir()
    return tmp_path


def _plan(content: str, suffix: str, formats, output: str | None = None, force: bool = False):
    return plan_outputs([Path(content)], [Path("paint.png"), "ink wash"], output, "paint+ink-wash", force,
                        suffix=suffix, formats=formats)


@pytest.mark.parametrize("content, suffix, formats", KINDS)
def test_the_tools_own_names_are_replaced_and_a_named_file_takes_force(here, content, suffix, formats) -> None:
    name = f"{Path(content).stem}_paint+ink-wash{suffix}"
    for folder in (here, here / "out"):
        (folder / name).write_bytes(b"an earlier result")
    plan = _plan(content, suffix, formats)
    assert plan.paths == [Path(name)] and plan.replace  # run again: its own file
    plan = _plan(content, suffix, formats, "out")
    assert plan.paths == [Path("out") / name] and plan.replace  # its own name in the user's folder
    (here / f"mine{suffix}").write_bytes(b"the user's")
    with pytest.raises(UserError, match="exists; pass --force"):
        _plan(content, suffix, formats, f"mine{suffix}")
    assert _plan(content, suffix, formats, f"mine{suffix}", force=True).replace


@pytest.mark.parametrize("content, suffix, formats", KINDS)
def test_no_input_is_ever_written_over(here, content, suffix, formats) -> None:
    for target in (content, "paint.png"):
        with pytest.raises(UserError, match="one of the inputs"):
            _plan(content, suffix, [".png", ".mp4"], target, force=True)
