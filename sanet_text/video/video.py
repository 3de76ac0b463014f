"""Reading and re-encoding video clips with PyAV (FFmpeg), one frame at a time.

A clip is checked before any model work (:func:`probe`), and rewritten by :func:`rewrite_video`:
its video frames go through a function and are encoded again, its audio is kept, and the result
appears at the output path only when it is complete (a temporary file, then a rename).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..core.atomic import atomic_path
from ..core.errors import UserError, first_line
from ..core.lazy import lazy_module
from ..images.processor import MAX_PIXELS, MIN_SIDE, check_regular_file

av = lazy_module("av")

# Containers FFmpeg reads that people keep clips in; content with these suffixes is a video.
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".ts", ".3gp",
                  ".ogv"}
# Larger frames are refused before decoding, as images over the decompression-bomb guard are.
MAX_FRAME_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class OutputFormat:
    """What is written for an output suffix: the video encoder, the audio codecs the container takes
    as they are (None: any), and the audio encoders for the others, the first this FFmpeg build has."""

    video_codec: str
    audio_kept: frozenset[str] | None
    audio_codecs: tuple[str, ...]
    options: tuple[tuple[str, str], ...] = ()


_H264 = ("libx264", (("crf", "18"), ("preset", "medium")))
_MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"})
OUTPUT_FORMATS = {
    ".mp4": OutputFormat(_H264[0], _MP4_AUDIO, ("aac",), _H264[1]),
    ".m4v": OutputFormat(_H264[0], _MP4_AUDIO, ("aac",), _H264[1]),
    ".mov": OutputFormat(_H264[0], _MP4_AUDIO | {"pcm_s16le", "pcm_s24le"}, ("aac",), _H264[1]),
    ".mkv": OutputFormat(_H264[0], None, ("aac",), _H264[1]),
    ".avi": OutputFormat("mpeg4", frozenset({"mp3", "ac3", "pcm_s16le", "pcm_u8"}), ("mp3", "pcm_s16le"),
                         (("qscale", "3"),)),
    ".webm": OutputFormat("libvpx-vp9", frozenset({"opus", "vorbis"}), ("libopus",), (("crf", "30"), ("b", "0"))),
}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found: frame size, average frame rate, frame count (None when the
    container does not say) and whether there is an audio stream."""

    width: int
    height: int
    rate: Fraction
    frames: int | None
    has_audio: bool


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def _open(path: Path) -> av.container.InputContainer:
    check_regular_file(path)
    try:
        return av.open(str(path), "r")
    except av.FFmpegError as err:
        raise UserError(f"{path}: not a video FFmpeg can read ({first_line(err)})") from None


def _video_stream(container: av.container.InputContainer, path: Path) -> av.VideoStream:
    if not container.streams.video:
        raise UserError(f"{path}: has no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.is_decoder:
        raise UserError(f"{path}: its video codec is unknown to FFmpeg; convert it to H.264 first")
    if stream.width * stream.height > MAX_FRAME_PIXELS:
        raise UserError(f"{path}: frames are {stream.width}×{stream.height} px, over the "
                        f"{MAX_FRAME_PIXELS / 1e6:.1f} MP safety limit; downscale the clip first")
    if min(stream.width, stream.height) < MIN_SIDE:
        raise UserError(f"{path}: frames are {stream.width}×{stream.height} px; need at least {MIN_SIDE} px on each side")
    return stream


def _frame_rate(stream: av.VideoStream) -> Fraction:
    """The average rate; a guess from the timestamps when the container does not say; 25 when neither can tell."""
    return Fraction(stream.average_rate or stream.guessed_rate or 25)


def _decoded(stream: av.VideoStream, path: Path,
             packets: Iterator[av.Packet]) -> Iterator[tuple[av.Packet, av.VideoFrame | None]]:
    """Each packet of ``packets`` with each video frame it decodes to (None for other streams' packets)."""
    decoded = 0
    try:
        for packet in packets:
            if packet.stream is not stream:
                yield packet, None
                continue
            for frame in packet.decode():
                decoded += 1
                yield packet, frame
    except av.FFmpegError as err:
        where = f"after frame {decoded}" if decoded else "at its first frame"
        raise UserError(f"{path}: cannot decode its video {where} ({first_line(err)})") from None
    if not decoded:
        raise UserError(f"{path}: the clip has no video frames")


def probe(path: str | Path) -> VideoInfo:
    """Check that ``path`` is a video FFmpeg can decode (at least its first frame) and describe it."""
    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(container, path)
        # FFmpeg reads a lone picture as a one-frame clip through its image "pipe" demuxers.
        if container.format.name.endswith("_pipe"):
            raise UserError(f"{path} is a still picture ({stream.codec_context.name}), not a video clip; "
                            "give it its picture extension (.jpg, .png ...) to stylise it as an image")
        next(_decoded(stream, path, container.demux(stream)))
        return VideoInfo(stream.width, stream.height, _frame_rate(stream),
                         stream.frames or None, bool(container.streams.audio))


def read_frames(path: str | Path, limit: int | None = None) -> Iterator[np.ndarray]:
    """The clip's frames in order as (H, W, 3) uint8 RGB arrays, at most ``limit`` of them."""
    path = Path(path)
    with _open(path) as container:
        stream = _video_stream(container, path)
        frames = (frame for _, frame in _decoded(stream, path, container.demux(stream)) if frame is not None)
        for frame in itertools.islice(frames, limit):
            yield frame.to_ndarray(format="rgb24")


def output_format(path: Path) -> OutputFormat:
    try:
        return OUTPUT_FORMATS[path.suffix.lower()]
    except KeyError:
        raise UserError(f"{path}: unknown video output format; end the name with one of "
                        f"{', '.join(OUTPUT_FORMATS)}") from None


def rewrite_video(source: str | Path, target: str | Path, transform: Callable[[np.ndarray], np.ndarray],
                  size: tuple[int, int], on_frame: Callable[[], None] | None = None) -> int:
    """Write ``target``: every video frame of ``source`` through ``transform``, audio kept; returns the frame count.

    ``transform`` takes and returns (H, W, 3) uint8 RGB; it must return ``size`` (width, height),
    both even (what H.264's 4:2:0 needs). Frames keep their source timestamps, so the frame rate,
    variable rates included, and audio sync are kept. Audio is copied packet by packet when the
    target container takes its codec, else re-encoded. Frames stream: memory does not grow with
    the clip. Nothing appears at ``target`` unless the whole clip was written.
    """
    source, target = Path(source), Path(target)
    form = output_format(target)
    frames = 0
    with _open(source) as reader:
        video_in = _video_stream(reader, source)
        audio_in = reader.streams.audio[0] if reader.streams.audio else None
        try:
            with atomic_path(target) as tmp, av.open(str(tmp), "w") as writer:
                rate = _frame_rate(video_in)
                video_out = writer.add_stream(form.video_codec, rate=rate, options=dict(form.options))
                video_out.width, video_out.height = size
                video_out.pix_fmt = "yuv420p"
                audio_out = _audio_stream(writer, audio_in, form) if audio_in is not None else None
                copy_audio = audio_out is not None and audio_out.codec_context.name == audio_in.codec_context.name
                last_pts = -1
                streams = [stream for stream in (video_in, audio_in) if stream is not None]
                for packet, frame in _decoded(video_in, source, reader.demux(streams)):
                    if frame is None:
                        _write_audio(writer, packet, audio_out, copy_audio)
                        continue
                    picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(transform(frame.to_ndarray(format="rgb24"))),
                                                         format="rgb24")
                    # Source timestamps in frame periods; strictly increasing, as encoders require.
                    seconds = frame.time if frame.time is not None else frames / rate
                    last_pts = picture.pts = max(last_pts + 1, round(seconds * rate))
                    picture.time_base = 1 / rate
                    writer.mux(video_out.encode(picture))
                    frames += 1
                    if on_frame is not None:
                        on_frame()
                writer.mux(video_out.encode(None))
                if audio_out is not None and not copy_audio:
                    writer.mux(audio_out.encode(None))
        except av.FFmpegError as err:
            raise UserError(f"cannot write {target}: {first_line(err)}") from None
        except OSError as err:
            raise UserError(f"cannot write {target}: {err.strerror or err}") from None
    return frames


def _audio_stream(writer: av.container.OutputContainer, audio_in: av.AudioStream, form: OutputFormat) -> av.AudioStream:
    name = audio_in.codec_context.name
    if form.audio_kept is None or name in form.audio_kept:
        return writer.add_stream_from_template(audio_in)
    # AVI and WAV often carry an unordered "1 channels" layout that encoders refuse; name the usual ones.
    layout = {1: "mono", 2: "stereo"}.get(audio_in.codec_context.channels, audio_in.layout)
    codec = next((c for c in form.audio_codecs if c in av.codecs_available), form.audio_codecs[-1])
    stream = writer.add_stream(codec, rate=audio_in.rate, layout=layout)
    # The encoder's preferred sample format (AAC wants planar float); PyAV converts the decoded frames.
    stream.format = stream.codec_context.codec.audio_formats[0]
    return stream


def _write_audio(writer: av.container.OutputContainer, packet: av.Packet, audio_out: av.AudioStream | None,
                 copy: bool) -> None:
    if audio_out is None:
        return
    if copy:
        if packet.dts is not None:  # the demuxer's empty end-of-stream packet carries no data
            packet.stream = audio_out
            writer.mux(packet)
        return
    for frame in packet.decode():
        frame.pts = None  # the encoder numbers samples itself; source gaps would otherwise confuse it
        writer.mux(audio_out.encode(frame))
