"""`overdash info` and `overdash export`: what a GoPro (or GPX/FIT) file holds, and its telemetry as files.

Both take a GoPro MP4 (its later chapters are found and joined unless
--no-chapters), several chapter files in order, or a raw GPMF file (.raw,
.gpmd). Problems with the input are InputErrors (one line, file and problem);
export writes to a temporary name beside the output and renames it at the
end, so a failure never leaves a partial file.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np

from overdash import InputError
from overlay.telemetry import export
from overlay.telemetry.chapters import find_chapters, load_gopro_chapters
from overlay.telemetry.quality import QualityLimits, counts
from overlay.telemetry.timeseries import Telemetry

FORMATS = (".csv", ".gpx", ".geojson")
STREAMS = ("GPS", "ACCL", "GYRO", "GRAV", "MAGN", "CORI")


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", type=Path, nargs="+", metavar="FILE",
                   help="GoPro MP4 (later chapters are found), chapter files in order, a raw GPMF .raw/.gpmd, "
                        "or a GPX/FIT ride")
    p.add_argument("--no-chapters", action="store_true", help="read only the given file(s), not later chapters")
    p.add_argument("--max-dop", type=float, default=QualityLimits.max_dop,
                   help="GPS samples with a higher DOP are marked untrusted (default: %(default)s)")


def add_info_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("info", help="camera, video and telemetry streams of a GoPro file",
                       description="Camera model and firmware, video facts, every GPMF stream with its "
                                   "sample count, rate and time span, and a GPS lock summary.")
    _add_inputs(p)
    p.set_defaults(func=cmd_info)
    return p


def add_export_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("export", help="write telemetry as CSV, GPX or GeoJSON",
                       description="Write every sample of one stream (GPS by default) to CSV, GPX or GeoJSON; "
                                   "the format follows the output's suffix.")
    _add_inputs(p)
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="OUT.csv, OUT.gpx or OUT.geojson")
    p.add_argument("--stream", default="GPS", type=str.upper, choices=STREAMS,
                   help="stream to export (default: %(default)s; GPX/GeoJSON: GPS only)")
    p.add_argument("--only-locked", action="store_true",
                   help="GPS: only samples that pass the quality check (3D fix, DOP, no jump)")
    p.set_defaults(func=cmd_export)
    return p


def load_inputs(inputs: list[Path], chapters: bool = True, limits: QualityLimits = QualityLimits()) -> Telemetry:
    """Telemetry of the inputs: one file plus its later chapters, the given files in order, or a
    GPX/FIT ride (its time axis then starts at its first point)."""
    for path in inputs:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    if is_ride(inputs[0]):
        if len(inputs) > 1:
            raise InputError(f"{inputs[1]}: give one GPX/FIT file at a time")
        return load_ride(inputs[0])
    paths = find_chapters(inputs[0]) if chapters and len(inputs) == 1 else list(inputs)
    return load_gopro_chapters(paths, limits)


def is_ride(path: Path) -> bool:
    return path.name.lower().endswith((".gpx", ".gpx.gz", ".fit"))


def load_ride(path: Path) -> Telemetry:
    from overlay.telemetry.fit import load_fit
    from overlay.telemetry.gpx import load_gpx
    from overlay.telemetry.merge import align, utc_span

    ride = load_fit(path) if path.name.lower().endswith(".fit") else load_gpx(path)
    return align(ride, utc_span(ride)[0])


def ride_info_lines(tel: Telemetry, path: Path) -> list[str]:
    """`overdash info` of a GPX/FIT file: device, time span, what was recorded, GPS quality, zone."""
    from overlay.telemetry.timezone import first_position, zone_for

    lines = [f"file: {path}", f"device: {tel.device or 'unknown'}"]
    for name, ts in tel.streams.items():
        if not len(ts):
            continue
        utc = ts["timestamp"] if "timestamp" in ts else None
        span = (f", {export.iso_utc(np.nanmin(utc))} .. {export.iso_utc(np.nanmax(utc))}"
                if utc is not None and np.isfinite(utc).any() else "")
        cols = [c for c in ts.columns if c != "timestamp" and np.isfinite(np.asarray(ts[c], float)).any()]
        lines.append(f"{name}: {len(ts)} points over {ts.span[1] - ts.span[0]:.0f} s{span}")
        lines.append(f"  columns: {', '.join(cols)}")
    lines += [f"  {note}" for note in tel.notes]
    if "gps" in tel:
        c = counts(tel["gps"])
        why = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("total", "ok") and v)
        lines.append(f"gps: {c['ok']} of {c['total']} points trusted" + (f"; marked: {why}" if why else ""))
    pos = first_position(tel)
    if pos:
        lines.append(f"starts at {pos[0]:.5f}, {pos[1]:.5f} (time zone {zone_for(*pos) or 'unknown'})")
    return lines


def _fmt_span(span: tuple[float, float]) -> str:
    return "-" if not np.isfinite(span[0]) else f"{span[0]:9.3f} .. {span[1]:9.3f} s"


def _video_lines(path: Path) -> list[str]:
    if path.suffix.lower() not in (".mp4", ".mov", ".m4v", ".360"):
        return ["video: none (raw GPMF file: payload times from the payloads)"]
    from encoders.probe import probe_video

    try:
        v = probe_video(path)
    except Exception as exc:  # ffprobe missing or unhappy: info still reports the telemetry
        return [f"video: not probed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"]
    fps = v.fps_num / v.fps_den if v.fps_den else float("nan")
    return [f"video: {v.width}x{v.height} {v.video_codec} {fps:.3f} fps, {v.frame_count} frames, "
            f"{v.duration:.3f} s" + (f", audio {v.audio_codec}" if v.has_audio else "")
            + (f", created {v.creation_time}" if v.creation_time else "")]


def info_lines(tel: Telemetry, paths: list[Path]) -> list[str]:
    """The report `overdash info` prints (also used by tests)."""
    lines = [f"file: {', '.join(str(p) for p in paths)}",
             f"camera: {tel.device or 'unknown'}" + (f", firmware {tel.firmware}" if tel.firmware else "")]
    lines += _video_lines(paths[0])
    lines += [f"  {note}" for note in tel.notes]
    lines.append(f"streams ({len(tel.inventory)}):")
    lines.append(f"  {'key':4}  {'samples':>8}  {'rate Hz':>9}  {'time span':>24}  as")
    for s in sorted(tel.inventory, key=lambda s: (not s.decoded, s.fourcc)):
        rate = f"{s.rate:9.3f}" if np.isfinite(s.rate) else f"{'-':>9}"
        use = s.stream or ("(not used: GPS9 preferred)" if s.decoded else "(listed only)")
        label = f"  {s.name}" if s.name else ""
        lines.append(f"  {s.fourcc:4}  {s.count:8d}  {rate}  {_fmt_span(s.span):>24}  {use}{label}")
    if "gps" in tel:
        c = counts(tel["gps"])
        why = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("total", "ok") and v)
        lines.append(f"gps: {c['ok']} of {c['total']} samples trusted" + (f"; marked: {why}" if why else ""))
        utc = tel["gps"]["timestamp"]
        if np.isfinite(utc).any():
            lines.append(f"gps time: {export.iso_utc(np.nanmin(utc))} .. {export.iso_utc(np.nanmax(utc))}")
    else:
        lines.append("gps: no GPS stream (GPS off, or a camera without GPS)")
    return lines


def cmd_info(args: argparse.Namespace) -> int:
    limits = QualityLimits(max_dop=args.max_dop)
    tel = load_inputs(list(args.inputs), not args.no_chapters, limits)
    if is_ride(args.inputs[0]):
        print("\n".join(ride_info_lines(tel, args.inputs[0])))
        return 0
    paths = find_chapters(args.inputs[0]) if not args.no_chapters and len(args.inputs) == 1 else list(args.inputs)
    print("\n".join(info_lines(tel, paths)))
    return 0


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
    """Write to a temporary file beside `path`, rename when complete; remove it on any failure."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                fh.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_export(args: argparse.Namespace) -> int:
    suffix = args.output.suffix.lower()
    if suffix not in FORMATS:  # before the (slow) load
        raise InputError(f"{args.output}: unknown output format {suffix or '(none)'!r}; use {', '.join(FORMATS)}")
    tel = load_inputs(list(args.inputs), not args.no_chapters, QualityLimits(max_dop=args.max_dop))
    write_atomic(args.output, export_text(tel, args.stream, suffix, args.only_locked))
    return 0
