"""overlay.telemetry.mp4 against ffprobe and an independent box walk (tests/gpmf_reference.py).

Real files where one exists; the few synthetic boxes below exercise what no
sample file has (64-bit box sizes, co64, stz2, size 0, multi-sample chunks);
their expected values follow from how they are built.
"""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from overdash import InputError
from overlay.telemetry.mp4 import read_mp4
from tests.support import gpmf_reference as ref
from tests.support.paths import SHARED_DATA, device_file, needs_device_file

MAX = SHARED_DATA / "gopro" / "max-heromode.mp4"
needs_ffmpeg = pytest.mark.skipif(not shutil.which("ffprobe") or not shutil.which("ffmpeg"), reason="no ffmpeg")


def ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


@needs_device_file("gopro/max-heromode.mp4")
@needs_ffmpeg
def test_tracks_match_ffprobe():
    streams = ffprobe(MAX, "-show_streams")["streams"]
    movie = read_mp4(MAX)
    assert [t.fourcc for t in movie.tracks] == [s["codec_tag_string"] for s in streams]
    # avc1, mp4a, tmcd, gpmd, fdsc
    assert [t.handler for t in movie.tracks] == ["vide", "soun", "tmcd", "meta", "meta"]
    assert movie.find(fourcc="gpmd").name == "GoPro MET"
    video = movie.video
    assert video.frame_count == int(streams[0]["nb_frames"]) == 315
    assert f"1/{video.timescale}" == streams[0]["time_base"] == "1/90000"
    gpmd = movie.find(handler="meta", fourcc="gpmd")
    assert gpmd.frame_count == int(streams[3]["nb_frames"]) == 11
    assert f"1/{gpmd.timescale}" == streams[3]["time_base"]


@needs_device_file("gopro/max-heromode.mp4")
@needs_ffmpeg
def test_creation_time_matches_ffprobe():
    tag = ffprobe(MAX, "-show_format")["format"]["tags"]["creation_time"]  # '2019-11-18T15:45:32.000000Z'
    expected = datetime.strptime(tag, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    assert read_mp4(MAX).creation_time == expected


@needs_device_file("gopro/max-heromode.mp4")
@needs_ffmpeg
def test_gpmd_offsets_and_sizes_match_ffprobe_packets():
    packets = ffprobe(MAX, "-select_streams", "3", "-show_entries", "packet=pos,size,pts_time")["packets"]
    table = read_mp4(MAX).find(fourcc="gpmd").samples
    assert table.offsets.tolist() == [int(p["pos"]) for p in packets]
    assert table.sizes.tolist() == [int(p["size"]) for p in packets]
    assert np.allclose(table.starts, [float(p["pts_time"]) for p in packets])


@needs_device_file("gopro/max-heromode.mp4")
def test_sample_table_matches_reference_walk():
    movie, expected = read_mp4(MAX), ref.read_movie(MAX)
    for track, want in zip(movie.tracks, expected.tracks):
        assert track.samples.sizes.tolist() == want.sizes
        assert track.samples.offsets.tolist() == want.offsets
        times = ref.sample_times(want)
        assert np.allclose(track.samples.starts, [s for s, _ in times])
        assert np.allclose(track.samples.durations, [d for _, d in times])
    # gpmd stts is [(10, 1001), (1, 533)] at timescale 1000: ten 1.001 s payloads, then 0.533 s
    gpmd = movie.find(fourcc="gpmd").samples
    assert np.allclose(gpmd.durations, [1.001] * 10 + [0.533])
    assert np.allclose(gpmd.starts, np.arange(11) * 1.001)


@needs_device_file("gopro/max-heromode.mp4")
def test_video_edit_list():
    video = read_mp4(MAX).video
    (seg, media), = ref.read_movie(MAX).video().elst  # one edit: the whole video from media time 0
    assert len(video.edits) == 1
    assert video.edits[0].duration == pytest.approx(seg / 90000)
    assert video.edits[0].media_time == media == 0
    assert video.movie_offset == 0 and video.presentation_start == 0


@needs_device_file("gopro/max-heromode.mp4")
def test_user_data_holds_gpmf_box():
    udta = read_mp4(MAX).user_data
    assert udta["GPMF"][:4] == b"DEVC" and udta["FIRM"].startswith(b"H19.03.01")


@needs_ffmpeg
def test_ffmpeg_mp4_with_b_frames(tmp_path):
    # libx264 delays composition by its B-frame depth: ffmpeg writes an edit list
    # whose media time skips that delay, so the first shown frame is still movie time 0.
    out = tmp_path / "x.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
                    "-pix_fmt", "yuv420p", str(out)], check=True)
    video = read_mp4(out).video
    assert video.frame_count == int(ffprobe(out, "-show_streams")["streams"][0]["nb_frames"]) == 10
    assert video.presentation_start == 0.0
    (seg, media), = ref.read_movie(out).video().elst
    assert video.movie_offset == pytest.approx(-media / video.timescale)


@pytest.mark.parametrize("content, why", [
    (b"", "only 0 bytes"),
    (b"hello, this is a text file\n" * 10, "starts with"),
    ("gopro/hero5.raw", "starts with b'DEVC"),  # a device file: its bytes
])
def test_not_an_mp4(tmp_path, content, why):
    path = tmp_path / "clip.mp4"
    path.write_bytes(device_file(content).read_bytes() if isinstance(content, str) else content)
    with pytest.raises(InputError) as err:
        read_mp4(path)
    message = str(err.value)
    assert message.startswith(f"{path}: not an MP4/MOV file (") and why in message and "\n" not in message


@needs_device_file("gopro/max-heromode.mp4")
def test_missing_moov(tmp_path):
    path = tmp_path / "cut.mp4"
    path.write_bytes(MAX.read_bytes()[:2_000_000])  # ftyp + part of mdat; moov is at the end
    with pytest.raises(InputError, match=r"its MP4 index \('moov' box\) is missing"):
        read_mp4(path)


@needs_device_file("gopro/max-heromode.mp4")
def test_truncated_moov(tmp_path):
    path = tmp_path / "cut.mp4"
    path.write_bytes(MAX.read_bytes()[:-100])
    with pytest.raises(InputError, match="truncated"):
        read_mp4(path)


# ---------------------------------------------------------------- synthetic boxes

def box(kind: bytes, payload: bytes, large: bool = False) -> bytes:
    if large:
        return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full(kind: bytes, payload: bytes, version: int = 0) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def synthetic(mdat_offset_holder: list[int], sizes_box: bytes, large_mdat: bool, moov_to_eof: bool = False) -> bytes:
    """ftyp, mdat (5 samples of 3, 5, 7, 9, 11 bytes), moov with one 'gpmd' track, then 'free'
    with size 0 (= to end of file); or with moov_to_eof, moov itself is last and has size 0."""
    ftyp = box(b"ftyp", b"isom\0\0\0\0isom")
    sample_bytes = b"".join(bytes([i]) * n for i, n in enumerate((3, 5, 7, 9, 11)))
    mdat = box(b"mdat", sample_bytes, large=large_mdat)
    data_start = len(ftyp) + (16 if large_mdat else 8)
    mdat_offset_holder.append(data_start)
    stts = full(b"stts", struct.pack(">III", 1, 5, 500))  # 5 samples of 500 / 1000 s
    stsc = full(b"stsc", struct.pack(">IIIIIII", 2, 1, 2, 1, 2, 3, 1))  # chunk 1: 2 samples, chunk 2+: 3
    co64 = full(b"co64", struct.pack(">IQQ", 2, data_start, data_start + 3 + 5))
    stsd = full(b"stsd", struct.pack(">I", 1) + box(b"gpmd", bytes(8)))
    stbl = box(b"stbl", stsd + stts + stsc + sizes_box + co64)
    minf = box(b"minf", stbl)
    hdlr = full(b"hdlr", struct.pack(">I4s12x", 0, b"meta") + b"Test\0")
    mdhd = full(b"mdhd", struct.pack(">QQIQ", 0, 0, 1000, 2500) + bytes(4), version=1)
    tkhd = full(b"tkhd", struct.pack(">QQII", 0, 0, 7, 0) + bytes(60), version=1)
    elst = full(b"elst", struct.pack(">IQqhH", 1, 600, 250, 1, 0), version=1)  # movie timescale 600
    trak = box(b"trak", tkhd + box(b"edts", elst) + box(b"mdia", mdhd + hdlr + minf))
    mvhd = full(b"mvhd", struct.pack(">QQIQ", 0, 0, 600, 1500) + bytes(80), version=1)
    if moov_to_eof:
        return ftyp + mdat + struct.pack(">I4s", 0, b"moov") + mvhd + trak
    return ftyp + mdat + box(b"moov", mvhd + trak) + struct.pack(">I4s", 0, b"free") + b"tail"


@pytest.mark.parametrize("sizes_box", [
    full(b"stsz", struct.pack(">II5I", 0, 5, 3, 5, 7, 9, 11)),
    full(b"stz2", struct.pack(">3xBI5B", 8, 5, 3, 5, 7, 9, 11)),
    full(b"stz2", struct.pack(">3xBI3B", 4, 5, 0x35, 0x79, 0xB0)),  # 4-bit sizes, padded
], ids=["stsz", "stz2-8", "stz2-4"])
@pytest.mark.parametrize("moov_to_eof", [False, True], ids=["moov", "moov-size-0"])
def test_synthetic_64bit_boxes(tmp_path, sizes_box, moov_to_eof):
    holder: list[int] = []
    path = tmp_path / "s.mp4"
    path.write_bytes(synthetic(holder, sizes_box, large_mdat=True, moov_to_eof=moov_to_eof))
    movie = read_mp4(path)
    assert movie.timescale == 600 and movie.duration == 2.5
    track, = movie.tracks
    assert (track.track_id, track.handler, track.fourcc, track.name) == (7, "meta", "gpmd", "Test")
    base = holder[0]
    # chunk 1 holds samples 0-1 at base; chunk 2 holds 2-4 at base + 3 + 5
    assert track.samples.offsets.tolist() == [base, base + 3, base + 8, base + 15, base + 24]
    assert track.samples.sizes.tolist() == [3, 5, 7, 9, 11]
    assert np.allclose(track.samples.starts, [0, 0.5, 1.0, 1.5, 2.0])
    assert track.edits[0].duration == 1.0 and track.edits[0].media_time == 0.25
    assert track.movie_offset == -0.25
    data = path.read_bytes()
    for i, (o, n) in enumerate(zip(track.samples.offsets, track.samples.sizes)):
        assert data[o:o + n] == bytes([i]) * n
