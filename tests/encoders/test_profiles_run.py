"""Every built-in profile this machine can run, for real: short lavfi clips, checked with ffprobe.

Compositing profiles: codec, pixel format, frame count and audio of the output.
Overlay-only profiles: codec, alpha present (pixel format, and the decoded alpha
equals the alpha sent), frame count, no audio. Profiles that cannot run here
(no GPU) are skipped with ffmpeg's reason; their argv is tested without a GPU
in test_encoders_command.py / test_encoders_capability.py. Also --keep-gpmf on a
real GoPro file.
"""
import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from encoders.alpha import build_overlay_only_command
from encoders.capability import profile_works
from encoders.command import MUXERS, OverlaySpec, build_command, overlay_frames_needed
from encoders.probe import probe_video
from encoders.profiles import builtin_profiles
from overdash import InputError
from tests.encoders.test_command import assert_no_duplicated_flags, split
from tests.encoders.test_run import as_nut, feed, ffprobe_json, make_clip
from tests.support.paths import SHARED_DATA, needs_device_file

pytestmark = pytest.mark.e2e
PROFILES = builtin_profiles()
COMPOSITING = sorted(n for n, p in PROFILES.items() if not p.overlay_only)
OVERLAY_ONLY = sorted((n, e) for n, p in PROFILES.items() if p.overlay_only for e in p.extensions)
CODEC = {"libx264": "h264", "h264_nvenc": "h264", "h264_qsv": "h264", "h264_vaapi": "h264",
         "h264_videotoolbox": "h264", "libx265": "hevc", "hevc_nvenc": "hevc", "prores_ks": "prores",
         "prores_aw": "prores", "libvpx-vp9": "vp9", "png": "png", "qtrle": "qtrle"}
GOPRO_SAMPLE = SHARED_DATA / "gopro" / "max-heromode.mp4"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    src = tmp_path_factory.mktemp("clip") / "source.mp4"
    make_clip(src, 1, creation_time="2021-06-01T10:00:00.000000Z")
    return probe_video(src)


def runnable(profile):
    ok, reason = profile_works(profile)
    if not ok:
        pytest.skip(f"{profile.name} cannot run here: {reason}")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.gpu) if PROFILES[n].needs_gpu else n
                                  for n in COMPOSITING])
def test_compositing_profile_real_encode(name, clip, tmp_path):
    profile = PROFILES[name]
    runnable(profile)
    spec = OverlaySpec(x=40, y=60, width=64, height=32, fps_num=clip.fps_num, fps_den=clip.fps_den)
    out = tmp_path / "out.mp4"
    frame = np.broadcast_to(np.array([255, 0, 0, 200], np.uint8), (32, 64, 4)).tobytes()
    feed(build_command(profile, clip, spec, tmp_path / ".partial.mp4", final_path=out),
         as_nut([frame] * overlay_frames_needed(clip, spec), (64, 32), clip.fps_num, clip.fps_den))
    info = ffprobe_json(tmp_path / ".partial.mp4")
    streams = {s["codec_type"]: s for s in info["streams"]}
    video = streams["video"]
    assert video["codec_name"] == CODEC[profile.encoder]
    assert video["pix_fmt"] == ("yuv420p" if profile.pix_fmt in ("nv12", "yuv420p") else profile.pix_fmt)
    assert int(video["nb_read_frames"]) == clip.frame_count == 30
    assert streams["audio"]["codec_name"] == "aac"
    assert info["format"]["tags"]["creation_time"] == "2021-06-01T10:00:00.000000Z"


def test_gpu_profiles_are_skipped_here_for_a_reason():
    """This machine has no GPU: what auto skips must also be what the real encodes skip."""
    for name in ("nvenc", "nvenc-full", "nvenc-hevc", "qsv", "vaapi", "videotoolbox"):
        ok, reason = profile_works(PROFILES[name])
        assert ok or reason, name


def alpha_frames(width, height, n):
    """n RGBA frames: a colour bar whose alpha ramps across the picture, moving each frame."""
    frames = []
    ramp = np.linspace(0, 255, width).astype(np.uint8)
    for k in range(n):
        f = np.zeros((height, width, 4), np.uint8)
        f[..., 0], f[..., 1], f[..., 2] = 255, (k * 20) % 256, 40
        f[..., 3] = np.roll(ramp, k * 3)[None, :]
        f[: height // 4, :, 3] = 0          # a fully transparent band
        frames.append(f)
    return frames


def decode_rgba(path, width, height, vp9=False):
    argv = ["ffmpeg", "-v", "error", *(["-c:v", "libvpx-vp9"] if vp9 else []), "-i", str(path),
            "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "-"]
    raw = subprocess.run(argv, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 4)


@pytest.mark.parametrize("name, ext", [
    pytest.param(n, e, id=f"{n}-{e}", marks=[pytest.mark.gpu] if PROFILES[n].needs_gpu else [])
    for n, e in OVERLAY_ONLY])
def test_overlay_only_profile_real_encode_keeps_alpha(name, ext, tmp_path):
    profile = PROFILES[name]
    runnable(profile)
    width, height, n = 96, 64, 12
    if ext == "png":
        folder = tmp_path / "frames"
        folder.mkdir()
        out = folder / "frame-%06d.png"
    else:
        out = tmp_path / f"dash.{ext}"
    argv = build_overlay_only_command(profile, (width, height), Fraction(30000, 1001), out)
    assert argv[argv.index("-f", argv.index("pipe:0")) + 1] == MUXERS[ext]
    frames = alpha_frames(width, height, n)
    # without regions and a count the command encodes every frame it gets: no tail
    feed(argv, as_nut([f.tobytes() for f in frames], (width, height), 30000, 1001, tail=False))
    if ext == "png":
        files = sorted(folder.iterdir())
        assert [f.name for f in files] == [f"frame-{k:06d}.png" for k in range(1, n + 1)]
        probe = ffprobe_json(files[0])["streams"][0]
        assert probe["codec_name"] == "png" and probe["pix_fmt"] == "rgba"
        decoded = np.stack([decode_rgba(f, width, height)[0] for f in files])
    else:
        info = ffprobe_json(out)
        assert [s["codec_type"] for s in info["streams"]] == ["video"]       # no audio, nothing else
        video = info["streams"][0]
        assert video["codec_name"] == CODEC[profile.encoder]
        assert int(video["nb_read_frames"]) == n
        assert Fraction(video["r_frame_rate"]) == Fraction(30000, 1001)
        if name == "vp9-alpha":   # the alpha plane is a side stream, flagged in the track
            assert video["pix_fmt"] == "yuv420p" and video["tags"]["alpha_mode"] == "1"
        elif name == "prores-alpha":  # ffmpeg's ProRes 4444 decoder reports 12 bits; the alpha plane is what counts
            assert video["pix_fmt"].startswith("yuva444p") and video["codec_tag_string"] == "ap4h"
        else:
            assert video["pix_fmt"] == profile.pix_fmt                      # rgba, argb
        decoded = decode_rgba(out, width, height, vp9=name == "vp9-alpha")
    assert len(decoded) == n
    sent = np.stack(frames)
    lossless = name in ("png", "qtrle")
    tolerance = 0 if lossless else 12
    assert np.abs(decoded[..., 3].astype(int) - sent[..., 3]).max() <= tolerance
    assert decoded[:, : height // 4 - 2, :, 3].max() <= tolerance          # transparent stays transparent
    opaque = sent[..., 3] == 255
    assert np.abs(decoded[..., 0].astype(int) - 255)[opaque].max() <= (0 if lossless else 12)


def test_overlay_only_argv_properties(tmp_path):
    for (name, ext) in OVERLAY_ONLY:
        profile = PROFILES[name]
        out = tmp_path / ("f-%04d.png" if ext == "png" else f"o.{ext}")
        argv = build_overlay_only_command(profile, (1920, 1080), 30, tmp_path / f".tmp.{ext}", final_path=out) \
            if ext != "png" else build_overlay_only_command(profile, (1920, 1080), 30, out)
        groups, inputs, _ = split(argv)
        assert inputs == ["pipe:0"]
        assert_no_duplicated_flags(groups)
        pipe, output = groups
        # NUT, as every overlay crosses: size, rgba and frame rate are in its stream header
        assert pipe[pipe.index("-f") + 1] == "nut" and not {"-pix_fmt", "-s", "-framerate"} & set(pipe)
        assert argv.count("-c:v") == 1 and output[output.index("-c:v") + 1] == profile.encoder
        assert output[output.index("-pix_fmt") + 1] == profile.pix_fmt
        assert [output[i + 1] for i, t in enumerate(output) if t == "-map"] == ["0:v"] and "-an" in output
        assert "-filter_complex" not in argv and "-map_metadata" not in argv
    with pytest.raises(InputError, match="composites onto the source video"):
        build_overlay_only_command(PROFILES["cpu"], (64, 64), 30, tmp_path / "x.mov")
    with pytest.raises(InputError, match="writes the overlay alone"):
        build_command(PROFILES["prores-alpha"], replace(probe_like(), path=Path("/v.mp4")),
                      OverlaySpec(0, 0, 8, 8, 30), "/o.mov")
    with pytest.raises(InputError, match=r"\.mp4: profile 'prores-alpha' cannot write \.mp4"):
        build_overlay_only_command(PROFILES["prores-alpha"], (64, 64), 30, tmp_path / "x.mp4")
    with pytest.raises(InputError, match="numbered name pattern"):
        build_overlay_only_command(PROFILES["png"], (64, 64), 30, tmp_path / "x.png")


def probe_like():
    from tests.encoders.test_command import GOPRO
    return GOPRO


@needs_device_file("gopro/max-heromode.mp4")
def test_keep_gpmf_real_run(tmp_path):
    video = probe_video(GOPRO_SAMPLE)
    assert video.gpmd_stream == 3
    fast = replace(PROFILES["cpu"], output_options=("-preset", "ultrafast"))
    spec = OverlaySpec(x=0, y=0, width=64, height=32, fps_num=10)
    out = tmp_path / ".partial.mp4"
    argv = build_command(fast, video, spec, out, final_path=tmp_path / "ride.mp4", keep_gpmf=True)
    assert argv[argv.index("-map", argv.index("0:a?")) + 1] == "0:3"
    frame = np.zeros((32, 64, 4), np.uint8).tobytes()
    feed(argv, as_nut([frame] * overlay_frames_needed(video, spec), (64, 32), spec.fps_num, spec.fps_den))
    streams = ffprobe_json(out)["streams"]
    gpmd = [s for s in streams if s.get("codec_tag_string") == "gpmd"]
    assert len(gpmd) == 1 and gpmd[0]["codec_type"] == "data"
    assert [s["codec_type"] for s in streams].count("video") == 1

    def payloads(path, index):
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", f"0:{index}", "-c", "copy",
                              "-f", "data", "-"], capture_output=True, check=True).stdout
        return raw
    assert payloads(out, gpmd[0]["index"]) == payloads(GOPRO_SAMPLE, 3)   # every GPMF byte kept
    assert probe_video(out).gpmd_stream == gpmd[0]["index"]             # our own reader finds it again
    # without the flag, no telemetry track
    plain = build_command(fast, video, spec, out)
    assert "-copy_unknown" not in plain and "0:3" not in plain


def test_keep_gpmf_errors():
    from tests.encoders.test_command import GOPRO, RGBA
    with pytest.raises(InputError, match=r"ride\.mkv: --keep-gpmf needs \.mp4 or \.mov"):
        build_command(PROFILES["cpu"], GOPRO, RGBA, "/t.mkv", final_path="ride.mkv", keep_gpmf=True)
    with pytest.raises(InputError, match="no GPMF"):
        build_command(PROFILES["cpu"], replace(GOPRO, gpmd_stream=None), RGBA, "/o.mp4", keep_gpmf=True)
    argv = build_command(PROFILES["cpu"], GOPRO, RGBA, "/o.mov", keep_gpmf=True)
    i = argv.index("-c:d")
    assert argv[i:i + 5] == ["-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd"]
