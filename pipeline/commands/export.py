"""`overdash export`: one telemetry stream of a GoPro (or GPX/FIT) file as CSV, GPX or GeoJSON.

Inputs as for `overdash info`. The file is written to a temporary name beside
the output and renamed at the end, so a failure never leaves a partial file.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterable

import numpy as np

from overdash import InputError
from overdash.files import atomic_write
from overlay.telemetry import export
from overlay.telemetry.quality import QualityLimits
from overlay.telemetry.timeseries import Telemetry
from pipeline.commands.info import add_inputs
from pipeline.commands.sources import load_inputs

FORMATS = (".csv", ".gpx", ".geojson")
STREAMS = ("GPS", "ACCL", "GYRO", "GRAV", "MAGN", "CORI")


def add_export_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="write telemetry as CSV, GPX or GeoJSON",
                       description="Write every sample of one stream (GPS by default) to CSV, GPX or GeoJSON; "
                                   "the format follows the output's suffix.")
    add_inputs(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="OUT.csv, OUT.gpx or OUT.geojson")
    p.add_argument("--stream", default="GPS", type=str.upper, choices=STREAMS,
                   help="stream to export (default: %(default)s; GPX/GeoJSON: GPS only)")
    p.add_argument("--only-locked", action="store_true",
                   help="GPS: only samples that pass the quality check (3D fix, DOP, no jump)")
    p.set_defaults(func=cmd_export)
    return p


def export_text(tel: Telemetry, stream: str, suffix: str, only_locked: bool = False) -> Iterable[str]:
    """The exported file's text, in chunks."""
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
    tel = load_inputs(list(args.inputs), not args.no_chapters, QualityLimits(max_dop=args.max_dop))
    write_atomic(args.output, export_text(tel, args.stream, suffix, args.only_locked))
    return 0
