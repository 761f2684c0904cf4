"""encoders.capability: real one-frame encodes, the per-machine cache, and 'auto'."""
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from encoders.capability import (
    AUTO_CANDIDATES,
    GRAPH_SCRIPT_OPTIONS,
    available_filters,
    check_argv,
    choose_profile,
    default_cache_path,
    encoder_works,
    ffmpeg_identity,
    graph_script_option,
    profile_works,
    required_filters,
)
from encoders.profiles import builtin_dir, builtin_profiles
from overdash import OverdashError

pytestmark = pytest.mark.usefixtures("fresh_cache")  # every test here checks the cache itself


def test_cache_path_follows_xdg(fresh_cache):
    assert default_cache_path() == fresh_cache / "overdash" / "capabilities.json"


def test_libx264_works_and_is_cached(fresh_cache):
    assert encoder_works("ffmpeg", "libx264") == (True, "ok")
    cache = json.loads(default_cache_path().read_text())
    key = ffmpeg_identity("ffmpeg")
    ffmpeg = shutil.which("ffmpeg")
    assert key.startswith("/") and f"|{os.stat(ffmpeg).st_size}|" in key
    assert cache[key]["libx264"]["ok"] is True


def test_a_replaced_ffmpeg_is_a_new_cache_key(tmp_path):
    """The key is the binary's path, size and mtime: no ffmpeg run per check, still never stale."""
    copy = tmp_path / "ffmpeg"
    shutil.copy2(shutil.which("ffmpeg"), copy)
    before = ffmpeg_identity(str(copy))
    os.utime(copy, ns=(0, 10**18))
    assert ffmpeg_identity(str(copy)) != before


def test_cached_answer_is_used_and_refresh_rechecks(fresh_cache):
    encoder_works("ffmpeg", "libx264")
    path = default_cache_path()
    cache = json.loads(path.read_text())
    key = ffmpeg_identity("ffmpeg")
    cache[key]["libx264"] = {"ok": False, "reason": "planted", "checked": 9e18}
    path.write_text(json.dumps(cache))
    assert encoder_works("ffmpeg", "libx264") == (False, "planted")
    assert encoder_works("ffmpeg", "libx264", refresh=True) == (True, "ok")


def test_stale_failures_are_rechecked(fresh_cache):
    encoder_works("ffmpeg", "libx264")
    path = default_cache_path()
    cache = json.loads(path.read_text())
    cache[ffmpeg_identity("ffmpeg")]["libx264"] = {"ok": False, "reason": "old", "checked": 0}
    path.write_text(json.dumps(cache))
    assert encoder_works("ffmpeg", "libx264") == (True, "ok")


def test_damaged_cache_is_ignored(tmp_path):
    path = tmp_path / "caps.json"
    path.write_text("{broken")
    assert encoder_works("ffmpeg", "libx264", cache_path=path) == (True, "ok")
    assert json.loads(path.read_text())


def test_unknown_encoder_reason():
    ok, reason = encoder_works("ffmpeg", "no_such_encoder")
    assert not ok and reason == "Unknown encoder 'no_such_encoder'"


def test_missing_ffmpeg(tmp_path):
    with pytest.raises(OverdashError, match="not found; install ffmpeg"):
        encoder_works(str(tmp_path / "ffmpeg"), "libx264")


def test_auto_falls_back_to_cpu_here():
    """No GPU on these machines: every GPU candidate fails with ffmpeg's own reason, cpu is chosen."""
    nvenc_ok, nvenc_reason = encoder_works("ffmpeg", "h264_nvenc")
    choice = choose_profile("auto")
    if nvenc_ok:
        pytest.skip("this machine has a working NVENC")
    assert AUTO_CANDIDATES == ("nvenc-full", "nvenc", "qsv", "vaapi", "videotoolbox", "cpu")
    assert choice.profile.name == "cpu" and choice.notice is None
    assert choice.reason.startswith(f"nvenc-full, nvenc unavailable: {nvenc_reason.rstrip('.')}; qsv unavailable: ")
    assert "vaapi unavailable: " in choice.reason and choice.reason.endswith(" — using cpu")
    assert "\n" not in choice.reason


def test_profile_works_for_every_builtin():
    profiles = builtin_profiles()
    for name in ("cpu", "cpu-hevc", "prores-alpha", "vp9-alpha", "png", "qtrle"):
        assert profile_works(profiles[name]) == (True, "ok"), name
    ok, reason = profile_works(profiles["videotoolbox"])
    assert ok == sys.platform.startswith("darwin") and (ok or reason == "h264_videotoolbox exists on macOS only")
    for name in ("nvenc", "nvenc-full", "qsv", "vaapi"):
        ok, reason = profile_works(profiles[name])
        assert ok or (reason and "\n" not in reason and not reason.endswith(".")), (name, reason)


def test_check_argv_runs_the_profiles_own_gpu_path():
    profiles = builtin_profiles()
    full = check_argv(profiles["nvenc-full"])
    graph = full[full.index("-filter_complex") + 1]
    # hardware decoding of a one-frame sample file, CUDA frames kept on the GPU, as the render does
    assert full[full.index("-init_hw_device") + 1] == "cuda=gpu:0" and full[full.index("-hwaccel") + 1] == "cuda"
    assert full[full.index("-hwaccel_output_format") + 1] == "cuda"
    assert full[full.index("-i") + 1] == "/overdash-check/sample.mkv"
    assert "[0:0]hwupload,scale_cuda=format=yuv420p[base]" in graph and "overlay_cuda=" in graph
    assert full[full.index("-c:v") + 1] == "h264_nvenc" and full[full.index("-cq") + 1] == "21"
    qsv = check_argv(profiles["qsv"])
    assert "premultiply=inplace=1,hwupload" in qsv[qsv.index("-filter_complex") + 1]
    vaapi = check_argv(profiles["vaapi"])
    assert vaapi[vaapi.index("-vaapi_device") + 1] == "/dev/dri/renderD128"
    assert "format=nv12,hwupload[vout]" in vaapi[vaapi.index("-filter_complex") + 1]
    assert "-pix_fmt" not in vaapi
    cpu = check_argv(profiles["cpu"])
    assert cpu[cpu.index("-pix_fmt") + 1] == "yuv420p" and "overlay=" in cpu[cpu.index("-filter_complex") + 1]
    assert required_filters(profiles["nvenc-full"]) == ("overlay_cuda", "scale_cuda", "hwupload")
    assert required_filters(profiles["cpu"]) == ()
    assert {"overlay", "overlay_cuda", "hwupload"} <= available_filters("ffmpeg")


@pytest.mark.parametrize("name", ["nvenc-full", "nvenc-full-hevc", "nvenc", "qsv", "vaapi", "cpu"])
@pytest.mark.parametrize("pix_fmt, color_range", [("yuvj420p", None), ("yuv420p", "tv"), ("yuv422p10le", "tv")])
def test_the_check_runs_the_renders_argv(name, pix_fmt, color_range):
    """The capability check is the render's argv: same device and decoder options, same graph,
    same encoder options, with a one-frame sample of the source's kind in place of the video
    (a file where the render decodes on the GPU) and a lavfi colour in place of the NUT pipe."""
    from dataclasses import replace

    from encoders.command import OverlaySpec, build_command, composite_nut_input
    from encoders.probe import VideoInfo
    from encoders.render_check import OVERLAY, sample_video

    profile = builtin_profiles()[name]
    video = VideoInfo(path=Path("/v/GX010001.MP4"), width=1920, height=1080, fps_num=30000, fps_den=1001,
                      frame_count=300, duration=10.01, start_time=0.0, has_audio=True, audio_codec="aac",
                      video_codec="h264", pix_fmt=pix_fmt, creation_time=None, rotation=0, gpmd_stream=3,
                      color_range=color_range)
    check = check_argv(profile, video=video, workdir=Path("/w"))
    x, y, w, h = OVERLAY
    pix = "yuva420p" if "yuva420p" in check[check.index("-filter_complex") - 1] else "rgba"
    sample = sample_video(video)
    on_gpu = "-hwaccel" in profile.input_options
    render = build_command(profile, replace(sample, path=Path("/w/sample.mkv") if on_gpu else Path("lavfi")),
                           OverlaySpec(x, y, w, h, 30000, 1001, pix), Path("/w") / f"check.{profile.extensions[0]}")
    assert check[check.index("-filter_complex") + 1] == render[render.index("-filter_complex") + 1]
    assert check[check.index("-filter_complex"):] == render[render.index("-filter_complex"):]
    nut = list(composite_nut_input(1920, 1080, pix))
    start = next(i for i in range(len(render)) if render[i:i + len(nut)] == nut)
    before = render[:start]
    if on_gpu:
        assert check[:start + 1] == [render[0], "-nostdin", *render[1:start]]  # same decoder, the sample file
    else:
        assert check[check.index("-i") + 1].startswith("testsrc2=size=1920x1080:rate=30000/1001:duration=")
        assert check[check.index("-i") + 1].split(",")[1] == f"format={pix_fmt}"
        assert before[-2:] == ["-i", "lavfi"]
    assert "pipe:0" not in check


def test_missing_filter_is_the_reason(monkeypatch):
    from encoders import capability

    monkeypatch.setattr(capability, "available_filters", lambda ffmpeg: frozenset({"overlay"}))
    assert profile_works(builtin_profiles()["nvenc-full"]) == (
        False, "this ffmpeg has no overlay_cuda, scale_cuda, hwupload filter")


def test_auto_fallback_reason_is_deterministic(tmp_path):
    (tmp_path / "bogus.json").write_text(json.dumps({
        "name": "bogus", "description": "never works", "encoder": "no_such_encoder",
        "pix_fmt": "yuv420p", "extensions": ["mp4"]}))
    choice = choose_profile("auto", candidates=("bogus", "cpu"), dirs=[tmp_path, builtin_dir()])
    assert choice.profile.name == "cpu"
    assert choice.reason == "bogus unavailable: Unknown encoder 'no_such_encoder' — using cpu"
    with pytest.raises(OverdashError, match=r"profile 'bogus' does not work here \(Unknown encoder"):
        choose_profile("bogus", dirs=[tmp_path])
    with pytest.raises(OverdashError, match="no working profile among bogus"):
        choose_profile("auto", candidates=("bogus",), dirs=[tmp_path])


def test_named_profile_that_works():
    choice = choose_profile("cpu")
    assert choice.profile.encoder == "libx264" and choice.reason is None


def test_graph_script_option_is_one_this_ffmpeg_reads(fresh_cache, tmp_path):
    """The option render starts ffmpeg with before its graph exists: ffmpeg must really read the
    graph through it (checked here with a graph whose effect shows), and the answer is cached."""
    import subprocess

    option = graph_script_option("ffmpeg")
    assert option in GRAPH_SCRIPT_OPTIONS
    script, out = tmp_path / "graph.txt", tmp_path / "small.mp4"
    script.write_text("[0:v]scale=64:48[v]")
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=size=320x240:duration=0.1",
                    option, str(script), "-map", "[v]", str(out)], check=True)
    size = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0",
                           str(out)], capture_output=True, text=True, check=True).stdout.strip()
    assert size == "64,48"
    cache = json.loads(default_cache_path().read_text())[ffmpeg_identity("ffmpeg")]
    assert cache[f"graph-script:{option}"]["ok"] is True


@pytest.mark.parametrize("refused, expected", [
    (("-/filter_complex",), "-filter_complex_script"),      # ffmpeg 4.x - 6.x
    (GRAPH_SCRIPT_OPTIONS, None),                          # neither: render keeps the graph in argv
])
def test_graph_script_option_of_an_ffmpeg_that_refuses(tmp_path, refused, expected):
    fake = tmp_path / "ffmpeg"
    cases = "|".join(refused)
    fake.write_text(f"""#!/bin/sh
for a; do case "$a" in {cases}) echo "Unrecognized option '$a'." >&2; exit 8;; esac; done
exec {shutil.which("ffmpeg")} "$@"
""")
    fake.chmod(0o755)
    assert graph_script_option(str(fake)) == expected


@pytest.mark.parametrize("size", [(64, 36), (16, 16), (2, 2)])
def test_a_picture_smaller_than_the_checks_overlay_is_checked_too(size, fresh_cache):
    """The check's region (OVERLAY, 64x32 at 16,16) is cut to fit a tiny source instead of
    failing the render with a traceback; the check then really runs."""
    from encoders.probe import VideoInfo

    w, h = size
    video = VideoInfo(path=Path("/v/tiny.mp4"), width=w, height=h, fps_num=10, fps_den=1, frame_count=10,
                      duration=1.0, start_time=0.0, has_audio=False, audio_codec=None, video_codec="h264",
                      pix_fmt="yuv420p", creation_time=None, rotation=0, gpmd_stream=None)
    check = check_argv(builtin_profiles()["cpu"], video=video, workdir=Path("/w"))
    graph = check[check.index("-filter_complex") + 1]
    assert f"size={min(64, w - min(16, w // 4 & ~1))}x" in check[check.index("-i", check.index("-i") + 1) + 1]
    assert "overlay=x=" in graph
    assert profile_works(builtin_profiles()["cpu"], video=video) == (True, "ok")
