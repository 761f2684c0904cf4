"""The pixel formats the CPU blend works in: which overlay format each source blends from,
and the conversion (if any) the overlay needs first.

The blend mixes raw YUV values, so an overlay must be in the source's own format,
range and matrix; one that already arrives so (the workers' yuva420p) is blended
as it is, with no filter in between.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from encoders.features import MODERN, FfmpegFeatures
from encoders.probe import VideoInfo
from encoders.profiles import Profile

if TYPE_CHECKING:
    from encoders.command import OverlaySpec


# Source pixel format → the overlay filter's blend format and the overlay pixel format
# it blends from. Naming them matters: `format=auto` made 1080p renders ~1.6× a plain
# transcode here, an explicit yuv420 blend of a yuva420p overlay ~1.1× (MEASURED in
# benchmarks), because auto converts far more than the overlay's own pixels.
BLEND_FORMATS = {
    "yuv420p": ("yuv420", "yuva420p"), "yuvj420p": ("yuv420", "yuva420p"),
    "yuv420p10le": ("yuv420p10", "yuva420p10le"),
    "yuv422p": ("yuv422", "yuva422p"), "yuvj422p": ("yuv422", "yuva422p"),
    "yuv422p10le": ("yuv422p10", "yuva422p10le"),
    "yuv444p": ("yuv444", "yuva444p"), "yuvj444p": ("yuv444", "yuva444p"),
}


def blends_yuva420p(profile: Profile, video: VideoInfo) -> bool:
    """Whether this profile's compositor blends a yuva420p overlay (in the source's matrix and
    range) with no conversion: the CPU blend onto 8-bit 4:2:0 video, and overlay_cuda."""
    if profile.overlay_only:
        return False
    if profile.compositor == "cpu":
        return BLEND_FORMATS.get(video.pix_fmt or "", ("", None))[1] == "yuva420p"
    return profile.compositor == "cuda"


def blend_formats(video: VideoInfo, overlay: OverlaySpec,
                  features: FfmpegFeatures = MODERN) -> tuple[str, str | None]:
    """(overlay filter format, filters converting the overlay once to what it blends from, or None).

    The blend mixes raw YUV values, so the overlay must be converted with the
    source's own range and matrix: white must stay white on a full-range GoPro
    file, not become the limited-range 235. ffmpeg 4.x has no 10-bit blend formats:
    there such sources blend with format=auto (ffmpeg converts).
    """
    blend, overlay_fmt = BLEND_FORMATS.get(video.pix_fmt or "", ("auto", None))
    if blend.endswith("p10") and not features.ten_bit_blend:
        blend, overlay_fmt = "auto", None
    if overlay_fmt is None or overlay_fmt == overlay.pix_fmt:
        return blend, None  # ffmpeg decides, or it already arrives in that format
    rng = "full" if video.full_range else "limited"
    return blend, f"scale=out_range={rng}:out_color_matrix={video.color_matrix},format={overlay_fmt}"


def blend_full_range(profile: Profile, video: VideoInfo) -> bool:
    """Whether the overlay is blended in full range: the CPU blend works in the source's own
    range (ffmpeg converts afterwards); the GPU compositors convert a full-range source to
    limited range before blending (encoders.command), so their overlay must be limited too."""
    return video.full_range and profile.compositor == "cpu"
