"""Metrics computed from the measured streams, vectorised over whole recordings.

GPS-derived values use only trusted samples (`gps-ok`) and real time (video
time x speedup, so a 15x TimeWarp shows road speed, not 15x road speed).
Rates and directions are taken across a short window (default 1 s, centred)
rather than between neighbouring 18 Hz fixes, whose metre-level noise would
otherwise dominate speed, heading and gradient at low speed.

Columns added to the 'gps' stream: codo (odometer, m), cspeed (m/s), azi
(bearing to the next trusted fix, deg), cog (course over ground across the
window, deg), cgrad (gradient, %), vspeed (vertical speed, m/s). Streams
added: 'accel' (|ACCL| in g) and 'lean' (deg, + = right, from GRAV, else CORI).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from overlay.telemetry.timeseries import Telemetry, Timeseries

EARTH_RADIUS = 6371008.8  # m, IUGG mean radius
STANDARD_GRAVITY = 9.80665  # m/s²
MIN_MOVE = 1.0  # m across the window below which heading and gradient are undefined


def haversine(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres between points in degrees (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def bearing(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Initial great-circle bearing in degrees [0, 360) from point 1 to point 2."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360.0


def odometer(lat: np.ndarray, lon: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Cumulative distance (m) along trusted samples; untrusted ones repeat the last value."""
    idx = np.flatnonzero(ok)
    out = np.zeros(len(lat))
    if len(idx) < 2:
        return out
    steps = haversine(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
    at_ok = np.concatenate([[0.0], np.cumsum(steps)])
    pos = np.searchsorted(idx, np.arange(len(lat)), side="right") - 1  # last trusted at or before
    return np.where(pos >= 0, at_ok[np.clip(pos, 0, None)], 0.0)


def _window(t: np.ndarray, values: np.ndarray, ok: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """values at t - half and t + half, interpolated over trusted samples (clamped at the ends)."""
    tt, vv = t[ok], values[ok]
    return np.interp(t - half, tt, vv), np.interp(t + half, tt, vv)


def add_gps_metrics(gps: Timeseries, speedup: float = 1.0, window: float = 1.0) -> Timeseries:
    """A copy of the GPS stream with codo, cspeed, azi, cog, cgrad and vspeed columns."""
    n = len(gps)
    ok = np.asarray(gps["gps-ok"], bool) if "gps-ok" in gps else np.isfinite(gps["lat"])
    cols = dict(gps.columns)
    nan = np.full(n, np.nan)
    if ok.sum() < 2:
        empty = ("codo", "cspeed", "azi", "cog", "cgrad", "vspeed")
        return Timeseries(gps.t, {**cols, **{k: nan.copy() for k in empty}})
    lat, lon, alt = gps["lat"], gps["lon"], gps["alt"]
    real = gps.t * speedup
    codo = odometer(lat, lon, ok)
    half = window * speedup / 2  # window in real seconds
    d0, d1 = _window(real, codo, ok, half)
    a0, a1 = _window(real, alt, ok, half)
    la0, la1 = _window(real, lat, ok, half)
    lo0, lo1 = _window(real, lon, ok, half)
    tt = real[ok]
    span = np.clip(real + half, tt[0], tt[-1]) - np.clip(real - half, tt[0], tt[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        cspeed = np.where(span > 0, (d1 - d0) / span, np.nan)
        vspeed = np.where(span > 0, (a1 - a0) / span, np.nan)
        moved = (d1 - d0) >= MIN_MOVE
        cgrad = np.where(moved, 100.0 * (a1 - a0) / (d1 - d0), np.nan)
    cog = np.where(moved, bearing(la0, lo0, la1, lo1), np.nan)
    idx = np.flatnonzero(ok)
    azi = nan.copy()
    step = haversine(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
    heading = bearing(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
    azi[idx[:-1]] = np.where(step > 0, heading, np.nan)
    cols.update(codo=codo, cspeed=cspeed, azi=azi, cog=cog, cgrad=cgrad, vspeed=vspeed)
    return Timeseries(gps.t, cols)


def accel_g(accl: Timeseries) -> Timeseries:
    """Magnitude of the accelerometer (gravity included: 1 g at rest) in standard gravities."""
    x, y, z = (accl[f"accl.{a}"] for a in "xyz")
    return Timeseries(accl.t, {"accel": np.sqrt(x * x + y * y + z * z) / STANDARD_GRAVITY})


def lean_from_gravity(grav: Timeseries) -> Timeseries:
    """Lean (deg): rotation of gravity about the lens axis, 0 when the camera's y axis points
    down (as GRAV reads with the camera upright), positive when the top tips right."""
    return Timeseries(grav.t, {"lean": np.degrees(np.arctan2(grav["grav.x"], grav["grav.y"]))})


def lean_from_orientation(cori: Timeseries) -> Timeseries:
    """Lean (deg) from CORI when there is no GRAV: the start's 'down' (camera y) rotated by
    the orientation quaternion, then measured like GRAV. Relative to the first sample's
    attitude: CORI counts from capture start, so a camera tilted at start reads 0 there."""
    w, x, y, z = (cori[f"cori.{c}"] for c in "wxyz")
    # y axis (0, 1, 0) rotated by the inverse (conjugate) quaternion: the world's 'down' in camera axes
    gx = 2 * (x * y + w * z)
    gy = 1 - 2 * (x * x + z * z)
    return Timeseries(cori.t, {"lean": np.degrees(np.arctan2(gx, gy))})


def running(values: np.ndarray, kind: str) -> np.ndarray:
    """Running 'min', 'max' or 'avg' of a metric up to each sample, NaNs skipped."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if kind == "min":
        out = np.minimum.accumulate(np.where(finite, v, np.inf))
    elif kind == "max":
        out = np.maximum.accumulate(np.where(finite, v, -np.inf))
    elif kind == "avg":
        seen = np.cumsum(finite)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.cumsum(np.where(finite, v, 0.0)) / seen
    else:
        raise ValueError(f"running {kind!r}: expected 'min', 'max' or 'avg'")
    return np.where(np.isfinite(out), out, np.nan)


def add_derived(tel: Telemetry) -> Telemetry:
    """Telemetry with the derived columns and streams added (the input is not changed)."""
    streams = dict(tel.streams)
    if "gps" in streams:
        streams["gps"] = add_gps_metrics(streams["gps"], tel.speedup)
    if "accl" in streams:
        streams["accel"] = accel_g(streams["accl"])
    if "grav" in streams:
        streams["lean"] = lean_from_gravity(streams["grav"])
    elif "cori" in streams:
        streams["lean"] = lean_from_orientation(streams["cori"])
    return dataclasses.replace(tel, streams=streams)  # start, laps and the rest carry through
