"""encoders.limits: sizes an encoder cannot do switch to the HEVC sibling or fail before rendering."""
from dataclasses import replace

import pytest

from encoders.capability import choose_profile
from encoders.limits import check_limits
from encoders.profiles import builtin_profiles
from overdash import InputError
from tests.encoders.test_command import GOPRO

PROFILES = builtin_profiles()
UHD = replace(GOPRO, width=3840, height=2160)
K53 = replace(GOPRO, width=5312, height=2988)          # GoPro 5.3K
HUGE = replace(GOPRO, width=17000, height=9000)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_4k_fits_every_profile(name):
    assert check_limits(PROFILES[name], UHD) == (PROFILES[name], None)


def test_53k_on_nvenc_switches_to_hevc_with_a_notice():
    profile, notice = check_limits(PROFILES["nvenc"], K53)
    assert profile == PROFILES["nvenc-hevc"] and profile.encoder == "hevc_nvenc"
    assert notice == ("5312x2988 is larger than h264_nvenc can encode (4096x4096 at most): "
                      "using profile 'nvenc-hevc' (hevc_nvenc) instead of 'nvenc'")
    assert check_limits(PROFILES["nvenc-full"], K53)[0].name == "nvenc-full-hevc"
    assert check_limits(PROFILES["nvenc-hevc"], K53) == (PROFILES["nvenc-hevc"], None)


def test_rotated_video_is_checked_as_displayed():
    tall = replace(GOPRO, width=4800, height=2700, rotation=90)   # 2700x4800 displayed
    assert check_limits(PROFILES["nvenc"], tall)[0].name == "nvenc-hevc"


@pytest.mark.parametrize("name", ["qsv", "vaapi", "videotoolbox"])
def test_no_fallback_fails_before_rendering(name):
    with pytest.raises(InputError, match=rf"GX010001\.MP4: 5312x2988 is larger than .* \(profile '{name}'\); "
                                         r"choose --profile cpu-hevc$"):
        check_limits(PROFILES[name], K53)


def test_libx264_level_limits():
    profile, notice = check_limits(PROFILES["cpu"], K53)
    assert profile == PROFILES["cpu"] and "needs H.264 level 6" in notice and "cpu-hevc" in notice
    with pytest.raises(InputError, match=r"17000x9000 is larger than H\.264 allows .*choose --profile cpu-hevc"):
        check_limits(PROFILES["cpu"], HUGE)
    with pytest.raises(InputError, match=r"larger than HEVC allows"):
        check_limits(PROFILES["cpu-hevc"], HUGE)


def test_nvenc_fallback_that_does_not_fit_either():
    with pytest.raises(InputError, match=r"larger than h264_nvenc .*or nvenc-hevc$"):
        check_limits(PROFILES["nvenc"], replace(GOPRO, width=9000, height=4000))


def test_choose_profile_applies_the_limits():
    choice = choose_profile("auto", video=K53)
    assert choice.profile.name == "cpu" and "level 6" in choice.notice
    with pytest.raises(InputError, match="larger than H.264 allows"):
        choose_profile("cpu", video=HUGE)


ODD = replace(GOPRO, width=641, height=361)


@pytest.mark.parametrize("name, odd", [("cpu", "width and height"), ("cpu-hevc", "width and height"),
                                       ("nvenc", "width and height"), ("qsv", "width and height"),
                                       ("prores-alpha", "width")])
def test_an_odd_side_is_refused_before_rendering_saying_what_to_do(name, odd):
    with pytest.raises(InputError) as caught:
        check_limits(PROFILES[name], ODD)
    said = str(caught.value)
    assert said.startswith(f"{GOPRO.path}: 641x361: {PROFILES[name].encoder} (profile '{name}') "
                           f"cannot encode an odd {odd}; ")
    assert ("qtrle or png" in said) == PROFILES[name].overlay_only
    assert ("640x360" in said) != PROFILES[name].overlay_only


@pytest.mark.parametrize("name", ["vp9-alpha", "qtrle", "png"])
def test_encoders_that_take_any_size_take_odd_ones(name):
    assert check_limits(PROFILES[name], ODD) == (PROFILES[name], None)


def test_odd_sides_are_fine_where_the_chroma_is_not_halved():
    assert check_limits(replace(PROFILES["cpu"], pix_fmt="yuv444p"), ODD)[0].pix_fmt == "yuv444p"
    with pytest.raises(InputError, match="odd width;"):  # 4:2:2 halves the width only
        check_limits(replace(PROFILES["cpu"], pix_fmt="yuv422p"), ODD)


def test_auto_says_the_size_problem_not_every_candidate_it_skipped():
    with pytest.raises(InputError) as caught:
        choose_profile("auto", video=ODD)
    assert str(caught.value).startswith(f"{GOPRO.path}: 641x361: libx264 (profile 'cpu') cannot encode")
    assert "unavailable" not in str(caught.value)
