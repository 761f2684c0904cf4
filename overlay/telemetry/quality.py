"""GPS quality: mark, never drop, the samples a dashboard should not trust.

Export writes every sample (with its reasons); the frame table and derived
metrics use the boolean `gps-ok` column. Reasons are bits in `gps-flags`, so
`info` can count each one (a sample can have several):

* NO_FIX: no 3D fix (GPSF/GPS9 fix < 3, or unknown), or the 0,0 position a
  receiver reports before its first fix.
* DOP: dilution of precision above `max_dop`. Default 5.0: the GPMF spec calls
  GPSP "under 500 is good" (GPSP is DOP x 100), and above 5 a consumer
  receiver's position error is tens of metres — enough to draw a zigzag.
* JUMP: a spike — a position reached from the previous trusted sample, and
  left to the next one, faster than `max_speed` (default 100 m/s = 360 km/h,
  beyond any ground vehicle a GoPro rides on; flights can raise it). Both
  legs must be impossible, so the first sample after a real gap is kept.
* SPEED: the receiver's own reported 2D speed above `max_reported_speed`
  (m/s; off by default). gopro-dashboard-overlay's --gps-speed-max: a fix that
  claims an impossible speed is a bad fix, whatever its position says.
* BBOX: outside `bbox` (min lon, min lat, max lon, max lat; off by default),
  gopro-dashboard-overlay's --gps-bbox-lon-lat: a few locked fixes far away
  from where the ride was would stretch every map.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from overlay.telemetry.derived import haversine
from overlay.telemetry.timeseries import Timeseries

NO_FIX, DOP, JUMP, SPEED, BBOX = 1, 2, 4, 8, 16
REASONS = {NO_FIX: "no 3D fix", DOP: "DOP too high", JUMP: "impossible jump",
           SPEED: "reported speed too high", BBOX: "outside the bounding box"}


@dataclass(frozen=True)
class QualityLimits:
    max_dop: float = 5.0
    max_speed: float = 100.0  # m/s between consecutive trusted samples (real time)
    max_reported_speed: float | None = None  # m/s, the receiver's own 2D speed; None: not checked
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat


def mark_gps(gps: Timeseries, limits: QualityLimits = QualityLimits(), speedup: float = 1.0) -> Timeseries:
    """A copy of `gps` with 'gps-flags' (uint8 reason bits) and 'gps-ok' (bool) columns."""
    lat, lon = gps["lat"], gps["lon"]
    fix = gps["gps-lock"] if "gps-lock" in gps else np.full(len(gps), np.nan)
    dop = gps["gps-dop"] if "gps-dop" in gps else np.full(len(gps), np.nan)
    flags = np.zeros(len(gps), dtype=np.uint8)
    no_fix = ~(fix >= 3) | ~np.isfinite(lat) | ~np.isfinite(lon) | ((lat == 0) & (lon == 0))
    flags[no_fix] |= NO_FIX
    flags[dop > limits.max_dop] |= DOP  # NaN DOP (not written) is not a reason
    if limits.max_reported_speed is not None and "speed" in gps:
        flags[gps["speed"] > limits.max_reported_speed] |= SPEED
    if limits.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = limits.bbox
        inside = (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)
        flags[~inside & ~no_fix] |= BBOX
    flags[_spikes(gps.t * speedup, lat, lon, flags == 0, limits.max_speed)] |= JUMP
    columns = dict(gps.columns)
    columns["gps-flags"] = flags
    columns["gps-ok"] = flags == 0
    return Timeseries(gps.t, columns)


def _spikes(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, trusted: np.ndarray, max_speed: float) -> np.ndarray:
    """Indices of trusted samples reached and left at impossible speed (vectorised)."""
    idx = np.flatnonzero(trusted)
    if len(idx) < 2:
        return np.zeros(0, dtype=np.int64)
    dist = haversine(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
    dt = np.diff(t[idx])
    with np.errstate(divide="ignore", invalid="ignore"):
        fast = np.where(dt > 0, dist / dt, np.where(dist > 0, np.inf, 0.0)) > max_speed
    into = np.append(False, fast)  # leg arriving at each trusted sample
    out_of = np.append(fast, True)  # leg leaving it (the last sample has no way out: judge by arrival)
    return idx[into & out_of]


def counts(gps: Timeseries) -> dict[str, int]:
    """Samples per reason, plus 'total' and 'ok', for `info`; the opt-in reasons (SPEED, BBOX) only
    when some sample has them, so a report without those limits does not list them."""
    flags = gps["gps-flags"] if "gps-flags" in gps else np.zeros(len(gps), dtype=np.uint8)
    out = {"total": len(gps), "ok": int(np.count_nonzero(flags == 0))}
    for bit, reason in REASONS.items():
        count = int(np.count_nonzero(flags & bit))
        if count or bit in (NO_FIX, DOP, JUMP):
            out[reason] = count
    return out
