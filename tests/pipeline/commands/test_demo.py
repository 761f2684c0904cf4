"""`overdash demo` end to end — real ffmpeg, real processes — and make_sample's failure rules.

The demo's sample must be a GoPro-like file that the normal paths read like a
camera's: `overdash info` finds its GPMF track through the MP4 sample tables,
and the render draws the dashboard where the layout's regions are.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from overdash import InputError, OverdashError, RenderError
from overlay.telemetry.gopro import load_parts
from pipeline.commands.cli import main
from pipeline.commands.demo import make_sample, sample_path

pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]
SIZE = (640, 360)
SECONDS = 3


def demo(out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*OVERDASH, "demo", "--out", str(out), "--seconds", str(SECONDS),
                           "--size", f"{SIZE[0]}x{SIZE[1]}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def frame_rgb(path: Path, index: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(SIZE[1], SIZE[0], 3).astype(np.int16)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two `overdash demo` runs into one folder: the first makes the sample, the second reuses it."""
    if not shutil.which("ffmpeg") or not shutil.which("ffprobe"):
        pytest.skip("no ffmpeg")
    out = tmp_path_factory.mktemp("demo") / "out"
    first = demo(out)
    assert first.returncode == 0, first.stderr
    sample = sample_path(out / "sample", SECONDS, SIZE)
    before = sample.stat()
    second = demo(out, "-q")
    assert second.returncode == 0, second.stderr
    return out, sample, before, first, second


def test_result_line_and_nothing_else_left(runs):
    out, sample, _, first, _ = runs
    result = out / "demo-dash.mp4"
    assert first.stdout.splitlines() == [
        f"overdash demo: wrote {result} ({SECONDS} s, {SIZE[0]}x{SIZE[1]}, layout default) — sample input {sample}"]
    assert "making a 3 s 640x360 GoPro-like sample" in first.stderr and "90 frames" in first.stderr
    assert sorted(p.name for p in out.rglob("*")) == sorted(
        ["demo-dash.mp4", "sample", sample.name, sample.with_suffix(".gpmd").name])


def test_second_run_reuses_the_sample(runs):
    _, sample, before, _, second = runs
    after = sample.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert second.stderr == "" and second.stdout.startswith("overdash demo: wrote ")


def test_sample_is_read_like_a_gopro_file(runs):
    """`overdash info` finds the GPS through the MP4's gpmd track; the raw track beside it agrees."""
    _, sample, _, _, _ = runs
    info = subprocess.run([*OVERDASH, "info", str(sample)], capture_output=True, text=True, timeout=60, check=False)
    assert info.returncode == 0, info.stderr
    lines = info.stdout.splitlines()
    assert "camera: overdash demo" in lines
    assert any(line.startswith("video: 640x360 h264 29.970 fps, 90 frames") and "audio aac" in line
               and "created 2024-09-11T12:00:00" in line for line in lines), lines
    gps5 = next(line.split() for line in lines if line.strip().startswith("GPS5"))
    assert gps5[1] == "54" and "gps" in gps5, gps5  # 3 payloads of 18 samples, used as the gps stream
    assert "gps: 54 of 54 samples trusted" in lines
    from_mp4, from_raw = load_parts(sample)[0]["gps"], load_parts(sample.with_suffix(".gpmd"))[0]["gps"]
    np.testing.assert_allclose(from_mp4.t, from_raw.t, atol=1e-9)
    np.testing.assert_array_equal(from_mp4["lat"], from_raw["lat"])


def test_dashboard_drawn_where_the_layout_draws(runs, tmp_path):
    """Inside each region of the layout the picture changed; outside, only re-encoding noise."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    out, sample, _, _, _ = runs
    plan = plan_render(RenderConfig(input=sample, output=tmp_path / "plan.mp4", workers=1, quiet=True))
    regions = plan.overlay.placements()
    assert len(regions) >= 2
    src, dst = frame_rgb(sample, 45), frame_rgb(out / "demo-dash.mp4", 45)
    changed = np.abs(dst - src).max(axis=2) > 48
    inside = np.zeros(changed.shape, bool)
    for r in regions:
        box = changed[r.y:r.y + r.height, r.x:r.x + r.width]
        assert box.mean() > 0.2, f"region {r}: only {box.mean():.1%} of its pixels changed"
        inside[r.y:r.y + r.height, r.x:r.x + r.width] = True
    assert changed[~inside].mean() < 0.01


def _fake_ffmpeg(folder: Path, script: str) -> Path:
    path = folder / "ffmpeg"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_ffmpeg_failure_leaves_nothing(tmp_path, capsys):
    """A disk that fills up: ffmpeg has written part of its output, then fails. One line, no files."""
    fake = _fake_ffmpeg(tmp_path, 'for a; do last="$a"; done\nhead -c 1000 /dev/zero > "${last#file:}"\n'
                                  'echo "[mp4 @ 0x1] Error writing trailer: No space left on device" >&2\nexit 1\n')
    message = "making the demo sample failed: ffmpeg: Error writing trailer: No space left on device"
    folder = tmp_path / "sample"
    with pytest.raises(RenderError, match=f"^{message}$"):
        make_sample(folder, 2, SIZE, ffmpeg=str(fake))
    assert list(folder.iterdir()) == []  # the raw track written first is gone too
    out = tmp_path / "new" / "demo"
    assert main(["demo", "--out", str(out), "--seconds", "2", "--ffmpeg", str(fake), "-q"]) == 1
    assert capsys.readouterr().err == f"overdash: error: {message}\n"
    assert not (tmp_path / "new").exists()  # the folders the run made are removed again


def test_cli_errors_are_one_line_and_make_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--seconds", "0"]) == 2
    assert main(["demo", "--out", str(out), "--size", "641x360"]) == 2
    assert main(["demo", "--out", str(out), "--layout", "no-such-layout"]) == 2
    assert main(["demo", "--out", str(out), "--ffmpeg", str(tmp_path / "missing-ffmpeg")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4 and all(line.startswith("overdash: error: ") for line in err), err
    assert "--seconds 0" in err[0] and "641x360" in err[1] and "no-such-layout" in err[2]
    assert "missing-ffmpeg: not found" in err[3]
    assert not out.exists()


def test_unwritable_folder_is_an_input_error(tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("")
        folder = blocker / "sample"  # a folder inside a file cannot be made, even by root
    else:
        tmp_path.chmod(0o500)
        folder = tmp_path / "sample"
    try:
        with pytest.raises(InputError, match="cannot make the demo folder"):
            make_sample(folder, 2, SIZE, ffmpeg=shutil.which("true") or "true")
    finally:
        tmp_path.chmod(0o700)
    assert issubclass(InputError, OverdashError)
