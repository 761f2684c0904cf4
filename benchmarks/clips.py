"""Synthetic benchmark inputs: testsrc2 video of any size/length with the real GPMF
track of max-heromode.mp4 muxed in, so every run renders real telemetry.

Clips are made once and kept in the user's cache directory.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from overlay import memo

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "gopro" / "max-heromode.mp4"
GPMD_STREAM = 3  # ffprobe: 0 video, 1 audio, 2 tmcd, 3 gpmd


def cache_dir() -> Path:
    path = memo.cache_dir() / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_clip(width: int = 1920, height: int = 1080, seconds: float = 10.5,
              fps: str = "30000/1001", *, directory: Path | None = None) -> Path:
    """An H.264 + AAC + GPMF MP4 like a GoPro's, built from lavfi sources and the sample's telemetry."""
    directory = directory or cache_dir()
    out = directory / f"clip-{width}x{height}-{seconds:g}s-{fps.replace('/', '_')}.mp4"
    if out.exists():
        return out
    tmp = out.with_name(out.name + ".tmp.mp4")
    subprocess.run([
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-i", str(SAMPLE),
        "-map", "0:v", "-map", "1:a", "-map", f"2:{GPMD_STREAM}", "-t", f"{seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", "30",
        "-c:a", "aac", "-b:a", "128k", "-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd",
        str(tmp)], check=True)
    tmp.replace(out)
    return out
