"""Per-frame values, computed once before any drawing.

Workers look values up by frame number and never touch raw telemetry or pint:
every (metric, units) pair a layout asks for becomes one column here,
interpolated at the overlay frame times and converted once, vectorised.

The table grows with the video: one value per frame per column. A column is float32 (4 bytes
a frame: 7 significant digits, far finer than any dashboard shows) unless it holds a position
or a POSIX time, which stay float64 (8 bytes; see FLOAT64_METRICS). Given `keep`, the table
holds only the columns a layout reads, so a 3-hour 60 fps ride (648,000 frames) drawn by the
default layout costs a few tens of MB (docs/performance.md, "Long inputs").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping

import numpy as np

from overdash import InputError
from overlay.frametimes import EDGE_HOLD, TIME_METRICS, frame_times, time_columns, utc_offsets
from overlay.layout.metrics import BY_NAME as LAYOUT_METRICS
from overlay.layout.metrics import STATS
from overlay.telemetry.laps_delta import LAP_METRICS, lap_metric_columns
from overlay.telemetry.timeseries import BASE_UNITS, Telemetry, Timeseries

# Vocabulary metrics (docs/layout-xml.md) computed from telemetry columns of another name/unit.
_DERIVED = {
    "ori.roll": ("cori.roll", np.radians), "ori.pitch": ("cori.pitch", np.radians),
    "ori.yaw": ("cori.yaw", np.radians), "sdps": ("dev.sdps", None),
}
# Metrics that show what a device recorded, frame by frame, and where it recorded nothing the value
# overdash computes (as gopro-dashboard-overlay does): the FIT odometer, else codo; FIT grade, else cgrad.
_RECORDED_ELSE = {"odo": ("odo", "codo"), "gradient": ("fit.grade", "cgrad")}
# Running statistics of any metric: "speed.max", "hr.avg", "alt.min" (since the first frame);
# STATS, the suffixes, come from overlay.layout.metrics.
# Columns that come from a GPS fix: samples the quality check did not trust (no 3D fix, DOP
# too high, an impossible jump: the 'gps-ok' column) are left out, so the dashboard shows '-'
# rather than a frozen or wandering value. Time, lock state and DOP are kept as recorded.
GPS_FIX_COLUMNS = {"lat", "lon", "alt", "speed", "speed3d", "cspeed", "cog", "azi", "cgrad", "vspeed"}
# Step-like values: take the nearer sample instead of blending two.
NEAREST = {"gps-lock", "gps-flags", "gps-ok", "gps-packet", "gps-packet-index", "gear.front", "gear.rear"}
# Largest gap (s) bridged by interpolation; beyond it the value is missing (NaN).
MAX_GAP = 5.0
TRACK_POINTS = 2000
# Metrics (and their running statistics and units) kept in float64: float32 holds a latitude or
# longitude to ~1 m (too coarse for a map at high zoom) and a POSIX time to ~2 minutes.
FLOAT64_METRICS = frozenset({"lat", "lon", "timestamp"})
# Columns a render keeps whatever its layout reads: privacy zones and map preparation read positions.
ALWAYS_KEPT = frozenset({"lat", "lon"})
# Event metrics: the moment shown (a code: its 1-based place in metrics.EVENT_KINDS; NaN when
# none), its value and its age, from overlay.telemetry.events.
EVENT_METRICS = ("event", "event.value", "event.age")


def column_key(metric: str, units: str | None = None) -> str:
    """The FrameTable key of a metric in given units ('speed|kph'); base units have no suffix."""
    return metric if not units else f"{metric}|{units}"


@dataclass(frozen=True)
class FrameTable:
    """Values for overlay frames 0..count-1, at times n * fps_den / fps_num seconds."""

    count: int
    fps_num: int
    fps_den: int
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)
    track: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # (n, 2) lat, lon
    lap_lines: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # Telemetry.lap_lines, for maps

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    def times(self) -> np.ndarray:
        return np.arange(self.count, dtype=np.float64) * self.fps_den / self.fps_num

    def value(self, key: str, frame: int) -> float:
        """The value at `frame`, NaN when missing (unknown metric, gap, out of range)."""
        col = self.columns.get(key)
        if col is None or not 0 <= frame < len(col):
            return float("nan")
        return float(col[frame])


def interpolate(series: Timeseries, name: str, times: np.ndarray, *, nearest: bool = False) -> np.ndarray:
    """`series[name]` at `times`; NaN more than EDGE_HOLD outside the samples and across gaps
    longer than MAX_GAP."""
    t = series.t
    v = np.asarray(series[name], dtype=np.float64)
    ok = np.isfinite(v) & np.isfinite(t)
    t, v = t[ok], v[ok]
    out = np.full(len(times), np.nan)
    if len(t) == 0:
        return out
    if len(t) == 1:
        out[np.isclose(times, t[0])] = v[0]
        return out
    right = np.searchsorted(t, times, side="right")
    inside = (times >= t[0] - EDGE_HOLD) & (times <= t[-1] + EDGE_HOLD)
    r = np.clip(right, 1, len(t) - 1)
    left = r - 1
    gap_ok = (t[r] - t[left]) <= MAX_GAP
    if nearest:
        vals = np.where(times >= t[r], v[r], v[left])
    else:
        vals = np.interp(times, t, v)
    mask = inside & gap_ok
    out[mask] = vals[mask]
    return out


def build_frame_table(
    telemetry: Telemetry,
    count: int,
    fps: Fraction,
    requests: Iterable[tuple[str, str | None]] = (),
    *,
    convert=None,
    zone=None,
    keep: bool = False,
) -> FrameTable:
    """Interpolate every known metric at the frame times, then add converted columns.

    `requests` are (metric, units) pairs from the layout; `convert(values, from_unit,
    to_unit)` does the unit conversion (pint, in the main process only). `keep`: compute
    only the columns `requests` need (needed_metrics), as a render does, instead of every
    metric the telemetry has (the editor's values panel shows them all). Each column is
    stored as column_dtype says as soon as it is made, so building holds at most one
    float64 temporary beside the table.
    """
    requests = tuple(requests)
    wanted = needed_metrics(requests, zone=zone) if keep else None

    def want(metric: str) -> bool:
        return wanted is None or metric in wanted

    times = frame_times(count, fps)
    columns: dict[str, np.ndarray] = {}
    for series in telemetry.streams.values():  # every column of every stream, by its metric name
        trusted = None
        for metric in series.columns:
            if metric not in columns and want(metric):
                if trusted is None:
                    trusted = _trusted(series)
                source = trusted if metric in GPS_FIX_COLUMNS else series
                columns[metric] = stored(metric, interpolate(source, metric, times, nearest=metric in NEAREST))
    if "speed" not in columns and "cspeed" in columns:
        columns["speed"] = columns["cspeed"]
    if any(want(m) for m in TIME_METRICS):
        for metric, col in time_columns(telemetry, times).items():
            if want(metric) and metric not in columns:
                columns[metric] = stored(metric, col)
    if any(want(m) for m in EVENT_METRICS):  # overlay.telemetry.events: found once, held EVENT_HOLD s
        from overlay.telemetry.events import EVENT_HOLD, detect_events, event_columns

        for metric, col in event_columns(detect_events(telemetry), times, EVENT_HOLD).items():
            if want(metric) and metric not in columns:
                columns[metric] = stored(metric, col)
    if any(want(m) for m in LAP_METRICS):
        for metric, col in lap_metric_columns(telemetry, times, float(telemetry.speedup or 1.0)).items():
            if want(metric) and metric not in columns:
                columns[metric] = stored(metric, col)
    for metric, (source, fn) in _DERIVED.items():
        if metric not in columns and source in columns and want(metric):
            columns[metric] = stored(metric, fn(columns[source]) if fn else columns[source])
    for metric, (recorded, computed) in _RECORDED_ELSE.items():
        have = columns.get(recorded)
        if computed in columns and want(metric):
            columns[metric] = columns[computed] if have is None else stored(
                metric, np.where(np.isfinite(have), have, columns[computed]))
    if "dist" not in columns and want("dist"):
        dist = _fix_steps(telemetry, times)
        if dist is not None:
            columns["dist"] = stored("dist", dist)
    del times
    for metric, _ in requests:
        base, _, stat = metric.rpartition(".")
        if stat in STATS and metric not in columns and base in columns:
            columns[metric] = stored(metric, running(columns[base], stat))
    for metric, units in requests:
        if not units or metric not in columns:
            continue
        key = column_key(metric, units)
        if key in columns:
            continue
        if convert is None:
            raise InputError(f"metric {metric!r}: units {units!r} requested but no converter given")
        columns[key] = stored(key, convert(columns[metric], base_unit(metric) or "dimensionless", units))
    if zone is not None and "timestamp" in columns:
        columns["utc-offset"] = stored("utc-offset", utc_offsets(columns["timestamp"], zone))
    for col in columns.values():
        col.setflags(write=False)
    return FrameTable(count=count, fps_num=fps.numerator, fps_den=fps.denominator,
                      columns=columns, track=_track(telemetry), lap_lines=np.asarray(telemetry.lap_lines, float))


def _fix_steps(telemetry: Telemetry, times: np.ndarray) -> np.ndarray | None:
    """dist: metres from the previous trusted GPS fix to each one (codo's steps), held until the next fix."""
    for series in telemetry.streams.values():
        if "codo" in series.columns:
            codo = np.asarray(series["codo"], dtype=np.float64)
            ok = np.isfinite(codo)
            steps = np.full(len(codo), np.nan)
            if ok.any():
                at = np.flatnonzero(ok)
                steps[at] = np.diff(codo[at], prepend=codo[at[0]])
            return interpolate(Timeseries(series.t, {"dist": steps}), "dist", times, nearest=True)
    return None


def _trusted(series: Timeseries) -> Timeseries:
    """`series` with its GPS-fix columns blanked where 'gps-ok' says the sample is not trusted."""
    if "gps-ok" not in series:
        return series
    bad = ~np.asarray(series["gps-ok"], dtype=bool)
    if not bad.any():
        return series
    cols = {k: (np.where(bad, np.nan, np.asarray(v, dtype=np.float64)) if k in GPS_FIX_COLUMNS else v)
            for k, v in series.columns.items()}
    return Timeseries(series.t, cols)


def base_unit(metric: str) -> str | None:
    """The unit a FrameTable column is in before conversion ('speed.max' is in speed's); None if unknown.

    Layout metrics take theirs from overlay.layout.metrics; other telemetry columns (gyro.x,
    cori.roll, odo...) from BASE_UNITS.
    """
    if metric in LAYOUT_METRICS:
        return LAYOUT_METRICS[metric].unit
    if metric in BASE_UNITS:
        return BASE_UNITS[metric]
    base, _, stat = metric.rpartition(".")
    if stat in STATS and base != metric:
        return base_unit(base)  # dist.max is in dist's unit, however dist gets it
    if metric.startswith("ori."):  # ori.roll.max: the running statistics of ori.* are in radians too
        return "radian"
    return None


def running(values: np.ndarray, stat: str) -> np.ndarray:
    """Min, max or mean of `values` from frame 0 to each frame, skipping missing (NaN) values.

    Frames are equally spaced, so the mean over frames is the time-weighted mean.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    if stat == "avg":
        n = np.cumsum(ok)
        total = np.cumsum(np.where(ok, v, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / np.maximum(n, 1), np.nan)
    fill = -np.inf if stat == "max" else np.inf
    acc = (np.maximum if stat == "max" else np.minimum).accumulate(np.where(ok, v, fill))
    return np.where(np.isfinite(acc), acc, np.nan)


def column_dtype(key: str) -> type:
    """float64 for positions and POSIX times (FLOAT64_METRICS, in any unit or statistic), else float32."""
    metric = key.partition("|")[0]
    base, _, stat = metric.rpartition(".")
    return np.float64 if (base if stat in STATS and base else metric) in FLOAT64_METRICS else np.float32


def stored(key: str, values: np.ndarray) -> np.ndarray:
    """`values` in the dtype the table keeps for `key` (no copy when it already is)."""
    return np.asarray(values, dtype=column_dtype(key))


def needed_metrics(requests: Iterable[tuple[str, str | None]], *, zone=None) -> frozenset[str]:
    """The base columns a table must compute to answer `requests`: each metric, the metric a
    running statistic is taken of, what aliases and fallbacks read, and ALWAYS_KEPT."""
    want = set(ALWAYS_KEPT)
    for metric, _ in requests:
        base, _, stat = metric.rpartition(".")
        want.add(metric)
        if stat in STATS and base:
            want.add(base)
    if zone is not None:
        want.add("timestamp")
    for metric in list(want):
        if metric in _DERIVED:
            want.add(_DERIVED[metric][0])
        if metric in _RECORDED_ELSE:
            want.update(_RECORDED_ELSE[metric])
        if metric == "speed":
            want.add("cspeed")
    return frozenset(want)


def _track(telemetry: Telemetry) -> np.ndarray:
    """The recording's whole path (locked fixes only), thinned to at most TRACK_POINTS."""
    if "gps" not in telemetry or "lat" not in telemetry["gps"]:
        return np.zeros((0, 2))
    gps = telemetry["gps"]
    lat, lon = np.asarray(gps["lat"], float), np.asarray(gps["lon"], float)
    ok = np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    if "gps-lock" in gps:
        locked = np.asarray(gps["gps-lock"]) >= 2
        if locked.any():
            ok &= locked
    pts = np.column_stack([lat[ok], lon[ok]])
    if len(pts) > TRACK_POINTS:
        pts = pts[np.linspace(0, len(pts) - 1, TRACK_POINTS).astype(int)]
    return pts
