"""GPX tracks (.gpx, .gpx.gz) into the Telemetry model, on UTC time.

Every track point of every track and segment, parsed by gpxpy, becomes one
row: lat, lon, alt (<ele>), and from the point's <extensions> — matched by
local element name, so any namespace and any prefix works (Garmin
TrackPointExtension v1/v2, Strava, Cluetrust, bare elements):

    hr, heartrate              -> hr       (beats per minute)
    cad, cadence               -> cadence  (rpm)
    atemp, temp, temperature   -> temp     (degC; 'wtemp', water, is not used)
    power, watts, PowerInWatts -> power    (W)
    speed                      -> speed    (m/s)

`t` is UTC POSIX seconds (times without a zone are taken as UTC, as the GPX
schema says). Alignment to a video happens later (overlay.telemetry.merge).
Sorting, duplicate timestamps and stream layout: overlay.telemetry.filedata.
Routes and waypoints are not tracks and are ignored.

Laps: GPX has no lap element, but exports that keep laps (Garmin Connect,
some Strava and Wahoo exports) and devices that split a ride write each lap as
its own <trk> or <trkseg>. So when the file has more than one segment (with a
timed point) over all its tracks, every segment starts a lap at its first
timed point, the first segment being lap 1; a file with a single segment has
no laps. The activity's `start` (what elapsed time counts from) is the first
timed point.
"""
from __future__ import annotations

import gzip
import os
import zlib
from datetime import timezone
from pathlib import Path

import numpy as np

from overdash import InputError
from overlay.telemetry.filedata import build_telemetry
from overlay.telemetry.timeseries import Telemetry

EXTENSION_NAMES = {
    "hr": "hr", "heartrate": "hr", "heart_rate": "hr",
    "cad": "cadence", "cadence": "cadence",
    "atemp": "temp", "temp": "temp", "temperature": "temp",
    "power": "power", "watts": "power", "powerinwatts": "power",
    "speed": "speed",
}
# A day's ride at 1 s with heart rate, cadence and power is ~40 MiB of GPX.
MAX_TEXT = 256 << 20
COLUMNS = ("lat", "lon", "alt", "hr", "cadence", "temp", "power", "speed")


def read_text(path: Path) -> str:
    """The file's text, gunzipped when it starts with gzip's magic. Never more than MAX_TEXT
    bytes are read: a few kilobytes of gzip can claim gigabytes (a "zip bomb")."""
    with open(path, "rb") as fh:
        head = fh.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read(MAX_TEXT + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    if len(data) > MAX_TEXT:
        raise InputError(f"{path}: more than {MAX_TEXT >> 20} MiB of GPX text; not a ride file overdash reads")
    return data.decode("utf-8", errors="replace")


def _extensions(elements, row: dict[str, float]) -> None:
    for el in elements:
        local = el.tag.rsplit("}", 1)[-1].split(":")[-1].lower()
        name = EXTENSION_NAMES.get(local)
        if name is not None and el.text and el.text.strip():
            try:
                row[name] = float(el.text)
            except ValueError:
                pass
        if len(el):
            _extensions(list(el), row)


def load_gpx(path: str | os.PathLike) -> Telemetry:
    """A GPX file's track points as Telemetry ('gps' and 'sensors' streams) on UTC time."""
    import gpxpy
    import gpxpy.gpx

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        doc = gpxpy.parse(read_text(path))
    except gpxpy.gpx.GPXException as exc:
        raise InputError(f"{path}: not a readable GPX file ({exc})") from exc
    cols: dict[str, list[float]] = {name: [] for name in COLUMNS}
    times: list[float] = []
    lap_starts: list[float] = []
    untimed = 0
    nan = float("nan")
    for track in doc.tracks:
        for segment in track.segments:
            first = len(times)
            for p in segment.points:
                if p.time is None:
                    untimed += 1
                    continue
                when = p.time if p.time.tzinfo is not None else p.time.replace(tzinfo=timezone.utc)
                times.append(when.timestamp())
                row = {"lat": p.latitude, "lon": p.longitude,
                       "alt": nan if p.elevation is None else p.elevation}
                if p.extensions:
                    _extensions(p.extensions, row)
                if p.speed is not None and "speed" not in row:  # GPX 1.0 <speed>
                    row["speed"] = p.speed
                for name in COLUMNS:
                    cols[name].append(row.get(name, nan))
            if len(times) > first:
                lap_starts.append(min(times[first:]))
    if not times:
        raise InputError(f"{path}: no timed track points (a GPX route or a track without <time> "
                         "cannot be placed on a video)")
    notes = (f"{untimed} track points without <time> were dropped",) if untimed else ()
    device = (doc.creator or "").strip() or None
    arrays = {name: np.asarray(values, dtype=np.float64) for name, values in cols.items()}
    return build_telemetry(np.asarray(times, dtype=np.float64), arrays, source=str(path), device=device,
                           notes=notes, laps=lap_starts if len(lap_starts) > 1 else ())
