"""encoders.mp4index: the facts read from an MP4's index are ffprobe's, or the reader declines.

ffprobe is the reference (an independent parser): for every file below, the index reader either
returns exactly the VideoInfo that ffprobe's JSON gives, or None. The files it must settle are
named, so a reader that declines everything fails too.
"""
import shutil
import struct
import subprocess

import pytest

from encoders.h264sps import parse_sps, rbsp
from encoders.mp4index import read_index_facts
from encoders.probe import probe_video, start_probe
from tests.support.paths import SHARED_DATA, needs_device_file

SRC = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30000/1001", "-t", "1"]
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "1"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast"]

# name: (ffmpeg arguments after the inputs, file suffix, whether the index settles it)
CASES = {
    "b-frames": ([*X264, "-preset", "veryfast"], ".mp4", True),
    "no-b-frames": ([*X264, "-bf", "0"], ".mp4", True),
    "full-range-bt709": ([*X264, "-pix_fmt", "yuvj420p", "-color_range", "pc", "-colorspace", "bt709",
                          "-color_primaries", "bt709", "-color_trc", "bt709"], ".mp4", True),
    "limited-bt601": ([*X264, "-color_range", "tv", "-colorspace", "smpte170m"], ".mp4", True),
    "colr-box-too": ([*X264, "-colorspace", "bt709", "-color_range", "pc", "-movflags", "+write_colr"],
                     ".mp4", True),
    "audio-aac": ([*X264, "-c:a", "aac", "-shortest"], ".mp4", True),
    "audio-mp3": ([*X264, "-c:a", "libmp3lame", "-shortest"], ".mp4", False),
    "mov-pcm": ([*X264, "-c:a", "pcm_s16le", "-shortest"], ".mov", False),
    "mov-timecode": ([*X264, "-timecode", "01:02:03:04"], ".mov", True),
    "mov-drop-frame": ([*X264, "-timecode", "10:59:59;28"], ".mov", True),
    "mp4-timecode": ([*X264, "-timecode", "23:59:59:29"], ".mp4", True),
    "created": ([*X264, "-metadata", "creation_time=2021-09-24T08:01:02.000000Z"], ".mp4", True),
    "faststart-90k": ([*X264, "-movflags", "+faststart", "-video_track_timescale", "90000"], ".mp4", True),
    "rotated": ([*X264, "-metadata:s:v", "rotate=90"], ".mp4", False),
    "10-bit": (["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le"], ".mp4", False),
    "4:4:4": ([*X264, "-pix_fmt", "yuv444p"], ".mp4", False),
    "interlaced": ([*X264, "-vf", "scale=160:96", "-flags", "+ildct+ilme", "-x264-params", "interlaced=1"], ".mp4",
                   False),
    "hevc": (["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"], ".mp4", False),
    "mpeg4": (["-c:v", "mpeg4"], ".mp4", False),
    "variable-rate": ([*X264, "-vf", "setpts='PTS+gt(N,10)*0.05/TB'", "-fps_mode", "passthrough"], ".mp4", False),
    "matroska": (X264, ".mkv", False),
}
AUDIO = {"audio-aac", "audio-mp3", "mov-pcm"}


def _make(path, args, audio):
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *SRC, *(TONE if audio else []),
            *args, str(path)]
    subprocess.run(argv, check=True)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("mp4index")
    files = {}
    for name, (args, suffix, _) in CASES.items():
        if name == "hevc" and not _has_encoder("libx265"):
            continue
        files[name] = root / f"{name}{suffix}"
        _make(files[name], args, name in AUDIO)
    return files


def _has_encoder(name):
    out = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return f" {name} " in out


def _ffprobe_facts(path):
    return start_probe(path, ffprobe="ffprobe", index=False).result()


@pytest.mark.parametrize("name", list(CASES))
def test_the_index_gives_ffprobes_facts_or_declines(made, name):
    if name not in made:
        pytest.skip("this ffmpeg has no libx265")
    path = made[name]
    facts = read_index_facts(path)
    if CASES[name][2]:
        assert facts is not None, "the index settles this file"
    if facts is not None:
        assert facts == _ffprobe_facts(path)


def test_what_the_settled_files_say(made):
    """A few facts spelled out, so agreement with ffprobe is not agreement on nothing."""
    full = read_index_facts(made["full-range-bt709"])
    assert (full.pix_fmt, full.color_range, full.color_space) == ("yuvj420p", "pc", "bt709")
    limited = read_index_facts(made["limited-bt601"])
    assert (limited.pix_fmt, limited.color_range, limited.color_space) == ("yuv420p", "tv", "smpte170m")
    plain = read_index_facts(made["b-frames"])
    assert (plain.width, plain.height, plain.frame_count, plain.fps_num, plain.fps_den) == (160, 90, 30, 30000, 1001)
    assert (plain.color_range, plain.color_space, plain.has_audio) == (None, None, False)
    assert read_index_facts(made["audio-aac"]).audio_codec == "aac"
    assert read_index_facts(made["mov-timecode"]).timecode == "01:02:03:04"
    assert read_index_facts(made["mov-drop-frame"]).timecode == "10:59:59;28"
    assert read_index_facts(made["created"]).creation_time == "2021-09-24T08:01:02.000000Z"


def test_the_colr_box_counts_only_where_the_sps_is_silent(made, tmp_path):
    """ffmpeg's decoder takes range and matrix from the SPS when it signals them, else from the
    container's 'colr' box: an SPS without colour, remuxed with a colr box saying full-range BT.709."""
    path = tmp_path / "colr-only.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(made["b-frames"]),
                    "-c", "copy", "-color_range", "pc", "-colorspace", "bt709", "-color_primaries", "bt709",
                    "-color_trc", "bt709", "-movflags", "+write_colr", str(path)], check=True)
    facts = read_index_facts(path)
    assert facts == _ffprobe_facts(path)
    assert (facts.pix_fmt, facts.color_range, facts.color_space) == ("yuvj420p", "pc", "bt709")


@needs_device_file("gopro/max-heromode.mp4")
def test_the_camera_file():
    path = SHARED_DATA / "gopro/max-heromode.mp4"
    facts = read_index_facts(path)
    assert facts is not None and facts == _ffprobe_facts(path)
    assert facts.timecode == "15:44:35:10" and facts.gpmd_stream == 3 and facts.pix_fmt == "yuvj420p"


def test_a_render_asks_ffprobe_only_when_the_index_does_not_settle(made, tmp_path, monkeypatch):
    """probe_video answers a settled file without running ffprobe (here: an ffprobe that is not
    there), and runs ffprobe for the rest."""
    missing = str(tmp_path / "no-ffprobe")
    assert probe_video(made["b-frames"], ffprobe=missing).frame_count == 30
    with pytest.raises(Exception, match="ffprobe"):
        probe_video(made["hevc"] if "hevc" in made else made["mpeg4"], ffprobe=missing)


@pytest.mark.parametrize("cut", [40, 200, 1000])
def test_a_damaged_index_is_declined_not_misread(made, tmp_path, cut):
    """Bytes flipped in the moov: the reader declines or agrees with ffprobe, never raises."""
    data = bytearray(made["audio-aac"].read_bytes())
    at = data.find(b"moov") + cut
    data[at:at + 4] = b"\xff\xff\xff\xff"
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    facts = read_index_facts(path)
    if facts is not None:
        assert facts == _ffprobe_facts(path)


def test_sps_fields_from_the_standard():
    """An SPS written bit by bit (H.264 §7.3.2.1.1): High profile, 4:2:0 8-bit, 1920×1088 cropped to
    1080, VUI with full range and matrix 1; and an emulation-prevention byte removed."""
    bits = "".join([
        f"{100:08b}", "0" * 16, _ue(0),           # profile_idc, constraints + level, sps_id
        _ue(1), _ue(0), _ue(0), "0", "0",         # chroma_format_idc 1, depths 8, qpprime, no matrices
        _ue(0), _ue(0), _ue(0), _ue(1), "0",      # log2_max_frame_num, poc_type 0, poc lsb, max_refs, gaps
        _ue(119), _ue(67),                        # 120 × 68 macroblocks
        "1", "1",                                 # frame_mbs_only, direct_8x8
        "1", _ue(0), _ue(0), _ue(0), _ue(4),      # cropping: 0, 0, 0, 4 (×2 rows)
        "1", "0", "0", "1", "101", "1", "1",      # VUI: no aspect, no overscan, signal type: format 5, full, colour
        f"{1:08b}", f"{1:08b}", f"{1:08b}",       # primaries, transfer, matrix
        "0", "0", "0", "0", "0", "0",             # no chroma location, timing, HRD, pic_struct, restriction
    ])
    bits += "1" + "0" * (-(len(bits) + 1) % 8)
    payload = int(bits, 2).to_bytes(len(bits) // 8, "big")
    sps = parse_sps(b"\x67" + payload)
    assert (sps.width, sps.height, sps.chroma_format, sps.bit_depth) == (1920, 1080, 1, 8)
    assert (sps.full_range, sps.matrix, sps.frame_mbs_only, sps.crop_left_top) == (True, 1, True, False)
    assert rbsp(b"\x67\x00\x00\x03\x01\x00\x00\x03") == b"\x00\x00\x01\x00\x00"


def _ue(value):
    code = f"{value + 1:b}"
    return "0" * (len(code) - 1) + code


def test_the_first_box_not_mp4_is_declined(tmp_path):
    path = tmp_path / "x.mp4"
    path.write_bytes(struct.pack(">I4s", 16, b"junk") + b"\0" * 8)
    assert read_index_facts(path) is None
    assert shutil.which("ffprobe")


def test_damaged_files_it_settles_agree_with_ffprobe(tmp_path):
    """A fixed-seed smoke of `python -m fuzz agree` (the long run is part of `make fuzz`): bytes
    of the moov mutated, and every file the index still settles gives ffprobe's facts."""
    from fuzz.agree import agree

    result = agree(300, seed=11, work=tmp_path)
    assert not result.disagreements, "\n".join(result.disagreements)
    assert result.counts["agreed"] >= 50 and result.counts["declined"] >= 50  # both ways exercised
