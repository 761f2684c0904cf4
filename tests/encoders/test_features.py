"""encoders.features: each ffmpeg generation's spellings reach every argv overdash builds (no ffmpeg runs)."""
from dataclasses import replace
from pathlib import Path

import pytest

from encoders.alpha import build_overlay_only_command
from encoders.capability import check_argv
from encoders.command import build_command, build_transcode_command, overlay_graph
from encoders.features import (
    FFMPEG_4,
    FFMPEG_5,
    FFMPEG_7,
    FFMPEG_9,
    MODERN,
    FfmpegFeatures,
    FfmpegTooOld,
    features_from,
    parse_version,
    require_supported,
)
from encoders.profiles import builtin_profiles
from overdash import OverdashError
from tests.encoders.test_command import GOPRO, RGBA, STREAMS

PROFILES = builtin_profiles()
GENERATIONS = [FFMPEG_4, FFMPEG_5, FFMPEG_7, FFMPEG_9]
ids = [f.version_text for f in GENERATIONS]


def fps_options(argv):
    return [(tok, argv[i + 1]) for i, tok in enumerate(argv[:-1]) if tok in ("-fps_mode", "-vsync")]


@pytest.mark.parametrize("features", GENERATIONS, ids=ids)
def test_every_argv_uses_this_ffmpegs_fps_option(features, tmp_path):
    """4.x knows only -vsync, 9.0 only -fps_mode: one spelling, in every argv, the check's included."""
    expected = [(features.fps_option, "passthrough")]
    cpu = PROFILES["cpu"]
    assert fps_options(build_command(cpu, GOPRO, STREAMS, "/o.mp4", features=features)) == expected
    assert fps_options(build_command(cpu, GOPRO, STREAMS, "/o.mp4", features=features,
                                     graph_via=(features.graph_script or "-filter_complex", "pipe:5"))) == expected
    assert fps_options(build_transcode_command(cpu, GOPRO, "/o.mp4", features=features)) == expected
    assert fps_options(build_overlay_only_command(PROFILES["prores-alpha"], (64, 64), 30, tmp_path / "x.mov",
                                                  features=features)) == expected
    for name in ("cpu", "nvenc", "nvenc-full", "prores-alpha"):  # the one-frame check runs like the render
        assert fps_options(check_argv(PROFILES[name], features=features)) == expected


def test_the_default_is_ffmpeg_5_1_and_later():
    assert MODERN.passthrough() == ["-fps_mode", "passthrough"]
    argv = build_command(PROFILES["cpu"], GOPRO, RGBA, "/o.mp4")
    assert fps_options(argv) == [("-fps_mode", "passthrough")]


@pytest.mark.parametrize("features, blend", [(FFMPEG_4, "auto"), (FFMPEG_5, "yuv420p10"), (FFMPEG_9, "yuv420p10")],
                         ids=["4.2.2", "5.1", "9.0.2"])
def test_ten_bit_sources_blend_with_what_this_overlay_filter_has(features, blend):
    """overlay's format=yuv420p10 arrived after 4.x: there ffmpeg picks the blend format (auto)."""
    ten_bit = replace(GOPRO, pix_fmt="yuv420p10le", video_codec="hevc")
    graph = overlay_graph(PROFILES["cpu"], ten_bit, RGBA, features)
    assert f"format={blend}" in graph
    assert "yuva420p10le" in graph if blend != "auto" else "yuva420p10le" not in graph
    # 8-bit sources blend the same everywhere
    assert ":format=yuv420[" in overlay_graph(PROFILES["cpu"], GOPRO, RGBA, features).replace("[vout]", "[")


@pytest.mark.parametrize("banner, version", [
    ("ffmpeg version 4.2.2-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2019", (4, 2, 2)),
    ("ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026 the FFmpeg developers", (5, 1, 9)),
    ("ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright (c) 2000-2026", (9, 0, 2)),
    ("ffmpeg version 7.1 Copyright (c) 2000-2024 the FFmpeg developers", (7, 1)),
    ("ffmpeg version N-113000-g1a2b3c4d5e Copyright (c) 2000-2024", None),   # a git build
])
def test_parse_version(banner, version):
    assert parse_version(banner) == version


def test_features_from_help_text():
    """The fps option is read from the option list; 10-bit blending from the release."""
    old = features_from("ffmpeg version 4.2.2-static\n-vsync              video sync method\n",
                        "-filter_complex_script")
    assert old == FFMPEG_4
    new = features_from("ffmpeg version n9.0.2-17-g2a5\n-fps_mode[:<stream_spec>]  set framerate mode\n",
                        "-/filter_complex")
    assert new == FFMPEG_9
    git = features_from("ffmpeg version N-113000-g1a2b\n-fps_mode[:<stream_spec>]  set framerate mode\n", None)
    assert git.version is None and git.fps_option == "-fps_mode" and git.ten_bit_blend


def test_round_trip_through_the_cache_format():
    for features in [*GENERATIONS, FfmpegFeatures(None, "-fps_mode", None)]:
        assert FfmpegFeatures.from_json(features.to_json()) == features


def test_too_old_is_one_line_naming_the_version_needed():
    with pytest.raises(FfmpegTooOld) as exc:
        require_supported(FfmpegFeatures((4, 1, 6), "-vsync", "-filter_complex_script", False), "/usr/bin/ffmpeg")
    assert str(exc.value) == "ffmpeg 4.1.6 at /usr/bin/ffmpeg is too old: overdash needs ffmpeg 4.2 or newer"
    assert isinstance(exc.value, OverdashError)
    for ok in [*GENERATIONS, FfmpegFeatures(None)]:
        assert require_supported(ok, "ffmpeg") is ok


def test_the_makefile_pins_the_builds_the_tests_know():
    from tests.support.ffmpeg_builds import BUILDS

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    line = next(ln for ln in makefile.splitlines() if ln.startswith("FFMPEG_BUILDS :="))
    assert line.split(":=")[1].split() == sorted(BUILDS)


COMPOSITING = sorted(name for name, p in PROFILES.items() if not p.overlay_only)


@pytest.mark.parametrize("features", GENERATIONS, ids=ids)
@pytest.mark.parametrize("name", COMPOSITING)
def test_every_hardware_profile_builds_for_every_generation(name, features):
    """Each compositing profile's render argv on each ffmpeg: its fps spelling, its graph in one
    -filter_complex, and the GPU compositors' uploads where they read software frames."""
    argv = build_command(PROFILES[name], GOPRO, STREAMS, "/o.mp4", features=features)
    assert fps_options(argv) == [(features.fps_option, "passthrough")]
    assert argv.count("-filter_complex") == 1
    graph = argv[argv.index("-filter_complex") + 1]
    compositor = PROFILES[name].compositor
    if compositor == "cuda":  # NVDEC's frames pass hwupload; what it could not decode is uploaded
        assert "hwupload" in graph.split("[base]")[0] and "overlay_cuda" in graph
    if compositor == "qsv":
        assert "premultiply=inplace=1" in graph and "overlay_qsv" in graph
    assert "-fps_mode" not in argv or features.fps_option == "-fps_mode"
    assert "-vsync" not in argv or features.fps_option == "-vsync"


def test_the_gpu_compositors_are_among_the_profiles_checked():
    assert {"cuda", "qsv"} <= {PROFILES[name].compositor for name in COMPOSITING}
