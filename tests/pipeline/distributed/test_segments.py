"""Segments without Ray: where a video is cut, what each segment's ffmpeg is told, and a render
in three parts joined equals the one-machine render (frames, timestamps, audio, pixels)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from encoders.probe import VideoInfo, probe_video
from pipeline.distributed.segments import Part, ShiftedPainter, keyframes, split
from tests.pipeline.distributed.clips import MAX_DIFFERENT, audio_packets, frame_times, make_clip, worst_frame

NTSC = Fraction(30000, 1001)


def test_cuts_at_the_keyframes_nearest_even_shares():
    assert split(300, range(0, 300, 30), 3, NTSC) == [Part(0, 90), Part(90, 210), Part(210, 300)]
    assert split(300, range(0, 300, 30), 1, NTSC) == [Part(0, 300)]


def test_fewer_keyframes_fewer_segments_and_every_frame_once():
    parts = split(300, [0, 150], 8, NTSC)
    assert parts == [Part(0, 150), Part(150, 300)]
    parts = split(1000, range(0, 1000, 7), 6, NTSC)
    assert [p.first for p in parts[1:]] == [p.end for p in parts[:-1]] and parts[-1].end == 1000
    assert len(parts) == 6


def test_a_cut_falls_where_the_overlay_frame_starts_too():
    # 10 fps overlay on 30 fps video: only every third video frame starts an overlay frame
    parts = split(300, [0, 100, 150, 200], 3, Fraction(30), Fraction(10))
    assert [p.first for p in parts] == [0, 150]
    assert Part(150, 300).overlay_first(Fraction(30), Fraction(10)) == 50
    with pytest.raises(ValueError):
        Part(100, 300).overlay_first(Fraction(30), Fraction(10))


def _video(**kw) -> VideoInfo:
    facts = dict(path=Path("in.mp4"), width=640, height=360, fps_num=30000, fps_den=1001, frame_count=300,
                 duration=10.01, start_time=0.0, has_audio=True, audio_codec="aac", video_codec="h264",
                 pix_fmt="yuvj420p", creation_time=None, rotation=0, gpmd_stream=None)
    return VideoInfo(**{**facts, **kw})


def test_segment_argv_seeks_stops_and_leaves_the_audio_to_the_join():
    argv = ["ffmpeg", "-y", "-i", "in.mp4", "-f", "nut", "-i", "pipe:0", "-filter_complex", "g", "-map", "[vout]",
            "-map", "0:a?", "-c:v", "libx264", "-c:a", "copy", "-movflags", "+faststart", "-f", "mp4", "out.mp4"]
    got = Part(90, 150).argv(argv, _video())
    assert got[:5] == ["ffmpeg", "-y", "-ss", "3.003000", "-i"]
    assert "0:a?" not in got and "+faststart" not in got
    assert got[-7:] == ["-an", "-dn", "-frames:v", "60", "-f", "mp4", "out.mp4"]


def test_the_seek_keeps_the_first_frame_of_a_late_starting_video():
    # 1001/30000 s is not a whole number of microseconds: rounding up would drop frame 1
    video = _video(start_time=0.5, format_start_time=0.0)
    assert Part(1, 2).seek_seconds(video) == 0.533366
    assert Part(1, 2).video(video).timeline_offset == 0.0


def test_shifted_painter_moves_every_frame_number():
    seen = []

    class Painter:
        def __call__(self, frame, views, previous):
            seen.append(("paint", frame, previous))

        def keys(self, frame):
            seen.append(("keys", frame))

        def damage(self, index, old, old_keys, frame, keys):
            seen.append(("damage", old, frame))

    painter = ShiftedPainter(lambda: Painter(), 100)()
    painter(0, (), None)
    painter(1, (), 0)
    painter.keys(2)
    painter.damage(0, 3, (), 4, ())
    assert seen == [("paint", 100, None), ("paint", 101, 100), ("keys", 102), ("damage", 103, 104)]
    assert not hasattr(painter, "draw")  # what the painter lacks, the shifted one lacks too


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        return make_clip(tmp_path_factory.mktemp("clip"), 6, mp)


def _config(clip: Path, out: Path):
    from pipeline.commands.cli import build_parser
    from pipeline.commands.render import config_from_args

    return config_from_args(build_parser("render").parse_args(["render", str(clip), str(out), "-q", "--workers", "2"]))


@pytest.mark.e2e
def test_three_segments_joined_equal_the_one_machine_render(clip, tmp_path, monkeypatch):
    from encoders.capability import choose_profile
    from pipeline.commands.render import render
    from pipeline.distributed.join import join

    whole = tmp_path / "whole.mp4"
    render(_config(clip, whole))
    video = probe_video(clip)
    parts = split(video.frame_count, keyframes(video), 3, video.fps)
    assert [p.first for p in parts] == [0, 60, 120]  # a keyframe a second
    files = [tmp_path / f"part-{i}.mp4" for i in range(3)]
    for part, path in zip(parts, files):
        render(_config(clip, path), part=part)
    joined = tmp_path / "joined.mp4"
    join("ffmpeg", files, parts, video, choose_profile("auto", video=video).profile, joined, folder=tmp_path)
    assert frame_times(joined) == frame_times(whole) and len(frame_times(whole)) == video.frame_count
    assert audio_packets(joined) == audio_packets(whole) == audio_packets(clip)
    assert worst_frame(joined, whole) < MAX_DIFFERENT
    # the comparison sees a dashboard drawn for the wrong frames (15 frames late)
    monkeypatch.setattr(Part, "overlay_first", lambda self, *fps: self.first + 15)
    late = tmp_path / "late.mp4"
    render(_config(clip, late), part=Part(0, video.frame_count))
    assert worst_frame(late, whole) > 10 * MAX_DIFFERENT
