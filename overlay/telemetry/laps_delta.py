"""Lap metrics beyond the lap number: best lap, live delta, predicted lap, sectors; and the lap list.

Works on any laps (Telemetry.laps: from a line on the track, a FIT file, GPX segments), given
a GPS track. Lap k runs from laps[k-1] to laps[k]; the last one, still running at the end of
the recording, is not complete. "Best" is always the best lap completed before the current
one began, as a lap timer on the dashboard would know it.

lap.delta at time t in the current lap: the time since the lap began minus the time the
reference (best) lap took to the same point, where "the same point" is the same fraction of
the lap's path length. The path length is summed over the GPS fixes smoothed by a centred
average over ±SMOOTH s: raw fixes jitter by decimetres between fixes, which sums to metres
over a lap and would make the delta wander. Fractions (rather than metres) make a lap driven
on a slightly longer line line up with the reference at both ends. The last, unfinished lap
has no length yet and is measured in the reference lap's metres.

Sectors (--sector-line) split each lap at the sector lines' crossings. sector.time is the time
since the current sector began; sector.delta the time gained (negative) or lost against the
best lap in this sector so far: lap.delta now minus lap.delta when the sector began.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from overdash import InputError
from overlay.telemetry.laps import gps_fixes, local_xy, path_length
from overlay.telemetry.timeseries import Telemetry

LAP_METRICS = ("lap.best", "lap.delta", "lap.n", "lap.predicted", "sector.time", "sector.delta")
SMOOTH = 0.5  # s either side: the average that takes GPS jitter out of the path length
_EPS = 1e-6  # s: a time this close before a crossing is already past it (float rounding)


def path_distance(telemetry: Telemetry) -> tuple[np.ndarray, np.ndarray] | None:
    """(t, metres along the smoothed path at each trusted fix); None without a usable track."""
    try:
        t, lat, lon = gps_fixes(telemetry)
    except InputError:
        return None
    if len(t) < 2:
        return None
    x, y = local_xy(lat, lon, float(np.median(lat)), float(np.median(lon)))
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    half = int(round(SMOOTH / dt)) if dt > 0 else 0
    if half > 0:
        x, y = _moving_average(x, half), _moving_average(y, half)
    return t, path_length(x, y)


def _moving_average(v: np.ndarray, half: int) -> np.ndarray:
    """Centred mean over 2·half+1 samples, the window shrunk symmetrically at the ends."""
    n = len(v)
    c = np.concatenate(([0.0], np.cumsum(v)))
    i = np.arange(n)
    h = np.minimum(np.minimum(i, n - 1 - i), half)
    return (c[i + h + 1] - c[i - h]) / (2 * h + 1)


class LapClock:
    """Lap starts and the path's distance, answering best lap and delta at any times (video seconds)."""

    def __init__(self, laps: np.ndarray, sectors: np.ndarray, path: tuple[np.ndarray, np.ndarray] | None):
        self.starts = np.asarray(laps, np.float64)
        self.sectors = np.asarray(sectors, np.float64)
        self.durations = np.diff(self.starts)  # completed laps
        n = len(self.starts)
        self.best_before = np.full(n, np.nan)  # best completed lap when lap k began, and which
        self.ref = np.full(n, -1)
        for k in range(1, n):
            r = int(np.argmin(self.durations[:k]))
            self.best_before[k], self.ref[k] = self.durations[r], r
        self.path = path
        self._curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def lap_index(self, times: np.ndarray) -> np.ndarray:
        """0-based index of the lap running at each time; -1 before the first starts."""
        return np.searchsorted(self.starts, np.asarray(times) + _EPS, side="right") - 1

    def distance(self, times) -> np.ndarray:
        assert self.path is not None
        return np.interp(times, *self.path)

    def _curve(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Reference lap r as (fraction of its path, seconds into it), both rising from 0 to 1 / its time."""
        if r not in self._curves:
            t, d = self.path  # type: ignore[misc]
            s, e = self.starts[r], self.starts[r + 1]
            inside = (t > s) & (t < e)
            d0, d1 = self.distance([s, e])
            length = max(d1 - d0, 1e-9)
            frac = np.concatenate(([0.0], (d[inside] - d0) / length, [1.0]))
            secs = np.concatenate(([0.0], t[inside] - s, [e - s]))
            self._curves[r] = (np.maximum.accumulate(frac), secs)
        return self._curves[r]

    def delta(self, times: np.ndarray) -> np.ndarray:
        """Video seconds behind (+) or ahead (-) of the best lap completed before the current one."""
        times = np.asarray(times, np.float64)
        out = np.full(len(times), np.nan)
        if self.path is None or len(self.starts) < 2:
            return out
        idx = self.lap_index(times)
        for k in np.unique(idx[idx >= 1]):
            r = int(self.ref[k])
            at = idx == k
            d0 = self.distance(self.starts[k])
            if k + 1 < len(self.starts):
                length = self.distance(self.starts[k + 1]) - d0
            else:  # the unfinished last lap: in the reference lap's metres
                length = self.distance(self.starts[r + 1]) - self.distance(self.starts[r])
            frac = (self.distance(times[at]) - d0) / max(length, 1e-9)
            frac_ref, secs_ref = self._curve(r)
            behind = (times[at] - self.starts[k]) - np.interp(frac, frac_ref, secs_ref)
            out[at] = np.where(frac <= 1.0 + 1e-9, behind, np.nan)
        return out

    def columns(self, times: np.ndarray, speedup: float = 1.0) -> dict[str, np.ndarray]:
        """LAP_METRICS at `times` (real seconds: video seconds times `speedup`)."""
        times = np.asarray(times, np.float64)
        nan = np.full(len(times), np.nan)
        if not len(self.starts):
            return {m: nan.copy() for m in LAP_METRICS}
        idx = self.lap_index(times)
        running = idx >= 0
        best = np.where(running, self.best_before[np.clip(idx, 0, None)], np.nan) * speedup
        delta = self.delta(times) * speedup
        out = {"lap.best": best, "lap.delta": delta, "lap.n": np.maximum(idx, 0).astype(np.float64),
               "lap.predicted": best + delta, "sector.time": nan.copy(), "sector.delta": nan.copy()}
        if len(self.sectors):
            bounds = np.sort(np.concatenate((self.starts, self.sectors)))
            began = bounds[np.clip(np.searchsorted(bounds, times + _EPS, side="right") - 1, 0, None)]
            out["sector.time"] = np.where(running, (times - began) * speedup, np.nan)
            out["sector.delta"] = delta - self.delta(began) * speedup
        return out

    def sector_splits(self, k: int) -> list[float]:
        """Video seconds of each sector of completed lap k (0-based)."""
        s, e = self.starts[k], self.starts[k + 1]
        inner = self.sectors[(self.sectors > s + _EPS) & (self.sectors < e - _EPS)]
        return list(np.diff(np.concatenate(([s], inner, [e]))))


def lap_clock(telemetry: Telemetry) -> LapClock:
    """The clock of `telemetry`'s laps; the path (the costly part) only when a lap is complete."""
    laps = telemetry.laps
    return LapClock(laps, telemetry.sectors, path_distance(telemetry) if len(laps) >= 2 else None)


def lap_metric_columns(telemetry: Telemetry, times: np.ndarray, speedup: float = 1.0) -> dict[str, np.ndarray]:
    """LAP_METRICS at frame `times` (overlay.frametable): NaN where unknown."""
    return lap_clock(telemetry).columns(times, speedup)


@dataclass(frozen=True)
class LapRow:
    """One completed lap as `info` lists it and `export --laps` writes it (durations in real seconds)."""

    lap: int
    start: float  # on the telemetry's clock (video seconds, or seconds into a ride file)
    end: float
    time: float
    delta: float  # to the best lap of the session: 0 for the best
    sectors: tuple[float, ...]


def lap_rows(telemetry: Telemetry) -> list[LapRow]:
    """Every completed lap with its time, its difference to the session's best, and its sectors."""
    clock = LapClock(telemetry.laps, telemetry.sectors, None)
    if not len(clock.durations):
        return []
    speedup = float(telemetry.speedup or 1.0)
    best = float(np.min(clock.durations))
    with_sectors = len(clock.sectors) > 0
    return [LapRow(k + 1, float(clock.starts[k]), float(clock.starts[k + 1]), float(d) * speedup,
                   (float(d) - best) * speedup,
                   tuple(x * speedup for x in clock.sector_splits(k)) if with_sectors else ())
            for k, d in enumerate(clock.durations)]


def format_lap_time(v: float) -> str:
    """A lap time to the millisecond: '46.512', '1:23.456'; '-' when unknown."""
    if not math.isfinite(v):
        return "-"
    m, s = divmod(round(v * 1000) / 1000, 60)
    return f"{int(m)}:{s:06.3f}" if m else f"{s:.3f}"
