"""A Ctrl-C at each moment where main has just made something the cleanup must undo: ffmpeg
started, the partial file created, the plan handed over. Each case delivers a real SIGINT
to a real `overdash render` at that exact point (a wrapper sends it to its own process),
and checks what a user would: exit 130, the one line, and nothing left behind — no partial
file, no ffmpeg log, no ffmpeg running.

Interrupts that land during a slower step (reading telemetry, drawing) are the common case
and are tested elsewhere (test_cli.test_ctrl_c_during_render, tests/pipeline/test_faults.py);
these windows are microseconds wide, so only a signal sent from inside can hit them every time.
"""
from __future__ import annotations

import os
import subprocess
import sys

import psutil
import pytest

from tests.pipeline.commands.test_ride_window import write_ride

DRIVER = """
import os, signal, subprocess, sys
spawned = []
popen = subprocess.Popen.__init__
def spy(self, args, *a, **k):
    popen(self, args, *a, **k)
    if "pipe:0" in list(map(str, args)):  # the render's ffmpeg
        spawned.append(self.pid)
subprocess.Popen.__init__ = spy

def interrupt():
    os.kill(os.getpid(), signal.SIGINT)

where = os.environ["INTERRUPT_AT"]
import overdash.files, pipeline.commands.render as render, pipeline.encoder as encoder
if where == "partial created":
    claim = overdash.files.PartialLock.claim.__func__
    def claimed(cls, path):
        lock = claim(cls, path)
        interrupt()
        return lock
    overdash.files.PartialLock.claim = classmethod(claimed)
elif where in ("ffmpeg started", "ffmpeg started late"):
    spawn = encoder.Encoder._spawn.__func__
    def spawned_now(cls, *a, **k):
        made = spawn(cls, *a, **k)
        interrupt()
        return made
    encoder.Encoder._spawn = classmethod(spawned_now)
    if where == "ffmpeg started late":  # as for an ffmpeg that cannot read its graph from a pipe
        render._start_before_layout = lambda *a, **k: (None, None)
elif where == "plan made":
    plan = render.Plan
    def made(*a, **k):
        interrupt()
        return plan(*a, **k)
    render.Plan = made
elif where == "before the run":
    render._remove_stale_partials = lambda folder: interrupt()
from pipeline.commands.cli import main
code = main(sys.argv[1:])
print(repr((spawned, code)))
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A 2 s clip of a camera without GPS, and a GPX ride it is placed in with --start."""
    folder = tmp_path_factory.mktemp("interrupt")
    clip = folder / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "2",
                    "-c:v", "libx264", "-preset", "ultrafast", str(clip)], check=True, timeout=60)
    return clip, write_ride(folder / "ride.gpx", minutes=3)


@pytest.mark.parametrize("where", ["ffmpeg started", "partial created", "plan made", "before the run",
                                   "ffmpeg started late"])
def test_a_ctrl_c_as_main_takes_on_something_leaves_nothing(tmp_path, source, where):
    clip, ride = source
    tmp, out = tmp_path / "tmp", tmp_path / "out"
    tmp.mkdir()
    out.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), XDG_CACHE_HOME=str(tmp_path / "cache"), INTERRUPT_AT=where)
    proc = subprocess.run([sys.executable, "-c", DRIVER, "render", str(clip), str(out / "dash.mp4"),
                           "--gpx", str(ride), "--start", "2021-09-24T10:01:00Z", "--workers", "1"],
                          capture_output=True, text=True, timeout=120, env=env)
    spawned, code = eval(proc.stdout.strip().splitlines()[-1])
    assert code == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "overdash: interrupted — nothing was written", proc.stderr
    assert "Traceback" not in proc.stderr
    assert spawned, "the interrupt came before ffmpeg started: the case tests nothing"
    assert not list(out.iterdir()), "partial file left"
    assert not list(tmp.iterdir()), "ffmpeg's log left"
    alive = [pid for pid in spawned if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not alive, "ffmpeg left running"
