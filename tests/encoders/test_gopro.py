"""gopro-dashboard-overlay's ffmpeg-profiles.json: each entry becomes a Profile; errors name file and key."""
import json

import pytest

from encoders.capability import profile_works
from encoders.command import build_command
from encoders.profiles import ProfileError, available_profiles, gopro_profiles, gopro_profiles_file, load_profile
from tests.encoders.test_command import GOPRO, RGBA

FILE = {
    "nvgpu": {"input": ["-hwaccel", "cuda", "-hwaccel_output_format", "cuda"],
              "filter": "[0:v]scale_cuda=format=yuv420p[mp4_stream];[1:v]format=yuva420p,hwupload"
                        "[overlay_stream];[mp4_stream][overlay_stream]overlay_cuda",
              "output": ["-vcodec", "h264_nvenc", "-rc:v", "cbr", "-b:v", "20M"]},
    "quick": {"input": [], "output": ["-vcodec", "libx264", "-preset", "ultrafast", "-crf", "26",
                                      "-pix_fmt", "yuv420p"]},
    "mac": {"input": ["-hwaccel", "videotoolbox"], "output": ["-c:v", "h264_videotoolbox", "-q:v", "60"]},
}


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_entries_become_profiles(tmp_path):
    path = write(tmp_path / "ffmpeg-profiles.json", FILE)
    profiles = gopro_profiles(path)
    assert list(profiles) == ["nvgpu", "quick", "mac"]
    quick = profiles["quick"]
    assert (quick.encoder, quick.pix_fmt, quick.output_options) == ("libx264", "yuv420p", ("-preset", "ultrafast",
                                                                                           "-crf", "26"))
    assert quick.compositor == "cpu" and quick.source == path and profile_works(quick) == (True, "ok")
    nv = profiles["nvgpu"]   # overlay_cuda in their filter: composite on the GPU, with a device for hwupload
    assert nv.encoder == "h264_nvenc" and nv.compositor == "cuda" and nv.gpu == "nvidia"
    assert nv.input_options[:4] == ("-init_hw_device", "cuda=gpu:0", "-filter_hw_device", "gpu")
    assert "-hwaccel_device" in nv.input_options
    from dataclasses import replace
    limited = replace(GOPRO, pix_fmt="yuv420p")  # a full-range source is converted on the CPU first
    graph = next(t for t in build_command(nv, limited, RGBA, "/o.mp4") if "overlay_cuda" in t)
    assert "hwupload,scale_cuda=format=yuv420p[base]" in graph
    assert profiles["mac"].gpu == "apple" and profiles["mac"].output_options == ("-q:v", "60")


def test_found_in_gopro_config_dir_and_by_file_argument(tmp_path, isolated_home):
    assert gopro_profiles_file() == isolated_home / ".gopro-graphics" / "ffmpeg-profiles.json"
    write(gopro_profiles_file(), FILE)
    assert {"nvgpu", "quick", "cpu"} <= set(available_profiles())
    assert load_profile("quick").encoder == "libx264"
    single = write(tmp_path / "one.json", {"fast": FILE["quick"]})
    assert load_profile(str(single)).name == "fast"
    assert load_profile(f"{gopro_profiles_file()}:mac").encoder == "h264_videotoolbox"
    with pytest.raises(ProfileError, match=r"holds 3 ffmpeg profiles \(nvgpu, quick, mac\): choose one with"):
        load_profile(str(gopro_profiles_file()))
    with pytest.raises(ProfileError, match=r"no profile named 'nope' \(has: nvgpu, quick, mac\)"):
        load_profile(f"{gopro_profiles_file()}:nope")


def test_overdash_user_profile_shadows_gopro_entry(isolated_home):
    write(gopro_profiles_file(), {"cpu": FILE["quick"]})
    assert load_profile("cpu").source == gopro_profiles_file()   # theirs before the built-in
    mine = {"name": "cpu", "description": "mine", "encoder": "libx265", "pix_fmt": "yuv420p", "extensions": ["mp4"]}
    write(isolated_home / ".config" / "overdash" / "profiles" / "cpu.json", mine)  # $XDG_CONFIG_HOME
    assert load_profile("cpu").encoder == "libx265"


@pytest.mark.parametrize("entry, key, problem", [
    ({"output": ["-vcodec", "libx264", "-map", "0:v"]}, "fast.output", "-map is set by overdash"),
    ({"output": ["-preset", "fast"]}, "fast.output", "names no video encoder"),
    ({"output": ["-vcodec"]}, "fast.output", "-vcodec has no value"),
    ({"output": ["-vcodec", "libx264", "-c:v", "libx265"]}, "fast.output", "-c:v is given twice"),
    ({"output": "-vcodec libx264"}, "fast.output", "list of non-empty strings"),
    ({"input": ["-i", "x"], "output": ["-vcodec", "libx264"]}, "fast.input", "-i is set by overdash"),
    ({"input": [], "output": ["-vcodec", "libx264"], "filters": "x"}, "fast.filters", "unknown key"),
    ({"input": []}, "fast.output", "missing"),
    ({"output": ["-vcodec", "libx264"], "filter": 3}, "fast.filter", "non-empty string"),
])
def test_broken_entry_names_file_and_key(tmp_path, entry, key, problem):
    path = write(tmp_path / "ffmpeg-profiles.json", {"good": FILE["quick"], "fast": entry})
    with pytest.raises(ProfileError) as err:
        load_profile(f"{path}:fast")
    assert str(err.value).startswith(f"{path}: key '{key}': ") and problem in str(err.value)
    assert "\n" not in str(err.value)
    assert load_profile(f"{path}:good").encoder == "libx264"   # the others still load


def test_not_a_profiles_file(tmp_path):
    path = write(tmp_path / "ffmpeg-profiles.json", {"fast": ["-vcodec", "libx264"]})
    with pytest.raises(ProfileError, match=r"must be a JSON object of name"):
        gopro_profiles(path)


def test_profiles_command_lists_and_marks(tmp_path, capsys):
    import argparse

    from pipeline.commands.profiles import add_profiles_parser

    write(gopro_profiles_file(), {**FILE, "broken": {"output": ["-preset", "x"]}})
    parser = argparse.ArgumentParser()
    add_profiles_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["profiles"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    lines = {line[2:].split()[0]: line for line in out.splitlines() if line[:1] in "*! " and line[2:3].strip()}
    assert lines["cpu"].startswith("* cpu ") and " works " in lines["cpu"]
    assert " works " in lines["prores-alpha"] and "overlay only" in lines["prores-alpha"]
    assert " no " in lines["videotoolbox"] and "macOS only" in lines["videotoolbox"]
    assert lines["quick"].split()[1] == "works" and "gopro" in lines["quick"]
    assert lines["broken"].startswith("! broken") and "key 'broken.output': names no video encoder" in out
    assert "what --profile auto picks here: cpu" in out
