"""`overdash render VIDEO …` probes VIDEO before parsing the command line, and uses the answer
only when the parsed command line agrees (pipeline.commands.cli.early_probe). The clips here are
MPEG-4 Part 2, which the MP4 index reader leaves to ffprobe, so ffprobe's early start is what runs;
an H.264 clip, which the index settles, runs no ffprobe at all."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from encoders.probe import Prefetch, probe_video
from pipeline.commands.cli import early_probe, main
from tests.pipeline.commands.test_ride_window import write_ride

ROOT = Path(__file__).resolve().parents[3]


def _clip(folder: Path, codec: str) -> Path:
    path = folder / "clip.MP4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10", "-t", "1",
                    "-c:v", codec, str(path)], check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    return _clip(tmp_path_factory.mktemp("early"), "mpeg4")


def test_only_the_usual_spelling_is_guessed(video, tmp_path):
    ride = tmp_path / "ride.gpx"
    ride.write_text("<gpx/>")
    for argv in (["render"], ["render", "--layout", "x", str(video), "o.mp4"], ["info", str(video)],
                 ["render", str(ride), "o.mov"], ["render", str(tmp_path / "missing.mp4"), "o.mp4"],
                 ["render", str(tmp_path), "o.mp4"]):
        assert early_probe(argv) is None, argv
    early = early_probe(["render", str(video), "o.mp4"])
    assert early is not None
    assert early.serves(video, "ffprobe") and not early.serves(video, "/opt/ff/ffprobe")
    assert early.probe(video, ffprobe="ffprobe") == probe_video(video)



def test_a_probe_says_whether_its_answer_is_there(video, tmp_path):
    """render reads the layout first only while there is something to wait for: an H.264 clip's
    index answers at once, ffprobe (its libraries alone take tens of ms) once it has exited."""
    h264 = Prefetch(_clip(tmp_path, "libx264"), "ffprobe")
    assert h264.pending._proc is None and h264.answered()
    running = Prefetch(video, "ffprobe")
    assert running.pending._proc is not None and not running.answered()
    assert running.probe(video, ffprobe="ffprobe").frame_count == 10
    assert running.answered()
    assert Prefetch(tmp_path / "missing.mp4", "ffprobe").answered()  # the error is the answer


SPY = r"""
import json, os, subprocess, sys
log, tool, modules = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
seen = []
popen = subprocess.Popen.__init__
def spy(self, args, *a, **k):
    # ffprobe: every start; ffmpeg: the render's (capability checks take no filter graph)
    if os.path.basename(str(args[0])) == tool and (tool != "ffmpeg" or any("filter_complex" in str(x) for x in args)):
        seen.append({name: name in sys.modules for name in modules})
        with open(log, "w") as f:
            json.dump(seen, f)
    return popen(self, args, *a, **k)
subprocess.Popen.__init__ = spy
from pipeline.commands.cli import entry
sys.argv = ["overdash", *sys.argv[4:]]
entry()
"""
# Loaded when ffprobe starts: the command line's parse (which loads the config module), numpy.
PARSED = ("pipeline.commands.config", "numpy")


def _spy(tmp_path, *argv, tool: str = "ffprobe", modules=PARSED) -> tuple[subprocess.CompletedProcess, list]:
    """Run `overdash *argv`, noting at each start of `tool` which of `modules` were loaded."""
    log = tmp_path / "seen.json"
    done = subprocess.run([sys.executable, "-c", SPY, str(log), tool, ",".join(modules), *map(str, argv)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    return done, json.loads(log.read_text()) if log.exists() else []


def test_the_command_starts_ffprobe_before_it_parses(video, tmp_path):
    """One ffprobe, started before the command line is parsed (the parser loads the config module).
    The output's folder is missing: the run ends at the path check, a clean user error."""
    done, seen = _spy(tmp_path, "render", video, tmp_path / "no" / "out.mp4")
    assert done.returncode == 2 and "out.mp4" in done.stderr and "Traceback" not in done.stderr
    assert seen == [dict.fromkeys(PARSED, False)]


def test_a_wrong_guess_is_cancelled_and_the_right_file_probed(video, tmp_path):
    """--ffmpeg names another build: the guess (ffprobe on PATH) is killed and reaped, and the
    probe runs again with the ffprobe beside that ffmpeg."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("ffmpeg", "ffprobe"):
        (tools / name).symlink_to(subprocess.check_output(["which", name], text=True).strip())
    early = Prefetch(video, "ffprobe")
    proc = early.pending._proc
    code = main(["render", str(video), str(tmp_path / "no" / "out.mp4"), "--ffmpeg", str(tools / "ffmpeg")],
                early=early)
    assert code == 2
    assert early.pending._proc is None and proc.returncode is not None  # reaped, no zombie
    assert not psutil.pid_exists(proc.pid) or psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE


def test_an_unused_guess_leaves_no_ffprobe_behind(video, tmp_path):
    """`overdash render VIDEO --help` exits before any probe is read: its ffprobe is killed, not orphaned."""
    done, seen = _spy(tmp_path, "render", video, "--help")
    assert done.returncode == 0 and "usage:" in done.stdout
    assert len(seen) == 1
    left = [p for p in psutil.process_iter(["name", "cmdline"])
            if p.info["name"] == "ffprobe" and str(video) in " ".join(p.info["cmdline"] or ())]
    assert not left


@pytest.mark.parametrize("codec", ["mpeg4", "libx264"])
def test_render_uses_the_guess_it_agrees_with(tmp_path, codec):
    """A whole render from the usual spelling (a camera without GPS, placed in a GPX ride) probes
    once: one ffprobe, started before parsing; none for H.264, whose MP4 index settles the facts."""
    video = _clip(tmp_path, codec)
    out = tmp_path / "out"
    out.mkdir()
    ride = write_ride(tmp_path / "ride.gpx", minutes=2)
    done, seen = _spy(tmp_path, "render", video, out / "dash.mp4", "--gpx", ride, "--start", "2021-09-24T10:00:30Z",
                      "--workers", "1", "-q")
    assert done.returncode == 0, done.stderr
    assert seen == ([] if codec == "libx264" else [dict.fromkeys(PARSED, False)])
    assert os.listdir(out) == ["dash.mp4"] and probe_video(out / "dash.mp4").frame_count == 10


def test_ffmpeg_starts_before_numpy_and_pillow_load(tmp_path):
    """An H.264 clip's facts come from its index, so the render's ffmpeg starts before the telemetry's
    and the layout's imports (numpy, Pillow, the widgets: ~0.1 s) and loads its libraries meanwhile,
    on another core. Any module imported on the way there (the command line, the probe, the encoder's
    argv) that pulls numpy in makes every render start that much later: this says which."""
    video = _clip(tmp_path, "libx264")
    out = tmp_path / "out"
    out.mkdir()
    ride = write_ride(tmp_path / "ride.gpx", minutes=2)
    modules = ("numpy", "PIL", "overlay.widgets")
    done, seen = _spy(tmp_path, "render", video, out / "dash.mp4", "--gpx", ride, "--start", "2021-09-24T10:00:30Z",
                      "--workers", "1", "-q", tool="ffmpeg", modules=modules)
    assert done.returncode == 0, done.stderr
    assert seen == [dict.fromkeys(modules, False)]
    assert os.listdir(out) == ["dash.mp4"] and probe_video(out / "dash.mp4").frame_count == 10
