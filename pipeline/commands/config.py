"""The render configuration, resolved once from the command line and passed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from overdash import InputError
from overlay.layout.units import UnitSettings

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


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"--size {text!r}: use WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (16 <= w <= 16384 and 16 <= h <= 16384) or w % 2 or h % 2:
        raise InputError(f"--size {text}: each side must be an even number of pixels, 16 to 16384")
    return w, h
