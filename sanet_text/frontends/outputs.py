"""Where a run's results go, and the checks made before any work: no input is ever overwritten,
nothing is written twice, every target is writable. Torch-free, shared by the full CLI and the
warm one-shot path (:mod:`sanet_text.frontends.quick`)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..core.errors import UserError
from ..images.processor import IMAGE_SUFFIXES, WRITE_FORMATS, check_writable, path_exists


def is_image_path(value: str) -> bool:
    """An image name (by extension) or an existing file; anything else is a prompt (blank text
    too: as a path it would be the current folder)."""
    return bool(value.strip()) and (Path(value).suffix.lower() in IMAGE_SUFFIXES or path_exists(value))


def attention_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.attention.png")


def plan_outputs(contents: list[Path], folder_input: bool, output: str | None, slug: str,
                 suffix: str = ".png") -> list[Path]:
    """Output path per content image (or clip), following -o (file or folder) or the default name
    ``<content>_<slug><suffix>``."""

    def default_name(content: Path) -> str:
        return f"{content.stem}_{slug}{suffix}"

    if folder_input:
        folder = Path(output) if output else Path(".")
        if folder.suffix.lower() in WRITE_FORMATS:
            raise UserError(f"CONTENT is a folder, so -o must be a folder too, not {folder}")
        return [folder / default_name(c) for c in contents]
    out = Path(output) if output else Path(default_name(contents[0]))
    return [out / default_name(contents[0]) if out.is_dir() else out]


def may_replace(outputs: list[Path], output: str | None, force: bool) -> bool:
    """Files the tool names itself are its own to replace, so a command can simply be run again; a file
    the user named with -o may be anything of theirs, so replacing it takes --force."""
    named_by_user = output is not None and outputs[0] == Path(output)
    return force or not named_by_user


def check_outputs(outputs: list[Path], inputs: list[Path], force: bool, with_attention: bool,
                  create_folder: bool = False, formats: Iterable[str] = WRITE_FORMATS) -> None:
    """Before any work: no input is overwritten (even with --force), nothing is written twice, all writable."""
    targets = outputs + ([attention_path(o) for o in outputs] if with_attention else [])
    resolved_inputs = {p.resolve() for p in inputs}
    seen: set[Path] = set()
    for target in targets:
        resolved = target.resolve()
        if resolved in resolved_inputs:
            raise UserError(f"{target} is one of the inputs; it is never overwritten, choose another -o")
        if resolved in seen:
            raise UserError(f"two inputs would both write {target} (same name, other extension); rename one")
        seen.add(resolved)
        check_writable(target, force, create_folder, formats)
