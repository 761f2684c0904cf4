"""Map heading per frame, smooth enough to rotate a map at the overlay frame rate.

Course over ground (`cog`, degrees) is interpolated per frame by the
FrameTable, which sweeps through 180 deg when the course crosses north
(350 -> 10 becomes 350, 237, 123, 10); such impossible jumps, missing
values and near-standstill frames (where course is noise) are dropped and
the heading held, then the course is averaged as unit vectors over a short
window so the map turns smoothly and never spins the long way round.
"""
from __future__ import annotations

import numpy as np

from overlay.maps.geometry import hold

MAX_TURN_PER_S = 400.0   # deg/s; faster changes are interpolation artefacts or noise
MIN_SPEED = 1.0          # m/s; slower, the course is noise: hold the heading
WINDOW_S = 0.5           # smoothing window


def _wrap(d):
    return (np.asarray(d) + 180.0) % 360.0 - 180.0


def course_from_positions(lat, lon) -> np.ndarray:
    """Bearing (deg) from each frame's position to the next (NaN when not moving)."""
    lat = np.radians(np.asarray(lat, dtype=np.float64))
    lon = np.radians(np.asarray(lon, dtype=np.float64))
    if len(lat) < 2:
        return np.full(len(lat), np.nan)
    dl = lon[1:] - lon[:-1]
    y = np.sin(dl) * np.cos(lat[1:])
    x = np.cos(lat[:-1]) * np.sin(lat[1:]) - np.sin(lat[:-1]) * np.cos(lat[1:]) * np.cos(dl)
    b = np.degrees(np.arctan2(y, x)) % 360.0
    b[(x == 0) & (y == 0)] = np.nan
    return np.append(b, b[-1])


def smooth_heading(cog, fps: float, speed=None, lat=None, lon=None) -> np.ndarray:
    """Heading in degrees (clockwise from north) for every frame; 0 when nothing is known."""
    if cog is None:
        if lat is None or lon is None:
            return np.zeros(0)
        cog = course_from_positions(lat, lon)
    h = np.array(cog, dtype=np.float64)
    n = len(h)
    if n == 0:
        return h
    bad = ~np.isfinite(h)
    step = np.abs(_wrap(np.diff(h)))
    jump = np.zeros(n, dtype=bool)
    jump[1:] = ~(step <= MAX_TURN_PER_S / max(fps, 1.0))
    jump[:-1] |= jump[1:]
    bad |= jump
    if speed is not None and len(speed) == n:
        with np.errstate(invalid="ignore"):
            bad |= np.asarray(speed, dtype=np.float64) < MIN_SPEED
    if bad.all():
        return np.zeros(n) if not np.isfinite(h).any() else hold(np.where(np.isfinite(h), h, np.nan))
    rad = np.radians(hold(np.where(bad, np.nan, h)))
    sx, cy = np.sin(rad), np.cos(rad)
    k = max(1, int(round(WINDOW_S * fps)))
    if k > 1 and n > 1:
        kernel = np.ones(k) / k
        pad = k // 2
        sx = np.convolve(np.pad(sx, (pad, k - 1 - pad), mode="edge"), kernel, mode="valid")
        cy = np.convolve(np.pad(cy, (pad, k - 1 - pad), mode="edge"), kernel, mode="valid")
    return np.degrees(np.arctan2(sx, cy)) % 360.0
