"""What this ffmpeg is and how it spells the options overdash uses: one frozen FfmpegFeatures.

overdash supports ffmpeg 4.2 to 9.x, and a few option spellings changed in that
range (checked against the static builds 4.2.2, 7.0.2, 9.0.2 and Debian's 5.1):

* frame-rate mode: `-fps_mode passthrough` since 5.1; before, only
  `-vsync passthrough`, which 5.1-8.x still accept (deprecated) and 9.0 removed;
* graph from a file or pipe: `-filter_complex_script` up to 8.x (deprecated by
  7.0), `-/filter_complex` since 7.0 (probed by a real run: see
  encoders.capability.graph_script_option).

Everything else overdash puts in argv and graphs (`-filter_complex_threads`,
`-copy_unknown`, `-map_metadata`, `-movflags +faststart`, NUT rawvideo input,
`-nofind_stream_info`, `trim=end_pts`, `settb=AVTB`, `overlay=format=yuv420:eof_action=repeat`,
the concat demuxer's `-safe 0` and ffconcat `duration`) reads the same from 4.2 to 9.0.
The one exception: the overlay filter's 10-bit blend formats (`yuv420p10`,
`yuv422p10`) arrived in 5.0; on 4.x such sources blend with `format=auto`.

The features are resolved once per ffmpeg binary (encoders.capability.ffmpeg_features,
cached with the encoder checks) and passed down to the argv builders, which stay pure:
the dataclass is all they know about the ffmpeg they build for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from overdash import OverdashError

MIN_VERSION = (4, 2)
FPS_MODE, VSYNC = "-fps_mode", "-vsync"
# 'ffmpeg version 4.2.2-static', '5.1.9-0+deb12u1', 'n9.0.2-17-g2a571b6068-…'; git builds
# ('N-113000-g…') carry no release number.
_BANNER = re.compile(r"ffmpeg version n?(\d+)\.(\d+)(?:\.(\d+))?")


class FfmpegTooOld(OverdashError):
    """This ffmpeg is older than overdash supports."""


@dataclass(frozen=True)
class FfmpegFeatures:
    """One ffmpeg's release and its spellings of the options that changed between 4.2 and 9.x.

    version: the release as numbers, e.g. (4, 2, 2); None for a development build
    (their spellings are those of the newest release). fps_option: `-fps_mode` or
    `-vsync`. graph_script: the option that reads a filter graph from a pipe, or None
    (the graph then goes in argv). ten_bit_blend: the overlay filter blends 10-bit
    YUV (format=yuv420p10/yuv422p10; ffmpeg 5.0 and later).
    """

    version: tuple[int, ...] | None = None
    fps_option: str = FPS_MODE
    graph_script: str | None = "-/filter_complex"
    ten_bit_blend: bool = True

    def passthrough(self) -> list[str]:
        """One output frame per filtered frame, never duplicated or dropped to fit a rate."""
        return [self.fps_option, "passthrough"]

    @property
    def cuda_range(self) -> bool:
        """colorspace_cuda (ffmpeg 6.0+) converts full to limited range on the GPU. It is built
        wherever scale_cuda is (both need ffmpeg's CUDA kernels), so the release decides."""
        return self.version is None or self.version >= (6,)

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version)) if self.version else "(development build)"

    def to_json(self) -> dict:
        return {"version": list(self.version) if self.version else None, "fps_option": self.fps_option,
                "graph_script": self.graph_script, "ten_bit_blend": self.ten_bit_blend}

    @classmethod
    def from_json(cls, data: dict) -> FfmpegFeatures:
        version = data.get("version")
        return cls(version=tuple(int(v) for v in version) if version else None,
                   fps_option=str(data["fps_option"]), graph_script=data.get("graph_script"),
                   ten_bit_blend=bool(data.get("ten_bit_blend", True)))


# What the argv builders assume when not told: ffmpeg 5.1 and later (Debian 12's).
MODERN = FfmpegFeatures()
# The generations this module knows, for tests and documentation.
FFMPEG_4 = FfmpegFeatures((4, 2, 2), VSYNC, "-filter_complex_script", ten_bit_blend=False)
FFMPEG_5 = FfmpegFeatures((5, 1, 0), FPS_MODE, "-filter_complex_script")
FFMPEG_7 = FfmpegFeatures((7, 0, 2), FPS_MODE, "-/filter_complex")
FFMPEG_9 = FfmpegFeatures((9, 0, 2), FPS_MODE, "-/filter_complex")


def parse_version(banner: str) -> tuple[int, ...] | None:
    """(4, 2, 2) from ffmpeg's banner ('ffmpeg version 4.2.2-static …'), None when it names none."""
    m = _BANNER.search(banner)
    if not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


def features_from(banner_and_help: str, graph_script: str | None) -> FfmpegFeatures:
    """The features of an ffmpeg from what `ffmpeg -h long` prints (banner and option list).

    The fps option is read from the list, not the version: a distribution's build
    may carry a backport, and a development build has no version to go by.
    """
    version = parse_version(banner_and_help)
    listed = re.search(r"^-fps_mode\b", banner_and_help, re.MULTILINE) is not None
    return FfmpegFeatures(version=version, fps_option=FPS_MODE if listed else VSYNC, graph_script=graph_script,
                          ten_bit_blend=version is None or version >= (5,))


def require_supported(features: FfmpegFeatures, path: str) -> FfmpegFeatures:
    """`features` back, or FfmpegTooOld naming the release overdash needs."""
    if features.version is not None and features.version[:2] < MIN_VERSION:
        raise FfmpegTooOld(f"ffmpeg {features.version_text} at {path} is too old: "
                           f"overdash needs ffmpeg {'.'.join(map(str, MIN_VERSION))} or newer")
    return features
