"""Video: reading, rewriting with audio kept, temporal consistency, and bad clips, on tiny synthetic clips."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import noise_image

from sanet_text.stylizer import Stylizer
from sanet_text.video import video
from sanet_text.video.clips import as_array
from sanet_text.video.temporal import TemporalBlender, TemporalSettings, warping_error
from sanet_text.video.video import probe, read_frames, rewrite_video

SIZE = (64, 48)
STEP = 2  # px the synthetic camera pans per frame
# High enough that AAC's 1024-sample priming and padding stay a few hundredths of a second.
AUDIO_RATE = 44100


def panning_frames(count: int, size: tuple[int, int] = SIZE, seed: int = 4) -> list[np.ndarray]:
    """A smooth texture seen through a window that moves STEP px right per frame: known, simple motion."""
    wide = np.asarray(noise_image(size[0] + STEP * count, size[1], seed))
    return [np.ascontiguousarray(wide[:, i * STEP:i * STEP + size[0]]) for i in range(count)]


def write_clip(path: Path, frames: int = 6, rate: int = 10, audio: str | None = None) -> Path:
    """A panning clip; with ``audio`` (a codec), also a mono 440 Hz tone as long as the video."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        sound = container.add_stream(audio, rate=AUDIO_RATE, layout="mono") if audio else None
        for picture in panning_frames(frames):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(stream.encode(None))
        if sound is not None:
            samples = np.sin(np.arange(AUDIO_RATE * frames // rate) * 2 * np.pi * 440 / AUDIO_RATE)[None]
            planar = sound.codec_context.format.is_planar
            tone = av.AudioFrame.from_ndarray(samples.astype(np.float32) if planar else (samples * 8000).astype(np.int16),
                                              format=sound.codec_context.format.name, layout="mono")
            tone.sample_rate = AUDIO_RATE
            container.mux(sound.encode(tone))
            container.mux(sound.encode(None))
    return path


def audio_seconds(path: Path) -> tuple[str, float]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return stream.codec_context.name, sum(frame.samples for frame in container.decode(stream)) / stream.rate


def test_probe_and_read_frames(tmp_path) -> None:
    clip = write_clip(tmp_path / "pan.mp4", frames=6, rate=12)
    info = probe(clip)
    assert (info.width, info.height, info.rate, info.has_audio) == (*SIZE, Fraction(12), False)
    frames = list(read_frames(clip))
    assert len(frames) == 6 and frames[0].shape == (SIZE[1], SIZE[0], 3) and frames[0].dtype == np.uint8
    assert len(list(read_frames(clip, limit=2))) == 2


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".avi", ".webm"])
def test_rewrite_keeps_frame_count_size_and_rate(tmp_path, suffix) -> None:
    clip = write_clip(tmp_path / "pan.mp4", frames=5, rate=15)
    target = tmp_path / f"out{suffix}"
    assert rewrite_video(clip, target, lambda frame: 255 - frame, SIZE) == 5
    info = probe(target)
    assert (info.width, info.height, info.rate) == (*SIZE, Fraction(15))
    written = list(read_frames(target))
    assert len(written) == 5
    # The transform was applied (lossy codecs: compare on average).
    assert np.abs(written[2].astype(float) - (255 - panning_frames(5)[2])).mean() < 12


@pytest.mark.parametrize(("source", "codec", "expected"), [(".mp4", "aac", "aac"),  # copied as it is
                                                           (".avi", "pcm_s16le", "aac")])  # MP4 cannot hold PCM
def test_audio_is_kept(tmp_path, source, codec, expected) -> None:
    clip = write_clip(tmp_path / f"talk{source}", frames=8, rate=10, audio=codec)
    assert probe(clip).has_audio
    target = tmp_path / "out.mp4"
    rewrite_video(clip, target, lambda frame: frame, SIZE)
    name, seconds = audio_seconds(target)
    assert name == expected
    assert seconds == pytest.approx(audio_seconds(clip)[1], abs=0.15)  # AAC adds a few ms of priming


def test_an_interrupted_rewrite_leaves_nothing(tmp_path) -> None:
    clip = write_clip(tmp_path / "pan.mp4")
    seen = []

    def interrupt(frame: np.ndarray) -> np.ndarray:
        seen.append(frame)
        if len(seen) == 3:
            raise KeyboardInterrupt
        return frame

    with pytest.raises(KeyboardInterrupt):
        rewrite_video(clip, tmp_path / "out.mp4", interrupt, SIZE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pan.mp4"]


def test_temporal_blending_cuts_flicker_on_a_moving_clip(tiny_model) -> None:
    frames = panning_frames(6, (96, 64))
    # The flow of the inputs explains them: the metric's own floor is near zero.
    assert warping_error(frames[0] / 255, frames[1] / 255, frames[0], frames[1]) < 0.02
    stylizer = Stylizer(tiny_model)
    styles = stylizer.prepare([np.asarray(noise_image(64, 64, 9))])
    per_frame = [as_array(stylizer(frame, styles, size=0).image) for frame in frames]
    blender = TemporalBlender(TemporalSettings(strength=0.8))
    temporal = [blender(frame, stylised) for frame, stylised in zip(frames, per_frame)]

    def flicker(outputs: list[np.ndarray]) -> float:
        return float(np.mean([warping_error(outputs[i - 1], outputs[i], frames[i - 1], frames[i])
                              for i in range(1, len(frames))]))

    assert flicker(temporal) < 0.6 * flicker(per_frame)
    assert np.array_equal(temporal[0], per_frame[0])  # nothing to blend with yet
    unblended = TemporalBlender(TemporalSettings(strength=0))
    assert all(np.array_equal(unblended(f, s), s) for f, s in zip(frames, per_frame))


def test_a_scene_cut_takes_nothing_from_the_previous_frame() -> None:
    before, after = panning_frames(1, seed=1)[0], panning_frames(1, seed=2)[0]
    rng = np.random.default_rng(0)
    blender = TemporalBlender()
    blender(before, rng.random((*before.shape[:2], 3), dtype=np.float32))
    fresh = rng.random((*after.shape[:2], 3), dtype=np.float32)
    assert np.abs(blender(after, fresh) - fresh).mean() < 0.02


def test_cli_stylises_a_clip_with_audio(run, tmp_path, monkeypatch, write_image) -> None:
    monkeypatch.chdir(tmp_path)
    clip = write_clip(tmp_path / "walk.mp4", frames=4, audio="aac")
    style = write_image("paint.png", 50, 38, seed=2)
    code, out, err = run(clip, "--style", style, "--temporal", "0.5", "--seed", "1")
    assert code == 0, err
    output = Path("walk_paint.mp4")
    assert out[0].startswith(f"{output}  ") and "4 frames" in out[0]
    info = probe(output)
    assert (info.width, info.height, info.has_audio) == (*SIZE, True)
    assert len(list(read_frames(output))) == 4


def _zero_frames(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = SIZE
        container.start_encoding()


def _unknown_codec(path: Path) -> None:
    """A Matroska clip whose codec id was renamed to one FFmpeg has never heard of."""
    write_clip(path.with_suffix(".tmp.mkv"))
    data = path.with_suffix(".tmp.mkv").read_bytes()
    path.with_suffix(".tmp.mkv").unlink()
    path.write_bytes(data.replace(b"V_MPEG4/ISO/ASP", b"V_ZZZZZ/ISO/ASP"))


BAD_CLIPS = {
    "not a video": ("notes.mp4", lambda p: p.write_text("just text\n"), "not a video FFmpeg can read"),
    "zero frames": ("empty.avi", _zero_frames, "no video frames"),
    "unknown codec": ("odd.mkv", _unknown_codec, "codec is unknown"),
    "huge frames": ("huge.mp4", write_clip, "safety limit"),
}


@pytest.mark.parametrize("case", [*BAD_CLIPS, "bad output suffix", "output in a file", "temporal out of range"])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(run, tmp_path, monkeypatch, write_image, case) -> None:
    monkeypatch.setattr(video, "MAX_FRAME_PIXELS", SIZE[0] * SIZE[1] - 1)  # only the "huge" clip is over it
    style = write_image("paint.png", 50, 38, seed=2)
    name, make, expected = BAD_CLIPS.get(case, ("ok.mp4", write_clip, ""))
    clip = tmp_path / name
    make(clip)
    if case != "huge frames":
        monkeypatch.setattr(video, "MAX_FRAME_PIXELS", 10**9)
    extra, expected = {
        "bad output suffix": (["-o", tmp_path / "out.xyz"], "unknown output format"),
        "output in a file": (["-o", tmp_path / "paint.png" / "out.mp4"], "is a file, not a folder"),
        "temporal out of range": (["--temporal", "1.5"], "--temporal must be between"),
    }.get(case, ([], expected))
    before = sorted(tmp_path.iterdir())
    code, _, err = run(clip, "--style", style, *extra)
    assert code == 2 and len(err) == 1 and err[0].startswith("sanet-text: error: "), err
    assert expected in err[0]
    assert sorted(tmp_path.iterdir()) == before
