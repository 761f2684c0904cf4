"""overdash with the ffmpeg a system has, 4.2 to 9.x: renders, capability checks, and a refusal.

Each test runs once per static build (4.2.2, 7.0.2, 9.0.2: the `ffmpeg_build`
fixture, tests/support/ffmpeg_builds.py) on a short GoPro-like clip made with the
system ffmpeg. The builds have no ffprobe beside them: probing uses the system's,
as a render with --ffmpeg does wherever ffprobe is not next to the given ffmpeg.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from encoders.capability import ffmpeg_features
from pipeline.commands.demo import make_sample
from tests.pipeline.commands.test_awkward_inputs import undecodable_copy
from tests.pipeline.commands.test_cli import run

pytestmark = pytest.mark.e2e
EXTENSION = {"prores-alpha": "mov", "qtrle": "mov", "vp9-alpha": "webm"}
NOT_RENDERED = {"png"}  # an image sequence: `overdash render` writes video files only (config.VIDEO_SUFFIXES)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample(tmp_path_factory.mktemp("clip"), 1, (320, 180))


def frames(path: Path) -> int:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def test_features_of_each_build(ffmpeg_build):
    """The spellings each generation takes (see encoders.features for the evidence)."""
    features = ffmpeg_features(str(ffmpeg_build.path))
    assert features.version_text == ffmpeg_build.version
    major = int(ffmpeg_build.version.split(".")[0])
    assert features.fps_option == ("-vsync" if major < 5 else "-fps_mode")
    assert features.graph_script == ("-/filter_complex" if major >= 7 else "-filter_complex_script")


def test_render_with_each_build(ffmpeg_build, clip, tmp_path):
    out = tmp_path / "dash.mp4"
    done = run("render", clip, out, "--ffmpeg", ffmpeg_build.path, "-q", "--workers", "2")
    assert done.returncode == 0, done.stderr
    assert frames(out) == frames(clip)


def test_a_video_that_does_not_decode_is_said_with_each_build(ffmpeg_build, clip, tmp_path):
    """Each generation words a source that gives no frame differently (4.2: packets piling up; 5.1:
    "input stream 0:0"; 7.0 and later: "input 0:0"); the user reads the same line."""
    bad = undecodable_copy(clip, tmp_path)
    done = run("render", bad, tmp_path / "dash.mp4", "--ffmpeg", ffmpeg_build.path, "-q")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"overdash: error: {bad}: no frame of its h264 video decodes ("), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["undecodable.mp4"]


def test_a_prores_dashboard_keeps_the_clips_timecode(ffmpeg_build, clip, tmp_path):
    """From ffmpeg 5.0 the ProRes frames reach the file through a second ffmpeg, which copies the
    clip's timecode track (encoders.repeat._timecode_track); 4.x encodes every frame in one ffmpeg,
    which writes the timecode itself."""
    tagged = tmp_path / "GX010042.MP4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip), "-map", "0", "-c", "copy", "-timecode", "01:02:03:04",
                    str(tagged)], check=True)
    out = tmp_path / "dash.mov"
    done = run("render", tagged, out, "--generate", "overlay", "--ffmpeg", ffmpeg_build.path, "-q")
    assert done.returncode == 0, done.stderr
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_tag_string:stream_tags=timecode",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True).stdout.split()
    assert probe == ["ap4h,01:02:03:04", "tmcd,01:02:03:04"]
    assert frames(out) == frames(clip)


def test_what_profiles_calls_working_renders(ffmpeg_build, clip, tmp_path):
    """`overdash profiles` checks with the render's own options: each profile it says works renders."""
    listed = run("profiles", "--ffmpeg", ffmpeg_build.path)
    assert listed.returncode == 0, listed.stderr
    working = [line[2:].split()[0] for line in listed.stdout.splitlines() if line[2:].split()[1:2] == ["works"]]
    assert "cpu" in working, listed.stdout
    for name in sorted(set(working) - NOT_RENDERED):
        out = tmp_path / name / f"dash.{EXTENSION.get(name, 'mp4')}"
        out.parent.mkdir()
        done = run("render", clip, out, "--ffmpeg", ffmpeg_build.path, "--profile", name, "-q", "--workers", "2")
        assert done.returncode == 0, f"{name}: {done.stderr}"


def test_an_ffmpeg_too_old_is_refused_in_one_line(clip, tmp_path):
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'ffmpeg version 3.4.8 Copyright (c) 2000-2020 the FFmpeg developers' >&2\n"
                    "echo '-vsync              video sync method'\n")
    fake.chmod(0o755)
    expected = f"overdash: error: ffmpeg 3.4.8 at {fake} is too old: overdash needs ffmpeg 4.2 or newer"
    for args in (("render", clip, tmp_path / "out.mp4"), ("profiles",)):
        done = run(*args, "--ffmpeg", fake)
        assert done.returncode != 0
        assert done.stderr.strip().splitlines() == [expected], done.stderr
    assert not (tmp_path / "out.mp4").exists()
