"""Inputs users bring that are not what a camera writes: a copy cut short is refused in one line
before anything starts, telemetry damage inside a whole file is said in a few warning lines (not
Python's), and a picture size an encoder cannot take is refused saying what to do."""
from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import psutil
import pytest

from overlay.telemetry.mp4 import read_mp4
from pipeline.commands.demo import make_sample
from tests.support.paths import SHARED_DATA, needs_device_file

pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]


def run(*args):
    return subprocess.run([*OVERDASH, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return make_sample(tmp_path_factory.mktemp("sample"), 10, (320, 180))


def cut_copy(sample: Path, folder: Path, keep: float) -> Path:
    """The sample with its index first (as editors and `+faststart` write it), then only the first
    `keep` of its bytes: an interrupted copy that still opens."""
    whole = folder / "whole.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(sample), "-map", "0", "-c", "copy",
                    "-movflags", "+faststart", str(whole)], check=True)
    cut = folder / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[:int(len(data) * keep)])
    return cut


@pytest.mark.parametrize("out", ["out.mp4", "out.mov"])
def test_a_copy_cut_short_is_refused_naming_the_frame_it_stops_in(sample, tmp_path, out):
    cut = cut_copy(sample, tmp_path, 0.6)
    declared = len(read_mp4(cut).video.samples)
    extra = ["--generate", "overlay"] if out.endswith(".mov") else ["--profile", "cpu"]
    proc = run("render", cut, tmp_path / out, *extra)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"overdash: error: {cut}: truncated: ")
    assert f"of {declared} " in lines[0] and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.mp4", "whole.mp4"]  # nothing written
    # an H.264 clip's ffmpeg starts before the cut is found (render.plan_render): killed, not left waiting
    assert not [q for q in psutil.process_iter(["cmdline"]) if str(cut) in " ".join(q.info["cmdline"] or ())]


def test_a_recording_without_its_index_is_said_alike_by_every_command(sample, tmp_path):
    """The camera writes the index last: a recording it never closed has none. `info` reads the index
    itself, `render` and `preview` ask the probe first; the user reads one sentence."""
    unfinished = tmp_path / "GX010001.MP4"
    unfinished.write_bytes(sample.read_bytes()[:int(sample.stat().st_size * 0.6)])
    said = set()
    for args in (("info", unfinished), ("render", unfinished, tmp_path / "out.mp4"),
                 ("preview", unfinished, "-o", tmp_path / "p.png")):
        proc = run(*args)
        assert proc.returncode == 2, proc.stderr
        said.add(proc.stderr)
    assert said == {f"overdash: error: {unfinished}: an unfinished recording or a cut-short copy: its MP4 index "
                    f"('moov' box) is missing (the camera stopped before closing the file, or the copy ended "
                    f"early)\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GX010001.MP4"]


def test_the_index_tells_how_much_of_the_video_is_there(sample, tmp_path):
    cut = cut_copy(sample, tmp_path, 0.6)
    assert read_mp4(tmp_path / "whole.mp4").video_cut() is None
    assert read_mp4(sample).video_cut() is None  # the camera's order: data first, index last
    whole, declared = read_mp4(cut).video_cut()
    assert declared == len(read_mp4(sample).video.samples)
    assert 0 < whole < declared
    # the frames it counts whole are those ffmpeg decodes without running off the end
    probe = subprocess.run(["ffprobe", "-v", "quiet", "-select_streams", "v:0", "-count_frames",
                            "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(cut)],
                           capture_output=True, text=True)
    assert abs(int(probe.stdout.strip().rstrip(",")) - whole) <= 2


def test_damaged_telemetry_is_said_in_a_few_warning_lines(sample, tmp_path):
    damaged = tmp_path / "damaged.mp4"
    data = bytearray(sample.read_bytes())
    gpmf = read_mp4(sample).find(fourcc="gpmd").samples
    assert len(gpmf) >= 10
    for offset in gpmf.offsets[:8].tolist():
        data[offset + 8:offset + 16] = b"\xff" * 8  # the first key's type and size: not GPMF any more
    damaged.write_bytes(bytes(data))
    out = tmp_path / "out.mp4"
    proc = run("render", damaged, out, "--profile", "cpu", "-q")  # the last seconds still have GPS
    assert proc.returncode == 0 and out.is_file(), proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [*(f"overdash: warning: {damaged}: GPMF payload {i}: corrupt or truncated "
                       f"(bad key b'\\xff\\xff\\xff\\xff' at byte 8); skipped" for i in range(5)),
                     "overdash: warning: further warnings are not shown"], proc.stderr


def undecodable_copy(sample: Path, folder: Path) -> Path:
    """The sample with every H.264 frame's NAL units overwritten (their first length field kept): the
    index, the audio and the GPMF are whole, and not one picture decodes."""
    bad = folder / "undecodable.mp4"
    data = bytearray(sample.read_bytes())
    video = read_mp4(sample).video.samples
    for offset, size in zip(video.offsets.tolist(), video.sizes.tolist()):
        data[offset + 4:offset + size] = bytes((i * 37 + 11) & 0xFF for i in range(size - 4))
    bad.write_bytes(bytes(data))
    return bad


def test_a_video_none_of_whose_frames_decodes_is_refused_naming_the_file(sample, tmp_path):
    """ffmpeg's own last words here are "Error marking filters as finished", after a line per frame."""
    bad = undecodable_copy(sample, tmp_path)
    proc = run("render", bad, tmp_path / "out.mp4", "--profile", "cpu", "-q")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"overdash: error: {bad}: no frame of its h264 video decodes ("), \
        proc.stderr
    assert "the file is damaged" in lines[0] and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["undecodable.mp4"]  # nothing written


def test_a_preview_of_a_video_that_does_not_decode_is_one_line(sample, tmp_path):
    bad = undecodable_copy(sample, tmp_path)
    proc = run("preview", bad, "-o", tmp_path / "p.png", "--at", "1")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"overdash: error: {bad}: cannot decode the frame at 1.0"), \
        proc.stderr
    assert lines[0].endswith(")") and "Traceback" not in proc.stderr
    assert not (tmp_path / "p.png").exists()


def test_an_odd_picture_size_is_refused_in_one_line_and_any_size_profiles_take_it(sample, tmp_path):
    odd = tmp_path / "odd.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(sample), "-t", "2", "-map", "0", "-vf", "scale=321:181",
                    "-c:v", "libx264", "-pix_fmt", "yuv444p", "-c:a", "copy", "-c:d", "copy", str(odd)], check=True)
    for out, args in (("o.mp4", []), ("o.mov", ["--generate", "overlay"])):
        proc = run("render", odd, tmp_path / out, *args)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"overdash: error: {odd}: 321x181: ")
        assert "cannot encode an odd" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.mp4"]
    proc = run("render", odd, tmp_path / "o.mov", "--generate", "overlay", "--profile", "qtrle", "-q")
    assert proc.returncode == 0, proc.stderr
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0",
                            str(tmp_path / "o.mov")], capture_output=True, text=True)
    assert probe.stdout.strip() == "321,181"


def test_an_empty_file_and_a_matroska_without_a_ride_say_what_they_are(sample, tmp_path):
    empty = tmp_path / "GX010001.MP4"
    empty.touch()
    mkv = tmp_path / "ride.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(sample), "-t", "1", "-map", "0:v", "-map", "0:a",
                    "-c", "copy", str(mkv)], check=True)
    for path, needle in ((empty, "empty file (0 bytes)"), (mkv, "a Matroska/WebM file: ")):
        proc = run("render", path, tmp_path / "out.mp4")
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"overdash: error: {path}: ") and needle in lines[0]
    assert "--gpx or --fit" in lines[0]
    assert not (tmp_path / "out.mp4").exists()


def test_a_damaged_ride_file_is_read_up_to_the_damage_and_warned_once(tmp_path):
    from pipeline.commands.sources import read_ride
    from tests.overlay.telemetry.test_gpx_fit import write_fit

    whole = tmp_path / "whole.fit"
    write_fit(whole, [(1_000_000_000 + i, 100, 80, i * 800, 8000, 200, 20) for i in range(50)])
    cut = tmp_path / "cut.fit"
    cut.write_bytes(whole.read_bytes()[:-120])  # ends inside a record, its CRC gone
    with pytest.warns(UserWarning) as said:
        ride = read_ride(cut, warn=True)
    assert [str(w.message) for w in said] == [f"{cut}: {note}" for note in ride.notes]
    assert any("damaged after" in note for note in ride.notes)
    assert 0 < len(ride["sensors"].t) < 50
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_ride(whole, warn=True)  # nothing to say about a whole file
        read_ride(cut)  # `info` lists the notes itself


@needs_device_file("fit/ride-2021-09-24-karoo.fit")
def test_a_render_from_a_damaged_ride_file_says_so_in_one_warning(tmp_path):
    cut = tmp_path / "ride.fit"
    cut.write_bytes((SHARED_DATA / "fit/ride-2021-09-24-karoo.fit").read_bytes()[:3000])
    proc = run("render", cut, tmp_path / "dash.mov", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"overdash: warning: {cut}: FIT file damaged after ")
    assert len(proc.stderr.strip().splitlines()) == 1
