"""Telemetry as text other tools read: CSV, GPX 1.1, GeoJSON. Pure functions, no file I/O.

CSV columns (t = seconds from the first video frame; SI units):
  GPS          t,utc,lat,lon,alt,speed2d,speed3d,fix,dop   (utc ISO 8601 with ms, 'Z')
  ACCL, GYRO, GRAV, MAGN   t,x,y,z   (m/s², rad/s, unit vector, tesla)
  CORI         t,w,x,y,z,roll,pitch,yaw   (angles in degrees)
  everything   t,utc, then every column the telemetry carries, named as the layout's metrics
               (lat, lon, alt, speed, hr, cadence, power, temp, respiration, gear.front,
               odo, codo, ...; then fit.*, dev.* and the rest under their own names): the
               rows of a ride file, or the camera's GPS rows of a video merged with one
               (`csv_everything`)
  laps         lap,start,end,time,delta,sector1..sectorN: completed laps (start and end on t's
               clock, time and sectors in seconds, delta to the best lap; `csv_laps`)
A missing value is an empty field. GPX carries time, ele and speed (in a
GPX 1.1 <extensions> element, as Garmin and Strava exports do); GeoJSON is a
LineString of the trusted fixes plus per-point times/speeds in properties.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Iterator

import numpy as np

from overlay.telemetry.timeseries import Telemetry, Timeseries

GPS_HEADER = ("t", "utc", "lat", "lon", "alt", "speed2d", "speed3d", "fix", "dop")
VECTOR_STREAMS = {"ACCL": "accl", "GYRO": "gyro", "GRAV": "grav", "MAGN": "magn"}
# Streams with an export of their own (--stream ACCL ...): their 200 Hz rows are not resampled into
# the GPS rows of csv_everything.
OWN_EXPORT = frozenset({"accl", "gyro", "grav", "magn", "cori", "iori"})


def iso_utc(seconds: float) -> str:
    """POSIX seconds to '2019-11-18T23:45:14.000Z' (empty for NaN)."""
    if not np.isfinite(seconds):
        return ""
    when = datetime.fromtimestamp(round(float(seconds), 3), tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _num(values: np.ndarray, fmt: str) -> list[str]:
    return ["" if not np.isfinite(v) else format(v, fmt) for v in np.asarray(values, dtype=float).tolist()]


def column(ts: Timeseries, name: str) -> np.ndarray:
    """A column, or NaN where the source never recorded it (a GPX has no DOP; a FIT no 3D speed).

    Speed falls back to speed computed from positions, as on the dashboard.
    """
    for key in (name, "cspeed") if name == "speed" else (name,):
        if key in ts:
            return np.asarray(ts[key], dtype=float)
    return np.full(len(ts), np.nan)


def csv_gps(gps: Timeseries) -> Iterator[str]:
    yield ",".join(GPS_HEADER) + "\n"
    c = lambda name: column(gps, name)  # noqa: E731
    cols = [_num(gps.t, ".6f"), [iso_utc(v) for v in c("timestamp").tolist()],
            _num(c("lat"), ".8f"), _num(c("lon"), ".8f"), _num(c("alt"), ".3f"),
            _num(c("speed"), ".3f"), _num(c("speed3d"), ".3f"), _num(c("gps-lock"), ".0f"),
            _num(c("gps-dop"), ".2f")]
    for row in zip(*cols):
        yield ",".join(row) + "\n"


def csv_columns(ts: Timeseries, names: list[tuple[str, str]], header: list[str]) -> Iterator[str]:
    """Any stream: header line, then t and the named columns (name, format) per row."""
    yield ",".join(["t", *header]) + "\n"
    cols = [_num(ts.t, ".6f")] + [_num(ts[name], fmt) for name, fmt in names]
    for row in zip(*cols):
        yield ",".join(row) + "\n"


def csv_vector(ts: Timeseries, stream: str) -> Iterator[str]:
    return csv_columns(ts, [(f"{stream}.{a}", ".9g") for a in "xyz"], ["x", "y", "z"])


def csv_cori(ts: Timeseries) -> Iterator[str]:
    names = [(f"cori.{c}", ".6f") for c in "wxyz"] + [(f"cori.{a}", ".4f") for a in ("roll", "pitch", "yaw")]
    return csv_columns(ts, names, ["w", "x", "y", "z", "roll", "pitch", "yaw"])


def gpx(gps: Timeseries, name: str) -> Iterator[str]:
    """GPX 1.1 track: one trkpt per sample with a position; time, ele, speed (m/s)."""
    # Here, not at the top: xml.sax.saxutils imports urllib.request (http.client, ssl, email:
    # ~15-60 ms), and every `overdash` command imports this module.
    from xml.sax.saxutils import escape

    yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<gpx version="1.1" creator="overdash" xmlns="http://www.topografix.com/GPX/1/1">\n'
           f"  <trk>\n    <name>{escape(name)}</name>\n    <trkseg>\n")
    lat, lon, alt, speed, utc = (column(gps, k) for k in ("lat", "lon", "alt", "speed", "timestamp"))
    for i in np.flatnonzero(np.isfinite(lat) & np.isfinite(lon)).tolist():
        parts = [f'      <trkpt lat="{lat[i]:.8f}" lon="{lon[i]:.8f}">']
        if np.isfinite(alt[i]):
            parts.append(f"<ele>{alt[i]:.3f}</ele>")
        if np.isfinite(utc[i]):
            parts.append(f"<time>{iso_utc(utc[i])}</time>")
        if np.isfinite(speed[i]):
            parts.append(f"<extensions><speed>{speed[i]:.3f}</speed></extensions>")
        yield "".join(parts) + "</trkpt>\n"
    yield "    </trkseg>\n  </trk>\n</gpx>\n"


def geojson(gps: Timeseries, name: str) -> Iterator[str]:
    """One Feature: LineString [lon, lat, alt] with per-point t, time, speed, fix, dop properties."""
    ok = np.isfinite(column(gps, "lat")) & np.isfinite(column(gps, "lon"))

    def col(values, digits):
        return [None if not np.isfinite(v) else round(v, digits) for v in np.asarray(values, float)[ok].tolist()]

    alt = np.where(np.isfinite(column(gps, "alt")), column(gps, "alt"), 0.0)
    coords = np.round(np.column_stack([column(gps, "lon")[ok], column(gps, "lat")[ok], alt[ok]]), 8).tolist()
    feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
               "properties": {"name": name, "t": col(gps.t, 6),
                              "time": [iso_utc(v) or None for v in column(gps, "timestamp")[ok].tolist()],
                              "speed": col(column(gps, "speed"), 3), "fix": col(column(gps, "gps-lock"), 0),
                              "dop": col(column(gps, "gps-dop"), 2)}}
    yield json.dumps({"type": "FeatureCollection", "features": [feature]}) + "\n"


def csv_everything(tel: Telemetry) -> Iterator[str]:
    """Every column of every stream (but OWN_EXPORT) on the rows of the 'gps' stream (else the first one).

    A stream on the same time axis as the rows (a ride file's streams) gives its values as
    recorded; any other (a ride merged onto a camera's GPS) is interpolated at the rows' times
    the way the dashboard does (overlay.frametable.interpolate: step values held, no value
    across a gap of more than MAX_GAP seconds).
    """
    from overlay.frametable import NEAREST, interpolate
    from overlay.layout.metrics import NAMES

    streams = [(k, s) for k, s in tel.streams.items() if k not in OWN_EXPORT and len(s)]
    if not streams:
        yield "t,utc\n"
        return
    rows = dict(streams).get("gps") or streams[0][1]
    t = rows.t
    found: dict[str, np.ndarray] = {}
    for _, series in streams:
        same = len(series.t) == len(t) and np.array_equal(series.t, t)
        for name in series.columns:
            if name in found or name == "timestamp":
                continue
            found[name] = (np.asarray(series[name], dtype=float) if same
                           else interpolate(series, name, t, nearest=name in NEAREST))
    rank = {name: i for i, name in enumerate(NAMES)}
    names = sorted(found, key=lambda n: (rank.get(n, len(rank)), list(found).index(n)))
    utc = column(rows, "timestamp")
    yield ",".join(["t", "utc", *names]) + "\n"
    cols = [_num(t, ".6f"), [iso_utc(v) for v in utc.tolist()]] + [_num(found[n], ".12g") for n in names]
    for row in zip(*cols):
        yield ",".join(row) + "\n"


def csv_laps(rows) -> Iterator[str]:
    """Completed laps (overlay.telemetry.laps_delta.LapRow) as CSV, to the millisecond."""
    sectors = max((len(r.sectors) for r in rows), default=0)
    yield ",".join(["lap", "start", "end", "time", "delta"] + [f"sector{i + 1}" for i in range(sectors)]) + "\n"
    for r in rows:
        cells = [str(r.lap), f"{r.start:.3f}", f"{r.end:.3f}", f"{r.time:.3f}", f"{r.delta:.3f}"]
        cells += [f"{s:.3f}" for s in r.sectors] + [""] * (sectors - len(r.sectors))
        yield ",".join(cells) + "\n"
