"""`overdash edit`: design a layout in the browser over the user's own footage and telemetry.

    __init__  the command line (add_edit_parser, cmd_edit)
    session   telemetry and video loaded once; drawing a layout's text with the render code
    xmledit   text-preserving edits of the layout source
    vocab     the layout vocabulary as JSON for the page
    server    the local web server: security checks, routes, the page's static files
"""
from __future__ import annotations

import argparse
from pathlib import Path

from overdash import InputError

DEFAULT_FILE = "layout.xml"


def add_edit_parser(sub, add_dashboard_options) -> None:
    p = sub.add_parser("edit", help="design a layout in the browser, over a video or the demo ride",
                       description="Start a local web page that edits a layout file: the picture is drawn by "
                                   "the render code over the video (or a ride file, or the demo ride) at any "
                                   "time; move, resize, add and change components; the XML stays in step.")
    p.add_argument("inputs", type=Path, nargs="*", metavar="IN",
                   help="GoPro MP4, any video with --gpx/--fit, or a .gpx/.fit ride alone "
                        "(default: the demo ride over a neutral background)")
    add_dashboard_options(p)
    for action in p._actions:  # the same option as render's, but here it names the file edited and saved
        if action.dest in ("include", "exclude"):  # the editor shows and saves the whole layout
            action.help = argparse.SUPPRESS
        if action.dest == "layout":
            action.default = DEFAULT_FILE
            action.help = ("layout file to edit and save (created from the default layout on first save), "
                           "or a bundled layout name to start from (default: %(default)s)")
    g = p.add_argument_group("ride files (GPX, FIT)")
    g.add_argument("--gpx", type=Path, metavar="FILE", help="GPX ride merged onto the video (or drawn alone)")
    g.add_argument("--fit", type=Path, metavar="FILE", help="FIT ride merged onto the video")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--no-browser", action="store_true", help="print the address only; do not open a browser")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=cmd_edit)


def layout_start(ref: str) -> tuple[str, Path | None]:
    """(the text the editor starts from, the file it saves to or None for a bundled name)."""
    from overlay.layout.parse import BUNDLED_DIR, bundled_layouts

    path = Path(ref)
    if path.is_file():
        try:
            return path.read_bytes().decode("utf-8"), path
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if path.exists():
        raise InputError(f"{path}: is not a file")
    if ref in bundled_layouts():
        return (BUNDLED_DIR / f"{ref}.xml").read_text("utf-8"), None
    if not path.parent.is_dir():
        raise InputError(f"--layout {ref}: folder {path.parent} does not exist")
    return (BUNDLED_DIR / "default.xml").read_text("utf-8"), path


def cmd_edit(args) -> int:
    from overlay.layout.units import UnitSettings
    from pipeline.commands.config import RenderConfig, check_font
    from pipeline.commands.edit.server import Editor, EditServer, serve
    from pipeline.commands.edit.session import EditSession, load_timeline
    from pipeline.commands.plan import map_args

    for option, value in (("--include", args.include), ("--exclude", args.exclude)):
        if value:
            raise InputError(f"{option} has no effect in edit, which shows and saves the whole layout")
    if args.gpx and args.fit:
        raise InputError("give --gpx or --fit, not both")
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port}: must be 0 to 65535")
    if args.font:
        check_font(args.font)
    source, path = layout_start(args.layout)
    units = UnitSettings(args.units_speed, args.units_altitude, args.units_distance, args.units_temperature)
    from pipeline.commands.sources import lap_options

    timeline = load_timeline(args.inputs, gpx=args.gpx, fit=args.fit, altitude=args.altitude, laps=lap_options(args))
    maps = map_args(RenderConfig(input=Path("."), output=Path("edit.mp4"), workers=1, quiet=True,
                                 map_style=args.map_style, map_api_key=args.map_api_key, offline=args.offline,
                                 privacy=tuple(args.privacy)))
    session = EditSession(timeline, units, font=args.font, map_options=maps)
    try:
        server = EditServer(Editor(session, source, path, args.layout), args.port)
    except OSError as exc:
        raise InputError(f"--port {args.port}: cannot listen on 127.0.0.1: {exc.strerror or exc}") from None
    return serve(server, open_browser=not args.no_browser)
