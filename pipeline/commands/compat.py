"""gopro-dashboard-overlay's command line on `overdash render`: its options, its names, its refusals.

Users arrive with scripts that call `gopro-dashboard.py [options] [INPUT] OUTPUT`
(gopro-dashboard-overlay 0.134). Each of that tool's options is accepted here and
translated once into overdash's own settings (`resolve`), or refused with one line
that says why and what to use instead: a script never gets a silently different
video. This module is the one place that knows that tool's spellings; the rest of
overdash only ever sees RenderConfig.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from overdash import InputError

# Its built-in ffmpeg profiles → ours (overdash name, notice or None). Used only when the
# name is not a profile the user defined (their ffmpeg-profiles.json or overdash's own).
BUILTIN_PROFILES: dict[str, tuple[str, str | None]] = {
    "nvgpu": ("nvenc", None),          # NVIDIA decode + h264_nvenc, blended on the CPU: the same path
    "nnvgpu": ("nvenc-full", None),    # decode, blend (overlay_cuda) and encode on the GPU
    "mov": ("png", None),              # PNG frames with alpha in a .mov
    "vp9": ("vp9-alpha", None),        # VP9 with alpha in a .webm
    "vp8": ("vp9-alpha", "overdash has no VP8 encoder profile: using vp9-alpha, the nearest (WebM with alpha)"),
}
OVERLAY_ONLY_BUILTINS = ("mov", "vp9", "vp8")
MERGE_MODES = {"EXTEND": "extend", "OVERWRITE": "replace"}
FILE_TIMES = ("file-created", "file-modified", "file-accessed")
MAP_PROVIDERS = {"tf": "thunderforest", "geo": "geoapify"}
SMALLEST_BARE_RADIUS = 50.0  # metres; a bare --privacy radius below this is most likely that tool's km


def default_config_dir() -> Path:
    """Where gopro-dashboard-overlay keeps ffmpeg-profiles.json and map-api-keys.json."""
    return Path.home() / ".gopro-graphics"


def add_compat_options(r: argparse.ArgumentParser) -> None:
    """gopro-dashboard-overlay's render options, under their own spellings."""
    g = r.add_argument_group("gopro-dashboard-overlay options (same meaning as in that tool)")
    g.add_argument("--layout-xml", metavar="FILE", help="layout XML file (same as --layout FILE)")
    g.add_argument("--overlay-size", metavar="WxH",
                   help="draw the dashboard on a WxH canvas at the video's top-left corner (at most the "
                        "video's size); with --generate overlay or a ride alone, the output's size")
    g.add_argument("--use-gpx-only", "--use-fit-only", dest="use_file_only", action="store_true",
                   help="take everything from --gpx/--fit and ignore the camera's telemetry; "
                        "without a video (IN left out, or -), draw the ride alone")
    g.add_argument("--gpx-merge", metavar="EXTEND|OVERWRITE",
                   help="EXTEND = --merge extend, OVERWRITE = --merge replace")
    g.add_argument("--video-time-start", choices=FILE_TIMES,
                   help="the video starts at this time of IN's file (created = status change time)")
    g.add_argument("--video-time-end", choices=FILE_TIMES, help="the video ends at this time of IN's file")
    g.add_argument("--gps-dop-max", type=float, metavar="DOP", help="distrust GoPro GPS fixes with a higher DOP "
                                                                    "(default here: 5)")
    g.add_argument("--gps-speed-max", type=float, metavar="SPEED",
                   help="distrust GoPro GPS fixes reporting a higher speed (default: no limit)")
    g.add_argument("--gps-speed-max-units", metavar="UNIT", help="unit of --gps-speed-max (default: kph)")
    g.add_argument("--gps-bbox-lon-lat", metavar="MINLON,MINLAT,MAXLON,MAXLAT",
                   help="distrust GoPro GPS fixes outside this box")
    g.add_argument("--generate", choices=("default", "overlay", "none"), default="default",
                   help="overlay: the dashboard alone with alpha, at the video's size and rate; "
                        "none: draw every frame, write nothing (timing)")
    g.add_argument("--show-ffmpeg", action="store_true", help="print the ffmpeg command line")
    g.add_argument("--config-dir", metavar="DIR",
                   help="folder of ffmpeg-profiles.json and map-api-keys.json (default: ~/.gopro-graphics)")
    g.add_argument("--cache-dir", metavar="DIR", help="map tiles under DIR/overdash-tiles")
    g.add_argument("--bg", metavar="R,G,B,A", help="background colour of an overlay-only output (0-255 each)")
    g.add_argument("--ffmpeg-dir", metavar="DIR", help="use DIR/ffmpeg and DIR/ffprobe")
    g.add_argument("--profiler", action="store_true", help="same as --profile-widgets")
    g.add_argument("--print-timings", action="store_true", help="accepted: overdash always prints the run's time")
    g.add_argument("--double-buffer", "--thread", dest="double_buffer", action="store_true",
                   help="accepted: overdash always draws in parallel with encoding")
    g.add_argument("--load", nargs="+", metavar="ACCL|GRAV|CORI",
                   help="accepted: overdash always reads these streams when the camera wrote them")
    g.add_argument("--debug-metadata", action="store_true", help=argparse.SUPPRESS)
    g.add_argument("--output-size", help=argparse.SUPPRESS)


def parse_render_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse `render …`, also in that tool's form without a video: `--use-gpx-only --gpx RIDE OUT`.

    Only OUT given: IN is taken as `-` (no video) and the ride is drawn alone. Done as a
    second parse, so IN and OUT may still sit anywhere among the options.
    """
    if "--use-gpx-only" in argv or "--use-fit-only" in argv:
        try:
            with open(os.devnull, "w") as quiet, _stderr_to(quiet):
                return parser.parse_args(argv)
        except SystemExit:
            retry = [argv[0], "-", *argv[1:]]
            try:
                with open(os.devnull, "w") as quiet, _stderr_to(quiet):
                    return parser.parse_args(retry)
            except SystemExit:
                pass  # report the user's own command line's error below
    return parser.parse_args(argv)


class _stderr_to:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        import sys

        self.saved, sys.stderr = sys.stderr, self.stream

    def __exit__(self, *exc):
        import sys

        sys.stderr = self.saved


def resolve(args: argparse.Namespace) -> dict:
    """RenderConfig fields from the parsed command line, that tool's options translated; InputError
    (one line) for an option that cannot keep its meaning. Adds 'notices' for the accepted no-ops."""
    notices: list[str] = []
    inputs = list(args.inputs)
    ride_file = args.gpx or args.fit
    no_video = inputs == [Path("-")]
    if no_video:
        if not ride_file:
            raise InputError("IN '-' (no video) needs the ride: --gpx FILE or --fit FILE")
        inputs = [Path(ride_file)]
    elif "-" in map(str, inputs):
        raise InputError("IN '-' (no video) stands alone: give it, or video files, not both")
    from pipeline.commands.sources import is_ride_file

    ride_only = is_ride_file(inputs[0])
    if args.use_file_only and not ride_file and not ride_only:
        raise InputError("--use-gpx-only takes everything from the ride file: give it with --gpx FILE or --fit FILE")
    out = {
        "input": inputs[0], "more_inputs": tuple(inputs[1:]),
        "gpx": None if no_video else (Path(args.gpx) if args.gpx else None),
        "fit": None if no_video else (Path(args.fit) if args.fit else None),
        "use_file_only": bool(args.use_file_only) and not ride_only,
        "layout": _layout(args), "merge": _merge(args), "generate": args.generate,
        "show_ffmpeg": args.show_ffmpeg, "profile_widgets": args.profile_widgets or args.profiler,
        "ffmpeg": _ffmpeg(args), "privacy": tuple(privacy_zone(z) for z in args.privacy),
        "overlay_size": _overlay_size(args), "bg": parse_colour(args.bg) if args.bg else None,
        "video_time": _video_time(args, ride_only or no_video, bool(ride_file)),
        "gps_limits": _gps_limits(args, ride_only or no_video or args.use_file_only),
        "cache_dir": _cache_dir(args.cache_dir),
    }
    config_dir = _config_dir(args.config_dir)
    alpha_output = args.generate == "overlay" or ride_only or no_video
    out["profile"] = _profile(args.profile, alpha_output, config_dir, notices)
    out["map_style"] = map_style(args.map_style)
    out["map_api_key"] = args.map_api_key or map_api_key_fallback(out["map_style"], config_dir)
    if args.output_size:
        raise InputError("--output-size: overdash keeps the video's own size; scale the result afterwards "
                         "(ffmpeg -i OUT -vf scale=-2:1080 SMALL.mp4)")
    if args.debug_metadata:
        raise InputError("--debug-metadata: see what the GoPro track holds with `overdash info IN`")
    if args.double_buffer:
        notices.append("--double-buffer/--thread: nothing to switch on, overdash always draws in parallel "
                       "with encoding")
    if args.load:
        bad = [n for n in args.load if n.upper() not in ("ACCL", "GRAV", "CORI")]
        if bad:
            raise InputError(f"--load {bad[0]}: use ACCL, GRAV or CORI")
        notices.append("--load: overdash always reads ACCL, GRAV and CORI when the camera wrote them")
    if args.print_timings and args.quiet:
        raise InputError("--print-timings and -q: the timings are on the lines -q leaves out; drop one")
    out["notices"] = tuple(notices)
    return out


def _layout(args) -> str:
    if args.layout_xml:
        if args.layout not in ("default", "xml"):
            raise InputError(f"--layout {args.layout} and --layout-xml {args.layout_xml}: give one layout")
        return str(args.layout_xml)
    if args.layout == "xml":
        raise InputError("--layout xml needs the file: --layout-xml FILE (or --layout FILE)")
    if args.layout == "speed-awareness":
        raise InputError("--layout speed-awareness: overdash has no such layout; use --layout default "
                         "or a layout XML file")
    return args.layout


def _merge(args) -> str | None:
    """--merge or its spelling --gpx-merge (case-insensitive); None when neither is given."""
    mode = args.merge
    if args.gpx_merge is not None:
        mapped = MERGE_MODES.get(args.gpx_merge.upper())
        if mapped is None:
            raise InputError(f"--gpx-merge {args.gpx_merge}: use EXTEND or OVERWRITE")
        if mode is not None and mode != mapped:
            raise InputError(f"--merge {mode} and --gpx-merge {args.gpx_merge} disagree: give one")
        mode = mapped
    return mode


def _ffmpeg(args) -> str:
    if not args.ffmpeg_dir:
        return args.ffmpeg
    if args.ffmpeg != "ffmpeg":
        raise InputError(f"--ffmpeg {args.ffmpeg} and --ffmpeg-dir {args.ffmpeg_dir}: give one")
    folder = Path(args.ffmpeg_dir).expanduser()
    if not (folder / "ffmpeg").is_file():
        raise InputError(f"--ffmpeg-dir {folder}: no ffmpeg in that folder")
    return str(folder / "ffmpeg")


def _overlay_size(args) -> tuple[int, int] | None:
    if not args.overlay_size:
        return None
    if args.size:
        raise InputError("--size and --overlay-size both give the picture size: give one")
    from pipeline.commands.config import parse_size

    return parse_size(args.overlay_size, "--overlay-size")


def parse_colour(text: str) -> tuple[int, int, int, int]:
    """--bg R,G,B,A: the layout colour reader, with the alpha that tool's option always takes."""
    from overlay.widgets import attrs

    try:
        if text.count(",") != 3:
            raise ValueError
        return attrs.parse_colour(text)  # type: ignore[return-value]
    except ValueError:
        raise InputError(f"--bg {text!r}: give R,G,B,A, each 0 to 255, e.g. 0,255,0,255") from None


def _video_time(args, without_video: bool, has_ride: bool) -> tuple[str, str] | None:
    if args.video_time_start and args.video_time_end:
        raise InputError("give --video-time-start or --video-time-end, not both")
    which = "start" if args.video_time_start else "end" if args.video_time_end else None
    if which is None:
        return None
    option = f"--video-time-{which}"
    if without_video or not has_ride:
        raise InputError(f"{option} aligns a ride file with a video: it needs a video IN and --gpx/--fit")
    if args.start:
        raise InputError(f"--start and {option} both give the video's start time: give one")
    return which, args.video_time_start or args.video_time_end


def _gps_limits(args, no_camera_gps: bool):
    given = [o for o, v in (("--gps-dop-max", args.gps_dop_max), ("--gps-speed-max", args.gps_speed_max),
                            ("--gps-speed-max-units", args.gps_speed_max_units),
                            ("--gps-bbox-lon-lat", args.gps_bbox_lon_lat)) if v is not None]
    if not given:
        return None
    if no_camera_gps:
        raise InputError(f"{given[0]} filters the camera's GPS, and this render uses none "
                         f"(a ride file alone or --use-gpx-only)")
    if args.gps_speed_max_units is not None and args.gps_speed_max is None:
        raise InputError("--gps-speed-max-units needs --gps-speed-max SPEED")
    from overlay.telemetry.quality import QualityLimits  # numpy: only when a limit is given

    limits = QualityLimits()
    if args.gps_dop_max is not None:
        if not args.gps_dop_max > 0:
            raise InputError(f"--gps-dop-max {args.gps_dop_max}: must be above 0")
        limits = QualityLimits(max_dop=args.gps_dop_max)
    speed = None
    if args.gps_speed_max is not None:
        speed = _to_mps(args.gps_speed_max, args.gps_speed_max_units or "kph")
    bbox = parse_bbox(args.gps_bbox_lon_lat) if args.gps_bbox_lon_lat else None
    return QualityLimits(max_dop=limits.max_dop, max_speed=limits.max_speed, max_reported_speed=speed, bbox=bbox)


def _to_mps(value: float, unit: str) -> float:
    import numpy as np

    from overlay.conversion import UnitConverter

    if not value > 0:
        raise InputError(f"--gps-speed-max {value}: must be above 0")
    try:
        return float(UnitConverter().convert(np.array([value]), unit, "m/s")[0])
    except InputError:
        raise InputError(f"--gps-speed-max-units {unit!r}: not a speed unit (kph, mph, mps, knot, …)") from None


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4:
        raise InputError(f"--gps-bbox-lon-lat {text!r}: give MINLON,MINLAT,MAXLON,MAXLAT, e.g. -0.5,51.3,0.3,51.7")
    min_lon, min_lat, max_lon, max_lat = box
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise InputError(f"--gps-bbox-lon-lat {text}: need -180 <= MINLON < MAXLON <= 180 and "
                         f"-90 <= MINLAT < MAXLAT <= 90")
    return box  # type: ignore[return-value]


def privacy_zone(text: str) -> str:
    """--privacy LAT,LON,RADIUS with the radius in metres; '0.5km' (that tool's unit) or '500m' also read.

    A bare radius under 50 is refused: that tool read it in km, overdash in metres, and a
    zone 50 times too small would silently show what the user meant to hide.
    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3:
        return text  # overlay.maps.parse_zone says what is wrong
    radius = parts[2].lower()
    scale = 1000.0 if radius.endswith("km") else 1.0
    number = radius[:-2] if radius.endswith("km") else radius[:-1] if radius.endswith("m") else radius
    try:
        metres = float(number) * scale
    except ValueError:
        return text
    if radius == number and metres < SMALLEST_BARE_RADIUS:
        raise InputError(f"--privacy {text}: the radius is in metres here (gopro-dashboard-overlay read km): "
                         f"write {parts[2]}km or {metres * 1000:g}m")
    return f"{parts[0]},{parts[1]},{metres:g}"


def map_style(spec: str | None) -> str | None:
    """That tool's style names (tf-cycle, geo-dark-matter) → ours (thunderforest-cycle, geoapify-dark-matter)."""
    if not spec:
        return spec
    provider, dash, variant = spec.partition("-")
    if dash and provider.lower() in MAP_PROVIDERS and variant:
        return f"{MAP_PROVIDERS[provider.lower()]}-{variant}"
    return spec


def map_api_key_fallback(style: str | None, config_dir: Path) -> str | None:
    """That tool's places for a key, after overdash's own (overlay.maps.styles): $API_KEY_<PROVIDER>, then
    CONFIG_DIR/map-api-keys.json ({"thunderforest": "KEY", …}). None: overdash's own lookup decides."""
    provider = (style or "").lower().partition("-")[0]
    if provider not in MAP_PROVIDERS.values():
        return None
    from overlay.maps.styles import api_key_for

    if api_key_for(provider):
        return None
    env = os.environ.get(f"API_KEY_{provider.upper()}")
    if env:
        return env
    path = config_dir / "map-api-keys.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the map API keys: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: must hold a JSON object like {{\"thunderforest\": \"KEY\"}}")
    key = data.get(provider)
    return key if isinstance(key, str) and key else None


def _config_dir(text: str | None) -> Path:
    if text is None:
        return default_config_dir()
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise InputError(f"--config-dir {folder}: no such folder")
    return folder


def _cache_dir(text: str | None) -> Path | None:
    if text is None:
        return None
    from overlay.maps.cache import tiles_under

    folder = Path(text).expanduser()
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--cache-dir {folder}: is a file, not a folder")
    return tiles_under(folder)


def _profile(name: str, alpha_output: bool, config_dir: Path, notices: list[str]) -> str:
    """A profile name as the render looks it up: the user's own first (overdash's folder, then
    CONFIG_DIR/ffmpeg-profiles.json), then that tool's built-in names mapped to ours."""
    from encoders.profiles import available_profiles, gopro_profiles_file

    if name == "auto" or name.endswith(".json") or ".json:" in name or os.sep in name:
        return name
    gopro_file = config_dir / "ffmpeg-profiles.json"
    if gopro_file != gopro_profiles_file() and gopro_file.is_file():
        from encoders.profiles import _gopro_names

        if name in _gopro_names(gopro_file):
            return f"{gopro_file}:{name}"
    if name in available_profiles() or name not in BUILTIN_PROFILES:
        return name
    ours, notice = BUILTIN_PROFILES[name]
    if name in OVERLAY_ONLY_BUILTINS and not alpha_output:
        raise InputError(f"--profile {name}: that tool's {name} profile re-encodes the whole video; overdash's "
                         f"{ours} writes the dashboard alone: add --generate overlay, or use --profile cpu")
    notices.append(notice or f"--profile {name}: gopro-dashboard-overlay's built-in profile, "
                             f"here overdash's {ours}")
    return ours
