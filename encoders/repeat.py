"""Intra-only overlay outputs (ProRes): a picture that repeats the one before is the same packet again.

    writer ──NUT: a 1x1 clock + the changed regions, pts = distinct picture──▶ ffmpeg (encode)
                                                                                  │ ProRes frames, raw
    writer's relay (pipeline.relay) ◀─────────────────────────────────────────────┘
        └──NUT: each frame once per overlay frame it stands for, pts = frame──▶ ffmpeg (-c copy) ──▶ .mov

ProRes costs about 31 ms of CPU per 1080p picture however empty it is (MEASURED: prores_aw,
2 cores, 1.9× real time for a transparent picture), while a dashboard drawn from a ride file
changes on about 6 % of 30 fps frames (1 Hz data) and a GoPro's on about half. Every ProRes
frame is coded on its own and the encoder is deterministic, so sending a distinct picture's
frame again for each repeat gives the same file as encoding every frame, for the cost of copying
bytes. The second ffmpeg only muxes: the mov, its colour atoms and faststart stay ffmpeg's.
"""
from __future__ import annotations

import os
import struct
from fractions import Fraction

from encoders.alpha import build_overlay_only_command, pastes
from encoders.command import LOGGING, MUXERS, NUT_INPUT, Region, _check_output, creation_args, timecode_args
from encoders.features import MODERN, FfmpegFeatures
from encoders.nut import header
from encoders.probe import VideoInfo
from encoders.profiles import Profile
from encoders.tools import path_arg
from overdash import RenderError

# Encoders whose every frame is a key frame, decoded without any other.
REPEATABLE = frozenset({"prores_aw", "prores_ks"})
# A ProRes frame starts with its size (4 bytes, big-endian, counting these) and "icpf".
_FRAME_HEAD = 8
_MAGIC = b"icpf"
# Sanity bound on one frame's size: 8K 4444 XQ stays well under this.
_MAX_FRAME = 1 << 30
# The clock: one transparent pixel in the encoder's own format, the values lavfi's black@0 and
# xstack's fill give (Y 64, Cb Cr 514, A 0), so nothing converts it and the picture is the same
# bit for bit as with a lavfi clock. NUT's tag for raw yuva444p10le.
PIX_FMT = "yuva444p10le"
CLOCK_FOURCC = b"Y4\x00\x0a"
CLOCK_PIXEL = struct.pack("<4H", 64, 514, 514, 0)


def repeats(profile: Profile, size: tuple[int, int], regions: tuple[Region, ...],
            background: tuple[int, int, int, int] | None, features: FfmpegFeatures = MODERN) -> bool:
    """Whether an overlay-only output repeats packets instead of encoding each frame: an
    intra-only encoder into .mov, and regions ffmpeg pastes (encoders.alpha.pastes) — their
    clock can then come from the pipe, one tick per distinct picture."""
    return (profile.overlay_only and profile.encoder in REPEATABLE and profile.pix_fmt == PIX_FMT
            and "mov" in profile.extensions
            and pastes(profile.pix_fmt, size, regions, background, features))


def encode_command(profile: Profile, size: tuple[int, int], fps: Fraction, regions: tuple[Region, ...], *,
                   ffmpeg: str = "ffmpeg", features: FfmpegFeatures = MODERN) -> list[str]:
    """The first ffmpeg: distinct pictures on stdin (stream 0 the clock, stream i+1 region i),
    their coded frames on stdout, one after another."""
    return build_overlay_only_command(profile, size, fps, "pipe:1", regions=regions, repeat=True,
                                      ffmpeg=ffmpeg, features=features)


def mux_command(profile: Profile, output_path, *, ffmpeg: str = "ffmpeg", final_path=None,
                source: VideoInfo | None = None, fps: Fraction | None = None) -> list[str]:
    """The second ffmpeg: the relay's NUT (one frame per overlay frame) copied into the output,
    with the profile's bitstream filters (prores_metadata writes the colour atoms there) and the
    creation time and start timecode of `source`, the video the dashboard belongs to (its frames
    at `fps`)."""
    container = _check_output(profile, final_path if final_path is not None else output_path)
    opts = profile.output_options
    bsf = [arg for i in range(0, len(opts) - 1) if opts[i].startswith("-bsf")
           for arg in (opts[i], opts[i + 1])]
    timecode_input, timecode_map = _timecode_track(source, fps, container)
    return [ffmpeg, *LOGGING, "-y", *NUT_INPUT, *timecode_input, "-map", "0:v", "-c:v", "copy", *bsf,
            *timecode_map, *creation_args(source),
            *(["-movflags", "+faststart"] if container in ("mov", "mp4") else []),
            "-f", MUXERS[container], path_arg(output_path)]


def _timecode_track(source: VideoInfo | None, fps: Fraction | None, container: str) -> tuple[list[str], list[str]]:
    """(input, map) argv that copy the source's own timecode (tmcd) track into the output.

    The mov muxer writes a `-timecode` only for a stream whose frame rate it knows, and ffmpeg
    knows none for a stream copied from this NUT; the source's track, copied, holds the same start
    (checked with ffmpeg 5.1, 7.0 and 9.0; repeated frames need 5.0 or later, encoders.alpha.pastes).
    Only where encoders.command.timecode_args would give one ffmpeg a `-timecode` (frame k is the
    source's frame k, at its rate), into .mov, from a single file (a chapter's track covers that
    chapter alone)."""
    if (fps is None or not timecode_args(source, fps, container) or source is None
            or source.timecode_stream is None or source.parts or container != "mov"):
        return [], []
    return (["-i", path_arg(source.path)],
            ["-map", f"1:{source.timecode_stream}", "-c:d", "copy", "-map_chapters", "-1"])


def mux_header(profile: Profile, size: tuple[int, int], fps: Fraction) -> bytes:
    """The NUT header of the relay's stream: one ProRes stream of the picture's size."""
    return header([size], fps.numerator, fps.denominator, fourccs=[fourcc(profile)])


def stream_header(regions: tuple[Region, ...], fps: Fraction) -> bytes:
    """The NUT header of the first ffmpeg's stdin: the clock, then one RGBA stream per region."""
    sizes = [(1, 1), *((r.width, r.height) for r in regions)]
    return header(sizes, fps.numerator, fps.denominator, "rgba", fourccs=[CLOCK_FOURCC])


def fourcc(profile: Profile) -> bytes:
    """The mov sample entry the frames get: 4444 XQ (profile 5) or 4444, what an alpha pixel format gets."""
    opts = profile.output_options
    chosen = {opts[i + 1] for i in range(len(opts) - 1) if opts[i] in ("-profile:v", "-profile")}
    return b"ap4x" if chosen & {"5", "4444xq"} else b"ap4h"


def read_frame(fd: int) -> bytes | None:
    """The next coded frame from the first ffmpeg's stdout; None at its end, EOFError if it ended
    inside a frame (it died while writing one)."""
    head = _read_exactly(fd, _FRAME_HEAD)
    if not head:
        return None
    if len(head) < _FRAME_HEAD:
        raise EOFError("ffmpeg's ProRes output ended inside a frame")
    size = int.from_bytes(head[:4], "big")
    if head[4:] != _MAGIC or not _FRAME_HEAD <= size <= _MAX_FRAME:
        raise RenderError(f"ffmpeg's ProRes output is not a frame stream (got {head[:8].hex()})")
    body = _read_exactly(fd, size - _FRAME_HEAD)
    if len(body) < size - _FRAME_HEAD:
        raise EOFError("ffmpeg's ProRes output ended inside a frame")
    return head + body


def _read_exactly(fd: int, n: int) -> bytes:
    """n bytes, fewer only at the end of the stream."""
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)
