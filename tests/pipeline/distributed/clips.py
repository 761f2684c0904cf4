"""Generated clips and how the distributed tests compare two renders of them.

A clip is `overdash demo`'s GoPro-like sample (test picture, a tone, a GPMF track of the
demo ride) encoded with a keyframe every 30 frames, so that a render can be cut at 1 s
steps. Two renders are the same when they have the same frame timestamps, the same audio
packets, and the same picture up to encoding noise (frames_differ).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from pipeline.commands import demo

SIZE = (640, 360)
GOP = ("-g", "30", "-keyint_min", "30", "-sc_threshold", "0")
# A pixel counts as different beyond this (of 255, luma); a frame differs when more than
# MAX_DIFFERENT of its pixels do. Two encodes of the same picture: ~2e-5 at worst; the
# dashboard drawn 15 frames off: ~1e-2 (measured on this clip, see test_segments).
PIXEL_TOLERANCE = 40
MAX_DIFFERENT = 1e-3


def make_clip(folder: Path, seconds: float, monkeypatch) -> Path:
    monkeypatch.setattr(demo, "X264", (*demo.X264, *GOP))
    return demo.make_sample(folder, seconds, SIZE)


def frame_times(path: Path) -> list[str]:
    """Every video frame's presentation time, as ffprobe prints it."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split(",")[0] for line in out.split() if line.strip(",")]


def audio_packets(path: Path) -> list[str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                          "packet=pts_time,duration_time", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def gray_frames(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, SIZE[1], SIZE[0])


def worst_frame(a: Path, b: Path) -> float:
    """The largest share of a frame's pixels that differ beyond PIXEL_TOLERANCE between a and b."""
    x, y = gray_frames(a).astype(np.int16), gray_frames(b).astype(np.int16)
    assert x.shape == y.shape, f"{a}: {x.shape} frames, {b}: {y.shape}"
    return float((np.abs(x - y) > PIXEL_TOLERANCE).mean(axis=(1, 2)).max())


def overdash(*args, env=None, timeout=240) -> subprocess.CompletedProcess:
    """The overdash command line, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "pipeline.commands.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)
