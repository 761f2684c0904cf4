"""The `overdash` command as a user meets it: exit codes, one-line errors, nothing left behind."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support.paths import SHARED_DATA, needs_device_file

DATA = SHARED_DATA
SAMPLE = DATA / "gopro" / "max-heromode.mp4"
pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]


def run(*args, timeout=120):
    return subprocess.run([*OVERDASH, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def assert_user_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got: {proc.stderr}"
    assert lines[0].startswith("overdash: error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_help_and_version():
    proc = run("--help")
    assert proc.returncode == 0 and "render" in proc.stdout
    proc = run("render", "--help")
    assert proc.returncode == 0 and "--workers" in proc.stdout and "--overlay-fps" in proc.stdout
    proc = run("--version")
    assert proc.returncode == 0 and "drawing with" in proc.stdout
    assert "pillow" in proc.stdout.lower() and "yuva420p converter native" in proc.stdout


def test_not_a_video(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("these are my ride notes, not a video\n")
    out = tmp_path / "out.mp4"
    proc = run("render", bogus, out)
    assert_user_error(proc, str(bogus), "not a video")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]


def test_video_without_gpmf(tmp_path):
    plain = tmp_path / "plain.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
                    "-pix_fmt", "yuv420p", str(plain)], check=True)
    out = tmp_path / "out.mp4"
    proc = run("render", plain, out)
    assert_user_error(proc, str(plain), "no GoPro telemetry")
    assert not out.exists()


@pytest.mark.parametrize("args, needle", [
    (["render", "/nonexistent/ride.mp4", "{tmp}/o.mp4"], "no such file"),
    *[pytest.param(args, needle, marks=needs_device_file("gopro/max-heromode.mp4")) for args, needle in [
        (["render", str(SAMPLE), "{tmp}/missing-dir/o.mp4"], "does not exist"),
        (["render", str(SAMPLE), "{tmp}/o.avi"], "output must end in"),
        (["render", str(SAMPLE), "{tmp}/o.mp4", "--overlay-fps", "fast"], "--overlay-fps"),
        (["render", str(SAMPLE), "{tmp}/o.mp4", "--workers", "0"], "--workers"),
        (["render", str(SAMPLE), "{tmp}/o.mp4", "--layout", "no-such-layout"], "no-such-layout"),
    ]],
])
def test_bad_arguments(tmp_path, args, needle):
    proc = run(*[a.format(tmp=tmp_path) for a in args])
    assert_user_error(proc, needle)
    assert not list(tmp_path.iterdir())


@needs_device_file("gopro/max-heromode.mp4")
def test_killed_worker_fails_cleanly(tmp_path):
    """SIGKILL one worker of a running render: one-line error, exit 1, nothing left behind."""
    out = tmp_path / "dash.mp4"
    proc = subprocess.Popen([*OVERDASH, "render", str(SAMPLE), str(out), "--workers", "2",
                             "--overlay-fps", "30000/1001"],
                            stderr=subprocess.PIPE, text=True)
    me = psutil.Process(proc.pid)
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        try:
            # children name themselves (ps, top): overdash-writer, overdash-w0, overdash-w1
            victim = next((c for c in me.children() if c.name() == "overdash-w1"), None)
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
    assert victim is not None, "no worker process found"
    time.sleep(0.5)  # let it start drawing
    descendants = me.children(recursive=True)
    victim.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("overdash: error: worker") and "killed by SIGKILL" in last
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())
    time.sleep(0.2)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
             and "resource_tracker" not in " ".join(p.cmdline())]
    assert not alive, f"left behind: {alive}"
    assert not [p for p in os.listdir("/dev/shm") if p.startswith(f"overdash-{proc.pid}-")], "leaked ring"


@needs_device_file("gopro/max-heromode.mp4")
def test_ctrl_c_during_render(tmp_path):
    """Ctrl-C reaches the whole foreground process group: exit 130, one line, nothing left."""
    out = tmp_path / "dash.mp4"
    proc = subprocess.Popen([*OVERDASH, "render", str(SAMPLE), str(out), "--workers", "2"],
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    me = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until ffmpeg runs: the render is under way
        try:
            if any("ffmpeg" in p.name() for p in me.children(recursive=True)):
                break
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
    descendants = me.children(recursive=True)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "overdash: interrupted — nothing was written"
    assert "Traceback" not in err
    assert not list(tmp_path.iterdir())
    assert not [p for p in os.listdir("/dev/shm") if p.startswith(f"overdash-{proc.pid}-")], "leaked ring"
    time.sleep(0.2)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
             and "resource_tracker" not in " ".join(p.cmdline())]
    assert not alive, f"left behind: {alive}"


@needs_device_file("gopro/max-heromode.mp4")
@pytest.mark.slow
def test_profile_widgets_lists_each_widget(tmp_path):
    proc = run("render", SAMPLE, tmp_path / "o.mp4", "--profile-widgets", "-q", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("overdash: time per widget")
    assert any("metric (" in ln and "default.xml:" in ln for ln in lines)  # named by type and layout line
    assert any("circuit_map" in ln for ln in lines)


SPY = """
import os, subprocess, sys
import encoders.mp4index as index
started = {}
popen = subprocess.Popen.__init__
def spy(self, args, *a, **k):
    started.setdefault(os.path.basename(str(args[0])), "numpy" in sys.modules)
    return popen(self, args, *a, **k)
subprocess.Popen.__init__ = spy
read = index.read_index_facts
def read_spy(path):
    facts = read(path)
    started.setdefault("index", (facts is not None, "numpy" in sys.modules))
    return facts
index.read_index_facts = read_spy
from pipeline.commands.cli import main
code = main(sys.argv[1:])
settled, numpy_then = started.get("index", (None, None))
print(settled, numpy_then, started.get("ffprobe"), os.environ.get("OPENBLAS_NUM_THREADS"), code)
"""


@pytest.mark.parametrize("openblas", [None, "3"])
@pytest.mark.parametrize("codec", ["libx264", "mpeg4"])
def test_render_probes_before_the_heavy_imports(tmp_path, openblas, codec):
    """`render` learns the video's facts before numpy and the widgets load (~0.1 s): from the MP4
    index where it settles them (H.264: no ffprobe at all), else from ffprobe started then, which
    the imports overlap. It keeps numpy's OpenBLAS to one thread unless the user set it. The
    output's folder is missing, so the run ends at the path check: a clean user error."""
    video = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi", "-i",
                    "testsrc2=size=160x90:rate=30", "-t", "1", "-c:v", codec, str(video)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if openblas:
        env["OPENBLAS_NUM_THREADS"] = openblas
    proc = subprocess.run([sys.executable, "-c", SPY, "render", str(video), str(tmp_path / "no" / "out.mp4")],
                          capture_output=True, text=True, timeout=60, env=env)
    settled, numpy_then, ffprobe_numpy, threads, code = proc.stdout.split()
    assert numpy_then == "False", proc.stderr  # the index was read before numpy was imported
    if codec == "libx264":
        assert (settled, ffprobe_numpy) == ("True", "None")  # settled: ffprobe never ran
    else:
        assert (settled, ffprobe_numpy) == ("False", "False")  # ffprobe ran, numpy not yet imported
    assert threads == (openblas or "1")
    assert code == "2" and "out.mp4" in proc.stderr and "Traceback" not in proc.stderr


@needs_device_file("gopro/max-heromode.mp4")
def test_prefetched_probe_answers_for_its_file_only():
    from encoders.probe import probe_video
    from pipeline.commands.sources import start_prefetch

    other = DATA / "gopro" / "hero5.mp4"
    prefetch = start_prefetch(SAMPLE, "ffmpeg")
    assert prefetch.probe(SAMPLE, ffprobe="ffprobe") == probe_video(SAMPLE)
    if other.exists():
        assert prefetch.probe(other, ffprobe="ffprobe") == probe_video(other)
    assert start_prefetch(DATA / "gpx" / "ride-2021-09-24.gpx.gz", "ffmpeg") is None  # a ride: no video to probe
    assert start_prefetch(DATA / "missing.mp4", "ffmpeg") is None


SPY_FFMPEG = """
import os, subprocess, sys
import pipeline.commands.render
events = []
popen = subprocess.Popen.__init__
def spy(self, args, *a, **k):
    popen(self, args, *a, **k)
    args = list(map(str, args))
    if "pipe:0" in args:  # the render's ffmpeg (capability checks read no overlay)
        events.append(("ffmpeg", self.pid, "-filter_complex" not in args))
subprocess.Popen.__init__ = spy
build = pipeline.commands.render.build_dashboard
def measured(*a, **k):
    events.append(("layout",))
    return build(*a, **k)
pipeline.commands.render.build_dashboard = measured
from pipeline.commands.cli import main
code = main(sys.argv[1:])
print(repr((events, code)))
"""


def _spy_render(tmp_path, *args, ffmpeg="ffmpeg", source=SAMPLE):
    """Run render with a spy: (events in order, exit code, stderr); TMPDIR is tmp_path/tmp."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(tmp), XDG_CACHE_HOME=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", SPY_FFMPEG, "render", str(source), *map(str, args),
                           "--ffmpeg", ffmpeg, "-q"], capture_output=True, text=True, timeout=120, env=env)
    events, code = eval(proc.stdout.strip().splitlines()[-1])
    return events, code, proc.stderr


def _fake_ffmpeg(tmp_path, check: str) -> Path:
    """bin/ffmpeg running shell `check` on each argument "$a" before the real ffmpeg; bin/ffprobe beside it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ffmpeg"
    fake.write_text(f'#!/bin/sh\nfor a; do {check}; done\nexec {shutil.which("ffmpeg")} "$@"\n')
    fake.chmod(0o755)
    (bin_dir / "ffprobe").symlink_to(shutil.which("ffprobe"))  # render runs the ffprobe beside its ffmpeg
    return fake


@needs_device_file("gopro/max-heromode.mp4")
@pytest.mark.slow
def test_render_starts_ffmpeg_before_measuring_the_layout(tmp_path):
    """ffmpeg loads while the layout is measured, its graph following through a pipe."""
    out = tmp_path / "out" / "dash.mp4"
    out.parent.mkdir()
    events, code, err = _spy_render(tmp_path, out)
    assert code == 0, err
    assert [e[0] for e in events] == ["ffmpeg", "layout"]
    assert events[0][2], "the graph goes through a pipe (-filter_complex_script or -/filter_complex)"
    assert out.exists() and not list((tmp_path / "tmp").iterdir())


@needs_device_file("gopro/max-heromode.mp4")
def test_a_layout_error_after_ffmpeg_started_leaves_nothing(tmp_path):
    """The layout turns out to draw nothing once ffmpeg already waits for its graph: one-line user
    error, ffmpeg killed and reaped, no output, no log, no partial file."""
    layout = tmp_path / "far.xml"
    layout.write_text('<layout width="1920" height="1080">'
                      '<component type="text" x="4000" y="4000" size="32">far away</component></layout>')
    out = tmp_path / "out" / "dash.mp4"
    out.parent.mkdir()
    events, code, err = _spy_render(tmp_path, out, "--layout", layout)
    assert code == 2 and "draws nothing" in err and len(err.strip().splitlines()) == 1, err
    assert [e[0] for e in events] == ["ffmpeg", "layout"]
    assert not psutil.pid_exists(events[0][1]), "ffmpeg left running"
    assert not list(out.parent.iterdir()) and not list((tmp_path / "tmp").iterdir())


def test_a_telemetry_error_after_ffmpeg_started_leaves_nothing(tmp_path):
    """ffmpeg starts once the video is probed, before the track is read: a video without GoPro
    telemetry is still one line, exit 2, ffmpeg killed and reaped, nothing written."""
    video = tmp_path / "plain.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-t", "1",
                    "-c:v", "libx264", "-preset", "ultrafast", str(video)], check=True)
    out = tmp_path / "out" / "dash.mp4"
    out.parent.mkdir()
    events, code, err = _spy_render(tmp_path, out, source=video)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no GoPro telemetry" in err, err
    assert [e[0] for e in events] == ["ffmpeg"] and events[0][2], "ffmpeg started early, graph to follow"
    assert not psutil.pid_exists(events[0][1]), "ffmpeg left running"
    assert not list(out.parent.iterdir()) and not list((tmp_path / "tmp").iterdir())


@needs_device_file("gopro/max-heromode.mp4")
@pytest.mark.slow
def test_an_ffmpeg_that_cannot_read_a_graph_script_starts_after_the_layout(tmp_path):
    """Neither -/filter_complex nor -filter_complex_script: the graph stays in argv, ffmpeg starts late."""
    fake = _fake_ffmpeg(tmp_path, """case "$a" in -/filter_complex|-filter_complex_script)
    echo "Unrecognized option '$a'." >&2; exit 8;; esac""")
    out = tmp_path / "out" / "dash.mp4"
    out.parent.mkdir()
    events, code, err = _spy_render(tmp_path, out, ffmpeg=fake)
    assert code == 0, err
    assert [e[0] for e in events] == ["layout", "ffmpeg"] and not events[1][2], "graph in argv"
    frames = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
                             "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(out)],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert frames == "315"


@needs_device_file("gopro/max-heromode.mp4")
def test_ffmpeg_dying_before_its_graph_is_one_line(tmp_path):
    """The early-started ffmpeg exits before the layout is measured: its own complaint, exit 1, nothing left."""
    fake = _fake_ffmpeg(tmp_path, """[ "$a" = "pipe:0" ] && { echo "Unknown encoder 'libx264'" >&2; exit 1; }""")
    out = tmp_path / "out" / "dash.mp4"
    out.parent.mkdir()
    events, code, err = _spy_render(tmp_path, out, ffmpeg=fake)
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("overdash: error: ffmpeg: ") and "Unknown encoder 'libx264'" in err
    assert "exit status 1" in err and [e[0] for e in events] == ["ffmpeg", "layout"]
    assert not list(out.parent.iterdir()) and not list((tmp_path / "tmp").iterdir())
