"""Rendering a chaptered recording (GX010123.MP4, GX020123.MP4, …) into one output."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from encoders.chapters import concat_list, probe_chapters
from pipeline.commands.config import RenderConfig
from pipeline.commands.render import plan_render
from tests.support.paths import device_file

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # the recording: encoded and cut once, rendered
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]
W, H = 320, 180


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """10.5 s of testsrc2 + AAC + max-heromode's GPMF track, and the same cut into
    chapters GX01/02/030123.MP4 at keyframes without re-encoding, as a GoPro splits files."""
    if not shutil.which("ffmpeg"):
        pytest.skip("no ffmpeg")
    sample = device_file("gopro/max-heromode.mp4")
    d = tmp_path_factory.mktemp("rec")
    whole = d / "whole.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=30000/1001",
                    "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=48000", "-i", str(sample),
                    "-map", "0:v", "-map", "1:a", "-map", "2:3", "-t", "10.5", "-c:v", "libx264", "-g", "30",
                    "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:d", "copy", "-copy_unknown",
                    "-tag:d", "gpmd", str(whole)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(whole), "-map", "0", "-c", "copy", "-copy_unknown",
                    "-f", "segment", "-segment_time", "4", "-reset_timestamps", "1", "-segment_start_number", "1",
                    str(d / "GX%02d0123.MP4")], check=True)
    return d, whole


def frames_of(path: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
                          "-show_entries", "stream=nb_read_frames", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return int(json.loads(out)["streams"][0]["nb_read_frames"])


def frame_rgb(path: Path, index: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(H, W, 3).astype(np.int16)


def test_chapters_render_as_one_video(recording, tmp_path):
    d, whole = recording
    parts = sorted(d.glob("GX0*.MP4"))
    assert len(parts) == 3
    out = tmp_path / "dash.mp4"
    proc = subprocess.run([*OVERDASH, "render", str(parts[0]), str(out), "--workers", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "+ 2 more chapter(s)" in proc.stderr
    total = sum(frames_of(p) for p in parts)
    assert frames_of(out) == total == frames_of(whole)
    # No frame lost or repeated at the joins: frames far from the dashboard equal the uncut source's
    # (testsrc2 draws a moving pattern and a frame counter, so a shifted frame differs a lot).
    for k in (0, frames_of(parts[0]) - 1, frames_of(parts[0]), total - 1):
        src, got = frame_rgb(whole, k), frame_rgb(out, k)
        centre = (slice(H // 3, 2 * H // 3), slice(W // 3, 2 * W // 3))
        assert np.abs(got[centre] - src[centre]).mean() < 6, f"frame {k} differs from the source"
    streams = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(out)],
                                        check=True, capture_output=True, text=True).stdout)["streams"]
    assert [s["codec_type"] for s in streams] == ["video", "audio"]
    assert not list(Path(tmp_path).glob(".*partial*"))


def test_chapter_telemetry_lines_up_with_the_uncut_recording(recording, tmp_path):
    """Per-frame values of the joined chapters equal those of the same recording uncut."""
    d, whole = recording
    joined = plan_render(RenderConfig(input=d / "GX010123.MP4", output=tmp_path / "a.mp4", workers=1))
    uncut = plan_render(RenderConfig(input=whole, output=tmp_path / "b.mp4", workers=1))
    assert joined.job.count == uncut.job.count
    a, b = joined.painter.table.columns["speed"], uncut.painter.table.columns["speed"]
    ok = np.isfinite(a) & np.isfinite(b)
    assert ok.mean() > 0.95
    assert np.abs(a[ok] - b[ok]).max() < 0.05  # m/s; the chapters' timing agrees with the whole file's


def test_no_chapters_renders_one_file(recording, tmp_path):
    d, _ = recording
    first = d / "GX010123.MP4"
    out = tmp_path / "one.mp4"
    proc = subprocess.run([*OVERDASH, "render", str(first), str(out), "--no-chapters", "-q"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert frames_of(out) == frames_of(first)


def test_concat_list_uses_video_durations(recording):
    """The concat demuxer would start each file at its container (audio) duration; the list
    pins each at frames / fps so frame k of the whole is at k / fps."""
    d, _ = recording
    parts = sorted(d.glob("GX0*.MP4"))
    video = probe_chapters(parts)
    text = concat_list(video)
    durations = [float(line.split()[1]) for line in text.splitlines() if line.startswith("duration")]
    starts = [float(json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "stream=start_time", "-of", "json",
         str(p)], check=True, capture_output=True, text=True).stdout)["streams"][0]["start_time"]) for p in parts]
    # file i's span in the joined timeline: its video's own start offset + frames/fps, minus
    # the next file's offset, so the first frame of file i+1 lands one period after the last of i
    want = [starts[i] + frames_of(p) * 1001 / 30000 - (starts[i + 1] if i + 1 < len(parts) else 0.0)
            for i, p in enumerate(parts)]
    assert durations == pytest.approx(want, abs=1e-6)
    assert video.frame_count == sum(frames_of(p) for p in parts)


def test_mismatched_chapters_are_refused(recording, tmp_path):
    d, _ = recording
    other = tmp_path / "other.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-t", "1",
                    "-pix_fmt", "yuv420p", str(other)], check=True)
    proc = subprocess.run([*OVERDASH, "render", str(d / "GX010123.MP4"), str(other), str(tmp_path / "o.mp4")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "chapters must come from one recording" in proc.stderr and "Traceback" not in proc.stderr


def test_raw_gpmf_as_render_input_says_what_to_do(tmp_path):
    proc = subprocess.run([*OVERDASH, "render", str(device_file("gopro/hero9-rotation.gpmd")), str(tmp_path / "o.mp4")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--gpmf" in proc.stderr
