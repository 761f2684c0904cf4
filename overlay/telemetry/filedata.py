"""What the GPX and FIT readers share: columns into the Telemetry model.

Both readers hand over plain per-point columns on UTC time (`t` = POSIX
seconds); this module sorts them, collapses duplicate timestamps, and splits
them into streams the rest of overdash already understands:

* 'gps' (only when the file has positions): lat, lon, alt, speed, odo (the
  device's own distance), timestamp, gps-lock (3 where the point has a
  position, else 0: a file records no fix type), gps-accuracy (FIT, metres),
  then gps-flags / gps-ok from overlay.telemetry.quality and the derived
  metrics (codo, cspeed, cog, ...) from overlay.telemetry.derived.
* 'sensors': everything else (hr, cadence, power, temp, developer fields ...)
  and timestamp. A file without positions (indoor ride) also keeps alt,
  speed and odo here, and has no 'gps' stream.

Duplicate timestamps (GPX exports repeat a second when a device writes two
points in it; merged tracks overlap): the points of one timestamp become one
row, and each column takes the last finite value among them, so a point that
only carries a heart rate and one that only carries a position merge instead
of one hiding the other. Points without a time cannot be placed and are
dropped (counted in the telemetry's notes).

The Telemetry's `start` (what elapsed time counts from) is the reader's
activity start if it knows one (a FIT file's first lap), else the first
point; `laps` are the lap start times the reader found (UTC), none by default.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from overlay.telemetry.derived import add_derived
from overlay.telemetry.quality import mark_gps
from overlay.telemetry.timeseries import Telemetry, Timeseries

GPS_COLUMNS = ("lat", "lon", "alt", "speed", "odo", "gps-accuracy")


def iso(ts: float) -> str:
    """POSIX seconds as ISO 8601 UTC ('2021-09-24T09:59:09Z', milliseconds when not whole)."""
    if not np.isfinite(ts):
        return "?"
    dt = datetime.fromtimestamp(float(ts), tz=timezone.utc)
    text = dt.isoformat(timespec="milliseconds" if abs(ts - round(ts)) > 5e-4 else "seconds")
    return text.replace("+00:00", "Z")


def collapse_duplicates(t: np.ndarray, columns: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray], int]:
    """Sort by time (stable) and merge rows of equal time: per column the last finite value.

    Returns the new time axis, columns and the number of rows merged away.
    """
    order = np.argsort(t, kind="stable")
    t = t[order]
    columns = {k: np.asarray(v, dtype=np.float64)[order] for k, v in columns.items()}
    if len(t) < 2 or np.all(np.diff(t) > 0):
        return t, columns, 0
    new_group = np.empty(len(t), dtype=bool)
    new_group[0] = True
    np.not_equal(t[1:], t[:-1], out=new_group[1:])
    group = np.cumsum(new_group) - 1
    ngroups = int(group[-1]) + 1
    out = {}
    for name, v in columns.items():
        finite = np.isfinite(v)
        g, vals = group[finite], v[finite]
        res = np.full(ngroups, np.nan)
        if len(g):
            last = np.append(g[1:] != g[:-1], True)  # last finite entry of each group
            res[g[last]] = vals[last]
        out[name] = res
    return t[new_group], out, len(t) - ngroups


def build_telemetry(t: np.ndarray, columns: dict[str, np.ndarray], source: str, device: str | None = None,
                    notes: tuple[str, ...] = (), *, laps=(), start: float | None = None) -> Telemetry:
    """Telemetry with 'gps' (if any position) and 'sensors' streams on UTC time, derived metrics added;
    `laps`: lap start times (UTC); `start`: the activity's start (UTC), default the first point."""
    t, columns, merged = collapse_duplicates(np.asarray(t, dtype=np.float64), columns)
    notes = tuple(notes)
    if merged:
        notes += (f"{merged} points shared a timestamp with another and were merged into it",)
    columns = {k: v for k, v in columns.items() if np.isfinite(v).any() or k in ("lat", "lon")}
    columns["timestamp"] = t.copy()
    has_position = "lat" in columns and "lon" in columns and bool(
        np.any(np.isfinite(columns["lat"]) & np.isfinite(columns["lon"])))
    streams: dict[str, Timeseries] = {}
    if has_position:
        gps = {k: columns.pop(k) for k in GPS_COLUMNS if k in columns}
        gps.setdefault("alt", np.full(len(t), np.nan))
        gps["timestamp"] = t.copy()
        gps["gps-lock"] = np.where(np.isfinite(gps["lat"]) & np.isfinite(gps["lon"]), 3.0, 0.0)
        streams["gps"] = mark_gps(Timeseries(t.copy(), gps))
    else:
        columns.pop("lat", None)
        columns.pop("lon", None)
    if len(columns) > 1 or not has_position:  # more than the timestamp
        streams["sensors"] = Timeseries(t.copy(), columns)
    if start is None or not np.isfinite(start):
        start = float(t[0]) if len(t) else None
    # add_derived builds a new Telemetry: start and laps are set on the result
    return add_derived(Telemetry(streams=streams, source=source, device=device, notes=notes)).with_times(start, laps)
