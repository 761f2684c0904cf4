"""`overdash export`: one telemetry stream of a GoPro (or GPX/FIT) file as CSV, GPX or GeoJSON.

Inputs as for `overdash info`. A GPX/FIT ride, and a GoPro file merged with one
(--gpx/--fit, aligned and merged as `overdash render` does), export as CSV every
column they carry, named as the layout's metrics (overlay.telemetry.export.csv_everything);
a GoPro file alone keeps its GPS table. The file is written to a temporary name
beside the output and renamed at the end, so a failure never leaves a partial file.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable

import numpy as np

from overdash import InputError
from overdash.files import atomic_write
from overlay.telemetry import export
from overlay.telemetry.merge import MODES
from overlay.telemetry.quality import QualityLimits
from overlay.telemetry.timeseries import Telemetry
from pipeline.commands.cli import add_lap_options
from pipeline.commands.info import add_inputs
from pipeline.commands.sources import (
    altitude_warning,
    apply_lap_options,
    is_ride_file,
    lap_options,
    load_inputs,
    read_ride,
)

FORMATS = (".csv", ".gpx", ".geojson")
STREAMS = ("GPS", "ACCL", "GYRO", "GRAV", "MAGN", "CORI")


def add_export_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="write telemetry as CSV, GPX or GeoJSON",
                       description="Write every sample of one stream (GPS by default) to CSV, GPX or GeoJSON; "
                                   "the format follows the output's suffix.")
    add_inputs(p)
    add_lap_options(p, csv=True)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="OUT.csv, OUT.gpx or OUT.geojson")
    p.add_argument("--stream", default="GPS", type=str.upper, choices=STREAMS,
                   help="stream to export (default: %(default)s; GPX/GeoJSON: GPS only)")
    p.add_argument("--events", action="store_true",
                   help="write the detected events (airtime, braking, cornering, top speed, HiLights) "
                        "as CSV instead of a stream")
    p.add_argument("--only-locked", action="store_true",
                   help="GPS: only samples that pass the quality check (3D fix, DOP, no jump)")
    r = p.add_argument_group("a ride file merged onto the video's timeline (as for render)")
    r.add_argument("--gpx", type=Path, metavar="FILE", help="GPX (.gpx, .gpx.gz) of the ride")
    r.add_argument("--fit", type=Path, metavar="FILE", help="FIT file of the ride")
    r.add_argument("--merge", choices=MODES, default="extend",
                   help="extend: add the file's columns; replace: position and speed from the file too")
    r.add_argument("--sync", choices=("off", "auto"), default="off",
                   help="auto: find the file's clock offset by matching its speed and track to the camera's GPS")
    r.add_argument("--offset", type=float, default=0.0, metavar="SECONDS",
                   help="shift the file's data by this many seconds (added to what --sync finds)")
    r.add_argument("--start", metavar="ISO8601", help="UTC time of the video's first frame (default: camera GPS)")
    p.set_defaults(func=cmd_export)
    return p


def export_text(tel: Telemetry, stream: str, suffix: str, only_locked: bool = False,
                everything: bool = False) -> Iterable[str]:
    """The exported file's text, in chunks. `everything`: a GPS .csv carries every column (a ride file's)."""
    stream = stream.upper()
    if suffix not in FORMATS:
        raise InputError(f"output format {suffix or '(none)'!r} unknown: use {', '.join(FORMATS)}")
    if suffix != ".csv" and stream != "GPS":
        raise InputError(f"{suffix} holds GPS tracks only; export --stream {stream} as .csv")
    if stream == "GPS":
        if "gps" not in tel:
            raise InputError(f"{tel.source}: no GPS stream to export (GPS off, or a camera without GPS)")
        gps = tel["gps"]
        if only_locked:
            keep = np.asarray(gps["gps-ok"], bool)
            gps = type(gps)(gps.t[keep], {k: v[keep] for k, v in gps.columns.items()})
        name = Path(tel.source).name
        if everything and suffix == ".csv":
            return export.csv_everything(_with_gps(tel, gps) if only_locked else tel)
        return {".csv": export.csv_gps, ".gpx": lambda g: export.gpx(g, name),
                ".geojson": lambda g: export.geojson(g, name)}[suffix](gps)
    key = "cori" if stream == "CORI" else export.VECTOR_STREAMS[stream]
    if key not in tel:
        raise InputError(f"{tel.source}: no {stream} stream in this file")
    return export.csv_cori(tel[key]) if stream == "CORI" else export.csv_vector(tel[key], key)


def write_atomic(path: Path, chunks: Iterable[str]) -> None:
    """The export's text, whole or not at all; a missing folder is the user's to fix."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{path}: folder {directory} does not exist")
    atomic_write(path, chunks)


def cmd_export(args: argparse.Namespace) -> int:
    suffix = args.output.suffix.lower()
    if suffix not in FORMATS:  # before the (slow) load
        raise InputError(f"{args.output}: unknown output format {suffix or '(none)'!r}; use {', '.join(FORMATS)}")
    if args.events and suffix != ".csv":
        raise InputError(f"{args.output}: --events writes CSV; name the output .csv")
    if args.laps and suffix != ".csv":
        raise InputError(f"{args.output}: --laps writes CSV; name the output .csv")
    laps = lap_options(args)  # its mistakes before the (slow) load
    ride = args.gpx or args.fit
    if args.gpx and args.fit:
        raise InputError("give --gpx or --fit, not both")
    if ride is not None and is_ride_file(args.inputs[0]):
        raise InputError(f"{args.inputs[0]}: --gpx/--fit merge a ride onto a GoPro file; export the ride on its own")
    tel = load_inputs(list(args.inputs), not args.no_chapters, QualityLimits(max_dop=args.max_dop), args.altitude)
    warning = altitude_warning(tel)
    if warning:
        print(f"overdash: {warning}", file=sys.stderr)
    if ride is not None:
        tel = merged(tel, ride, fit=bool(args.fit), mode=args.merge, offset=args.offset, start=args.start,
                     sync_auto=args.sync == "auto")
    tel = apply_lap_options(tel, laps)
    if args.laps:
        from overlay.telemetry.laps_delta import lap_rows

        write_atomic(args.output, export.csv_laps(lap_rows(tel)))
        return 0
    if args.events:
        from overlay.telemetry.events import detect_events, events_csv

        write_atomic(args.output, events_csv(detect_events(tel)))
        return 0
    everything = ride is not None or is_ride_file(args.inputs[0])
    write_atomic(args.output, export_text(tel, args.stream, suffix, args.only_locked, everything))
    return 0


def merged(camera: Telemetry, path: Path, *, fit: bool, mode: str = "extend", offset: float = 0.0,
           start: str | None = None, sync_auto: bool = False) -> Telemetry:
    """The camera's telemetry with a ride file on its timeline, aligned and merged as render does
    (overlay.telemetry.merge): frame 0 at `start`, else at the camera's GPS time."""
    from overlay.telemetry.merge import align, camera_start_utc, merge, to_posix
    from overlay.telemetry.sync import sync

    ride = read_ride(path, fit=fit, warn=True)
    utc = to_posix(start) if start else camera_start_utc(camera)
    if utc is None:
        raise InputError(f"{camera.source}: no GPS time to place {path.name} on; give --start 2024-05-01T09:30:00Z")
    if sync_auto:
        if "gps" not in camera:
            raise InputError(f"--sync auto needs the camera's own GPS to compare with {path.name}; "
                             "use --offset SECONDS instead")
        offset += sync(camera, align(ride, utc, offset)).offset
    return merge(camera, align(ride, utc, offset), mode)


def _with_gps(tel: Telemetry, gps) -> Telemetry:
    """`tel` with its 'gps' stream replaced by `gps` (the rows --only-locked keeps)."""
    return Telemetry(streams={**tel.streams, "gps": gps}, source=tel.source, device=tel.device,
                     speedup=tel.speedup)
