"""`overdash preview`: one frame of a video with its dashboard, or a layout with demo telemetry."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from tests.pipeline.commands.test_render_e2e import SAMPLE, frame_rgb
from tests.support.paths import needs_device_file

pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]


def run(*args):
    return subprocess.run([*OVERDASH, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_demo_preview_of_a_layout(tmp_path):
    out = tmp_path / "demo.png"
    proc = run("preview", "-o", out)
    assert proc.returncode == 0, proc.stderr
    im = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert im.shape == (1080, 1920, 3)  # the default layout's design canvas
    # the gradient background is smooth row by row; the dashboard breaks that in its corners
    row_noise = np.abs(np.diff(im, axis=1)).sum(axis=(1, 2))
    assert row_noise[:100].max() > 1000 and row_noise[400:600].max() == 0
    assert run("preview", "-o", tmp_path / "small.png", "--size", "848x480").returncode == 0
    assert Image.open(tmp_path / "small.png").size == (848, 480)


@needs_device_file("gopro/max-heromode.mp4")
def test_video_preview_is_the_source_frame_plus_dashboard(tmp_path):
    out = tmp_path / "f.png"
    proc = run("preview", SAMPLE, "--at", "00:05.2", "-o", out)
    assert proc.returncode == 0, proc.stderr
    got = np.asarray(Image.open(out).convert("RGB")).astype(np.int16)
    k = round(5.2 * 30000 / 1001)  # frame 156
    src = frame_rgb(SAMPLE, k, (848, 480))
    centre = (slice(120, 300), slice(250, 600))  # no widget there
    assert np.abs(got[centre] - src[centre]).max() <= 2
    assert np.abs(got[-100:, :200] - src[-100:, :200]).mean() > 20  # the speed panel


@pytest.mark.parametrize("args, needle", [
    (["--at", "soon"], "--at"),
    (["--at", "99:00"], "outside"),
    (["--size", "big"], "--size"),
    (["--layout", "nope"], "nope"),
    (["--font", "/no/such/font.ttf"], "font"),
])
def test_preview_errors(tmp_path, args, needle):
    proc = run("preview", "-o", tmp_path / "x.png", *args)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())


def test_watch_redraws_when_the_layout_changes(tmp_path):
    layout = tmp_path / "mine.xml"
    layout.write_text('<layout><component type="text" x="100" y="100" size="64">one</component></layout>')
    out = tmp_path / "w.png"
    proc = subprocess.Popen([*OVERDASH, "preview", "-o", str(out), "--layout", str(layout), "--watch"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        first = np.asarray(Image.open(out))
        time.sleep(0.05)
        layout.write_text('<layout><component type="text" x="100" y="400" size="64">two</component></layout>')
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                now = np.asarray(Image.open(out))
            except OSError:
                continue
            if not np.array_equal(now, first):
                break
        else:
            pytest.fail("the preview was not redrawn")
        layout.write_text("<layout><component type='nonsense'/></layout>")  # a typo while editing
        time.sleep(1.0)
        assert proc.poll() is None, "a broken layout must not end --watch"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "nonsense" in err
