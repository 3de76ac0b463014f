"""Where a run's results go, and the checks made before any work: no input is ever overwritten,
nothing is written twice, every target is writable. Torch-free: one planner for images, folders
and clips on the full path and for the warm one-shot path (:mod:`sanet_text.frontends.quick`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..core.errors import UserError
from ..images.processor import IMAGE_SUFFIXES, WRITE_FORMATS, check_writable, path_exists


def is_image_path(value: str) -> bool:
    """An image name (by extension) or an existing file; anything else is a prompt (blank text
    too: as a path it would be the current folder)."""
    return bool(value.strip()) and (Path(value).suffix.lower() in IMAGE_SUFFIXES or path_exists(value))


def attention_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.attention.png")


@dataclass(frozen=True)
class OutputPlan:
    """Where a run writes: a path per content (image or clip), and whether files already there may be replaced."""

    paths: list[Path]
    replace: bool


def plan_outputs(contents: list[Path], styles: Sequence[Path | str], output: str | None, slug: str, force: bool, *,
                 folder_input: bool = False, masks: Sequence[str] = (), with_attention: bool = False,
                 suffix: str = ".png", formats: Iterable[str] = WRITE_FORMATS) -> OutputPlan:
    """The one output plan of an image, a folder, a clip and the quick path, made before any work.

    Names: -o (a file, or a folder to write into), else ``<content>_<slug><suffix>`` in the current
    folder. Files the tool names itself are its own to replace, so a command can simply be run
    again; a file the user named with -o may be anything of theirs, so replacing it takes ``force``.
    Refused: writing over an input (contents, style pictures, masks), even with ``force``; two
    contents writing one file; an unwritable target or one whose suffix is not in ``formats``.
    """
    paths = _names(contents, folder_input, output, slug, suffix)
    replace = force or output is None or paths[0] != Path(output)
    targets = paths + ([attention_path(path) for path in paths] if with_attention else [])
    inputs = {path.resolve() for path in [*contents, *(s for s in styles if isinstance(s, Path)), *map(Path, masks)]}
    seen: set[Path] = set()
    for target in targets:
        resolved = target.resolve()
        if resolved in inputs:
            raise UserError(f"{target} is one of the inputs; it is never overwritten, choose another -o")
        if resolved in seen:
            raise UserError(f"two inputs would both write {target} (same name, other extension); rename one")
        seen.add(resolved)
        # A folder of contents writes its -o folder when it writes the first result (see the CLI).
        check_writable(target, replace, create_folder=folder_input, formats=formats)
    return OutputPlan(paths, replace)


def _names(contents: list[Path], folder_input: bool, output: str | None, slug: str, suffix: str) -> list[Path]:
    def default_name(content: Path) -> str:
        return f"{content.stem}_{slug}{suffix}"

    if folder_input:
        folder = Path(output) if output else Path(".")
        if folder.suffix.lower() in WRITE_FORMATS:
            raise UserError(f"CONTENT is a folder, so -o must be a folder too, not {folder}")
        return [folder / default_name(c) for c in contents]
    out = Path(output) if output else Path(default_name(contents[0]))
    return [out / default_name(contents[0]) if out.is_dir() else out]
