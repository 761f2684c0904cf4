"""Synthetic benchmark inputs: testsrc2 video of any size/length with the real GPMF
track of max-heromode.mp4 muxed in, so every run renders real telemetry.

Without ../shared/data (a bare clone) the track comes from the demo sample
(`overdash demo`'s GPMF writer) instead: the same kind of file, made here, so the
benchmarks run anywhere; their numbers are comparable only with the same source.
Clips are made once and kept in the user's cache directory.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from overdash.files import cache_dir as user_cache_dir

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "gopro" / "max-heromode.mp4"
GPMD_STREAM = 3  # ffprobe: 0 video, 1 audio, 2 tmcd, 3 gpmd


def telemetry_source() -> tuple[Path, str]:
    """(MP4 with a GPMF track, ffmpeg's map of that track): the camera's sample, else the demo's."""
    if SAMPLE.exists():
        return SAMPLE, str(GPMD_STREAM)
    from pipeline.commands.demo import make_sample

    return make_sample(cache_dir(), 60, (640, 360)), "d:0"


def cache_dir() -> Path:
    path = user_cache_dir() / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_clip(width: int = 1920, height: int = 1080, seconds: float = 10.5,
              fps: str = "30000/1001", *, directory: Path | None = None) -> Path:
    """An H.264 + AAC + GPMF MP4 like a GoPro's, built from lavfi sources and the sample's telemetry."""
    directory = directory or cache_dir()
    source, track = telemetry_source()
    tag = "" if source == SAMPLE else "-demo"
    out = directory / f"clip-{width}x{height}-{seconds:g}s-{fps.replace('/', '_')}{tag}.mp4"
    if out.exists():
        return out
    tmp = out.with_name(out.name + ".tmp.mp4")
    subprocess.run([
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-i", str(source),
        "-map", "0:v", "-map", "1:a", "-map", f"2:{track}", "-t", f"{seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", "30",
        "-c:a", "aac", "-b:a", "128k", "-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd",
        str(tmp)], check=True)
    tmp.replace(out)
    return out
