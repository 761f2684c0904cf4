"""The one-frame run that proves a compositing profile renders: the render's own argv.

A capability check that runs a different graph from the render proves nothing
about the render: nvenc-full's check once replaced NVDEC + scale_cuda with
format + hwupload and so never saw a 4:2:2 source fail in scale_cuda. Here the
check is encoders.command.build_command's argv for a one-frame source, with two
inputs swapped:

* the source: where the render decodes on the GPU (-hwaccel in the profile), a
  one-frame file in the source's own codec, pixel format, range and size, made
  with a software encoder (sample_argv), so the hardware decoder meets what the
  render will give it; otherwise a lavfi test picture in the source's pixel format;
* the overlay: a lavfi colour with alpha in place of the NUT pipe, one region,
  in the pixel format the render would send.

Everything between — device options, decoder options, the filter graph, encoder
and muxer options — is the render's. Pure: encoders.capability runs the argv.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from encoders.blend import blends_yuva420p
from encoders.command import OverlaySpec, build_command, composite_nut_input
from encoders.features import MODERN, FfmpegFeatures
from encoders.probe import VideoInfo
from encoders.profiles import Profile

# Software encoders that make a one-frame sample of a source codec (ffmpeg codec name → argv part).
SAMPLE_ENCODERS = {
    "h264": ("-c:v", "libx264", "-preset", "ultrafast"),
    "hevc": ("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"),
    "vp9": ("-c:v", "libvpx-vp9", "-deadline", "realtime"),
    "mpeg2video": ("-c:v", "mpeg2video",),
    "mpeg4": ("-c:v", "mpeg4",),
}
# What `overdash profiles` checks against when there is no source: 8-bit 4:2:0 H.264, limited
# range, so that a profile decoding on the GPU keeps its frames there (the common fast path).
DEFAULT_SOURCE = VideoInfo(path=Path("sample"), width=256, height=256, fps_num=30, fps_den=1, frame_count=1,
                           duration=1 / 30, start_time=0.0, has_audio=False, audio_codec=None, video_codec="h264",
                           pix_fmt="yuv420p", creation_time=None, rotation=0, gpmd_stream=None)
OVERLAY = (16, 16, 64, 32)  # x, y, width, height of the check's one region


@dataclass(frozen=True)
class Sample:
    """The one-frame source of a check: where it is (None: a lavfi picture) and what it is."""

    video: VideoInfo
    path: Path | None

    @property
    def label(self) -> str:
        """What the check's answer depends on, for the cache key (the path is a temporary one)."""
        v = self.video
        rng = "pc" if v.full_range else "tv"
        kind = "file" if self.path else "lavfi"
        return f"{kind}:{v.video_codec}/{v.pix_fmt}/{rng}/{v.color_matrix}/{v.width}x{v.height}"


def decodes_on_gpu(profile: Profile) -> bool:
    """Whether the render hands the source to a hardware decoder (-hwaccel)."""
    return "-hwaccel" in profile.input_options


def sample_video(video: VideoInfo | None) -> VideoInfo:
    """A one-frame, silent, unrotated stand-in of the source with its codec, format, range and size."""
    v = video or DEFAULT_SOURCE
    return replace(v, path=Path("sample"), frame_count=1, duration=v.fps_den / v.fps_num, start_time=0.0,
                   has_audio=False, audio_codec=None, gpmd_stream=None, rotation=0, video_stream=0,
                   format_start_time=0.0, parts=(), part_frames=(), part_offsets=(), creation_time=None)


def sample_for(profile: Profile, video: VideoInfo | None, workdir: Path) -> Sample:
    """The check's source: a file in workdir where the render decodes on the GPU, else lavfi."""
    return Sample(sample_video(video), workdir / "sample.mkv" if decodes_on_gpu(profile) else None)


def sample_argv(video: VideoInfo, path: Path, *, ffmpeg: str = "ffmpeg") -> list[str] | None:
    """argv writing a one-frame `path` (.mkv) in the video's codec and format, or None when
    overdash knows no software encoder for the codec (the check then decodes a lavfi picture)."""
    encoder = SAMPLE_ENCODERS.get(video.video_codec or "")
    if encoder is None:
        return None
    tags = ["-color_range", "pc" if video.full_range else "tv"]
    if video.color_space:
        tags += ["-colorspace", video.color_space]
    return [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
            "-i", f"testsrc2=size={video.width}x{video.height}:rate={video.fps_num}/{video.fps_den}",
            "-frames:v", "1", *encoder, "-pix_fmt", video.pix_fmt, *tags, "-an", str(path)]


def _overlay_box(width: int, height: int) -> tuple[int, int, int, int]:
    """OVERLAY, moved and cut to fit a picture smaller than it (even sizes and places: 4:2:0)."""
    x, y, w, h = OVERLAY
    x, y = min(x, width // 4 & ~1), min(y, height // 4 & ~1)
    return x, y, max(2, min(w, (width - x) & ~1)), max(2, min(h, (height - y) & ~1))


def check_command(profile: Profile, sample: Sample, workdir: Path, *, ffmpeg: str = "ffmpeg",
                  features: FfmpegFeatures = MODERN) -> list[str]:
    """The render's argv for `sample` with a lavfi overlay, writing into workdir."""
    video = sample.video
    x, y, w, h = _overlay_box(video.display_width, video.display_height)
    pix = "yuva420p" if blends_yuva420p(profile, video) else "rgba"
    overlay = OverlaySpec(x=x, y=y, width=w, height=h, fps_num=video.fps_num, fps_den=video.fps_den, pix_fmt=pix)
    out = workdir / f"check.{profile.extensions[0]}"
    argv = build_command(profile, replace(video, path=sample.path or Path("lavfi")), overlay, out,
                         ffmpeg=ffmpeg, features=features)
    colour = (f"color=c=red@0.5:size={w}x{h}:rate={video.fps_num}/{video.fps_den}"
              f":duration={video.duration:.6f},format={pix}")
    argv = _swap(argv, list(composite_nut_input(video.display_width, video.display_height, pix)),
                 ["-f", "lavfi", "-i", colour])
    argv.insert(1, "-nostdin")  # the render's stdin is the overlay pipe; here there is none
    if sample.path is None:
        source = f"testsrc2=size={video.width}x{video.height}:rate={video.fps_num}/{video.fps_den}" \
                 f":duration={video.duration:.6f},format={video.pix_fmt}" \
                 + (",setparams=range=pc" if video.full_range else "")
        argv = _swap(argv, ["-i", "lavfi"], ["-f", "lavfi", "-i", source])
    return argv


def _swap(argv: list[str], old: list[str], new: list[str]) -> list[str]:
    for i in range(len(argv) - len(old) + 1):
        if argv[i:i + len(old)] == old:
            return argv[:i] + new + argv[i + len(old):]
    raise ValueError(f"{old} is not in the render's argv")
