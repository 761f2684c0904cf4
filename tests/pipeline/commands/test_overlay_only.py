"""The dashboard alone with alpha (a ride file, or --generate overlay from a video): real renders.

Each output is decoded by ffmpeg and compared, frame by frame, with what the render's own
painter draws over a transparent picture (pipeline.commands.dashboard.compose, as
`overdash preview` draws it): alpha within the codec's rounding, colour where opaque.
The overlay crosses as in a composited render — a NUT stream per region, a region only
when it changed — and ffmpeg lays the regions over a transparent picture: the stream
ffmpeg was sent is recorded (a wrapper around ffmpeg) and counted.
"""
from __future__ import annotations

import dataclasses
import json
import stat
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.commands.config import RenderConfig
from pipeline.commands.dashboard import Dashboard, compose
from pipeline.commands.demo import make_sample
from pipeline.commands.render import plan_render
from tests.support.paths import device_file

pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]
FIT = "fit/ride-2021-09-24-karoo.fit"
SIZE = (640, 360)


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def decode_rgba(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Every frame as (n, h, w, 4) RGBA, converted from YUV with the matrix and range the file states."""
    w, h = size
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough",
                          "-vf", "scale=in_color_matrix=bt709:in_range=tv,format=rgba",
                          "-f", "rawvideo", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 4)


def drawn(plan, frame: int) -> np.ndarray:
    """What the render's painter draws for `frame` over a transparent picture, as preview composes it."""
    dash = Dashboard(plan.painter, plan.painter.regions, table=None)
    return np.asarray(compose(dash, frame, Image.new("RGBA", plan.size, (0, 0, 0, 0))))


def recording_ffmpeg(folder: Path) -> tuple[Path, Path]:
    """(an ffmpeg stand-in that records the stream each run of it is sent, the folder of recordings)."""
    sent = folder / "sent"
    sent.mkdir()
    script = folder / "ffmpeg-recording"
    script.write_text(f'#!/bin/sh\ntee "{sent}/$$.nut" | exec ffmpeg "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, sent


def packets_per_stream(stream: Path) -> list[int]:
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-show_streams", "-of", "json",
                                      str(stream)], check=True, capture_output=True, text=True).stdout)
    return [int(s["nb_read_packets"]) for s in info["streams"]]


def assert_matches_drawing(plan, frames: np.ndarray) -> None:
    """Every decoded frame against the painter's drawing of it: alpha within the rounding of
    8 → 10 → 12 → 8 bits (±1), colour within ProRes' loss where the dashboard is opaque."""
    assert len(frames) == plan.job.count
    shown = 0
    for k, frame in enumerate(frames):
        want = drawn(plan, k)
        alpha = np.abs(frame[..., 3].astype(int) - want[..., 3])
        assert alpha.max() <= 1, f"frame {k}: alpha off by {alpha.max()}"
        opaque = want[..., 3] == 255
        if opaque.any():
            colour = np.abs(frame[..., :3].astype(int) - want[..., :3])[opaque]
            # ProRes is lossy: a few levels at text edges (max 11 seen), well under one on average
            assert colour.max() <= 16 and colour.mean() < 1.0 and np.percentile(colour, 99) <= 6, \
                f"frame {k}: colour off by {colour.max()} (mean {colour.mean():.2f})"
            shown += 1
    assert shown == len(frames), "the dashboard draws opaque pixels in every frame"


def test_ride_alone_is_prores_4444_with_the_drawn_alpha(tmp_path):
    """A FIT ride to .mov: ProRes 4444 with alpha, BT.709 stated, one frame per overlay frame, each
    the painter's drawing; the regions crossed only when they changed, and no frame at full size."""
    fit = device_file(FIT)
    out = tmp_path / "dash.mov"
    ffmpeg, sent = recording_ffmpeg(tmp_path)
    config = RenderConfig(input=fit, output=out, workers=2, quiet=True, size=SIZE, from_time="1800",
                          to_time="1802", ffmpeg=str(ffmpeg))
    proc = subprocess.run([*OVERDASH, "render", str(fit), str(out), "--size", "640x360", "--from", "1800",
                           "--to", "1802", "--ffmpeg", str(ffmpeg), "--workers", "2", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    plan = plan_render(config)
    video = ffprobe(out)["streams"]
    assert len(video) == 1
    v = video[0]
    assert (v["codec_name"], v["profile"], v["codec_tag_string"]) == ("prores", "4444", "ap4h")
    assert v["pix_fmt"] in ("yuva444p10le", "yuva444p12le") and (v["width"], v["height"]) == SIZE
    assert (v["color_space"], v["color_primaries"], v["color_transfer"], v["color_range"]) == \
        ("bt709", "bt709", "bt709", "tv")
    assert Fraction(v["r_frame_rate"]) == 30 and int(v["nb_read_frames"]) == plan.job.count == 61
    assert_matches_drawing(plan, decode_rgba(out, SIZE))
    # What crossed: to the encoder a clock and a stream per region, none the size of the picture,
    # a clock tick per distinct picture only; to the muxer one coded frame per overlay frame.
    regions = plan.overlay.placements()
    assert len(regions) == len(plan.job.regions) >= 2
    assert all(r.width * r.height < SIZE[0] * SIZE[1] // 4 for r in regions)
    recorded = sorted((packets_per_stream(f) for f in sent.iterdir() if f.stat().st_size), key=len)
    assert len(recorded) == 2, "an encoding and a muxing ffmpeg"
    muxed, (pictures, *counts) = recorded
    assert muxed == [plan.job.count]
    assert 2 <= pictures < plan.job.count // 4, "a 1 Hz ride changes on few frames"
    assert len(counts) == len(regions) and all(1 <= c <= pictures for c in counts)
    assert sum(counts) < len(regions) * pictures
    # Each overlay frame in the file is its distinct picture's coded frame, repeated as such.
    assert len(set(packet_hashes(out))) == pictures


def packet_hashes(path: Path) -> list[str]:
    """The MD5 of each video packet of `path`, in order (stream copy, nothing decoded)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-c", "copy", "-f", "framemd5",
                          "-"], check=True, capture_output=True, text=True).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def test_repeated_frames_are_the_file_encoding_every_frame_gives(tmp_path):
    """ProRes frames stand alone: the relay's repeats give, byte for byte, the packets that encoding
    every overlay frame gives (a lavfi clock of `count` frames, every frame through prores_aw)."""
    from encoders.alpha import build_overlay_only_command
    from encoders.nut import header
    from encoders.profiles import load_profile
    from pipeline.scheduler import run_pipeline

    fit = device_file(FIT)
    config = RenderConfig(input=fit, output=tmp_path / "repeated.mov", workers=2, quiet=True, size=SIZE,
                          from_time="1800", to_time="1803")
    plan = plan_render(config)
    assert plan.job.mux_argv, "prores-alpha over pasted regions repeats frames"
    run_pipeline(plan.job, plan.painter)
    every = tmp_path / "every.mov"
    partial = tmp_path / ".every.partial.mov"
    fps = plan.fps
    argv = build_overlay_only_command(load_profile("prores-alpha"),
                                      SIZE, fps, partial, regions=plan.overlay.placements(), count=plan.job.count,
                                      final_path=every)
    job = dataclasses.replace(plan.job, argv=tuple(argv), partial=partial, output=every, mux_argv=(), mux_header=b"",
                              clock=b"", nut_header=header(plan.job.regions, fps.numerator, fps.denominator, "rgba"))
    run_pipeline(job, plan.painter)
    repeated, encoded = packet_hashes(config.output), packet_hashes(every)
    assert len(repeated) == len(encoded) == plan.job.count == 91
    assert repeated == encoded
    assert len(set(repeated)) < plan.job.count // 4


def test_generate_overlay_from_a_video_takes_the_region_path(tmp_path):
    """--generate overlay from a camera file: the dashboard of its telemetry at its size, rate and
    frame count, no video pixels, sent and laid out as for a ride file."""
    clip = make_sample(tmp_path / "clip", 1, (320, 180))
    out = tmp_path / "dash.mov"
    proc = subprocess.run([*OVERDASH, "render", str(clip), str(out), "--generate", "overlay", "--workers", "2",
                           "-q"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    plan = plan_render(RenderConfig(input=clip, output=out, workers=2, quiet=True, generate="overlay"))
    assert "-filter_complex" in plan.job.argv and plan.job.keepalive > 1
    assert plan.job.regions == tuple((r.width, r.height) for r in plan.overlay.placements())
    v = ffprobe(out)["streams"]
    assert len(v) == 1 and (v[0]["width"], v[0]["height"]) == (320, 180)
    assert Fraction(v[0]["r_frame_rate"]) == Fraction(30000, 1001)
    assert int(v[0]["nb_read_frames"]) == plan.job.count == plan.video.frame_count
    frames = decode_rgba(out, (320, 180))
    assert_matches_drawing(plan, frames)
    assert (frames[..., 3] == 0).mean() > 0.5  # the video is not there: mostly transparent


@pytest.mark.parametrize("profile, ext", [("qtrle", "mov"), ("vp9-alpha", "webm")])
def test_other_overlay_only_profiles_take_the_region_path(tmp_path, profile, ext):
    """qtrle (lossless ARGB): every pixel exactly as drawn; VP9 with alpha: alpha close."""
    fit = device_file(FIT)
    out = tmp_path / f"dash.{ext}"
    args = ["--size", "320x180", "--from", "1800", "--to", "1801", "--profile", profile]
    proc = subprocess.run([*OVERDASH, "render", str(fit), str(out), *args, "--workers", "1", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    plan = plan_render(RenderConfig(input=fit, output=out, workers=1, quiet=True, size=(320, 180),
                                    from_time="1800", to_time="1801", profile=profile))
    assert len(plan.job.regions) >= 2
    decoder = ["-c:v", "libvpx-vp9"] if profile == "vp9-alpha" else []
    raw = subprocess.run(["ffmpeg", "-v", "error", *decoder, "-i", str(out), "-fps_mode", "passthrough",
                          "-vf", "scale=in_color_matrix=bt709:in_range=tv,format=rgba", "-f", "rawvideo", "-"],
                         check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 180, 320, 4)
    assert len(frames) == plan.job.count == 31
    for k in (0, 15, 30):
        want = drawn(plan, k)
        if profile == "qtrle":
            assert np.array_equal(frames[k], want)
        else:  # lossy 4:2:0: alpha mostly right, transparent stays transparent
            alpha = np.abs(frames[k][..., 3].astype(int) - want[..., 3])
            assert np.median(alpha) == 0 and alpha.mean() < 4
            assert frames[k][..., 3][want[..., 3] == 0].mean() < 2


def test_bg_is_the_picture_under_the_regions(tmp_path):
    """--bg: the regions laid over an opaque colour instead of transparency, every pixel outside
    them that colour, and the output still one frame per overlay frame."""
    fit = device_file(FIT)
    out = tmp_path / "dash.mov"
    proc = subprocess.run([*OVERDASH, "render", str(fit), str(out), "--size", "320x180", "--from", "1800",
                           "--to", "1801", "--profile", "qtrle", "--bg", "0,128,255,255", "--workers", "1", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    plan = plan_render(RenderConfig(input=fit, output=out, workers=1, quiet=True, size=(320, 180),
                                    from_time="1800", to_time="1801", profile="qtrle", bg=(0, 128, 255, 255)))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-fps_mode", "passthrough", "-f", "rawvideo",
                          "-pix_fmt", "rgba", "-"], check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 180, 320, 4)
    assert len(frames) == plan.job.count
    outside = np.ones((180, 320), bool)
    for r in plan.overlay.placements():
        outside[r.y:r.y + r.height, r.x:r.x + r.width] = False
    assert np.all(frames[:, outside] == (0, 128, 255, 255))
    want = drawn(plan, 10)
    opaque = want[..., 3] == 255
    assert np.array_equal(frames[10][opaque], want[opaque])  # the dashboard on top, as drawn
    assert np.all(frames[..., 3] == 255)


@pytest.mark.parametrize("name, needle", [
    ("dash.webm", "profile 'prores-alpha' cannot write .webm (allowed: .mov)"),  # the repeated-frames path too
    ("dash.mp4", "profile 'prores-alpha' cannot write .mp4 (allowed: .mov)"),
    ("frame-%06d.png", "not image sequences"),
])
def test_an_output_name_the_profile_cannot_write_is_refused_before_anything_runs(tmp_path, name, needle):
    clip = make_sample(tmp_path / "clip", 1, (320, 180))
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / name
    proc = subprocess.run([*OVERDASH, "render", str(clip), str(out), "--profile", "prores-alpha", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"overdash: error: {out}: {needle}" or (
        proc.stderr.count("\n") == 1 and needle in proc.stderr and str(out) in proc.stderr), proc.stderr
    assert list(folder.iterdir()) == []


def test_outputs_keep_the_clip_s_creation_time_and_start_timecode(tmp_path):
    """Editors file a clip by its creation time and line clips up by their start timecode (a GoPro's
    is the time of day it started): the dashboard alone and the composited video keep both. A ProRes
    dashboard, its coded frames relayed through a second ffmpeg, gets the clip's own timecode track."""
    clip = make_sample(tmp_path / "clip", 1, (320, 180))
    tagged = tmp_path / "GX010042.MP4"
    created = "2024-09-11T12:00:00.000000Z"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip), "-map", "0", "-c", "copy", "-timecode", "01:02:03:04",
                    "-metadata", f"creation_time={created}", str(tagged)], check=True)
    for name, args, has_timecode in (("dash-qtrle.mov", ["--generate", "overlay", "--profile", "qtrle"], True),
                                     ("dash-prores.mov", ["--generate", "overlay"], True),
                                     ("over.mp4", ["--profile", "cpu"], True)):
        out = tmp_path / name
        proc = subprocess.run([*OVERDASH, "render", str(tagged), str(out), *args, "-q"], capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stderr
        probe = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_tag_string:stream_tags=timecode:"
             "format_tags=creation_time", "-of", "json", str(out)], capture_output=True, text=True).stdout)
        assert probe["format"]["tags"]["creation_time"] == created, name
        timecodes = {s.get("tags", {}).get("timecode") for s in probe["streams"]} - {None}
        assert timecodes == ({"01:02:03:04"} if has_timecode else set()), name
        assert ("tmcd" in {s["codec_tag_string"] for s in probe["streams"]}) == has_timecode, name
