"""The NUT framing of the overlay stream, read back by the real ffmpeg from a pipe."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

from encoders import nut

W, H = 64, 48
SIZE = W * H * 5 // 2


def stream(frames: dict[int, int], fps=(30000, 1001)) -> bytes:
    out = bytearray(nut.header([(W, H)], *fps))
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


def test_each_region_is_a_stream_of_its_own_sent_only_when_it_changes():
    """Three streams of different sizes, each frame sent for one stream: ffmpeg gives each
    stream exactly its frames, with their pts, sizes and bytes."""
    sizes = [(64, 48), (32, 16), (16, 8)]
    sent = [(0, 0), (0, 1), (0, 2), (1, 1), (2, 1), (3, 0), (3, 1), (40, 2), (41, 1), (300, 0)]
    data = bytearray(nut.header(sizes, 30000, 1001))
    for pts, s in sent:
        w, h = sizes[s]
        data += nut.frame_head(pts, w * h * 5 // 2, s) + bytes([(pts + s) % 256]) * (w * h * 5 // 2)
    args = ["ffmpeg", "-v", "error", "-probesize", "4096", "-analyzeduration", "0", "-f", "nut", "-i", "pipe:0"]
    crc = subprocess.run([*args, "-map", "0", "-fps_mode", "passthrough", "-f", "framecrc", "-"], input=bytes(data),
                         capture_output=True, check=True).stdout.decode()
    rows = [[int(v) for v in line.split(",")[:5]] for line in crc.splitlines() if line and not line.startswith("#")]
    assert [(pts, s) for s, _, pts, _, _ in rows] == sent
    assert [size for s, _, _, _, size in rows] == [sizes[s][0] * sizes[s][1] * 5 // 2 for _, s in sent]
    for s, (w, h) in enumerate(sizes):
        raw = subprocess.run([*args, "-map", f"0:{s}", "-fps_mode", "passthrough", "-f", "rawvideo", "-"],
                             input=bytes(data), capture_output=True, check=True).stdout
        frames = np.frombuffer(raw, np.uint8).reshape(-1, w * h * 5 // 2)
        assert [f[0] for f in frames] == [(pts + k) % 256 for pts, k in sent if k == s]
        assert all((f == f[0]).all() for f in frames)


def test_crc_is_the_msb_first_crc32_that_ffmpeg_checks():
    # CRC-32/MPEG-2 without the final xor/init: the check value of "123456789" with init 0 is 0x89a1897f
    assert nut.crc32(b"123456789") == 0x89A1897F
    body = b"any packet body"
    assert nut.crc32(body + nut.crc32(body).to_bytes(4, "big")) == 0, "stored big-endian, the residue is 0"


def test_bad_input():
    with pytest.raises(ValueError):
        nut.header([(W, H)], 30, 1, pix_fmt="nv12")
    with pytest.raises(ValueError):
        nut.header([], 30, 1)
    with pytest.raises(ValueError):
        nut.header([(W, 0)], 30, 1)
    with pytest.raises(ValueError):
        nut.frame_head(-1, SIZE)
    with pytest.raises(ValueError):
        nut.frame_head(0, SIZE, stream=-1)


@pytest.mark.e2e
def test_the_compositing_ffmpeg_opens_its_output_before_the_first_frame(tmp_path):
    """The overlay input skips find_stream_info (encoders.command.COMPOSITE_NUT_INPUT): sent the header
    and frame 0's syncpoint, as the writer sends them first, ffmpeg goes on to open its output (and
    its decoder) while the workers draw the first frame, instead of waiting for it. The frames sent
    after it all arrive."""
    import time

    from encoders.command import OverlaySpec, build_command, overlay_frames_needed
    from encoders.probe import probe_video
    from encoders.profiles import builtin_profiles

    clip, out = tmp_path / "clip.mp4", tmp_path / "out.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=1", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    video = probe_video(clip)
    overlay = OverlaySpec(x=16, y=16, width=W, height=H, pix_fmt="yuva420p", fps_num=30, fps_den=1)
    proc = subprocess.Popen(build_command(builtin_profiles()["cpu"], video, overlay, out),
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        proc.stdin.write(nut.header([(W, H)], 30, 1) + nut.syncpoint(0))
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert out.exists(), "ffmpeg waited for the first overlay frame before opening its output"
        for pts in range(overlay_frames_needed(video, overlay)):
            proc.stdin.write(nut.frame_head(pts, SIZE, synced=pts == 0) + bytes([pts]) * SIZE)
        proc.stdin.close()
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    count = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
                            "-select_streams", "v:0", "-of", "csv=p=0", str(out)], capture_output=True, text=True)
    assert count.stdout.strip() == "30"
