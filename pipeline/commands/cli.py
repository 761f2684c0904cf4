"""The `overdash` command line: parse, resolve config once, run, report one line on failure."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from overdash import InputError, OverdashError, __version__

if TYPE_CHECKING:
    from encoders.probe import Prefetch

# numpy's OpenBLAS starts a busy thread per core as it loads: ~60 ms of CPU taken from
# ffmpeg at start-up, and overdash does no linear algebra. Before numpy is imported;
# a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXIT_USER, EXIT_RENDER, EXIT_INTERRUPTED = 2, 1, 130
WARNINGS_SHOWN = 5  # a damaged file can warn once per telemetry payload: thousands of lines


class _WarningLines:
    """Warnings (a corrupt GPMF payload skipped, ...) as `overdash: warning: …` lines, not Python's
    two-line file:line report, and only the first few: what is wrong is said, the rest counted out."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        self.count += 1
        if self.count > WARNINGS_SHOWN + 1:
            return
        text = (f"{message}" if self.count <= WARNINGS_SHOWN
                else "further warnings are not shown")
        try:
            print(f"overdash: warning: {text}", file=file or sys.stderr)
        except OSError:  # a closed terminal
            pass


class _Version(argparse.Action):
    """--version, worked out only when asked: which Pillow draws, whether the C converter is built."""

    def __call__(self, parser, namespace, values, option_string=None):
        from overlay.yuva import native_available
        from pipeline.commands.config import pil_flavour

        converter = "native" if native_available() else "numpy only: overlays cross as rgba"
        print(f"overdash {__version__} (drawing with {pil_flavour()}; yuva420p converter {converter})")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; for `command` "render", only that command (see main)."""
    from pipeline.commands.config import default_workers

    parser = argparse.ArgumentParser(
        prog="overdash", description="Telemetry dashboards on action-camera video.")
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and the drawing backends")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    r = sub.add_parser("render", help="draw the dashboard over a video",
                       description="Draw a telemetry dashboard over a GoPro video and encode the result.")
    r.add_argument("inputs", type=Path, nargs="+", metavar="IN",
                   help="GoPro MP4 with a GPMF telemetry track (later chapters GX02… are found by name, or give "
                        "every chapter in order), any video with --gpx/--fit, or a .gpx/.fit ride alone "
                        "(with --use-gpx-only, IN may be left out)")
    r.add_argument("output", type=Path, metavar="OUT", help="output video (.mp4, .mov, .mkv, .webm)")
    r.add_argument("--workers", type=int, default=default_workers(),
                   help="drawing processes (default: CPU count, %(default)s here)")
    add_dashboard_options(r)
    r.add_argument("--no-chapters", action="store_true", help="render only the given file(s), not later chapters")
    r.add_argument("--gpmf", type=Path, metavar="FILE",
                   help="take the telemetry from this GoPro MP4 or raw GPMF track (.raw, .gpmd) instead")
    g = r.add_argument_group("ride files (GPX, FIT)")
    g.add_argument("--gpx", metavar="FILE", help="GPX (.gpx, .gpx.gz) of the ride: hr, cadence, power, temperature, …")
    g.add_argument("--fit", metavar="FILE", help="FIT file of the ride (Garmin, Wahoo, Karoo, …)")
    g.add_argument("--merge", choices=("extend", "replace"),
                   help="extend: add what the camera lacks; replace: position, altitude and speed from the "
                        "file (default: extend)")
    g.add_argument("--sync", choices=("off", "auto"), default="off",
                   help="auto: find the file's clock offset by matching its speed and track to the camera's GPS")
    g.add_argument("--offset", type=float, default=0.0, metavar="SECONDS",
                   help="shift the file's data by this many seconds (added to what --sync finds)")
    g.add_argument("--start", metavar="ISO8601",
                   help="UTC time of the video's first frame, for cameras without GPS (default: the camera's "
                        "GPS time, else the file's creation time)")
    o = r.add_argument_group("a ride file without video (IN is a .gpx/.fit): the dashboard alone, with alpha")
    o.add_argument("--size", metavar="WxH", help="picture size (default: 1920x1080)")
    o.add_argument("--from", metavar="TIME",
                   help="start: time into the ride (seconds or [HH:]MM:SS) or an ISO 8601 date and time "
                        "(default: its start)")
    o.add_argument("--to", metavar="TIME",
                   help="end: time into the ride (seconds or [HH:]MM:SS) or an ISO 8601 date and time "
                        "(default: its end)")
    r.add_argument("--tz", metavar="ZONE",
                   help="time zone for dates and times on the dashboard, e.g. Europe/Paris "
                        "(default: where the ride happened)")
    r.add_argument("--overlay-fps", metavar="FPS",
                   help="dashboard frame rate, e.g. 10 or 30000/1001 (default: the video's)")
    r.add_argument("--profile", default="auto", help="encoder profile name or JSON file (default: %(default)s)")
    r.add_argument("--keep-gpmf", action="store_true",
                   help="copy the GoPro telemetry track into the output, so other tools still find it")
    r.add_argument("--ffmpeg", default="ffmpeg", help="ffmpeg executable (default: %(default)s)")
    r.add_argument("--overlay-pix-fmt", choices=("auto", "rgba", "yuva420p"), default="auto",
                   help="how overlay frames cross to ffmpeg: yuva420p is converted by the workers and "
                        "blended as is; rgba is converted by ffmpeg (auto: yuva420p where the blend takes it)")
    r.add_argument("--profile-widgets", action="store_true", help="print the drawing time of each widget first")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    r.add_argument("--debug", action="store_true", help="show tracebacks, including the failing child's")
    from pipeline.commands.compat import add_compat_options

    add_compat_options(r)
    from pipeline.commands.split import add_ray_options

    add_ray_options(r)

    if command == "render":
        return parser
    from pipeline.commands.batch import add_batch_parser

    add_batch_parser(sub, r)
    from pipeline.commands.demo import add_demo_parser
    from pipeline.commands.edit import add_edit_parser
    from pipeline.commands.export import add_export_parser
    from pipeline.commands.info import add_info_parser
    from pipeline.commands.preview import add_preview_parser
    from pipeline.commands.profiles import add_profiles_parser

    add_preview_parser(sub, add_dashboard_options)
    add_info_parser(sub)
    add_export_parser(sub)
    add_profiles_parser(sub)
    add_demo_parser(sub)
    add_edit_parser(sub, add_dashboard_options)
    return parser


def add_dashboard_options(p: argparse.ArgumentParser) -> None:
    """What to draw and in which units: the same for render and preview."""
    p.add_argument("--layout", default="default", help="bundled layout name or XML file (default: %(default)s)")
    p.add_argument("--include", nargs="+", default=(), metavar="NAME", help="draw only these named layout parts")
    p.add_argument("--exclude", nargs="+", default=(), metavar="NAME", help="leave out these named layout parts")
    p.add_argument("--font", metavar="FILE", help="TrueType/OpenType font for all text (default: bundled DejaVu Sans)")
    m = p.add_argument_group("maps")
    m.add_argument("--map-style", metavar="NAME|URL",
                   help="osm (default), cyclosm, opentopomap, thunderforest[-VARIANT], geoapify[-VARIANT], "
                        "or a tile URL template with {z}/{x}/{y}")
    m.add_argument("--map-api-key", metavar="KEY",
                   help="key for Thunderforest/Geoapify (else $OVERDASH_MAP_API_KEY or the config file)")
    m.add_argument("--offline", action="store_true", help="maps from the tile cache only, no network")
    m.add_argument("--privacy", action="append", default=[], metavar="LAT,LON,RADIUS_M",
                   help="hide the track, position and coordinates inside this circle (repeatable)")
    p.add_argument("--units-speed", default="kph", help="kph, mph, knots, or any pint unit (default: %(default)s)")
    p.add_argument("--units-altitude", default="metre", help="metre, feet, ... (default: %(default)s)")
    p.add_argument("--units-distance", default="km", help="km, miles, nautical_miles, ... (default: %(default)s)")
    p.add_argument("--units-temperature", default="degC", help="degC, degF, ... (default: %(default)s)")
    add_altitude_option(p)
    add_lap_options(p)


def add_lap_options(p: argparse.ArgumentParser, *, csv: bool = False) -> None:
    """Laps timed on the track (overlay.telemetry.laps), for every command that reads telemetry.
    `csv`: export's --laps, which also says to write the laps (optionally found as --laps auto)."""
    g = p.add_argument_group("laps from the track (replace the ride file's laps)")
    g.add_argument("--lap-line", metavar="LAT,LON[,BEARING][,WIDTH_M]",
                   help="start/finish line: its centre, the direction of travel across it (degrees from north; "
                        "default: the track's where it first passes) and its length (default 30 m)")
    if csv:
        g.add_argument("--laps", nargs="?", const="file", choices=("auto", "file"),
                       help="write the completed laps as CSV (lap, start, end, time, delta to the best, sectors) "
                            "instead of a stream: from --lap-line, else the file's own; auto: as --laps auto")
    else:
        g.add_argument("--laps", choices=("auto",),
                       help="auto: find the circuit where the track keeps coming back, and put the line there")
    g.add_argument("--sector-line", action="append", default=[], metavar="LAT,LON[,BEARING][,WIDTH_M]",
                   help="a sector line, as --lap-line (repeatable)")
    g.add_argument("--min-lap", type=float, metavar="SECONDS",
                   help="crossings closer together are one (default: 10)")


def add_altitude_option(p: argparse.ArgumentParser) -> None:
    """--altitude, for every command that reads GoPro heights (render, preview, info, export)."""
    p.add_argument("--altitude", choices=("msl", "ellipsoid"), default="msl",
                   help="GoPro GPS heights: msl corrects heights above the WGS84 ellipsoid to mean sea level "
                        "with the EGM96 geoid; ellipsoid keeps them as recorded (default: %(default)s)")


def main(argv: list[str] | None = None, *, early: Prefetch | None = None) -> int:
    """`early`: ffprobe already started on a guess at the input (early_probe); used if the
    parsed command line agrees, else cancelled."""
    with warnings.catch_warnings():
        warnings.showwarning = _WarningLines()
        return _main(sys.argv[1:] if argv is None else list(argv), early)


def _main(argv: list[str], early: Prefetch | None = None) -> int:
    # `render` parses without the other commands, whose modules load numpy (~50 ms), so that
    # ffprobe starts before the heavy imports and has the video's facts ready when they are needed.
    parser = build_parser("render" if argv[:1] == ["render"] else None)
    if argv[:1] == ["render"]:
        from pipeline.commands.compat import parse_render_args

        args = parse_render_args(parser, argv)
    else:
        args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    from pipeline.procs import end_on_termination, signal_status

    end_on_termination()  # SIGTERM, SIGHUP: the same cleanup as Ctrl-C
    try:
        if args.command in ("info", "export", "preview", "profiles", "demo", "edit", "batch"):
            return args.func(args)
        if args.command == "render":
            from encoders.tools import sibling_tool
            from pipeline.commands.sources import start_prefetch

            if early is not None and not early.serves(args.inputs[0], sibling_tool(args.ffmpeg, "ffprobe")):
                early.cancel()  # the guess was wrong: options before the input, or another ffprobe
                early = None
            if args.ray is not None or args.segments is not None:  # one video across a Ray cluster
                from pipeline.commands.render import config_from_args
                from pipeline.commands.split import render_split

                if early is not None:
                    early.cancel()
                render_split(config_from_args(args), args.ray, args.segments)
                return 0
            prefetch = early or start_prefetch(args.inputs[0], args.ffmpeg)
            from pipeline.commands.render import config_from_args, render

            render(config_from_args(args), prefetch=prefetch)
        return 0
    except KeyboardInterrupt as exc:  # Ctrl-C, or pipeline.procs.Terminated (SIGTERM, SIGHUP)
        code = signal_status(exc)
        why = "interrupted" if code == EXIT_INTERRUPTED else f"stopped by {signal.Signals(code - 128).name}"
        try:  # a closed terminal (SIGHUP) may no longer take it
            print(f"overdash: {why} — {getattr(exc, 'written', 'nothing was written')}", file=sys.stderr)
        except OSError:
            pass
        return code
    except BrokenPipeError:  # `overdash info … | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OverdashError as exc:
        if debug:
            traceback.print_exception(exc)
        print(f"overdash: error: {exc}", file=sys.stderr)
        return EXIT_USER if isinstance(exc, InputError) else EXIT_RENDER


# What `overdash render FILE …` may name as its video, for early_probe's guess.
VIDEO_SUFFIXES = (".mp4", ".mov", ".360", ".m4v", ".mkv")


def early_probe(argv: list[str]) -> Prefetch | None:
    """The probe of `overdash render VIDEO …`'s VIDEO, started before the command line is parsed.

    An H.264 MP4's facts come from its index at once; any other video needs ffprobe, ~90 ms,
    most of it loading ffmpeg's libraries, and `render` wants its answer ~130 ms after launch:
    started after parsing (~70 ms in), it often kept main waiting. The
    input is guessed from the first argument, and only the usual spelling (the video first, a
    video suffix, the ffprobe on PATH) is guessed: `render` uses it only if the parsed command
    line names the same file and ffprobe (main), and cancels it otherwise.
    """
    if len(argv) < 2 or argv[0] != "render" or not argv[1].lower().endswith(VIDEO_SUFFIXES):
        return None
    path = Path(argv[1])
    if not path.is_file():
        return None
    from encoders.probe import Prefetch

    return Prefetch(path, "ffprobe")


def entry() -> None:
    """The `overdash` command: main(), then exit without the interpreter's teardown.

    Freeing every module, table and array at exit takes ~40 ms (1% of rendering a
    10 s clip) and does nothing useful by then: the output is renamed, children are
    joined, shared memory is unlinked, and the kernel reclaims the rest.
    """
    from pipeline.procs import whole_lines

    whole_lines()
    argv = sys.argv[1:]
    early = early_probe(argv)
    from overdash.codecache import install_for_command

    compiled = install_for_command()  # before the commands' modules make their dataclasses
    try:
        code = main(argv, early=early)
    finally:
        if early is not None:
            early.cancel()  # not read: --help, a usage error; a no-op once render has its answer
    if compiled is not None:
        compiled.save()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a reader gone (BrokenPipeError), a closed terminal (EIO)
        pass
    os._exit(code)


if __name__ == "__main__":
    entry()
