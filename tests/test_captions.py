"""Training the text mapper on captioned styles: captions say what their pictures are made of, the
feature-space loss trains a mapper, and the captions stage checkpoints and exports like the others."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import save_file

from sanet_text.core.config import load_mapper_config, load_train_config
from sanet_text.models import losses as L
from sanet_text.models.mapper import build_mapper
from sanet_text.models.model import SANet, build_model
from sanet_text.styles.colour_words import parse_prompt
from sanet_text.styles.library import LibrarySpec
from sanet_text.training.caption_stage import CaptionStage, random_directions
from sanet_text.training.captions import CaptionSpec, caption_set, style_picture
from sanet_text.training.train import main, train
from train_helpers import final_weights, write_run_config

CAPTIONS_CONFIG = Path("configs/train/captions_cpu.yaml")


@pytest.fixture(scope="module")
def captioned() -> list:
    return caption_set(CaptionSpec.load(), LibrarySpec.load(), procedural=60, recoloured=20, validation_share=0.2, seed=3)


def test_captions_name_the_colours_palette_family_and_scale_they_were_made_with(captioned: list) -> None:
    spec = CaptionSpec.load()
    generated = [item for item in captioned if item.kind != "library"]
    assert {item.kind for item in generated} == {"procedural", "recoloured"}
    assert any(item.palette for item in generated) and any(item.scale > 1 for item in generated)
    assert any(item.scale < 1 for item in generated)
    for item in generated:
        for caption in item.train + item.held_out:
            words = parse_prompt(caption)  # read as a user's prompt is
            if item.palette:
                assert words.palette == item.palette and not words.colours, caption
            else:
                assert tuple(c.name for c in words.colours) == item.colours, caption
            assert words.scale == pytest.approx(item.scale), caption
            if item.kind == "procedural":
                assert any(phrase in caption for phrase in spec.families[item.name]), caption


def test_captions_repeat_per_seed_and_hold_out_whole_compositions(captioned: list) -> None:
    library = LibrarySpec.load()
    again = caption_set(CaptionSpec.load(), library, procedural=60, recoloured=20, validation_share=0.2, seed=3)
    other = caption_set(CaptionSpec.load(), library, procedural=60, recoloured=20, validation_share=0.2, seed=4)
    assert again == captioned and other != captioned
    generated = [item for item in captioned if item.kind != "library"]
    held = [item for item in generated if item.held_out]
    assert held and len(held) < len(generated) / 2
    assert all(not item.train for item in held)  # a held-out composition is never trained on
    for item in captioned[:len(library.styles)]:
        assert item.train[0] == item.name.replace("_", " ")  # the style's own name always trains
        assert not set(item.train) & set(item.held_out)


def test_style_pictures_are_deterministic_crops_in_their_colours(captioned: list) -> None:
    styles = {s.name: s for s in LibrarySpec.load().styles}
    procedural = next(item for item in captioned if item.kind == "procedural" and not item.palette and item.scale == 1)
    picture = style_picture(procedural, styles, 96, 64)
    assert picture.shape == (3, 64, 64) and 0 <= picture.min() and picture.max() <= 1
    assert torch.equal(picture, style_picture(procedural, styles, 96, 64))
    recoloured = next(item for item in captioned if item.kind == "recoloured")
    assert style_picture(recoloured, styles, 96, 64).shape == (3, 64, 64)


def test_the_token_set_loss_trains_a_tiny_mapper() -> None:
    torch.manual_seed(0)
    mapper = build_mapper("tiny").train()
    n4, n5, channels = mapper.config.tokens4, mapper.config.tokens5, mapper.config.channels
    directions = random_directions(8, channels, 0)
    # Four styles: sets of non-negative features with differing statistics, each with its own text.
    sets = [torch.rand(channels, 300) ** (1 + i) * (1 + i) for i in range(4)]
    text = torch.nn.functional.normalize(torch.randn(4, 384), dim=-1)
    q4 = torch.stack([L.set_quantiles(s, n4) for s in sets])
    s4 = torch.stack([L.set_quantiles(s, n4, directions) for s in sets])
    q5 = torch.stack([L.set_quantiles(s, n5) for s in sets])
    s5 = torch.stack([L.set_quantiles(s, n5, directions) for s in sets])
    optimizer = torch.optim.Adam(mapper.parameters(), lr=3e-3)

    def loss() -> torch.Tensor:
        t4, t5 = mapper(text)
        return sum(sum(L.token_set_terms(t, q, s, directions)) for t, q, s in ((t4, q4, s4), (t5, q5, s5)))

    start = float(loss().detach())
    for _ in range(40):
        optimizer.zero_grad()
        value = loss()
        value.backward()
        optimizer.step()
    assert float(loss().detach()) < 0.5 * start


def test_set_quantiles_of_tokens_are_their_sorted_values() -> None:
    tokens = torch.rand(5, 8)
    assert torch.allclose(L.set_quantiles(tokens.repeat_interleave(4, dim=1), 8), tokens.sort(-1).values, atol=1e-5)


@pytest.fixture
def tiny_run(tmp_path: Path, tiny_model: SANet, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A captions-stage config over the lively tiny SANet and a tiny mapper that predicts its low statistics."""
    monkeypatch.setenv("SANET_TEXT_CACHE", str(tmp_path / "cache"))
    save_file(tiny_model.encoder.state_dict(), tmp_path / "vgg.safetensors")
    save_file(tiny_model.trainable_state_dict(), tmp_path / "sanet.safetensors")
    model = {**dataclasses.asdict(tiny_model.config), "encoder_weights": str(tmp_path / "vgg.safetensors"),
             "weights": str(tmp_path / "sanet.safetensors"), "widths": list(tiny_model.config.widths)}
    (tmp_path / "model.yaml").write_text(yaml.safe_dump(model))
    mapper = {**dataclasses.asdict(load_mapper_config("tiny")), "low": 2 * sum(tiny_model.config.widths[:3])}
    mapper.pop("name")
    (tmp_path / "mapper.yaml").write_text(yaml.safe_dump(mapper))
    return write_run_config(CAPTIONS_CONFIG, tmp_path, "run", model=str(tmp_path / "model.yaml"),
                            init_weights=str(tmp_path / "sanet.safetensors"), mapper=str(tmp_path / "mapper.yaml"),
                            procedural_styles=4, recoloured_styles=2, validation_share=0.5, exemplar_size=64, crop=32,
                            slices=8, batch_size=4, steps=6, warmup_steps=1, log_every=2, sample_every=3,
                            checkpoint_every=3)


def test_the_captions_stage_trains_the_mapper_alone_logs_held_out_terms_and_exports(tiny_run: Path, tmp_path: Path) -> None:
    config = load_train_config(tiny_run)
    run = train(config, until=3)
    train(config, resume=True)
    weights = final_weights(run)
    assert weights and all(k.startswith("mapper.") for k in weights)  # the frozen SANet is not saved
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"token_quantiles", "token_slices", "low_stats", "val_token_quantiles", "val_low_stats"} <= set(header)
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_0000003.png", "step_0000006.png"]

    out = tmp_path / "mapper.safetensors"
    assert main(["--config", str(tiny_run), "--export-mapper", str(out)]) == 0
    exported = build_mapper(config.mapper, weights=out)
    trained = build_mapper(config.mapper)
    trained.load_state_dict({k.removeprefix("mapper."): v for k, v in weights.items()})
    text = torch.nn.functional.normalize(torch.randn(2, 384, generator=torch.Generator().manual_seed(0)), dim=-1)
    with torch.no_grad():
        for a, b in zip(exported.predict(text), trained.predict(text)):
            assert torch.allclose(a, b, rtol=1e-2, atol=1e-2)  # fp16 export


def test_the_captions_stage_keeps_its_targets_in_the_run_folder(tiny_run: Path) -> None:
    config = load_train_config(tiny_run)
    stage = CaptionStage(build_model(config.model, weights=config.init_weights), config)
    files = sorted(p.name for p in (Path(config.output_dir) / "targets").iterdir())
    assert len(files) == 2 and all(f.endswith(".safetensors") for f in files)
    again = CaptionStage(build_model(config.model, weights=config.init_weights), config)  # read back, not encoded again
    assert torch.allclose(again.q4, stage.q4) and torch.allclose(again.text, stage.text, atol=1e-6)
    assert len(list((Path(config.output_dir) / "targets").iterdir())) == 2
    assert len(stage.owner) == len(stage.text) and len(stage.val_owner) == len(stage.val_text) > 0
