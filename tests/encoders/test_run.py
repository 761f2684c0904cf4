"""The argv from build_command, run for real: frames fed on stdin as the writer sends them
(NUT, encoders.nut), the output checked with ffprobe.

Two short runs (~0.5 s each): the plain case the pipeline uses, and a Matroska
source whose video starts 0.5 s into the container (timestamps rounded to 1 ms),
where overlay frame k must still land on video frame k and surplus overlay
frames must not lengthen the video.
"""
import json
import subprocess

import numpy as np
import pytest

from encoders import nut
from encoders.command import OverlaySpec, build_command, overlay_frames_needed
from encoders.probe import probe_video
from encoders.profiles import load_profile

pytestmark = pytest.mark.e2e
W, H = 320, 240
RED = np.array([255, 0, 0, 255], np.uint8)


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *map(str, args)],
                   check=True)


def make_clip(path, seconds, **metadata):
    """testsrc2 video at 29.97 fps plus a sine tone, like a small camera file."""
    tags = [a for k, v in metadata.items() for a in ("-metadata", f"{k}={v}")]
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=30000/1001:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
           *tags, path)


def decode(path):
    """All video frames as an (n, H, W, 3) uint8 array, one per stored frame."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 3)


def ffprobe_json(path):
    done = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-count_frames",
                           "-show_streams", "-show_format", str(path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def as_nut(frames, size, fps_num, fps_den=1, pix_fmt="rgba", tail=True):
    """The frames of one stream (one region of `size`) as the writer sends them: the NUT
    header, every frame with pts = its index, then (`tail`, PipelineJob.tail) the last one
    again after them."""
    yield nut.header([size], fps_num, fps_den, pix_fmt)
    k = frame = None
    for k, frame in enumerate(frames):
        yield nut.frame_head(k, len(frame)) + frame
    if tail and frame is not None:
        yield nut.frame_head(k + 1, len(frame)) + frame


def feed(argv, chunks):
    """Write bytes to ffmpeg's stdin like the writer does; ffmpeg may stop reading early."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for chunk in chunks:
            proc.stdin.write(chunk)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    stderr = proc.stderr.read().decode(errors="replace")
    assert proc.wait() == 0, stderr


@pytest.fixture(scope="module")
def red_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    src = tmp / "source.mp4"
    make_clip(src, 2, creation_time="2021-06-01T10:00:00.000000Z")
    video = probe_video(src)
    spec = OverlaySpec(x=40, y=60, width=64, height=32, fps_num=video.fps_num, fps_den=video.fps_den)
    temp, final = tmp / ".ride.partial-ab12.mp4", tmp / "ride.mp4"
    argv = build_command(load_profile("cpu"), video, spec, temp, final_path=final)
    frame = np.broadcast_to(RED, (spec.height, spec.width, 4)).tobytes()
    assert len(frame) == spec.frame_bytes
    feed(argv, as_nut([frame] * overlay_frames_needed(video, spec), (spec.width, spec.height), spec.fps_num,
                      spec.fps_den))
    return video, spec, temp


def test_output_keeps_frames_audio_and_metadata(red_run):
    video, _, out = red_run
    info = ffprobe_json(out)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert video.frame_count == 60
    assert int(streams["video"]["nb_read_frames"]) == video.frame_count
    assert streams["audio"]["codec_name"] == "aac"
    assert info["format"]["tags"]["creation_time"] == "2021-06-01T10:00:00.000000Z"
    assert probe_video(out).fps == video.fps


def test_overlay_region_is_red_and_the_rest_is_the_source(red_run):
    video, spec, out = red_run
    composed, source = decode(out), decode(video.path)
    assert len(composed) == len(source) == video.frame_count
    for k in (0, 30, video.frame_count - 1):
        inner = composed[k, spec.y + 2:spec.y + spec.height - 2, spec.x + 2:spec.x + spec.width - 2]
        r, g, b = (inner[..., c].astype(int) for c in range(3))
        assert r.min() > 200 and g.max() < 50 and b.max() < 50, f"frame {k} is not red"
        # far from the overlay: the source, give or take the re-encode
        patch = (slice(150, 230), slice(200, 310))
        diff = np.abs(composed[k][patch].astype(int) - source[k][patch].astype(int))
        assert diff.mean() < 6, f"frame {k} differs from the source outside the overlay"


def test_late_video_start_alignment_and_surplus_frames(tmp_path):
    plain, late = tmp_path / "plain.mp4", tmp_path / "late.mkv"
    make_clip(plain, 1)
    ffmpeg("-itsoffset", "0.5", "-i", plain, "-i", plain, "-map", "0:v", "-map", "1:a", "-c", "copy", late)
    video = probe_video(late)
    # Matroska: 1 ms timestamps, no nb_frames; the video starts ~0.5 s after the audio
    assert video.timeline_offset == pytest.approx(0.5, abs=0.05)
    spec = OverlaySpec(x=40, y=60, width=64, height=32, fps_num=video.fps_num, fps_den=video.fps_den)
    colours = [np.array(c, np.uint8) for c in ((255, 0, 0, 255), (0, 0, 255, 255), (0, 255, 0, 255))]
    frames = [np.broadcast_to(c, (32, 64, 4)).tobytes() for c in colours]
    needed = overlay_frames_needed(video, spec)
    assert needed == video.frame_count == 30
    out = tmp_path / "out.mp4"
    # 20 frames more than needed: a writer off by a few must not lengthen the video
    feed(build_command(load_profile("cpu"), video, spec, out),
         as_nut((frames[k % 3] for k in range(needed + 20)), (64, 32), spec.fps_num, spec.fps_den))
    composed = decode(out)
    assert len(composed) == video.frame_count
    shown = [int(np.argmax(composed[k, spec.y + 16, spec.x + 32])) for k in range(len(composed))]
    expected = [(0, 2, 1)[k % 3] for k in range(video.frame_count)]  # argmax of red, blue, green
    assert shown == expected
    late_out = probe_video(out)
    # A/V sync kept, to within a frame: ffmpeg 5.1 puts encoder timestamps on the
    # 1/fps grid, so this off-grid (Matroska 1 ms) start moves by up to half a frame
    assert late_out.timeline_offset == pytest.approx(video.timeline_offset, abs=float(1 / video.fps))
