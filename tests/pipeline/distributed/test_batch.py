"""`overdash batch` on this machine (--jobs, no Ray): recordings found and grouped, one broken
clip failing alone, a second run skipping what is complete; and --ray without Ray installed."""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from pipeline.distributed.batch import recordings
from tests.pipeline.distributed.clips import frame_times, make_clip, overdash


def test_chapters_are_one_recording_and_folders_are_read(tmp_path):
    for name in ("GX010007.MP4", "GX020007.MP4", "GX030007.MP4", "ride.mov", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    out = tmp_path / "out"
    # a shell glob gives every chapter: the later ones join their recording
    found = recordings([tmp_path / "GX030007.MP4", tmp_path / "GX010007.MP4", tmp_path / "GX020007.MP4"], out)
    assert [(r.name, [p.name for p in r.paths], r.output.name) for r in found] == [
        ("GX010007.MP4", ["GX010007.MP4", "GX020007.MP4", "GX030007.MP4"], "GX010007.mp4")]
    found = recordings([tmp_path], out, ".mkv")
    assert [(r.name, len(r.paths), r.output.name) for r in found] == [("GX010007.MP4", 3, "GX010007.mkv"),
                                                                      ("ride.mov", 1, "ride.mkv")]


def test_two_inputs_with_one_output_name_are_refused(tmp_path):
    from overdash import InputError

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "clip.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="would both be written to"):
        recordings([tmp_path / "a" / "clip.mp4", tmp_path / "b" / "clip.mp4"], tmp_path / "out")


@pytest.mark.e2e
def test_a_broken_clip_fails_alone_and_a_second_run_skips_what_is_done(tmp_path, monkeypatch):
    clip = make_clip(tmp_path / "sample", 3, monkeypatch)
    ins = tmp_path / "in"
    ins.mkdir()
    for name in ("one.mp4", "two.mp4"):
        shutil.copy(clip, ins / name)
    (ins / "broken.mp4").write_bytes(clip.read_bytes()[:50_000])  # cut short: no index
    out = tmp_path / "out"

    run = overdash("batch", ins, "--out", out, "--jobs", "2", "--workers", "1")
    assert run.returncode == 1, run.stderr
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in run.stdout.splitlines()[1:]}
    assert rows["one.mp4"][0] == rows["two.mp4"][0] == "done"
    assert rows["broken.mp4"][0] == "failed" and "broken.mp4: an unfinished recording" in rows["broken.mp4"][1]
    assert len(frame_times(out / "one.mp4")) == len(frame_times(clip))
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".done")) == ["one.mp4", "two.mp4"]

    again = overdash("batch", ins, "--out", out, "--jobs", "2", "--workers", "1")
    assert again.returncode == 1
    rows = {line.split()[0]: line.split()[1] for line in again.stdout.splitlines()[1:]}
    assert rows == {"broken.mp4": "failed", "one.mp4": "skipped", "two.mp4": "skipped"}

    # an output replaced since, or different options: rendered again
    (out / "two.mp4").write_bytes(b"not what was rendered")
    third = overdash("batch", ins / "one.mp4", ins / "two.mp4", "--out", out, "--workers", "1")
    assert third.returncode == 0, third.stderr
    rows = {line.split()[0]: line.split()[1] for line in third.stdout.splitlines()[1:]}
    assert rows == {"one.mp4": "skipped", "two.mp4": "done"}
    other = overdash("batch", ins / "one.mp4", "--out", out, "--workers", "1", "--units-speed", "mph")
    assert other.returncode == 0 and other.stdout.splitlines()[1].split()[:2] == ["one.mp4", "done"]


@pytest.mark.parametrize("command", [["render", "in.mp4", "out.mp4", "--ray"], ["batch", "in.mp4", "--out", "o",
                                                                                   "--ray", "ray://head:10001"]])
def test_ray_option_without_ray_says_how_to_install_it(tmp_path, command):
    (tmp_path / "in.mp4").write_bytes(b"")
    hide_ray = ("import sys; sys.modules['ray'] = None; from pipeline.commands.cli import main; "
                "sys.exit(main(sys.argv[1:]))")
    import subprocess

    run = subprocess.run([sys.executable, "-c", hide_ray, *command], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "overdash: error: --ray needs Ray, an optional extra: pip install 'overdash[ray]' "
        "(in a clone: make setup RAY=1)"]


@pytest.mark.e2e
def test_ctrl_c_keeps_what_finished_and_says_so(tmp_path, monkeypatch):
    """Ctrl-C (the terminal signals the whole group) after the first recording is done: its output
    stays, the one being rendered leaves nothing, and the last line says which is which."""
    import signal
    import subprocess
    import time

    clip = make_clip(tmp_path / "sample", 5, monkeypatch)
    ins = tmp_path / "in"
    ins.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(clip, ins / name)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.commands.cli", "batch", str(ins), "--out", str(out),
                             "--jobs", "1", "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (out / "a.mp4").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (out / "a.mp4").exists() and proc.poll() is None, "the first recording never finished alone"
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    told = f"stdout:\n{stdout}\nstderr:\n{stderr}"
    last = stderr.strip().splitlines()[-1]
    assert last == "overdash: interrupted — 1 finished recording kept, nothing else written", told
    rows = {line.split()[0]: line.split()[1] for line in stdout.splitlines()[1:]}
    assert rows == {"a.mp4": "done", "b.mp4": "stopped"}, told
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["a.mp4"]
    assert not [p for p in out.iterdir() if "partial" in p.name]
