"""Chapter discovery and continuity, on chapters cut from one synthetic recording with ffmpeg."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from overlay.telemetry.chapter_files import chapter_name, find_chapters
from overlay.telemetry.chapters import load_gopro_chapters
from tests.support import gpmf_reference as ref
from tests.support.paths import device_file

needs_ffmpeg = pytest.mark.skipif(not shutil.which("ffprobe") or not shutil.which("ffmpeg"), reason="no ffmpeg")


@pytest.mark.parametrize("stem, chapter, expected", [
    ("GX010123", 2, "GX020123"), ("GH010042", 3, "GH030042"), ("GL019999", 10, "GL109999"),
    ("GOPR0123", 2, "GP010123"), ("GP010123", 3, "GP020123"), ("GP020123", 1, "GOPR0123"),
    ("gopr0007", 2, "gp010007"), ("VID_0001", 2, None),
])
def test_chapter_names(stem, chapter, expected):
    assert chapter_name(stem, chapter) == expected


def test_find_chapters_stops_at_first_gap(tmp_path):
    for name in ("GOPR0005.MP4", "GP010005.MP4", "GP020005.MP4", "GP040005.MP4", "GOPR0006.MP4"):
        (tmp_path / name).write_bytes(b"")
    found = [p.name for p in find_chapters(tmp_path / "GOPR0005.MP4")]
    assert found == ["GOPR0005.MP4", "GP010005.MP4", "GP020005.MP4"]  # GP03 missing: GP04 is not joined
    assert [p.name for p in find_chapters(tmp_path / "GP010005.MP4")] == ["GP010005.MP4", "GP020005.MP4"]
    assert find_chapters(tmp_path / "clip.mp4") == [tmp_path / "clip.mp4"]


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    """A 10.5 s recording (testsrc2 + max-heromode's GPMF track, a keyframe each second),
    cut into 4 s chapters GX010123.MP4, GX020123.MP4, GX030123.MP4 without re-encoding."""
    if not shutil.which("ffmpeg"):
        pytest.skip("no ffmpeg")
    sample = device_file("gopro/max-heromode.mp4")
    d = tmp_path_factory.mktemp("chapters")
    whole = d / "whole.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30000/1001",
                    "-i", str(sample), "-map", "0:v", "-map", "1:3", "-t", "10.5", "-c:v", "libx264", "-g", "30",
                    "-bf", "0", "-pix_fmt", "yuv420p", "-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd",
                    str(whole)], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(whole), "-map", "0", "-c", "copy", "-copy_unknown",
                    "-f", "segment", "-segment_time", "4", "-reset_timestamps", "1", "-segment_start_number", "1",
                    str(d / "GX%02d0123.MP4")], check=True)
    return d, whole


def video_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "stream=duration",
                          "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)["streams"][0]["duration"])


@needs_ffmpeg
def test_chapters_join_continuously(cut):
    d, whole = cut
    paths = find_chapters(d / "GX010123.MP4")
    assert [p.name for p in paths] == ["GX010123.MP4", "GX020123.MP4", "GX030123.MP4"]
    tel = load_gopro_chapters(paths)
    per_chapter = [sum(len(ref.gps5_raw(p)[0]) for p in ref.payloads(c)) for c in paths]
    assert sum(per_chapter) == 191  # every GPS5 sample of max-heromode, none lost or doubled
    gps = tel["gps"]
    assert len(gps) == 191 and np.all(np.diff(gps.t) > 0)
    # chapter 2 starts after chapter 1's video (4.004 s by ffprobe), chapter 3 after 8.008 s
    offsets = np.cumsum([0.0] + [video_duration(p) for p in paths[:-1]])
    assert offsets[1:] == pytest.approx([4.004, 8.008], abs=1e-3)
    first2 = per_chapter[0]
    assert offsets[1] - 0.1 < gps.t[first2] < offsets[1] + 0.1
    # and the joined times match the uncut recording's (spec timing, from its bytes) within 20 ms:
    # each chapter measures its own rate and camera-clock offset
    expected = ref.expected_times(ref.payloads(whole), ref.payload_times(whole), "GPS5")
    assert np.abs(gps.t - np.array(expected)).max() < 0.02
    # the odometer runs on across joins
    assert np.all(np.diff(gps["codo"]) >= 0) and gps["codo"][-1] > gps["codo"][first2] > 0
    assert any("3 chapters" in note for note in tel.notes)
    accl = {i.fourcc: i for i in tel.inventory}["ACCL"]
    assert accl.count == len(tel["accl"]) == 2082


@needs_ffmpeg
def test_no_chapters_reads_one_file(cut):
    from pipeline.commands.sources import load_inputs

    d, _ = cut
    one = load_inputs([d / "GX010123.MP4"], chapters=False)
    assert len(one["gps"]) == sum(len(ref.gps5_raw(p)[0]) for p in ref.payloads(d / "GX010123.MP4"))
    assert len(load_inputs([d / "GX010123.MP4"])["gps"]) == 191
