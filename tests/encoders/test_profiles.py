"""encoders.profiles: built-ins load, and every mistake names the file and the key."""
import json

import pytest

from encoders.profiles import Profile, ProfileError, available_profiles, builtin_dir, builtin_profiles, load_profile
from overdash import InputError

GOOD = {
    "schema": 1, "name": "mine", "description": "test profile", "encoder": "libx264",
    "input_options": [], "output_options": ["-preset", "ultrafast"], "pix_fmt": "yuv420p",
    "audio": "copy", "extensions": ["mp4"], "gpu": None,
}


def write(tmp_path, data, name="mine"):
    path = tmp_path / f"{name}.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_builtins():
    profiles = builtin_profiles()
    assert {"cpu", "cpu-hevc", "nvenc"} <= set(profiles)
    assert profiles["cpu"].encoder == "libx264" and profiles["cpu"].pix_fmt == "yuv420p"
    assert profiles["cpu-hevc"].encoder == "libx265"
    nvenc = profiles["nvenc"]
    assert nvenc.encoder == "h264_nvenc" and nvenc.needs_gpu and nvenc.gpu == "nvidia"
    assert nvenc.input_options == ("-hwaccel", "cuda")
    assert not profiles["cpu"].needs_gpu
    for name, profile in profiles.items():
        assert isinstance(profile, Profile) and profile.name == name
        assert profile.source.parent == builtin_dir()
        assert ("mp4" in profile.extensions) != profile.overlay_only
    expected = {"cpu", "cpu-hevc", "nvenc", "nvenc-hevc", "nvenc-full", "qsv", "vaapi", "videotoolbox",
                "prores-alpha", "vp9-alpha", "png", "qtrle"}
    assert expected <= set(profiles)
    assert profiles["nvenc-full"].compositor == "cuda" and profiles["qsv"].compositor == "qsv"
    assert profiles["vaapi"].hwupload == "vaapi" and profiles["vaapi"].compositor == "cpu"
    assert {n for n, p in profiles.items() if p.overlay_only} == {"prores-alpha", "vp9-alpha", "png", "qtrle"}
    for profile in profiles.values():  # every fallback names a built-in that can write the same files
        if profile.fallback:
            assert set(profile.extensions) <= set(profiles[profile.fallback].extensions)


def test_load_by_name_and_by_path(tmp_path):
    assert load_profile("cpu") == builtin_profiles()["cpu"]
    path = write(tmp_path, GOOD)
    assert load_profile(path).output_options == ("-preset", "ultrafast")
    assert load_profile("mine", dirs=[tmp_path]).source == path


def test_user_dir_shadows_builtin(tmp_path):
    write(tmp_path, {**GOOD, "name": "cpu", "encoder": "libx265"}, name="cpu")
    assert load_profile("cpu", dirs=[tmp_path, builtin_dir()]).encoder == "libx265"
    assert "cpu" in available_profiles([tmp_path, builtin_dir()])


def test_unknown_name_lists_available():
    with pytest.raises(ProfileError, match=r"^nosuch: no such profile \(available: .*cpu.*\)$"):
        load_profile("nosuch")


@pytest.mark.parametrize("change, key, problem", [
    ({"encoder": 3}, "encoder", "non-empty string"),
    ({"encoder": "lib x264"}, "encoder", "not an ffmpeg name"),
    ({"name": "other"}, "name", "does not match the file name"),
    ({"extensions": [".mp4"]}, "extensions", "no leading dot"),
    ({"extensions": []}, "extensions", "non-empty list"),
    ({"output_options": "-crf 20"}, "output_options", "list of non-empty strings"),
    ({"output_options": ["-c:v", "libx265"]}, "output_options", "-c:v is set by overdash"),
    ({"output_options": ["-crf", "20", "-crf", "22"]}, "output_options", "-crf is given twice"),
    ({"output_options": ["veryfast"]}, "output_options", "must start with an option flag"),
    ({"input_options": ["-i", "x.mp4"]}, "input_options", "-i is set by overdash"),
    ({"gpu": "voodoo"}, "gpu", "must be null or one of"),
    ({"schema": 2}, "schema", "unsupported version"),
    ({"colour": "red"}, "colour", "unknown key"),
    ({"compositor": "opencl"}, "compositor", "must be one of cpu, cuda, qsv, vaapi"),
    ({"compositor": "cuda"}, "input_options", "needs a device: -init_hw_device"),
    ({"hwupload": "cuda"}, "hwupload", "must be null or one of vaapi"),
    ({"hwupload": "vaapi"}, "input_options", "-vaapi_device"),
    ({"hwupload": "vaapi", "compositor": "qsv", "input_options": ["-init_hw_device", "qsv=q"]},
     "hwupload", "only for the cpu compositor"),
    ({"overlay_only": "yes"}, "overlay_only", "true or false"),
    ({"overlay_only": True, "extensions": ["mov"]}, "pix_fmt", "has no alpha channel"),
    ({"overlay_only": True, "pix_fmt": "yuva420p"}, "extensions", "'mp4' is not one of mov, mkv, webm, png"),
    ({"extensions": ["webm"]}, "extensions", "webm and png need overlay_only"),
    ({"fallback": "mine"}, "fallback", "another profile"),
    ({"fallback": 3}, "fallback", "another profile"),
])
def test_invalid_profiles_name_file_and_key(tmp_path, change, key, problem):
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    message = str(err.value)
    assert message.startswith(f"{path}: key '{key}': ") and problem in message
    assert "\n" not in message and isinstance(err.value, InputError)


def test_missing_key(tmp_path):
    data = dict(GOOD)
    del data["pix_fmt"]
    with pytest.raises(ProfileError, match=r"mine\.json: key 'pix_fmt': missing"):
        load_profile(write(tmp_path, data))


def test_bad_json_and_missing_file(tmp_path):
    with pytest.raises(ProfileError, match=r"mine\.json: invalid JSON at line 1"):
        load_profile(write(tmp_path, "{nope"))
    with pytest.raises(ProfileError, match=r"mine\.json: a profile must be a JSON object"):
        load_profile(write(tmp_path, "[]"))
    with pytest.raises(ProfileError, match=r"gone\.json: no such profile file"):
        load_profile(tmp_path / "gone.json")


def test_defaults(tmp_path):
    data = {k: v for k, v in GOOD.items() if k not in ("schema", "input_options", "audio", "gpu")}
    profile = load_profile(write(tmp_path, data))
    assert profile.input_options == () and profile.audio == "copy" and profile.gpu is None
