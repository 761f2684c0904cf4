"""The ffmpeg argv that composites the overlay stream over the source and encodes.

A pure function of (profile, source facts, overlay geometry, output name): no
process is started here, so every argv property is testable without ffmpeg.
Main starts ffmpeg with this argv (pipeline.encoder); the writer process pipes
the overlay to its stdin as NUT (encoders.nut): one raw video stream per region,
RGBA or yuva420p, a region's frame only when it differs from the one before.

Timing contract (what the writer may rely on):
* overlay frame k (pts k of each stream) is shown from video time
  k * overlay_fps_den / overlay_fps_num, counted from the first video frame —
  also when the video stream does not start at 0 in its container;
* each region's last frame sent is shown until that region's next one, and the
  last one to the end of the video;
* the output has exactly the source's video frames: the writer sends no frame
  beyond `overlay_frames_needed()`, and the graph drops any that came (by pts).

Overlay-only outputs (encoders.alpha) keep the same contract, with a transparent
picture of `count` frames in place of the source video.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import floor
from pathlib import Path

from encoders.blend import blend_formats
from encoders.features import MODERN, FfmpegFeatures
from encoders.probe import VideoInfo
from encoders.profiles import Profile
from encoders.tools import path_arg
from overdash import InputError

OVERLAY_PIX_FMTS = ("rgba", "yuva420p")
# ffmpeg muxer for each output extension a profile may allow ("png": an image sequence).
MUXERS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm", "png": "image2"}
# The GPU overlay filter of each compositor, and what the overlay is uploaded as.
GPU_OVERLAY = {"cuda": "overlay_cuda", "qsv": "overlay_qsv", "vaapi": "overlay_vaapi"}
# QSV and VAAPI surfaces come from a fixed pool: hwupload needs room for the frames in flight.
HWUPLOAD = {"cuda": "hwupload", "qsv": "hwupload=extra_hw_frames=64", "vaapi": "hwupload"}
# Software formats uploaded for VAAPI/QSV: 4:2:0 surfaces are NV12 / P010 there.
SURFACE_FORMATS = {"yuv420p": "nv12", "yuvj420p": "nv12", "yuv420p10le": "p010le"}
# swscale's matrix names (VideoInfo.color_matrix) as setparams spells them.
SETPARAMS_MATRIX = {"bt601": "smpte170m", "bt2020": "bt2020nc"}
GPMF_CONTAINERS = ("mp4", "mov")
# Audio codecs the mp4 muxer of ffmpeg 5.1 accepts as a stream copy; others are re-encoded.
MP4_COPYABLE_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac", "mp2"})
FALLBACK_AUDIO = ("-c:a", "aac", "-b:a", "192k")
GUARD_SECONDS = 0.001
# glibc malloc settings for the compositing ffmpeg. The overlay filter needs a writable
# frame, so every decoded frame is copied into a fresh buffer (12 MB at 4K); by default
# glibc maps each from the kernel and unmaps it again: at 4K ~900k page faults and 3 s of
# system time in a 6 s clip, which the encoder's threads then lack. With frames served
# from the heap (mmap threshold at its 32 MiB maximum, no trimming) 200k faults and 1.5 s.
FFMPEG_ENV = (("MALLOC_MMAP_THRESHOLD_", str(32 << 20)), ("MALLOC_TRIM_THRESHOLD_", str(1 << 30)))
LOGGING = ("-hide_banner", "-loglevel", "error", "-nostats")
# How a CPU overlay treats its region's stream once it ends. With `repeat` (and `repeatlast`),
# the region is a sync input of the overlay's framesync, and framesync then hands the picture
# below on as a copy whenever that region has no later frame queued, which in our chain of
# overlays is nearly every overlay on every frame: each region cost a full-picture copy a frame
# (at 4K, 12 MB; three regions ~1 CPU-s in a 10.5 s clip). With `pass` the region is no sync
# input and the picture goes on as it is; the region then vanishes once its stream ends, so
# every region's stream ends with a tail frame past the last one needed (pipeline.writer).
BLEND_REGION_END = "pass"
# Filter-graph threads when a CPU encoder composites: it keeps every core busy, so the
# blend's slice threads only add wake-ups. Measured on 2 cores, 10.5 s clips: 1080p
# render ÷ transcode 1.097 → 1.066 (yuva420p) and 1.245 → 1.200 (rgba), 4K unchanged.
# Hardware encoders leave the CPU to ffmpeg's filters, which keep their default.
CPU_ENCODE_FILTER_THREADS = 1
# The overlay on stdin: size, format and time base are in the NUT header. Probing stops
# there: waiting for more would wait for the dashboard's next change.
NUT_INPUT = ("-probesize", "4096", "-analyzeduration", "0", "-f", "nut", "-i", "pipe:0")
# The compositing ffmpeg opens the overlay without reading its first packets for more facts
# (find_stream_info): the header has all the blend needs, and that reading held the opening of
# ffmpeg's output, decoder and encoder until the workers had drawn the first frame. The output is
# the same to the bit; x264 starts ~5-10 ms sooner (docs/performance.md). Every ffmpeg from 4.2
# has the option; the dashboard-alone encoders keep the probe (their output's frame rate comes
# from it).
COMPOSITE_NUT_INPUT = (*NUT_INPUT[:4], "-nofind_stream_info", *NUT_INPUT[4:])
# How many overlay packets ffmpeg's reader thread may hold ahead of its main thread
# (-thread_queue_size, 8 by default). A region that did not change is sent only every
# pipeline.writer.KEEPALIVE_FRAMES frames, and to blend frame k ffmpeg must first read that
# region's next packet, taking in every packet of the other regions on the way: with 8, the
# reader ran dry 11-15 times in a 10.5 s 1080p render, ffmpeg's main thread slept 10 ms each
# time, and the render cost ~1.7% more wall and CPU time (docs/performance.md). The queue is
# counted in packets, so its size comes from a byte budget for the largest packet there can be
# (a region the size of the video), between ffmpeg's 8 and OVERLAY_QUEUE_PACKETS.
OVERLAY_QUEUE_PACKETS = 64
OVERLAY_QUEUE_BYTES = 256 << 20  # what 8 packets of a whole 4K RGBA frame take, as before


def composite_nut_input(video_width: int, video_height: int, pix_fmt: str) -> tuple[str, ...]:
    """COMPOSITE_NUT_INPUT with the reader's queue sized for an overlay of `pix_fmt` on this video.
    It depends on nothing the layout decides, so ffmpeg can start before the regions are known."""
    largest = video_width * video_height * (4 if pix_fmt == "rgba" else 5 / 2)  # yuva420p: 2.5 B/px
    packets = max(8, min(OVERLAY_QUEUE_PACKETS, int(OVERLAY_QUEUE_BYTES // max(largest, 1))))
    nut = COMPOSITE_NUT_INPUT[-4:]  # -f nut -i pipe:0
    return (*COMPOSITE_NUT_INPUT[:-4], "-thread_queue_size", str(packets), *nut)


@dataclass(frozen=True)
class Region:
    """A width x height rectangle of the dashboard, blended at (x, y) of the video.

    Each region crosses the pipe as a NUT stream of its own: the separate parts of
    a dashboard (say three corners) cost only their area, on the pipe and in the
    blend, and a part that did not change is not sent.
    """

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class OverlaySpec:
    """The overlay on stdin: NUT (encoders.nut) with one raw video stream of pix_fmt per
    region at fps_num/fps_den, stream i carrying region i; ffmpeg shows each frame of a
    stream until that stream's next one.

    Without `regions` there is one: width x height at (x, y) of the displayed video.
    With them, width and height are not used.
    """

    x: int
    y: int
    width: int
    height: int
    fps_num: int
    fps_den: int = 1
    pix_fmt: str = "rgba"
    regions: tuple[Region, ...] = ()

    def placements(self) -> tuple[Region, ...]:
        return self.regions or (Region(self.x, self.y, self.width, self.height),)

    def __post_init__(self):
        if self.pix_fmt not in OVERLAY_PIX_FMTS:
            raise ValueError(f"overlay pix_fmt {self.pix_fmt!r} is not one of {OVERLAY_PIX_FMTS}")
        if self.width <= 0 or self.height <= 0 or self.x < 0 or self.y < 0:
            raise ValueError(f"overlay region {self.width}x{self.height}+{self.x}+{self.y} is invalid")
        if self.fps_num <= 0 or self.fps_den <= 0:
            raise ValueError(f"overlay frame rate {self.fps_num}/{self.fps_den} is invalid")
        if self.pix_fmt == "yuva420p" and any(v % 2 for v in (self.x, self.y, self.width, self.height)):
            # 4:2:0 chroma covers 2x2 pixels: odd sizes or offsets shift colour against luma.
            raise ValueError("a yuva420p overlay needs even x, y, width and height")
        for r in self.regions:
            if r.width <= 0 or r.height <= 0 or min(r.x, r.y) < 0:
                raise ValueError(f"overlay region {r} is invalid")
            if self.pix_fmt == "yuva420p" and any(v % 2 for v in (r.x, r.y, r.width, r.height)):
                raise ValueError("a yuva420p overlay needs even region offsets and sizes")

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def frame_bytes(self) -> int:
        """Bytes of one overlay frame on the pipe when every region changed (NUT framing aside)."""
        sizes = [(r.width, r.height) for r in self.placements()]
        return sum(w * h * 4 if self.pix_fmt == "rgba" else w * h * 5 // 2 for w, h in sizes)


def overlay_frames_needed(video: VideoInfo, overlay: OverlaySpec) -> int:
    """How many overlay frames cover the video: those starting at or before its last frame."""
    last_frame_time = Fraction(video.frame_count - 1) / video.fps
    return floor(last_frame_time * overlay.fps) + 1


def output_container(final_path) -> str:
    """The extension ('mp4', 'mov', 'mkv') of the final output name, lower case."""
    ext = Path(final_path).suffix.lower().lstrip(".")
    if ext == "m4v":
        return "mp4"
    if ext not in MUXERS:
        raise InputError(f"{final_path}: unsupported output format '.{ext}' (use .mp4, .mov or .mkv; "
                         f"overlay-only profiles also .webm or a .png sequence)")
    if ext == "png" and "%" not in Path(final_path).name:
        raise InputError(f"{final_path}: a PNG sequence needs a numbered name pattern, e.g. frame-%06d.png")
    return ext


def build_command(profile: Profile, video: VideoInfo, overlay: OverlaySpec, output_path, *,
                  ffmpeg: str = "ffmpeg", threads: int | None = None,
                  final_path=None, concat_path=None, keep_gpmf: bool = False,
                  graph_via: tuple[str, str] | None = None,
                  features: FfmpegFeatures = MODERN) -> list[str]:
    """argv for: source + overlay frames on stdin → composited, encoded output_path.

    final_path is the name the output will be renamed to (default output_path);
    the container is chosen from its extension, not from the temporary name's.
    keep_gpmf copies the source's GPMF telemetry track (codec tag gpmd) into
    MP4/MOV output, so other tools still find the telemetry there.
    graph_via (option, path), e.g. ("-filter_complex_script", "pipe:5"): ffmpeg reads the
    graph (overlay_graph) from there instead of argv. Nothing else in the argv depends on
    the regions (the NUT header describes them), so ffmpeg can start before the layout
    is measured. features: how this ffmpeg spells what changed between releases
    (encoders.features; default: 5.1 and later).
    """
    if profile.overlay_only:
        raise InputError(f"profile '{profile.name}' writes the overlay alone (no source video): "
                         "it is encoded with encoders.alpha.build_overlay_only_command")
    container = _check_output(profile, final_path if final_path is not None else output_path)
    places = overlay.placements()
    for r in places:
        if r.x + r.width > video.display_width or r.y + r.height > video.display_height:
            raise ValueError(
                f"overlay region {r.width}x{r.height}+{r.x}+{r.y} "
                f"exceeds the {video.display_width}x{video.display_height} video")
    if profile.compositor != "cpu" and video.rotation:
        raise InputError(f"{video.path}: rotated video ({video.rotation}°) cannot be composited on the GPU "
                         f"(profile '{profile.name}'); use a profile with the cpu compositor, e.g. nvenc or cpu")
    graph = graph_via or ("-filter_complex", _overlay_graph(profile, video, overlay, places, features))
    filter_threads = threads or (None if profile.needs_gpu else CPU_ENCODE_FILTER_THREADS)
    return [
        ffmpeg, *LOGGING, "-y",
        *(["-filter_complex_threads", str(filter_threads)] if filter_threads else []),
        *render_input_options(profile, video, features), *_source_input(video, concat_path),
        *composite_nut_input(video.display_width, video.display_height, overlay.pix_fmt),
        *graph,
        "-map", "[vout]", "-map", "0:a?", *gpmf_maps(video, container, keep_gpmf, final_path or output_path),
        *_output_args(profile, video, container, threads, features, gpmf=keep_gpmf), path_arg(output_path),
    ]


def build_transcode_command(profile: Profile, video: VideoInfo, output_path, *,
                            ffmpeg: str = "ffmpeg", threads: int | None = None,
                            final_path=None, concat_path=None,
                            features: FfmpegFeatures = MODERN) -> list[str]:
    """argv for the same encode without an overlay: the baseline overdash's overhead is measured against."""
    if profile.overlay_only:
        raise InputError(f"profile '{profile.name}' writes the overlay alone: there is nothing to transcode")
    container = _check_output(profile, final_path if final_path is not None else output_path)
    upload = _hwupload_tail(profile)
    return [
        ffmpeg, *LOGGING, "-nostdin", "-y",
        *render_input_options(profile, video, features), *_source_input(video, concat_path),
        "-map", f"0:{video.video_stream}", "-map", "0:a?", *(["-vf", upload] if upload else []),
        *_output_args(profile, video, container, threads, features), path_arg(output_path),
    ]


def region_trim(count: int, eof_action: str) -> str:
    """The trim of a region's stream under a blend with `eof_action`: frames from pts `count` on
    are dropped (under `repeat` one would make the blend repeat the picture below past its end),
    but for the writer's tail at pts = count where the blend drops a region whose stream ended."""
    return f"trim=end_pts={count + 1 if eof_action == 'pass' else count}"


def overlay_graph(profile: Profile, video: VideoInfo, overlay: OverlaySpec,
                  features: FfmpegFeatures = MODERN) -> str:
    """The filter graph build_command puts in its argv (or sends through graph_via)."""
    return _overlay_graph(profile, video, overlay, overlay.placements(), features)


def _overlay_graph(profile: Profile, video: VideoInfo, overlay: OverlaySpec,
                   places: tuple[Region, ...], features: FfmpegFeatures = MODERN) -> str:
    """Timing fix-up of each region's stream, then one overlay per region, chained.

    Each overlay region is converted on its own to the format the blend wants
    (only the frames that cross). With the cpu compositor the source is left in its own format;
    GPU compositors convert (or upload) it to the profile's surface format and
    upload each overlay region (see encoders.profiles: "compositor").
    """
    timing = f"settb=AVTB,setpts=PTS-STARTPTS{_overlay_shift(video):+.6f}/TB"
    # A stream per region, trimmed by pts; the GPU compositors repeat an ended region
    trim = region_trim(overlay_frames_needed(video, overlay),
                       BLEND_REGION_END if profile.compositor == "cpu" else "repeat")
    chains = tuple(f"[1:{i}]{trim},{timing}" for i in range(len(places)))
    return composite_graph(profile, f"0:{video.video_stream}", chains, video, overlay, places, features)


def composite_graph(profile: Profile, main: str, overlay_chains: tuple[str, ...], video: VideoInfo,
                    overlay: OverlaySpec, places: tuple[Region, ...],
                    features: FfmpegFeatures = MODERN) -> str:
    """The blend part of the graph: `main` (a stream label) under the overlay regions → [vout].

    overlay_chains holds one chain per region (a stream each), each starting with
    its input label and without an output label.
    The capability check runs the render's argv (encoders.render_check).
    """
    kind = profile.compositor
    if kind == "cpu":
        blend, convert = blend_formats(video, overlay, features)
        blend_filter = f"overlay=x={{x}}:y={{y}}:eof_action={BLEND_REGION_END}:format={blend}"
        head, upload, tail = "", "", _hwupload_tail(profile)
    else:
        head, convert, upload = _gpu_inputs(profile, video, overlay, features)
        opts = "x={x}:y={y}" + ("" if kind == "vaapi" else ":eof_action=repeat")  # 5.1 overlay_vaapi has none
        blend_filter = f"{GPU_OVERLAY[kind]}={opts}"
        tail = ""
    n = len(places)
    after = (f",{convert}" if convert else "") + (f",{upload}" if upload else "")
    if len(overlay_chains) != n:
        raise ValueError(f"{len(overlay_chains)} overlay streams for {n} regions")
    # The video's chain comes first, the regions' after it (their labels are linked forward): an
    # unconfigured graph asks its inputs for a first frame in the order they appear, so ffmpeg
    # (5.1) decodes the video's first frames while the first overlay frame is still being drawn,
    # instead of sleeping 10 ms on the empty overlay pipe and decoding only after.
    parts = []
    below = main
    if head:
        parts.append(f"[{main}]{head}[base]")
        below = "base"
    for i, r in enumerate(places):
        out = ("vblend" if tail else "vout") if i == n - 1 else f"v{i}"
        parts.append(f"[{below}][r{i}]" + blend_filter.format(x=r.x, y=r.y) + f"[{out}]")
        below = out
    if tail:
        parts.append(f"[vblend]{tail}[vout]")
    parts += [f"{chain}{after}[r{i}]" for i, chain in enumerate(overlay_chains)]
    return ";".join(parts)


def _hwupload_tail(profile: Profile) -> str:
    """After CPU compositing: convert and upload for an encoder that takes only GPU surfaces."""
    if profile.hwupload is None:
        return ""
    surface = SURFACE_FORMATS.get(profile.pix_fmt, profile.pix_fmt)
    return f"format={surface},{HWUPLOAD[profile.hwupload]}"


def _gpu_inputs(profile: Profile, video: VideoInfo, overlay: OverlaySpec,
                features: FfmpegFeatures = MODERN) -> tuple[str, str | None, str]:
    """(filters bringing the source to GPU surfaces or "", overlay conversion or None, per-region upload).

    Every compositor writes limited-range video in the source's matrix, like the cpu profile
    (whose -pix_fmt yuv420p makes ffmpeg convert a full-range yuvj420p source): a full-range
    source is converted, stating both matrices so that only the range changes.
    """
    kind = profile.compositor
    surface = profile.pix_fmt
    upload = HWUPLOAD[kind]
    matrix = video.color_matrix
    to_limited = (f"scale=in_range=full:out_range=limited:in_color_matrix={matrix}:out_color_matrix={matrix},"
                  if video.full_range else "")
    if kind == "cuda":
        # overlay_cuda blends a yuva420p overlay onto yuv420p/nv12, both on the GPU. NVDEC's frames
        # (nv12, p010 for 10-bit HEVC) pass hwupload untouched and scale_cuda converts them; a frame
        # NVDEC could not make (4:2:2, 4:4:4, 10-bit H.264, an old GPU) arrives in system memory and
        # is uploaded by the same hwupload (swscale first brings it to a format CUDA holds).
        # A full-range source goes limited on the GPU with colorspace_cuda (ffmpeg 6.0+); before
        # 6.0 it is decoded to system memory (render_input_options) and swscale converts it.
        on_gpu = _option_value(render_input_options(profile, video, features), "-hwaccel_output_format") == kind
        gpu_range = ",colorspace_cuda=range=tv" if video.full_range else ""
        head = (f"{upload},scale_cuda=format={surface}{gpu_range}" if on_gpu
                else f"{to_limited}format={surface},{upload}")
        # The blend mixes raw YUV values: the overlay is converted to the output's range and matrix.
        convert = (None if overlay.pix_fmt == "yuva420p" else
                   f"scale=out_range=limited:out_color_matrix={matrix},format=yuva420p")
        return head, convert, upload
    decoded_on_gpu = _option_value(profile.input_options, "-hwaccel_output_format") == kind
    if kind == "qsv":
        # overlay_qsv (Intel VPP) blends per-pixel alpha as premultiplied and converts the RGB
        # overlay with the matrix the main input's frames state (BT.601 when they state none):
        # the workers' straight alpha is premultiplied, the base is tagged limited + its matrix.
        tag = f"setparams=range=tv:colorspace={SETPARAMS_MATRIX.get(matrix, matrix)}"
        head = "" if decoded_on_gpu else f"{to_limited}format={SURFACE_FORMATS.get(surface, surface)},{tag},{upload}"
        return head, "format=bgra,premultiply=inplace=1", upload
    # overlay_vaapi (ffmpeg 6+) blends an rgba overlay; the source is decoded on the CPU unless
    # the profile keeps it on the GPU.
    head = "" if decoded_on_gpu else f"{to_limited}format={SURFACE_FORMATS.get(surface, surface)},{upload}"
    return head, "format=rgba", upload


def render_input_options(profile: Profile, video: VideoInfo,
                         features: FfmpegFeatures = MODERN) -> tuple[str, ...]:
    """The profile's decoder options as this source needs them.

    The cuda compositor on a full-range source (every GoPro file) with an ffmpeg before
    6.0 keeps NVDEC decoding but takes its frames in system memory (no
    -hwaccel_output_format cuda): only 6.0 brought a CUDA filter that converts the
    range (colorspace_cuda), and the output must be limited range like every other
    profile's. Other sources, profiles and ffmpegs: the profile's options as written.
    """
    options = tuple(profile.input_options)
    if profile.compositor != "cuda" or not video.full_range or features.cuda_range:
        return options
    i = next((i for i, tok in enumerate(options[:-1]) if tok == "-hwaccel_output_format"), None)
    return options if i is None else options[:i] + options[i + 2:]


def _option_value(options, flag: str) -> str | None:
    return next((options[i + 1] for i, tok in enumerate(options[:-1]) if tok == flag), None)


def gpmf_maps(video: VideoInfo, container: str, keep_gpmf: bool, final_path) -> list[str]:
    if not keep_gpmf:
        return []
    if container not in GPMF_CONTAINERS:
        raise InputError(f"{final_path}: --keep-gpmf needs .mp4 or .mov output (a GPMF track is an MP4 track)")
    if video.gpmd_stream is None:
        raise InputError(f"{video.path}: --keep-gpmf: the source has no GPMF (gpmd) track to keep")
    return ["-map", f"0:{video.gpmd_stream}"]


def _source_input(video: VideoInfo, concat_path) -> list[str]:
    """`-i SOURCE`, or the concat demuxer over a list file (encoders.chapters.concat_list) for chapters."""
    if not video.parts:
        return ["-i", path_arg(video.path)]
    if concat_path is None:
        raise ValueError("a chaptered video needs concat_path: the file holding concat_list(video)")
    return ["-f", "concat", "-safe", "0", "-i", path_arg(concat_path)]


def _check_output(profile: Profile, final_path) -> str:
    container = output_container(final_path)
    if container not in profile.extensions:
        raise InputError(f"{final_path}: profile '{profile.name}' cannot write .{container} "
                         f"(allowed: {', '.join('.' + e for e in profile.extensions)})")
    return container


def _overlay_shift(video: VideoInfo) -> float:
    """Seconds added to overlay timestamps so frame k lands on video frame k.

    ffmpeg starts its timeline at the container's start, so the first video frame
    is at `timeline_offset`. The overlay is also moved 1 ms (at most a quarter
    frame) earlier: the overlay filter shows the latest overlay frame at or before
    each video frame, and rounding (overlay timestamps to microseconds, source
    timestamps to their time base, e.g. 1 ms in Matroska) must never make frame k
    land after video frame k and show frame k-1 there instead.
    """
    return video.timeline_offset - min(GUARD_SECONDS, 0.25 * video.fps_den / video.fps_num)


def _output_args(profile: Profile, video: VideoInfo, container: str, threads: int | None,
                 features: FfmpegFeatures = MODERN, gpmf: bool = False) -> list[str]:
    # GPU surfaces reach the encoder as the graph made them: a -pix_fmt would make ffmpeg
    # insert a software conversion that cannot read them.
    pix_fmt = [] if profile.gpu_frames else ["-pix_fmt", profile.pix_fmt]
    args = ["-c:v", profile.encoder, *pix_fmt, *profile.output_options]
    if threads:
        args += ["-threads", str(threads)]
    args += audio_args(profile, video, container)
    if gpmf:
        # ffmpeg reads the GPMF track as codec bin_data; -copy_unknown keeps streams it cannot
        # identify, the tag makes the mov/mp4 muxer write the 'gpmd' sample entry GoPro tools look for.
        args += ["-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd"]
    # passthrough: one output frame per composited frame, never duplicated or dropped to
    # fit a constant rate (ffmpeg's default for mp4), so the frame count is the source's.
    args += ["-map_metadata", "0", *features.passthrough(), *timecode_args(video, video.fps, container)]
    if container in ("mp4", "mov"):
        args += ["-movflags", "+faststart"]
    return args + ["-f", MUXERS[container]]


def timecode_args(video: VideoInfo | None, fps: Fraction, container: str) -> list[str]:
    """The source's start timecode for an output whose frame 0 is the source's frame 0, at its rate:
    a tmcd track, which editors line clips up by (a GoPro's is the time of day it started).
    MP4/MOV only; none at another rate, whose frame numbers the timecode's would not count."""
    if video is None or not video.timecode or container not in ("mp4", "mov") or fps != video.fps:
        return []
    return ["-timecode", video.timecode]


def creation_args(video: VideoInfo | None) -> list[str]:
    """For an output that does not read the source (the dashboard alone): the source's creation
    time, so an editor files it with the clip it belongs to."""
    return ["-metadata", f"creation_time={video.creation_time}"] if video and video.creation_time else []


def audio_args(profile: Profile, video: VideoInfo, container: str) -> list[str]:
    if profile.audio != "copy":
        return ["-c:a", profile.audio]
    if container == "mp4" and video.audio_codec and video.audio_codec not in MP4_COPYABLE_AUDIO:
        return list(FALLBACK_AUDIO)
    return ["-c:a", "copy"]
