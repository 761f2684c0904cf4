"""One video as frame ranges [first, end) rendered apart and joined without re-encoding.

    keyframes (ffprobe, packets only) ─ split into N ranges at keyframes ─▶ Part(first, end)
    Part.video(video)    the range as ffmpeg sees it after `-ss`: frame_count end - first, starting at 0
    Part.argv(argv)      the normal render argv, seeking to the range and stopping after it, no audio
    Part.painter(f, …)   the dashboard drawn for the range's own frame times (frame j → first + j)

Why this gives the one-machine result: a range starts at a keyframe, so the seek lands on
it without decoding anything before it, and each segment starts with a keyframe of its own
(which the concat demuxer's stream copy needs). The dashboard is planned for the whole
video (running values such as distance or max speed are the whole ride's), and a part only
draws its frames of it. Audio is left to the join, which takes it from the source once.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from encoders.probe import VideoInfo
from encoders.tools import path_arg, run_tool
from overdash import InputError


@dataclass(frozen=True)
class Part:
    """Video frames [first, end) of the whole (chapters joined): one segment."""

    first: int
    end: int

    def __post_init__(self):
        if not 0 <= self.first < self.end:
            raise ValueError(f"frame range [{self.first}, {self.end}) is empty or negative")

    @property
    def frames(self) -> int:
        return self.end - self.first

    def seek_seconds(self, video: VideoInfo) -> float:
        """ffmpeg's -ss for the range: its first frame's time on ffmpeg's timeline, rounded down
        to the microsecond ffmpeg parses, so that frame is kept and the one before dropped."""
        exact = Fraction(video.timeline_offset) + Fraction(self.first) / video.fps
        return math.floor(exact * 1_000_000) / 1_000_000

    def video(self, video: VideoInfo) -> VideoInfo:
        """The range as the segment's ffmpeg reads it: after the seek its first frame is at 0."""
        return replace(video, frame_count=self.frames, duration=float(Fraction(self.frames) / video.fps),
                       start_time=0.0, format_start_time=0.0)

    def argv(self, argv: Sequence[str], video: VideoInfo) -> list[str]:
        """The render argv (encoders.command.build_command) for this range alone: -ss before the
        source input, exactly `frames` frames out, no audio (the join adds the source's once) and
        no +faststart (the join writes the final file)."""
        out = list(argv)
        at = out.index("-i")  # the source comes first; the overlay on stdin follows it
        out[at:at] = ["-ss", f"{self.seek_seconds(video):.6f}"]
        out = _without_pair(out, "-map", "0:a?")
        out = _without_pair(out, "-movflags", "+faststart")
        last = len(out) - 1 - out[::-1].index("-f")  # the output's muxer, just before its path
        out[last:last] = ["-an", "-dn", "-frames:v", str(self.frames)]
        return out

    def overlay_first(self, video_fps: Fraction, overlay_fps: Fraction) -> int:
        """The overlay frame shown at this range's first video frame, which starts there too
        (split() only cuts where the two frame clocks meet)."""
        at = Fraction(self.first) * overlay_fps / video_fps
        if at.denominator != 1:
            raise ValueError(f"frame {self.first} is not on the overlay's frame clock ({overlay_fps} fps)")
        return int(at)


def _without_pair(argv: list[str], option: str, value: str) -> list[str]:
    for i in range(len(argv) - 1):
        if argv[i] == option and argv[i + 1] == value:
            return argv[:i] + argv[i + 2:]
    return argv


def split(count: int, keyframes: Sequence[int], segments: int, video_fps: Fraction,
          overlay_fps: Fraction | None = None) -> list[Part]:
    """Up to `segments` ranges covering frames [0, count), cut at the keyframes nearest to even
    shares. A cut must also fall on the overlay's frame clock (with --overlay-fps): there the
    overlay frame and the video frame start together. Fewer ranges when there are fewer
    such keyframes."""
    if count < 1 or segments < 1:
        raise ValueError(f"cannot split {count} frames into {segments} segments")
    ratio = (overlay_fps or video_fps) / video_fps
    cuts = sorted({k for k in keyframes if 0 < k < count and (k * ratio).denominator == 1})
    chosen: list[int] = []
    for i in range(1, segments):
        target = count * i / segments
        later = [k for k in cuts if not chosen or k > chosen[-1]]
        if not later:
            break
        best = min(later, key=lambda k: abs(k - target))
        chosen.append(best)
    bounds = [0, *chosen, count]
    return [Part(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def keyframes(video: VideoInfo, *, ffprobe: str = "ffprobe") -> list[int]:
    """Frame numbers (of the whole video, chapters joined) where a keyframe starts, from the
    packets' flags: ffprobe reads the container's index, no frame is decoded."""
    parts = video.parts or (video.path,)
    counts = video.part_frames or (video.frame_count,)
    found: list[int] = []
    base = 0
    for path, frames in zip(parts, counts):
        argv = [ffprobe, "-v", "error", "-select_streams", f"{video.video_stream}", "-of", "json",
                "-show_entries", "stream=start_time:packet=pts_time,flags", path_arg(path)]
        try:
            facts = json.loads(run_tool(argv, timeout=600.0).stdout or "{}")
        except ValueError:
            raise InputError(f"{path}: ffprobe could not list its keyframes") from None
        start = float((facts.get("streams") or [{}])[0].get("start_time") or 0.0)
        for packet in facts.get("packets", []):
            if "K" in packet.get("flags", "") and packet.get("pts_time") not in (None, "N/A"):
                k = round((float(packet["pts_time"]) - start) * video.fps)
                if 0 <= k < frames:
                    found.append(base + k)
        base += frames
    return sorted(set(found))


class ShiftedPainter:
    """A painter factory (pipeline.canvas.PainterFactory) whose frame j is the wrapped one's
    frame `offset` + j: a segment's pipeline counts its frames from 0, the dashboard draws
    them at their times in the whole video. Picklable when the wrapped factory is."""

    def __init__(self, factory, offset: int):
        self.factory, self.offset = factory, offset

    def __call__(self):
        return _Shifted(self.factory(), self.offset)


class _Shifted:
    """The painter itself: every frame number it is given or gives back is moved by `offset`.
    The optional methods (pipeline.canvas.Painter) exist exactly where the wrapped painter has them."""

    def __init__(self, inner, offset: int):
        self._inner, self._off = inner, offset

    def _at(self, frame):
        return None if frame is None else frame + self._off

    def __call__(self, frame, views, previous=None):
        return self._inner(frame + self._off, views, self._at(previous))

    def __getattr__(self, name):
        fn = getattr(self._inner, name)  # AttributeError where the wrapped painter lacks it
        if name == "keys":
            return lambda frame: fn(frame + self._off)
        if name == "draw":
            return lambda frame, views, which: fn(frame + self._off, views, which)
        if name == "damage":
            return lambda index, old, old_keys, frame, keys: fn(index, self._at(old), old_keys,
                                                                frame + self._off, keys)
        if name == "draw_box":
            return lambda frame, view, index, box: fn(frame + self._off, view, index, box)
        return fn


def segment_paths(folder: Path, count: int, suffix: str) -> list[Path]:
    """The segment files in the run's hidden folder, in order, in the output's container."""
    return [folder / f"part-{i:04d}{suffix}" for i in range(count)]
