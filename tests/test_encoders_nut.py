"""The NUT framing of the overlay stream, read back by the real ffmpeg from a pipe."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from encoders import nut

W, H = 64, 48
SIZE = W * H * 5 // 2


def stream(frames: dict[int, int], fps=(30000, 1001)) -> bytes:
    out = bytearray(nut.header(W, H, *fps))
    for pts, value in frames.items():
        data = bytes([value]) * SIZE
        out += nut.frame_head(pts, len(data)) + data
    return bytes(out)


def read_back(data: bytes) -> tuple[list[int], np.ndarray]:
    """(pts of each frame, frames) as ffmpeg demuxes and decodes them from a pipe."""
    args = ["ffmpeg", "-v", "error", "-probesize", "4096", "-analyzeduration", "0", "-f", "nut", "-i", "pipe:0"]
    crc = subprocess.run([*args, "-fps_mode", "passthrough", "-f", "framecrc", "-"], input=data,
                         capture_output=True, check=True).stdout.decode()
    pts = [int(line.split(",")[2]) for line in crc.splitlines() if line and not line.startswith("#")]
    raw = subprocess.run([*args, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "yuva420p", "-"],
                         input=data, capture_output=True, check=True).stdout
    return pts, np.frombuffer(raw, np.uint8).reshape(-1, SIZE)


def test_frames_arrive_with_their_timestamps_and_bytes():
    sent = {0: 10, 3: 50, 4: 90, 10: 200, 1000: 7}
    pts, frames = read_back(stream(sent))
    assert pts == list(sent), "pts = frame index: the time base is 1 / frame rate"
    for (k, value), frame in zip(sent.items(), frames):
        assert (frame == value).all(), f"frame {k}"


def test_ffprobe_sees_the_stream_as_muxed():
    data = stream({0: 1, 5: 2})
    probe = subprocess.run(["ffprobe", "-v", "error", "-f", "nut", "-i", "pipe:0", "-show_entries",
                            "stream=codec_name,pix_fmt,width,height,time_base", "-of", "csv=p=0"],
                           input=data, capture_output=True, check=True).stdout.decode().strip()
    assert probe == f"rawvideo,{W},{H},yuva420p,1001/30000"


def test_crc_is_the_msb_first_crc32_that_ffmpeg_checks():
    # CRC-32/MPEG-2 without the final xor/init: the check value of "123456789" with init 0 is 0x89a1897f
    assert nut.crc32(b"123456789") == 0x89A1897F
    body = b"any packet body"
    assert nut.crc32(body + nut.crc32(body).to_bytes(4, "big")) == 0, "stored big-endian, the residue is 0"


def test_bad_input():
    with pytest.raises(ValueError):
        nut.header(W, H, 30, 1, pix_fmt="nv12")
    with pytest.raises(ValueError):
        nut.frame_head(-1, SIZE)
