"""encoders.capability: real one-frame encodes, the per-machine cache, and 'auto'."""
import json

import pytest

from overdash import OverdashError
from encoders.capability import (choose_profile, default_cache_path, encoder_works,
                                 ffmpeg_identity)
from encoders.profiles import builtin_dir


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_path_follows_xdg(cache_home):
    assert default_cache_path() == cache_home / "overdash" / "capabilities.json"


def test_libx264_works_and_is_cached(cache_home):
    assert encoder_works("ffmpeg", "libx264") == (True, "ok")
    cache = json.loads(default_cache_path().read_text())
    key = ffmpeg_identity("ffmpeg")
    assert key.startswith("/") and "ffmpeg version" in key
    assert cache[key]["libx264"]["ok"] is True


def test_cached_answer_is_used_and_refresh_rechecks(cache_home):
    encoder_works("ffmpeg", "libx264")
    path = default_cache_path()
    cache = json.loads(path.read_text())
    key = ffmpeg_identity("ffmpeg")
    cache[key]["libx264"] = {"ok": False, "reason": "planted", "checked": 9e18}
    path.write_text(json.dumps(cache))
    assert encoder_works("ffmpeg", "libx264") == (False, "planted")
    assert encoder_works("ffmpeg", "libx264", refresh=True) == (True, "ok")


def test_stale_failures_are_rechecked(cache_home):
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
    """No GPU on these machines: nvenc fails with ffmpeg's own reason, cpu is chosen."""
    nvenc_ok, nvenc_reason = encoder_works("ffmpeg", "h264_nvenc")
    choice = choose_profile("auto")
    if nvenc_ok:
        assert choice.profile.name == "nvenc" and choice.reason is None
    else:
        assert choice.profile.name == "cpu"
        assert choice.reason == f"nvenc unavailable: {nvenc_reason} — using cpu"
        assert "\n" not in choice.reason


def test_auto_fallback_reason_is_deterministic(tmp_path):
    (tmp_path / "bogus.json").write_text(json.dumps({
        "name": "bogus", "description": "never works", "encoder": "no_such_encoder",
        "pix_fmt": "yuv420p", "extensions": ["mp4"]}))
    choice = choose_profile("auto", candidates=("bogus", "cpu"), dirs=[tmp_path, builtin_dir()])
    assert choice.profile.name == "cpu"
    assert choice.reason == "bogus unavailable: Unknown encoder 'no_such_encoder' — using cpu"
    with pytest.raises(OverdashError, match=r"profile 'bogus': encoder no_such_encoder does not work"):
        choose_profile("bogus", dirs=[tmp_path])
    with pytest.raises(OverdashError, match="no working encoder among bogus"):
        choose_profile("auto", candidates=("bogus",), dirs=[tmp_path])


def test_named_profile_that_works():
    choice = choose_profile("cpu")
    assert choice.profile.encoder == "libx264" and choice.reason is None
