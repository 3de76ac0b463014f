"""The ``sanet-text`` command, run in-process: outputs, overwrite rules, folders, odd inputs, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sanet_text.core.errors import UserError
from sanet_text.frontends.cli import build_parser


@pytest.fixture
def files(tmp_path, photo_and_styles, monkeypatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)  # default outputs land in the current folder
    return photo_and_styles


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def assert_one_line_error(code: int, err: list[str], expected: str = "") -> None:
    assert code == 2, err
    assert len(err) == 1, err
    assert err[0].startswith("sanet-text: error: ") and "Traceback" not in err[0]
    assert expected in err[0]


def test_writes_default_output_and_reports_it(files, run, tmp_path) -> None:
    code, out, err = run(files["content"], "--style", files["style"], "--size", 64)
    expected = Path("photo_paint.png")
    assert code == 0, err
    assert pixels(tmp_path / expected).shape == (43, 64, 3)
    assert len(out) == 1 and out[0].startswith(str(expected)) and "paint.png" in out[0] and out[0].endswith("s")


def test_existing_output_is_kept_without_force(files, run) -> None:
    target = Path("out.png")
    target.write_bytes(b"precious")
    code, _, err = run(files["content"], "--style", files["style"], "-o", target)
    assert_one_line_error(code, err, "--force")
    assert target.read_bytes() == b"precious"
    code, _, err = run(files["content"], "--style", files["style"], "-o", target, "--force")
    assert code == 0, err
    assert pixels(target).shape == (45, 67, 3)


def test_running_a_command_again_replaces_the_outputs_it_named_itself(files, run, tmp_path) -> None:
    expected = Path("photo_paint.png")
    code, _, err = run(files["content"], "--style", files["style"])
    assert code == 0, err
    full = pixels(expected)
    code, _, err = run(files["content"], "--style", files["style"], "--alpha", "0.2")
    assert code == 0, err
    assert not np.array_equal(pixels(expected), full)  # the new result, not the old file
    (tmp_path / "styled").mkdir()
    for _ in range(2):  # names chosen inside an -o folder are the tool's too
        code, _, err = run(files["content"], "--style", files["style"], "-o", tmp_path / "styled")
        assert code == 0, err
    assert [p.name for p in (tmp_path / "styled").iterdir()] == ["photo_paint.png"]


@pytest.mark.parametrize("victim", ["content", "style"])
def test_inputs_are_never_overwritten_even_with_force(files, run, victim) -> None:
    before = files[victim].read_bytes()
    code, _, err = run(files["content"], "--style", files["style"], "-o", files[victim], "--force")
    assert_one_line_error(code, err, "inputs")
    assert files[victim].read_bytes() == before


def test_folder_input_processes_every_image(files, run, write_image, tmp_path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    names = ["a.png", "b.jpg", "c.png"]
    for seed, name in enumerate(names):
        write_image(f"photos/{name}", 40 + seed, 30, seed=seed)
    (folder / "readme.txt").write_text("not an image")
    code, out, err = run(folder, "--style", files["style"], "-o", tmp_path / "styled")
    assert code == 0, err
    made = sorted(p.name for p in (tmp_path / "styled").iterdir())
    assert made == ["a_paint.png", "b_paint.png", "c_paint.png"]
    assert len(out) == 3


def test_one_bad_file_in_a_folder_does_not_stop_the_rest(files, run, write_image, write_odd, tmp_path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_image("photos/good.png", 40, 30)
    write_odd("truncated").rename(folder / "broken.jpg")
    code, out, err = run(folder, "--style", files["style"], "-o", tmp_path / "styled")
    assert code == 2
    assert (tmp_path / "styled" / "good_paint.png").is_file()
    assert len(out) == 1
    assert any(line.startswith("sanet-text: error: ") and "broken.jpg" in line for line in err)


def test_mask_keeps_the_outside_exactly(files, run, tmp_path) -> None:
    mask = np.zeros((90, 134), dtype=np.uint8)  # twice the content size: resized to fit
    mask[:, :60] = 255
    Image.fromarray(mask, "L").save(tmp_path / "mask.png")
    code, _, err = run(files["content"], "--style", files["style"], "--mask", tmp_path / "mask.png", "-o", "masked.png")
    assert code == 0, err
    result, content = pixels(Path("masked.png")), pixels(files["content"])
    assert np.array_equal(result[:, 31:], content[:, 31:])
    assert np.abs(result[:, :28].astype(int) - content[:, :28]).mean() > 2


def test_mix_one_zero_is_the_first_style(files, run) -> None:
    run(files["content"], "--style", files["style"], "-o", "single.png")
    code, out, err = run(files["content"], "--style", files["style"], "--style", files["style2"],
                         "--mix", "1,0", "-o", "mixed.png")
    assert code == 0, err
    assert "1.00×paint.png + 0.00×other.png" in out[0]
    assert np.array_equal(pixels(Path("mixed.png")), pixels(Path("single.png")))


def test_alpha_and_preserve_color_change_the_result(files, run) -> None:
    run(files["content"], "--style", files["style"], "-o", "full.png")
    run(files["content"], "--style", files["style"], "--alpha", "0.3", "-o", "weak.png")
    run(files["content"], "--style", files["style"], "--preserve-color", "-o", "colour.png")
    full, weak, colour = (pixels(Path(n)).astype(int) for n in ("full.png", "weak.png", "colour.png"))
    assert np.abs(full - weak).mean() > 1 and np.abs(full - colour).mean() > 1


def test_color_match_is_on_unless_turned_off_or_the_content_keeps_its_colours(files, run) -> None:
    run(files["content"], "--style", files["style"], "-o", "default.png")
    run(files["content"], "--style", files["style"], "--no-color-match", "-o", "plain.png")
    run(files["content"], "--style", files["style"], "--color-match", "-o", "matched.png")
    run(files["content"], "--style", files["style"], "--preserve-color", "-o", "kept.png")
    run(files["content"], "--style", files["style"], "--preserve-color", "--no-color-match", "-o", "kept_plain.png")
    default, plain, matched, kept, kept_plain = (pixels(Path(n)).astype(int) for n in (
        "default.png", "plain.png", "matched.png", "kept.png", "kept_plain.png"))
    assert np.array_equal(default, matched) and np.abs(matched - plain).mean() > 1
    assert np.array_equal(kept, kept_plain)


def test_save_attention_writes_a_heat_map_png(files, run) -> None:
    code, _, err = run(files["content"], "--style", files["style"], "-o", "styled.png", "--save-attention")
    assert code == 0, err
    with Image.open("styled.attention.png") as picture:
        assert picture.format == "PNG" and picture.width > 3 * 240


def test_seed_makes_runs_identical(files, run) -> None:
    for name in ("one.png", "two.png"):
        code, _, err = run(files["content"], "--style", files["style"], "--seed", 7, "-o", name)
        assert code == 0, err
    assert Path("one.png").read_bytes() == Path("two.png").read_bytes()


@pytest.mark.parametrize("kind", ["grayscale", "cmyk", "16bit", "rgba", "exif_rotated"])
def test_odd_but_valid_images_work(files, run, write_odd, kind) -> None:
    odd = write_odd(kind)
    for args in ([odd, "--style", files["style"]], [files["content"], "--style", odd]):
        code, _, err = run(*args, "-o", "out.png", "--force")
        assert code == 0, err
        if kind == "exif_rotated" and args[0] == odd:
            assert pixels(Path("out.png")).shape == (48, 32, 3)  # stored 48×32 landscape, shown portrait


BAD_INPUTS = {
    "missing content": lambda f, odd: [f["content"].with_name("nope.png"), "--style", f["style"]],
    "missing style": lambda f, odd: [f["content"], "--style", "nope.jpg"],
    "truncated": lambda f, odd: [odd("truncated"), "--style", f["style"]],
    "not an image": lambda f, odd: [f["content"], "--style", odd("not_an_image")],
    "1x1": lambda f, odd: [odd("one_pixel"), "--style", f["style"]],
    "decompression bomb": lambda f, odd: [odd("bomb"), "--style", f["style"]],
    "missing output folder": lambda f, odd: [f["content"], "--style", f["style"], "-o", "no/such/dir/x.png"],
    "unknown output format": lambda f, odd: [f["content"], "--style", f["style"], "-o", "x.doc"],
    "empty prompt": lambda f, odd: [f["content"], "  "],
    "no style": lambda f, odd: [f["content"]],
    "wrong --mix count": lambda f, odd: [f["content"], "--style", f["style"], "--mix", "0.5,0.5"],
    "bad --mix": lambda f, odd: [f["content"], "--style", f["style"], "--mix", "lots"],
    "negative alpha": lambda f, odd: [f["content"], "--style", f["style"], "--alpha", "-1"],
    "too many masks": lambda f, odd: [f["content"], "--style", f["style"], "--mask", f["style"], "--mask", f["style"]],
    "bad mask": lambda f, odd: [f["content"], "--style", f["style"], "--mask", odd("not_an_image")],
    "tiny --size": lambda f, odd: [f["content"], "--style", f["style"], "--size", "3"],
    "unknown device": lambda f, odd: [f["content"], "--style", f["style"], "--device", "tpu"],
    "cuda without cuda": lambda f, odd: [f["content"], "--style", f["style"], "--device", "cuda"],
    "mix with masks": lambda f, odd: [f["content"], "--style", f["style"], "--mix", "1", "--mask", f["style"]],
    "attention of a prompt": lambda f, odd: [f["content"], "waves", "--save-attention"],
    "mapper without weights": lambda f, odd: [f["content"], "waves", "--source", "mapper"],
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_2(files, run, write_odd, monkeypatch, case) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("SANET_TEXT_MAPPER", raising=False)
    code, out, err = run(*BAD_INPUTS[case](files, write_odd))
    assert_one_line_error(code, err)
    assert not out and not list(Path(".").glob("*_*.png"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_output_folder(files, run, tmp_path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run(files["content"], "--style", files["style"], "-o", locked / "x.png")
    assert_one_line_error(code, err, "not writable")


def test_unexpected_failure_is_one_line_with_a_debug_hint(files, run, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr("sanet_text.stylizer.stylize", explode)
    code, _, err = run(files["content"], "--style", files["style"])
    assert code == 1 and len(err) == 1 and "SANET_TEXT_DEBUG=1" in err[0] and "boom" in err[0]
    monkeypatch.setenv("SANET_TEXT_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run(files["content"], "--style", files["style"])


def test_prompt_style(files, run) -> None:
    code, out, err = run(files["content"], "Van Gogh starry night", "--size", 32)
    assert code == 0, err
    assert Path("photo_van-gogh-starry-night.png").is_file() and "Van Gogh starry night" in out[0]


def test_source_mapper_is_offered_only_when_a_mapper_resolves(tmp_path, monkeypatch) -> None:
    def sources() -> list[str]:
        action = next(a for a in build_parser()._actions if a.dest == "source")
        return list(action.choices)

    monkeypatch.delenv("SANET_TEXT_MAPPER", raising=False)
    assert sources() == ["library", "diffusion"]
    with pytest.raises(UserError, match="mapper is not available: .*SANET_TEXT_MAPPER"):
        build_parser().parse_args(["photo.png", "waves", "--source", "mapper"])
    (tmp_path / "mapper.safetensors").write_bytes(b"trained elsewhere")
    monkeypatch.setenv("SANET_TEXT_MAPPER", str(tmp_path / "mapper.safetensors"))
    assert sources() == ["library", "mapper", "diffusion"]
