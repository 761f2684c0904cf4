"""Web Mercator (EPSG:3857) tile math on 256 px slippy-map tiles.

"Global pixels" at zoom z: the world is a square of 256 * 2**z pixels, x east
from longitude -180, y south from latitude +85.0511. Tile (z, x, y) covers
global pixels [256x, 256x + 256) x [256y, 256y + 256). Everything here is
vectorised with numpy and pure: the main process uses it to work out which
tiles a render needs, the workers to place tiles, track and marker.
"""
from __future__ import annotations

import math
from typing import Iterable, NamedTuple

import numpy as np

TILE = 256
MAX_LAT = 85.0511287798066  # atan(sinh(pi)): where the Mercator square ends
EARTH_RADIUS = 6378137.0  # metres, the WGS84 semi-major axis Web Mercator uses


class Tile(NamedTuple):
    z: int
    x: int
    y: int


def to_global(lat, lon, z: float):
    """Global pixel (x, y) of lat/lon (degrees, scalars or arrays) at zoom z; NaN stays NaN."""
    lat = np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT)
    lon = np.asarray(lon, dtype=np.float64)
    n = TILE * 2.0 ** z
    x = (lon + 180.0) / 360.0 * n
    phi = np.radians(lat)
    y = (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0 * n
    return x, y


def to_latlon(x, y, z: float):
    """Inverse of to_global."""
    n = TILE * 2.0 ** z
    lon = np.asarray(x, dtype=np.float64) / n * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * np.asarray(y, dtype=np.float64) / n))))
    return lat, lon


def metres_per_pixel(lat: float, z: float) -> float:
    return 2 * math.pi * EARTH_RADIUS * math.cos(math.radians(lat)) / (TILE * 2.0 ** z)


def tiles_in_box(z: int, x0: float, y0: float, x1: float, y1: float) -> set[Tile]:
    """Tiles touching the global-pixel box [x0, x1) x [y0, y1) at zoom z (clipped to the world; x wraps)."""
    n = 1 << z
    ty0, ty1 = max(0, math.floor(y0 / TILE)), min(n - 1, math.ceil(y1 / TILE) - 1)
    tx0, tx1 = math.floor(x0 / TILE), math.ceil(x1 / TILE) - 1
    return {Tile(z, tx % n, ty) for tx in range(tx0, tx1 + 1) for ty in range(ty0, ty1 + 1)}


def tiles_for_windows(z: int, cx, cy, half_w: float, half_h: float) -> set[Tile]:
    """Every tile touched by a (2*half_w x 2*half_h) global-pixel window centred on each (cx, cy).

    Vectorised: a long ride has one window per frame; NaN centres are skipped.
    """
    cx = np.asarray(cx, dtype=np.float64).ravel()
    cy = np.asarray(cy, dtype=np.float64).ravel()
    ok = np.isfinite(cx) & np.isfinite(cy)
    if not ok.any():
        return set()
    cx, cy = cx[ok], cy[ok]
    n = 1 << z
    tx0 = np.floor((cx - half_w) / TILE).astype(np.int64)
    tx1 = np.ceil((cx + half_w) / TILE).astype(np.int64) - 1
    ty0 = np.clip(np.floor((cy - half_h) / TILE).astype(np.int64), 0, n - 1)
    ty1 = np.clip(np.ceil((cy + half_h) / TILE).astype(np.int64) - 1, 0, n - 1)
    keys = []
    for dx in range(int((tx1 - tx0).max()) + 1):
        for dy in range(int((ty1 - ty0).max()) + 1):
            tx, ty = tx0 + dx, ty0 + dy
            use = (tx <= tx1) & (ty <= ty1)
            keys.append((tx[use] % n) * n + ty[use])
    flat = np.unique(np.concatenate(keys))
    return {Tile(z, int(k // n), int(k % n)) for k in flat}


def fit_zoom(lat, lon, width: float, height: float, *, pad: float = 0.0,
             min_zoom: int = 1, max_zoom: int = 18) -> int:
    """The highest zoom at which all points fit in width x height pixels with `pad` pixels to spare."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return min_zoom
    x, y = to_global(lat[ok], lon[ok], 0)
    span_x, span_y = float(x.max() - x.min()), float(y.max() - y.min())
    room_x, room_y = max(width - 2 * pad, 1.0), max(height - 2 * pad, 1.0)
    for z in range(max_zoom, min_zoom - 1, -1):
        k = 2.0 ** z
        if span_x * k <= room_x and span_y * k <= room_y:
            return z
    return min_zoom


def sorted_tiles(tiles: Iterable[Tile]) -> list[Tile]:
    return sorted(Tile(*t) for t in tiles)
