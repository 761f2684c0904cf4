"""The overlay frames' clock, and the metrics that come from it: elapsed and moving time,
laps, the wall-clock offset.

They depend only on each frame's time and on the ride's start, speed and lap times, not on
interpolating a recorded column (overlay.frametable does that), so they are computed here,
vectorised, once per render.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from overlay.telemetry.timeseries import Telemetry, Timeseries

# Frames this close (s) before the first / after the last sample take its value: with
# the GPMF spec's timing a stream's first sample lands a few ms after frame 0.
EDGE_HOLD = 0.5
# Time metrics (real seconds; a TimeWarp's video seconds times its speedup):
#   elapsed   since the recording's start: Telemetry.start, i.e. a ride file's activity start
#             (its first lap or point, kept through align/merge, so it matches the bike computer
#             even when the video began later), else t = 0, the video's first frame (the first
#             chapter's for joined GoPro chapters; --from for a ride rendered on its own when the
#             file has no start). NaN before the start.
#   moving    moving time since the first speed sample (from `start` on) of the stream the
#             dashboard's speed comes from: time counts while speed >= MOVING_SPEED and for up to
#             STOP_HOLD seconds after the last sample at that speed, so a stop shorter than that
#             (a junction, a hairpin) is not subtracted, and a longer one, or a gap in the data,
#             stops the count after STOP_HOLD s, as a bike computer's auto-pause does. After the
#             last sample it holds its value; NaN before the first.
#   lap       lap number, 1-based, from Telemetry.laps (lap start times); NaN without laps and
#             before the first lap starts; the last lap runs on to the end.
#   lap.time  seconds since the current lap began; lap.last: duration of the previous lap
#             (NaN during lap 1).
#   lap.best, lap.delta, lap.n, lap.predicted, sector.time, sector.delta: from the laps and the GPS
#             track (overlay.telemetry.laps_delta has the rules; LAP_METRICS).
TIME_METRICS = ("elapsed", "moving", "lap", "lap.time", "lap.last")
MOVING_SPEED = 1.0  # m/s (3.6 km/h)
STOP_HOLD = 5.0  # s
_LAP_EPS = 1e-6  # s: a frame this close before a lap start is already in the new lap (float rounding)


def frame_times(count: int, fps: Fraction) -> np.ndarray:
    """Each overlay frame's time, seconds from the first: frame i is at i / fps, exactly as the writer stamps it."""
    return np.arange(count, dtype=np.float64) * (fps.denominator / fps.numerator)


def time_columns(telemetry: Telemetry, times: np.ndarray) -> dict[str, np.ndarray]:
    """elapsed, moving, lap, lap.time and lap.last at `times` (see TIME_METRICS for the rules)."""
    speedup = float(telemetry.speedup or 1.0)
    start = getattr(telemetry, "start", None)
    origin = 0.0 if start is None else float(start)
    elapsed = (times - origin) * speedup
    elapsed[times < origin - _LAP_EPS] = np.nan
    out = {"elapsed": np.maximum(elapsed, 0.0)}
    series = _speed_source(telemetry)
    if series is not None:
        s, name = series
        out["moving"] = moving_time(s.t, s[name], times, start=start) * speedup
    out.update(lap_columns(getattr(telemetry, "laps", np.zeros(0)), times, speedup))
    return out


def _speed_source(telemetry: Telemetry) -> tuple[Timeseries, str] | None:
    """The stream (and column) the frame table's 'speed' comes from: the first with speed, else cspeed."""
    for name in ("speed", "cspeed"):
        for series in telemetry.streams.values():
            if name in series.columns:
                return series, name
    return None


def moving_time(t: np.ndarray, speed: np.ndarray, times: np.ndarray, *, start: float | None = None) -> np.ndarray:
    """Seconds of moving at `times` since the first sample (at or after `start`): see TIME_METRICS."""
    t = np.asarray(t, dtype=np.float64)
    v = np.asarray(speed, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(v)
    if start is not None:
        ok &= t >= start - _LAP_EPS
    t, v = t[ok], v[ok]
    out = np.full(len(times), np.nan)
    if not len(t):
        return out
    n = len(t)
    moving = v >= MOVING_SPEED
    last = np.maximum.accumulate(np.where(moving, np.arange(n), -1))  # latest moving sample so far
    until = np.where(last >= 0, t[np.maximum(last, 0)] + STOP_HOLD, -np.inf)  # time counts up to here
    counted = np.clip(np.minimum(t[1:], until[:-1]) - t[:-1], 0.0, None)  # of each sample interval
    total = np.concatenate(([0.0], np.cumsum(counted)))
    k = np.searchsorted(t, times, side="right") - 1
    kk = np.clip(k, 0, n - 1)
    upto = np.minimum(np.minimum(times, t[-1]), until[kk])  # the value holds after the last sample
    value = total[kk] + np.clip(upto - t[kk], 0.0, None)
    out[k >= 0] = value[k >= 0]
    out[(k < 0) & (times >= t[0] - EDGE_HOLD)] = 0.0
    return out


def lap_columns(laps: np.ndarray, times: np.ndarray, speedup: float = 1.0) -> dict[str, np.ndarray]:
    """lap (1-based), lap.time and lap.last at `times` from sorted lap start times; NaN without laps."""
    laps = np.asarray(laps, dtype=np.float64)
    nan = np.full(len(times), np.nan)
    if not len(laps):
        return {"lap": nan, "lap.time": nan.copy(), "lap.last": nan.copy()}
    started = np.searchsorted(laps, times + _LAP_EPS, side="right")  # laps begun by each time
    current = laps[np.clip(started - 1, 0, len(laps) - 1)]
    previous = laps[np.clip(started - 2, 0, len(laps) - 1)]
    return {
        "lap": np.where(started >= 1, started.astype(np.float64), np.nan),
        "lap.time": np.where(started >= 1, np.maximum(times - current, 0.0) * speedup, np.nan),
        "lap.last": np.where(started >= 2, (current - previous) * speedup, np.nan),
    }


def utc_offsets(timestamps: np.ndarray, zone) -> np.ndarray:
    """Seconds to add to UTC for wall-clock time in `zone` at each frame (DST changes included).

    Computed once per distinct minute, so a long ride costs a few hundred zone look-ups.
    """
    from datetime import datetime, timezone

    out = np.full(len(timestamps), np.nan)
    ok = np.isfinite(timestamps)
    minutes = np.floor(timestamps[ok] / 60.0)
    uniq, inverse = np.unique(minutes, return_inverse=True)
    offsets = np.array([datetime.fromtimestamp(m * 60.0, timezone.utc).astimezone(zone).utcoffset().total_seconds()
                        for m in uniq])
    out[ok] = offsets[inverse] if len(uniq) else []
    return out
