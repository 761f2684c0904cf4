"""The ffmpeg argv of an overlay-only output: the dashboard alone, with alpha, for video editors.

Same contract as encoders.command (NUT on stdin, a stream per region sent when it changed,
pts = overlay frame index), with a transparent picture of exactly `count` frames in place of
the source video, so the output has one frame per overlay frame whatever was sent.
"""
from __future__ import annotations

from fractions import Fraction

from encoders.command import (
    BLEND_REGION_END,
    CPU_ENCODE_FILTER_THREADS,
    LOGGING,
    MUXERS,
    NUT_INPUT,
    Region,
    _check_output,
    creation_args,
    region_trim,
    timecode_args,
)
from encoders.features import MODERN, FfmpegFeatures
from encoders.probe import VideoInfo
from encoders.profiles import Profile
from encoders.tools import path_arg
from overdash import InputError

# Overlay-only outputs: pasting the regions in the output's pixel format (xstack) instead of
# blending them onto an RGBA picture converted whole each frame took ffmpeg's graph from 4.7 to
# 0.7 CPU s for 10 s of 1080p (the default layout's three regions; the encoder: ~10 CPU s).
# (Blending in 8-bit yuva444p instead moved alpha by up to 1 level of 255 in swscale's step to 10 bits.)
# xstack's fill: in 5.1, 7.0 and 9.0, not in 4.2 (4.3 and 4.4 unchecked, so blended there too).
XSTACK_FILL = (5,)


def build_overlay_only_command(profile: Profile, overlay_size: tuple[int, int], fps, output_path, *,
                               regions: tuple[Region, ...] = (), count: int | None = None,
                               background: tuple[int, int, int, int] | None = None,
                               final_path=None, ffmpeg: str = "ffmpeg",
                               threads: int | None = None, features: FfmpegFeatures = MODERN,
                               repeat: bool = False, source: VideoInfo | None = None) -> list[str]:
    """argv for an overlay-only profile: the dashboard's regions on stdin → a video with alpha.

    The frames cross as NUT (encoders.nut) with pts = frame index at `fps` (a Fraction
    or int, the overlay frame rate). With `regions` (and `count`, the output's frames),
    stream i carries region i, sent only when it changed, as in a composited render:
    ffmpeg lays each region over a transparent picture of overlay_size (or `background`,
    an RGBA colour) made by a lavfi source of exactly `count` frames, so the output has
    one frame per overlay frame whatever was sent (overlay_only_graph). Without them,
    one stream of overlay_size whose every frame is encoded (every frame must be sent).
    There is no source video or audio; `source`, the video the dashboard belongs to, gives the
    output its creation time and start timecode. With `repeat` (encoders.repeat), stream 0
    is a 1x1 clock sent once per distinct picture, regions are streams 1…, and the coded
    frames go raw to stdout for the relay to repeat (output_path is not used). For the image-sequence profile (`png`
    with a .png final name) output_path is a name pattern such as DIR/frame-%06d.png:
    write into a temporary directory and rename the directory at the end.
    """
    if not profile.overlay_only:
        raise InputError(f"profile '{profile.name}' composites onto the source video: "
                         "it is encoded with build_command")
    width, height = (int(v) for v in overlay_size)
    if width <= 0 or height <= 0:
        raise ValueError(f"overlay size {width}x{height} is invalid")
    rate = Fraction(fps)
    if rate <= 0:
        raise ValueError(f"overlay frame rate {fps} is invalid")
    # The encoder's threads keep every core busy: slice threads in the graph only add wake-ups.
    graph_threads = ["-filter_complex_threads", str(CPU_ENCODE_FILTER_THREADS)]
    if repeat:
        if not pastes(profile.pix_fmt, (width, height), regions, background, features):
            raise ValueError("repeated frames need regions ffmpeg pastes (encoders.repeat.repeats)")
        graph = _stack_graph(profile.pix_fmt, (width, height), rate, regions, count=None)
        video, head = ["-filter_complex", graph, "-map", "[vout]"], graph_threads
        tail = ["-f", "rawvideo", "pipe:1"]
    else:
        container = _check_output(profile, final_path if final_path is not None else output_path)
        if regions or background is not None:
            if count is None or count <= 0:
                raise ValueError("an overlay-only graph needs the output's frame count")
            graph = overlay_only_graph(profile, (width, height), rate, regions or (Region(0, 0, width, height),),
                                       count, background, features)
            video, head = ["-filter_complex", graph, "-map", "[vout]"], graph_threads
        else:
            convert = _from_rgba(profile.pix_fmt)
            video, head = ["-map", "0:v", *(["-vf", convert] if convert else [])], []
        tail = [*creation_args(source), *timecode_args(source, Fraction(fps), container),
                *(["-movflags", "+faststart"] if container == "mov" else []),
                "-f", MUXERS[container], path_arg(output_path)]
    return [
        ffmpeg, *LOGGING, "-y", *head,
        *NUT_INPUT,
        *video, "-c:v", profile.encoder, "-pix_fmt", profile.pix_fmt, *profile.output_options,
        *_colour_tags(profile.pix_fmt),
        *(["-threads", str(threads)] if threads else []),
        "-an", *features.passthrough(), *tail,
    ]


def overlay_only_graph(profile: Profile, size: tuple[int, int], fps: Fraction, regions: tuple[Region, ...],
                       count: int, background: tuple[int, int, int, int] | None = None,
                       features: FfmpegFeatures = MODERN) -> str:
    """The dashboard alone: a picture of `size` (transparent, or the --bg colour), exactly `count`
    frames at `fps`, with region i of stdin at its place → [vout].

    ffmpeg converts a region only when one arrives and keeps its last frame until the next,
    so an unchanged region costs nothing but a copy. Over transparency a region's pixels
    are the output's pixels as they are (straight alpha and colour), so where the regions do
    not overlap they are pasted in the profile's own pixel format (xstack; the rest filled
    transparent): nothing the size of the picture is converted. Otherwise — overlapping
    regions, a --bg colour, 4:2:0 output whose chroma would shift at odd places, a region
    on the bottom-right pixel the stack's clock takes, or an ffmpeg before 5.0 (4.2's xstack
    has no fill: what no region covers would be left as it was in memory) — they are blended
    (overlay) in RGBA and the picture converted once.
    """
    width, height = size
    for r in regions:
        if r.width <= 0 or r.height <= 0 or min(r.x, r.y) < 0 or r.x + r.width > width or r.y + r.height > height:
            raise ValueError(f"overlay region {r.width}x{r.height}+{r.x}+{r.y} exceeds the {width}x{height} picture")
    if pastes(profile.pix_fmt, size, regions, background, features):
        return _stack_graph(profile.pix_fmt, size, fps, regions, count)
    colour = "0x" + "".join(f"{v:02x}" for v in background) if background else "black@0"
    parts = [f"color=c={colour}:s={width}x{height}:r={fps},format=rgba,trim=end_frame={count}[base]"]
    below = "base"
    for i, r in enumerate(regions):
        parts.append(f"[0:{i}]{region_trim(count, BLEND_REGION_END)}[r{i}]")
        out = f"v{i}"
        parts.append(f"[{below}][r{i}]overlay=x={r.x}:y={r.y}:eof_action={BLEND_REGION_END}:format=rgb[{out}]")
        below = out
    tail = _from_rgba(profile.pix_fmt)
    parts.append(f"[{below}]{tail or 'null'}[vout]")
    return ";".join(parts)


def pastes(pix_fmt: str, size: tuple[int, int], regions: tuple[Region, ...],
            background: tuple[int, int, int, int] | None, features: FfmpegFeatures) -> bool:
    """Whether the regions can be pasted (_stack_graph) rather than blended: see overlay_only_graph."""
    if features.version is not None and features.version < XSTACK_FILL:
        return False
    if background is not None and background[3]:
        return False
    if pix_fmt.startswith(("yuva420p", "yuva422p")):
        return False
    corner = (size[0] - 1, size[1] - 1)
    if any(r.x <= corner[0] < r.x + r.width and r.y <= corner[1] < r.y + r.height for r in regions):
        return False
    return not any(a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height
                   for i, a in enumerate(regions) for b in regions[i + 1:])


def _stack_graph(pix_fmt: str, size: tuple[int, int], fps: Fraction, regions: tuple[Region, ...],
                 count: int | None) -> str:
    """Regions pasted in pix_fmt onto transparency by xstack, which emits a frame whenever any
    input has one: a 1x1 transparent clock at the bottom-right pixel makes that every picture
    wanted, sets the picture's size, and (as the first input) its rate. The clock is a lavfi
    source of exactly `count` frames, or with count None stream 0 of stdin (encoders.repeat:
    one tick per distinct picture; the regions are then streams 1…)."""
    width, height = size
    convert = _from_rgba(pix_fmt)
    if count is None:
        parts = ["[0:0]null[clock]"]  # already in pix_fmt (encoders.repeat.CLOCK_PIXEL)
        parts += [f"[0:{i + 1}]{convert or 'null'}[r{i}]" for i in range(len(regions))]
    else:
        parts = [f"color=c=black@0:s=1x1:r={fps},format={pix_fmt},trim=end_frame={count}[clock]"]
        parts += [f"[0:{i}]trim=end_pts={count}{',' + convert if convert else ''}[r{i}]"
                  for i in range(len(regions))]
    layout = "|".join([f"{width - 1}_{height - 1}", *(f"{r.x}_{r.y}" for r in regions)])
    inputs = "".join(f"[r{i}]" for i in range(len(regions)))
    parts.append(f"[clock]{inputs}xstack=inputs={len(regions) + 1}:layout={layout}:fill=black@0[vout]")
    return ";".join(parts)


def _from_rgba(pix_fmt: str) -> str:
    """The filter converting RGBA frames to `pix_fmt`, or "" for RGBA: to YUV with the BT.709
    matrix in limited range, what the output is tagged as (_colour_tags)."""
    if pix_fmt == "rgba":
        return ""
    if _is_yuv(pix_fmt):
        return f"scale=out_color_matrix=bt709:out_range=tv,format={pix_fmt}"
    return f"format={pix_fmt}"


def _is_yuv(pix_fmt: str) -> bool:
    return pix_fmt.startswith("yuv")


def _colour_tags(pix_fmt: str) -> list[str]:
    """A YUV overlay is written BT.709, limited range, and says so: editors otherwise guess the
    matrix from the picture size (BT.601 below 720 lines), and colours would shift there.
    ffmpeg 5.1's ProRes encoders leave these out of the file: the prores-alpha profile states
    them with the prores_metadata bitstream filter (each frame's header and the mov track)."""
    if not _is_yuv(pix_fmt):
        return []
    return ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv"]
