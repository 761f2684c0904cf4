"""Frame sizes an encoder cannot do, found before rendering instead of as an ffmpeg error midway.

NVENC's H.264 encoder stops at 4096 pixels wide; GoPro 5.3K footage is
5312x2988. A profile with such a limit names a `fallback` (its HEVC sibling,
e.g. nvenc → nvenc-hevc): check_limits switches to it with a one-line notice,
or raises InputError when there is none (or it does not fit either).

Software encoders are limited by the codec levels they can signal: H.264 level
6.2 (the highest) allows frames of at most 139,264 macroblocks (16x16 pixels)
and sides of at most sqrt(8 * 139,264) ≈ 1,055 macroblocks (16,880 pixels);
beyond level 5.2 (36,864 macroblocks, e.g. 4096x2304) libx264 still encodes,
but many hardware players (phones, TVs) refuse the file — that earns a notice.
HEVC level 6.2 allows 35,651,584 luma samples per picture and sides up to
sqrt(8 * 35,651,584) = 16,888 pixels.

Odd sides (a phone's or a screen recorder's 641x361) fit no 4:2:0 encoder: its chroma
planes are half the width and height. ProRes encoders take only even widths. VP9, PNG
and QuickTime Animation take any size.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from encoders.probe import VideoInfo
from encoders.profiles import Profile, load_profile
from overdash import InputError

# Hardware encoders: (max width, max height) of current GPUs' fixed-function blocks.
HARDWARE_LIMITS = {
    "h264_nvenc": (4096, 4096), "hevc_nvenc": (8192, 8192),
    "h264_qsv": (4096, 4096), "hevc_qsv": (8192, 8192),
    "h264_vaapi": (4096, 4096), "hevc_vaapi": (8192, 8192),
    "h264_videotoolbox": (4096, 2304), "hevc_videotoolbox": (8192, 4320),
}
H264_ENCODERS = ("libx264", "libx264rgb")
HEVC_ENCODERS = ("libx265",)
H264_MAX_FS = 139_264          # macroblocks per frame, level 6.2
H264_LEVEL52_MAX_FS = 36_864   # level 5.2: what most hardware decoders play
HEVC_MAX_LUMA_PS = 35_651_584  # luma samples per picture, level 6.2


def check_limits(profile: Profile, video: VideoInfo, *,
                 dirs: Sequence[Path] | None = None) -> tuple[Profile, str | None]:
    """(profile to use, notice or None) for encoding `video` (its displayed size) with `profile`.

    Pure apart from loading the fallback profile by name (from `dirs`, default
    the user's and the built-in profiles). Raises InputError, naming the size,
    the encoder and what to choose instead, when nothing fits.
    """
    width, height = video.display_width, video.display_height
    check_even(profile, width, height, f"{video.path}: ")
    problem = _too_large(profile, width, height)
    if problem is None:
        return profile, _playback_notice(profile, width, height)
    if profile.fallback:
        sibling = load_profile(profile.fallback, dirs=dirs)
        if _too_large(sibling, width, height) is None:
            return sibling, (f"{width}x{height} is {problem}: using profile '{sibling.name}' "
                             f"({sibling.encoder}) instead of '{profile.name}'")
    raise InputError(f"{video.path}: {width}x{height} is {problem} (profile '{profile.name}'); "
                     f"choose --profile cpu-hevc" + (" or nvenc-hevc" if "nvenc" in profile.encoder else ""))


ANY_SIZE_ENCODERS = ("libvpx-vp9", "libvpx", "libaom-av1", "libsvtav1", "png", "qtrle", "rawvideo", "ffv1")


def even_sides(profile: Profile) -> tuple[bool, bool]:
    """Whether `profile`'s encoder needs (an even width, an even height)."""
    if profile.encoder in ANY_SIZE_ENCODERS:
        return False, False
    if profile.encoder.startswith("prores"):
        return True, False
    fmt = profile.pix_fmt
    if "420" in fmt or fmt in ("nv12", "nv21", "p010le", "p016le"):
        return True, True
    return ("422" in fmt or "411" in fmt), False


def check_even(profile: Profile, width: int, height: int, where: str = "") -> None:
    """InputError, before anything runs, for a size `profile` cannot encode because a side is odd.
    `where`: what the size is of ("video.mp4: "), said first."""
    need_w, need_h = even_sides(profile)
    odd = [side for side, need, n in (("width", need_w, width), ("height", need_h, height)) if need and n % 2]
    if not odd:
        return
    even = f"{width - width % 2 if need_w else width}x{height - height % 2 if need_h else height}"
    advice = ("choose --profile qtrle or png, which take any size" if profile.overlay_only else
              f"crop or scale the video to an even size first (e.g. {even})")
    raise InputError(f"{where}{width}x{height}: {profile.encoder} (profile '{profile.name}') cannot encode "
                     f"an odd {' and '.join(odd)}; {advice}")


def _too_large(profile: Profile, width: int, height: int) -> str | None:
    """Why `profile` cannot encode width x height, or None when it can."""
    if profile.overlay_only:
        return None
    limit = HARDWARE_LIMITS.get(profile.encoder)
    if limit and (width > limit[0] or height > limit[1]):
        return f"larger than {profile.encoder} can encode ({limit[0]}x{limit[1]} at most)"
    if profile.encoder in H264_ENCODERS:
        mbs_w, mbs_h = math.ceil(width / 16), math.ceil(height / 16)
        if mbs_w * mbs_h > H264_MAX_FS or max(mbs_w, mbs_h) > math.isqrt(8 * H264_MAX_FS):
            return "larger than H.264 allows (level 6.2: 139,264 macroblocks, 16,880 pixels a side)"
    if profile.encoder in HEVC_ENCODERS:
        side = math.isqrt(8 * HEVC_MAX_LUMA_PS)
        if width * height > HEVC_MAX_LUMA_PS or max(width, height) > side:
            return f"larger than HEVC allows (level 6.2: {HEVC_MAX_LUMA_PS:,} pixels, {side} a side)"
    return None


def _playback_notice(profile: Profile, width: int, height: int) -> str | None:
    if profile.encoder in H264_ENCODERS and math.ceil(width / 16) * math.ceil(height / 16) > H264_LEVEL52_MAX_FS:
        return (f"{width}x{height} needs H.264 level 6, which many phones and TVs cannot play; "
                f"profile cpu-hevc makes a more widely playable file")
    return None
