"""The render configuration, resolved once from the command line and passed down."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from overdash import InputError
from overlay.layout.units import UnitSettings

if TYPE_CHECKING:  # numpy: not before ffprobe has started (see cli.main)
    from overlay.telemetry.laps import LapSpec
    from overlay.telemetry.quality import QualityLimits

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm"}


@dataclass(frozen=True)
class RenderConfig:
    input: Path
    output: Path
    workers: int
    more_inputs: tuple[Path, ...] = ()   # further chapter files given by hand, in order
    chapters: bool = True                # find GX02…, GX03… after the input by name
    gpmf: Path | None = None             # telemetry from this file (MP4 or raw GPMF) instead
    layout: str = "default"
    overlay_fps: Fraction | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    units: UnitSettings = field(default_factory=UnitSettings)
    profile: str = "auto"
    ffmpeg: str = "ffmpeg"
    debug: bool = False
    quiet: bool = False
    font: str | None = None
    profile_widgets: bool = False
    gpx: Path | None = None              # ride file merged onto the video's timeline
    fit: Path | None = None
    merge: str = "extend"                # extend: add what the camera lacks; replace: position/speed from the file
    sync: str = "off"                    # auto: find the file's clock offset against the camera's GPS
    offset: float = 0.0                  # seconds added to the file's clock
    start: str | None = None             # ISO 8601 UTC of the first frame, when the video cannot tell
    tz: str | None = None                # display time zone; default: where the ride happened
    keep_gpmf: bool = False
    map_style: str | None = None         # tile maps: style name or {z}/{x}/{y} URL (default OpenStreetMap)
    map_api_key: str | None = None
    offline: bool = False                # maps from the tile cache only
    privacy: tuple[str, ...] = ()        # LAT,LON,RADIUS_M zones hidden on maps and in text
    size: tuple[int, int] | None = None  # overlay-only output of a ride file: picture size
    from_time: str | None = None         # … and the part of the ride to draw
    to_time: str | None = None
    overlay_pix_fmt: str = "auto"        # how the overlay crosses to ffmpeg: auto, rgba, yuva420p
    altitude: str = "msl"                # GoPro GPS heights: msl (EGM96-corrected) or ellipsoid (as recorded)
    laps: LapSpec | None = None          # --lap-line / --laps auto / --sector-line: laps timed on the track
    # gopro-dashboard-overlay's options, translated by pipeline.commands.compat
    overlay_size: tuple[int, int] | None = None  # draw on this canvas at the video's top-left
    use_file_only: bool = False          # ignore the camera's telemetry: everything from --gpx/--fit
    video_time: tuple[str, str] | None = None  # ("start" | "end", "file-created" | "file-modified" | "file-accessed")
    gps_limits: QualityLimits | None = None  # the camera's GPS quality limits (None: the defaults)
    generate: str = "default"            # default: over the video; overlay: dashboard alone; none: no output
    show_ffmpeg: bool = False            # print ffmpeg's command line
    cache_dir: Path | None = None        # map tile cache (None: $XDG_CACHE_HOME/overdash/tiles)
    bg: tuple[int, int, int, int] | None = None  # overlay-only output: background RGBA
    notices: tuple[str, ...] = ()        # one line each, said before the run


def default_workers() -> int:
    """One worker per CPU this process may use (ffmpeg's threads share them)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def parse_fps(text: str | None) -> Fraction | None:
    if text is None:
        return None
    try:
        fps = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"--overlay-fps {text!r}: not a number or fraction like 30000/1001") from None
    if fps <= 0 or fps > 240:
        raise InputError(f"--overlay-fps {text}: must be above 0 and at most 240")
    return fps


def parse_clock(text: str, option: str) -> float:
    """Seconds, or [HH:]MM:SS[.s] as ffmpeg's -ss takes it: a span of time, never negative."""
    parts = text.strip().split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    ok = (0 < len(values) <= 3 and all(math.isfinite(v) and v >= 0 for v in values)
          and all(v < 60 for v in values[1:]) and all(p.strip().isdigit() for p in parts[:-1]))
    if not ok:
        raise InputError(f"{option} {text!r}: not a time; use seconds or [HH:]MM:SS[.s]")
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    return seconds


def check_paths(config: RenderConfig) -> None:
    """Fail before any work for mistakes a user can fix at once."""
    src, out = config.input, config.output
    extra = [p for p in (config.gpmf, config.gpx, config.fit) if p]
    if config.gpx and config.fit:
        raise InputError("give --gpx or --fit, not both")
    for path in (src, *config.more_inputs, *extra):
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not a file")
    from pipeline.commands.sources import is_ride_file  # sources reads this module's RenderConfig

    if (config.size or config.from_time or config.to_time) and not is_ride_file(src):
        raise InputError("--size, --from and --to are for drawing a GPX/FIT ride without a video: "
                         "overdash render ride.fit out.mov --size 1920x1080")
    if src.suffix.lower() in (".raw", ".gpmd", ".bin"):
        raise InputError(f"{src}: is telemetry only, render needs the video: "
                         f"overdash render VIDEO.mp4 OUT.mp4 --gpmf {src.name}")
    if out.suffix.lower() == ".png":
        raise InputError(f"{out}: render writes video files, not image sequences: for lossless frames with "
                         f"transparency, write them into a .mov (--profile png, or prores-alpha)")
    if out.suffix.lower() not in VIDEO_SUFFIXES:
        raise InputError(f"{out}: output must end in one of {', '.join(sorted(VIDEO_SUFFIXES))}")
    if not out.parent.is_dir():
        raise InputError(f"{out}: folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise InputError(f"{out}: folder {out.parent} is not writable")
    if out.exists() and any(out.resolve() == p.resolve() for p in (src, *config.more_inputs)):
        raise InputError(f"{out}: output would overwrite the input")
    if config.font:
        check_font(config.font)
    if config.workers < 1:
        raise InputError(f"--workers {config.workers}: must be at least 1")


def pil_flavour() -> str:
    """Which Pillow build draws: pillow-simd and stock Pillow both provide PIL.

    Told by the distribution's metadata folder next to PIL (one directory listing;
    importlib.metadata costs ~35 ms of imports on every render).
    """
    import PIL

    try:
        names = os.listdir(Path(PIL.__file__).resolve().parent.parent)
    except OSError:
        names = []
    for dist, prefix in (("pillow-simd", "pillow_simd-"), ("Pillow", "pillow-")):
        if any(n.lower().startswith(prefix) and n.endswith((".dist-info", ".egg-info")) for n in names):
            return f"{dist} {PIL.__version__}"
    return f"PIL {PIL.__version__}"


def check_font(font: str) -> None:
    """A font the user named must load now, not in every worker."""
    from PIL import ImageFont

    try:
        ImageFont.truetype(font, 16)
    except OSError as exc:
        raise InputError(f"{font}: cannot use this font ({exc})") from None


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"{option} {text!r}: use WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384) or w % 2 or h % 2:
        raise InputError(f"{option} {text}: each side must be an even number of pixels, 16 to 16384")
    return w, h


def refuse_ignored(args, *, ride_only: bool, has_ride: bool) -> None:
    """An option that would have no effect on this render is an error, never silently dropped:
    a user who typed it expects a different video. `ride_only`: IN is a GPX/FIT ride (no video);
    `has_ride`: a ride file is merged onto a video (--gpx/--fit)."""
    def given(option: str, value) -> str | None:
        return option if value else None

    if ride_only:
        reason = "IN is a ride file with no video or camera"
        for option in filter(None, (given("--sync auto", args.sync == "auto"), given("--merge", args.merge),
                                    given("--gpx-merge", args.gpx_merge), given("--start", args.start),
                                    given("--gpmf", args.gpmf), given("--no-chapters", args.no_chapters),
                                    given("--keep-gpmf", args.keep_gpmf),
                                    given("--overlay-pix-fmt", args.overlay_pix_fmt != "auto"))):
            raise InputError(f"{option} has no effect here: {reason}"
                             + (" (use --from for the start)" if option == "--start" else ""))
        if len(args.inputs) > 1:
            raise InputError(f"{args.inputs[1]}: give one GPX/FIT ride at a time")
        return
    if not has_ride:
        for option in filter(None, (given("--sync auto", args.sync == "auto"), given("--merge", args.merge),
                                    given("--gpx-merge", args.gpx_merge), given("--start", args.start),
                                    given("--offset", args.offset))):
            raise InputError(f"{option} aligns or merges a ride file: it needs --gpx FILE or --fit FILE")
    if args.use_file_only:
        for option in filter(None, (given("--sync auto", args.sync == "auto"), given("--gpmf", args.gpmf),
                                    given("--merge", args.merge), given("--gpx-merge", args.gpx_merge))):
            raise InputError(f"{option} has no effect with --use-gpx-only, which ignores the camera's telemetry")
    if args.show_ffmpeg and args.generate == "none":
        raise InputError("--show-ffmpeg with --generate none: no ffmpeg runs, there is no command to show")
    if args.generate == "overlay":
        for option in filter(None, (given("--keep-gpmf", args.keep_gpmf),
                                    given("--overlay-pix-fmt", args.overlay_pix_fmt != "auto"))):
            raise InputError(f"{option} has no effect with --generate overlay, which writes the dashboard alone")
