"""The fast one-shot path: what a run imports, and caches that change nothing but the time.

Library prompts read their exemplar features and text embeddings from the user cache after the
first run; these tests check that the cached path gives exactly what computing afresh gives, and
that everything the features depend on keys them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sanet_text import Stylizer
from sanet_text.core.errors import UserError
from sanet_text.models.model import build_model
from sanet_text.styles import text as text_styles
from sanet_text.styles.exemplar_cache import cached_exemplar_features, encoder_hash
from sanet_text.styles.library import LibrarySpec, load_library
from sanet_text.styles.text import exemplar_features

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "sanet_text" / "assets" / "examples"
# Imported only by the sources that need them (library prompts on a cache miss, CLIP, diffusion, video).
HEAVY = ("transformers", "sentence_transformers", "diffusers", "open_clip", "torchvision", "h5py", "accelerate", "av", "cv2")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    load_library.cache_clear()
    return tmp_path / "cache"


def _style(name: str):
    return next(s for s in LibrarySpec.load().styles if s.name == name)


def _vgg_passes(model) -> list[int]:
    """A list that grows by one with every encoder pass of ``model`` (for models made by the test)."""
    seen: list[int] = []
    model.encoder.register_forward_hook(lambda module, args, output: seen.append(1))
    return seen


@pytest.fixture
def tiny_passes(tiny_model):
    """:func:`_vgg_passes` for the shared tiny model, unhooked afterwards."""
    seen: list[int] = []
    hook = tiny_model.encoder.register_forward_hook(lambda module, args, output: seen.append(1))
    yield seen
    hook.remove()


@pytest.mark.parametrize("name", ["brick", "watercolor"])  # one exemplar (a map), two (a token set)
def test_cached_exemplar_features_equal_fresh_ones(tiny_model, name) -> None:
    style = _style(name)
    fresh = exemplar_features(tiny_model, style, 64)
    first = cached_exemplar_features(tiny_model, style, 64)
    model = build_model("tiny")
    model.load_state_dict(tiny_model.state_dict())
    passes = _vgg_passes(model)
    again = cached_exemplar_features(model, style, 64)  # another process's model: same weights, from disk
    assert passes == []
    for a, b, c in zip(fresh, first, again):
        assert torch.equal(a, b) and torch.equal(a, c) and a.shape == c.shape


def test_anything_the_features_depend_on_keys_them(tiny_model, tiny_passes, private_cache) -> None:
    style = _style("brick")
    cached_exemplar_features(tiny_model, style, 64)
    other = build_model("tiny")  # other encoder weights
    assert encoder_hash(other) != encoder_hash(tiny_model)
    tiny_passes.clear()
    torch.testing.assert_close(cached_exemplar_features(other, style, 64)[0], exemplar_features(other, style, 64)[0])
    cached_exemplar_features(tiny_model, style, 48)  # another size
    cached_exemplar_features(tiny_model, style, 64, precision="bf16")  # another precision
    assert len(tiny_passes) == 2
    assert len(list((private_cache / "exemplar_features").glob("brick-*.safetensors"))) == 4


def test_a_changed_exemplar_file_is_encoded_again(tiny_model, tmp_path) -> None:
    style = _style("brick")
    copy = tmp_path / "brick.jpg"
    copy.write_bytes(style.exemplars[0].read_bytes())
    moved = type(style)(style.name, style.descriptions, (copy,))
    cached_exemplar_features(tiny_model, moved, 64)
    copy.write_bytes((EXAMPLES / "starry_night.jpg").read_bytes())
    changed = cached_exemplar_features(tiny_model, moved, 64)
    assert torch.equal(changed[0], exemplar_features(tiny_model, moved, 64)[0])


def test_a_damaged_feature_file_is_encoded_again(tiny_model, private_cache) -> None:
    style = _style("brick")
    fresh = cached_exemplar_features(tiny_model, style, 64)
    for path in (private_cache / "exemplar_features").glob("*.safetensors"):
        path.write_bytes(path.read_bytes()[:100])
    assert torch.equal(cached_exemplar_features(tiny_model, style, 64)[0], fresh[0])


def test_a_warm_prompt_run_gives_the_cold_runs_image(tiny_model, tiny_passes, monkeypatch) -> None:
    cold = Stylizer(tiny_model)(EXAMPLES / "chelsea.jpg", ["dreamy painterly texture"], size=64, style_size=64)
    load_library.cache_clear()
    tiny_passes.clear()
    decoded = []
    monkeypatch.setattr(text_styles, "load_image", lambda path: decoded.append(path))
    warm = Stylizer(tiny_model)(EXAMPLES / "chelsea.jpg", ["dreamy painterly texture"], size=64, style_size=64)
    assert len(warm.styles[0].group.parts) == 3  # a blend: every part came from the cache
    assert tiny_passes == [1] and decoded == []  # the content only; exemplar colours are cached too
    assert warm.description == cold.description and torch.equal(warm.image, cold.image)


def _imports(tmp_path: Path, *argv: str) -> set[str]:
    """The heavy modules a fresh ``sanet-text argv`` process has imported when it ends."""
    code = ("import atexit, json, sys; from sanet_text.frontends.cli import main; "
            f"atexit.register(lambda: print(json.dumps([m for m in {HEAVY!r} if m in sys.modules])))\n"
            "sys.exit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_help_and_an_image_style_run_import_nothing_heavy(tmp_path, tiny_weights) -> None:
    assert _imports(tmp_path, "--help") == set()
    assert _imports(tmp_path, str(EXAMPLES / "chelsea.jpg"), "--style", str(EXAMPLES / "starry_night.jpg"),
                    "--size", "64", "-o", "out.png", *tiny_weights) == set()


def test_a_prompt_asked_before_loads_no_sentence_encoder(tmp_path, tiny_weights) -> None:
    prompt = [str(EXAMPLES / "chelsea.jpg"), "Van Gogh starry night", "--size", "64", "--style-size", "64",
              "-o", "out.png", "--force", *tiny_weights]
    assert {"transformers", "sentence_transformers"} <= _imports(tmp_path, *prompt)
    assert _imports(tmp_path, *prompt) == set()


def test_the_benchmark_prints_the_machine_and_every_stage(tmp_path, tiny_weights) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "oneshot.py"), "--runs", "1", "--size", "64",
                             *tiny_weights], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# machine: ") and "load average" in lines[1]
    rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
            for line in lines if line.startswith("| ") and "---" not in line}
    assert len(rows["stage"]) == 6  # three commands, each first and warm
    assert sum(line.startswith("| sentence encoder load |") for line in lines) == 1
    first, warm = rows["sentence encoder load"][2:4]  # the prompt: loaded the first time only
    assert float(first) > 0 and warm == "-"
    assert all(float(cell.strip("*")) > 0 for cell in rows["**wall**"])


def test_a_missing_exemplar_is_the_usual_one_line_error(tiny_model, tmp_path) -> None:
    style = _style("brick")
    missing = type(style)(style.name, style.descriptions, (tmp_path / "gone.jpg",))
    with pytest.raises(UserError, match="gone.jpg"):
        cached_exemplar_features(tiny_model, missing, 64)


def _console(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    """``sanet-text argv`` as the console script runs it (main, then os._exit)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "sanet_text.frontends.console", *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)


def test_the_console_script_exits_quickly_with_its_output_and_code_intact(tmp_path, tiny_weights) -> None:
    ok = _console(tmp_path, str(EXAMPLES / "chelsea.jpg"), "--style", str(EXAMPLES / "starry_night.jpg"),
                  "--size", "64", "-o", "out.png", *tiny_weights)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert ok.stdout.startswith("out.png") and (tmp_path / "out.png").stat().st_size > 0
    missing = _console(tmp_path, "missing.jpg", "--style", str(EXAMPLES / "starry_night.jpg"), *tiny_weights)
    assert missing.returncode != 0
    assert missing.stderr.count("\n") == 1 and "missing.jpg" in missing.stderr
