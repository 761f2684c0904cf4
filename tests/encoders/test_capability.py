"""encoders.capability: real one-frame encodes, the per-machine cache, and 'auto'."""
import json
import os
import shutil
import sys

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
    assert full[full.index("-init_hw_device") + 1] == "cuda=gpu:0" and "-hwaccel" not in full
    assert "overlay_cuda=" in graph and graph.count("hwupload") == 2 and "[vout]" in graph
    assert full[full.index("-c:v") + 1] == "h264_nvenc" and full[full.index("-cq") + 1] == "21"
    qsv = check_argv(profiles["qsv"])
    assert "overlay_qsv=" in qsv[qsv.index("-filter_complex") + 1]
    vaapi = check_argv(profiles["vaapi"])
    assert vaapi[vaapi.index("-vaapi_device") + 1] == "/dev/dri/renderD128"
    assert vaapi[vaapi.index("-filter_complex") + 1].endswith("format=nv12,hwupload[vout]")
    assert "-pix_fmt" not in vaapi
    cpu = check_argv(profiles["cpu"])
    assert "-filter_complex" not in cpu and cpu[cpu.index("-pix_fmt") + 1] == "yuv420p"
    assert required_filters(profiles["nvenc-full"]) == ("overlay_cuda", "scale_cuda", "hwupload")
    assert required_filters(profiles["cpu"]) == ()
    assert {"overlay", "overlay_cuda", "hwupload"} <= available_filters("ffmpeg")


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
