"""`--laps auto`: find the circuit in a track by the track closing on itself, and put a line there.

A circuit is a place the track passes again and again in the same direction, leaving it in
between. The track is resampled every STEP metres of path (so a long stop weighs nothing and a
fast straight as much as a slow hairpin); for each point, the passes are counted: runs of the
track within NEAR metres of it, heading within HEADING degrees of its own, separated by going
more than AWAY metres away. The point with the most passes wins, at least MIN_PASSES (two laps);
among equals the fastest, because a crossing is timed best where the track is fast and straight.
"""
from __future__ import annotations

import math

import numpy as np

from overdash import InputError
from overlay.telemetry.laps import AWAY, WIDTH, LapLine, from_xy, local_xy, path_length

STEP = 5.0  # m of path between the points examined
NEAR = 10.0  # m: this close counts as passing the point
HEADING = 45.0  # degrees: a pass in the other direction (an out-and-back ride) is no lap
MIN_PASSES = 3  # passes of the line: two laps
MAX_CANDIDATES = 3000  # points examined at most (evenly spread), so a long ride stays quick


def resampled(t: np.ndarray, x: np.ndarray, y: np.ndarray, step: float = STEP):
    """(t, x, y) at every `step` metres along the path (by distance travelled)."""
    along = path_length(x, y)
    at = np.arange(0.0, along[-1], step)
    keep = np.concatenate(([True], np.diff(along) > 0))  # np.interp needs increasing distances
    along, t, x, y = along[keep], t[keep], x[keep], y[keep]
    return np.interp(at, along, t), np.interp(at, along, x), np.interp(at, along, y)


def passes(d: np.ndarray, same_way: np.ndarray) -> int:
    """How many separate times the track comes near (d < NEAR, heading alike) after being away."""
    state = np.where((d < NEAR) & same_way, 1, np.where(d > AWAY, -1, 0))
    seq = state[state != 0]
    if not len(seq):
        return 0
    return int(seq[0] == 1) + int(np.count_nonzero((seq[1:] == 1) & (seq[:-1] == -1)))


def find_circuit(t: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> LapLine:
    """The start/finish line of the circuit in a track (trusted fixes), or an InputError saying none."""
    lat0, lon0 = float(lat[0]), float(lon[0])
    x, y = local_xy(lat, lon, lat0, lon0)
    rt, rx, ry = resampled(t, x, y)
    if len(rt) < 8:
        raise InputError("--laps auto: the track is too short to hold a circuit; give --lap-line LAT,LON")
    hx, hy = np.gradient(rx), np.gradient(ry)  # direction of travel at each point
    norm = np.hypot(hx, hy)
    norm[norm == 0] = 1.0
    hx, hy = hx / norm, hy / norm
    speed = STEP / np.maximum(np.gradient(rt), 1e-6)
    cos_limit = math.cos(math.radians(HEADING))
    best: tuple[int, float, int] | None = None
    for c in np.unique(np.linspace(0, len(rt) - 1, min(len(rt), MAX_CANDIDATES)).astype(int)):
        d = np.hypot(rx - rx[c], ry - ry[c])
        n = passes(d, hx * hx[c] + hy * hy[c] >= cos_limit)
        if n >= MIN_PASSES and (best is None or (n, speed[c]) > best[:2]):
            best = (n, float(speed[c]), int(c))
    if best is None:
        raise InputError("--laps auto: no circuit found (the track never passes the same place three times "
                         "in the same direction); give the line with --lap-line LAT,LON[,BEARING]")
    c = best[2]
    lat_c, lon_c = from_xy(float(rx[c]), float(ry[c]), lat0, lon0)
    return LapLine(lat_c, lon_c, math.degrees(math.atan2(hx[c], hy[c])) % 360.0, WIDTH)
