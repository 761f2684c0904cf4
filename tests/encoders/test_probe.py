"""encoders.probe: facts of real files, and one-line errors for files that are not videos."""
import re
import subprocess

import pytest

from encoders.probe import VideoInfo, probe_video, video_info_from_json
from overdash import InputError, OverdashError
from tests.support.paths import SHARED_DATA, needs_device_file

GOPRO = SHARED_DATA / "gopro/max-heromode.mp4"
needs_gopro = needs_device_file("gopro/max-heromode.mp4")


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *map(str, args)],
                   check=True)


@needs_gopro
def test_gopro_clip_facts():
    info = probe_video(GOPRO)
    assert (info.width, info.height) == (848, 480)
    assert (info.fps_num, info.fps_den) == (30000, 1001)
    assert info.frame_count == 315
    assert info.duration == pytest.approx(315 * 1001 / 30000)
    assert info.start_time == 0.0 and info.timeline_offset == 0.0
    assert info.has_audio and info.audio_codec == "aac"
    assert info.video_codec == "h264" and info.pix_fmt == "yuvj420p"
    assert info.creation_time == "2019-11-18T15:45:32.000000Z"
    assert info.timecode == "15:44:35:10"  # the camera's tmcd: the time of day it started
    assert info.rotation == 0
    assert info.gpmd_stream == 3 and info.video_stream == 0


@needs_gopro
def test_gopro_clip_matches_ffprobe_text():
    """Cross-check against ffprobe's human-readable summary, not only its JSON."""
    text = subprocess.run(["ffprobe", "-hide_banner", str(GOPRO)], capture_output=True, text=True).stderr
    info = probe_video(GOPRO)
    assert re.search(rf"Video: {info.video_codec} .* {info.width}x{info.height}\b.* 29\.97 fps", text)
    assert re.search(rf"Stream #0:{info.gpmd_stream}\S*: Data: bin_data \(gpmd", text)
    assert "Audio: aac" in text


def test_text_file_is_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("hello, not a video\n")
    with pytest.raises(InputError) as err:
        probe_video(path)
    message = str(err.value)
    assert message.startswith(f"{path}: not a video file (") and "\n" not in message


def test_a_recording_without_its_index_is_called_unfinished(tmp_path):
    """A camera that lost power mid-recording leaves the media without the 'moov' box it writes
    last: said as that, not as 'moov atom not found'."""
    whole = tmp_path / "whole.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10", "-t", "1", "-c:v", "libx264", whole)
    data = whole.read_bytes()
    assert data.index(b"moov") > data.index(b"mdat")  # as cameras write it: the index after the media
    cut = tmp_path / "GX010001.MP4"
    cut.write_bytes(data[: data.index(b"moov") - 4])
    with pytest.raises(InputError) as err:
        probe_video(cut)
    message = str(err.value)
    assert message.startswith(f"{cut}: an unfinished recording or a cut-short copy") and "'moov'" in message
    assert "\n" not in message
    probe_video(whole)  # the whole file still probes


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.mp4: no such file"):
        probe_video(tmp_path / "nope.mp4")


def test_audio_only_file_is_not_a_video(tmp_path):
    path = tmp_path / "tone.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=0.2", "-c:a", "aac", path)
    with pytest.raises(InputError, match=r"tone\.m4a: not a video file \(no video stream\)"):
        probe_video(path)


def test_missing_ffprobe_names_an_install_hint(tmp_path):
    path = tmp_path / "x.mp4"
    path.write_bytes(b"\0" * 16)
    with pytest.raises(OverdashError, match="install ffmpeg") as err:
        probe_video(path, ffprobe=str(tmp_path / "no-ffprobe"))
    assert not isinstance(err.value, InputError)


def test_rotation_and_display_size(tmp_path):
    plain, rotated = tmp_path / "plain.mp4", tmp_path / "rotated.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x32:rate=25:duration=0.2", "-c:v", "libx264",
           "-preset", "ultrafast", plain)
    ffmpeg("-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated)
    info = probe_video(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (64, 32)
    assert (info.display_width, info.display_height) == (32, 64)
    assert info.frame_count == 5 and not info.has_audio and info.gpmd_stream is None


def test_late_video_start_in_matroska(tmp_path):
    """No nb_frames in Matroska: the count comes from the duration; the video starts 0.5 s in."""
    src, late = tmp_path / "src.mp4", tmp_path / "late.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x32:rate=25:duration=1", "-f", "lavfi",
           "-i", "sine=duration=1", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", src)
    ffmpeg("-itsoffset", "0.5", "-i", src, "-i", src, "-map", "0:v", "-map", "1:a", "-c", "copy", late)
    info = probe_video(late)
    assert info.frame_count == 25
    assert info.timeline_offset == pytest.approx(0.5, abs=0.05)


def test_frame_rate_choice_and_counting_fallback():
    stream = {"index": 0, "codec_type": "video", "width": 4, "height": 2,
              "r_frame_rate": "60000/1001", "avg_frame_rate": "30000/1001"}
    counted = []
    info = video_info_from_json("x.mkv", {"streams": [stream], "format": {}},
                                count_frames=lambda i: counted.append(i) or 42)
    assert (info.fps_num, info.fps_den) == (30000, 1001)  # r disagrees: field rate, use avg
    assert info.frame_count == 42 and counted == [0]
    assert info.duration == pytest.approx(42 * 1001 / 30000)
    assert isinstance(info, VideoInfo)


def test_no_frame_rate_is_an_input_error():
    stream = {"index": 0, "codec_type": "video", "width": 4, "height": 2,
              "r_frame_rate": "0/0", "avg_frame_rate": "0/0"}
    with pytest.raises(InputError, match=r"x\.mp4: video stream has no usable frame rate"):
        video_info_from_json("x.mp4", {"streams": [stream], "format": {}})


@needs_gopro
def test_colour_facts_of_the_gopro_file():
    """ffprobe -show_entries stream=color_range,color_space says pc / bt709 for this file."""
    info = probe_video(GOPRO)
    assert (info.color_range, info.color_space) == ("pc", "bt709")
    assert info.full_range and info.color_matrix == "bt709"


@pytest.mark.parametrize("tags, expected", [
    ({"video": {"timecode": "01:02:03:04"}}, "01:02:03:04"),
    ({"tmcd": {"timecode": "10:00:00;12"}}, "10:00:00;12"),          # drop-frame, on a timecode track only
    ({"format": {"timecode": "23:59:59:29"}}, "23:59:59:29"),
    ({"video": {"timecode": "1:2:3"}, "format": {"timecode": "00:00:01:00"}}, "00:00:01:00"),  # malformed: next
    ({}, None),
])
def test_the_start_timecode_is_the_video_s_else_a_timecode_track_s_else_the_file_s(tags, expected):
    video = {"index": 0, "codec_type": "video", "width": 4, "height": 2, "r_frame_rate": "30/1",
             "avg_frame_rate": "30/1", "nb_frames": "30", "tags": tags.get("video", {})}
    tmcd = {"index": 1, "codec_type": "data", "codec_tag_string": "tmcd", "tags": tags.get("tmcd", {})}
    info = video_info_from_json("x.mp4", {"streams": [video, tmcd], "format": {"tags": tags.get("format", {})}})
    assert info.timecode == expected
