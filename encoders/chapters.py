"""Chapter files (GX010123.MP4, GX020123.MP4, …) read by ffmpeg as one continuous video.

The concat demuxer plays the files back to back, so nothing joined is written to
disk. It starts each file where the previous one's *container* duration ends,
which on GoPro files is the audio's, a few ms longer than the video's; over
many chapters that drift would move the video against the telemetry. Giving
each file's video duration (frames / fps, corrected for a video stream that
starts late in its file) in the list keeps frame k of the whole recording
exactly k frame periods after frame 0.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

from encoders.probe import VideoInfo, probe_video
from overdash import InputError

# What must agree between chapters for one filter graph and one encode to cover them all.
_MUST_MATCH = ("width", "height", "fps_num", "fps_den", "video_codec", "pix_fmt", "rotation", "has_audio")


def probe_chapters(paths: Sequence[str | Path], *, ffprobe: str = "ffprobe",
                   probe: Callable[..., VideoInfo] = probe_video) -> VideoInfo:
    """The chapters as one VideoInfo: the first file's facts, every file's frames.

    `probe(path, ffprobe=...)` stands in for probe_video (one started earlier, for instance)."""
    infos = [probe(p, ffprobe=ffprobe) for p in paths]
    first = infos[0]
    if len(infos) == 1:
        return first
    for info in infos[1:]:
        for key in _MUST_MATCH:
            if getattr(info, key) != getattr(first, key):
                raise InputError(f"{info.path}: {key} is {getattr(info, key)!r} but {getattr(first, key)!r} in "
                                 f"{first.path}; chapters must come from one recording (--no-chapters reads one file)")
    frames = sum(i.frame_count for i in infos)
    return replace(first, frame_count=frames, duration=float(Fraction(frames) / first.fps),
                   parts=tuple(Path(i.path).resolve() for i in infos),
                   part_frames=tuple(i.frame_count for i in infos),
                   part_offsets=tuple(i.timeline_offset for i in infos))


def concat_list(video: VideoInfo) -> str:
    """The concat demuxer's list for `video.parts`, each file with its exact video duration."""
    if not video.parts:
        raise ValueError("not a chaptered video")
    lines = ["ffconcat version 1.0"]
    offsets = list(video.part_offsets or [0.0] * len(video.parts)) + [0.0]
    for i, (path, frames) in enumerate(zip(video.parts, video.part_frames)):
        # The next file's first frame must follow this file's last by one frame period,
        # whatever either file's video start offset inside its own container.
        duration = offsets[i] + float(Fraction(frames) / video.fps) - offsets[i + 1]
        quoted = str(path).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        lines.append(f"duration {duration:.6f}")
    return "\n".join(lines) + "\n"
