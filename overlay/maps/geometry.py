"""Where each map widget looks, frame by frame: shared by the main process (to know which
tiles to fetch) and the workers (to draw), so both agree tile for tile.

"View pixels" are global Web Mercator pixels at the tile zoom `zoom`, times
`scale`: tiles are fetched at the zoom whose pixels are closest to the
video's (a layout designed for 1080p at zoom 16 uses zoom 17 tiles on a 4K
video, showing the same area twice as sharp), and resampled by `scale`
(0.5 < scale <= 1 unless the style's maximum zoom is reached).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from overlay.maps.options import MAP_TYPES
from overlay.maps.privacy import mask_points
from overlay.maps.styles import TileStyle
from overlay.maps.tiles import TILE, Tile, fit_zoom, tiles_for_windows, tiles_in_box, to_global

MIN_ZOOM, MAX_ZOOM = 1, 19


@dataclass(frozen=True)
class MapGeometry:
    kind: str
    size: int                       # widget side in video pixels
    zoom: int                       # tile zoom
    scale: float                    # view pixels per global pixel at `zoom`
    rotate: bool = False
    window: int = 0                 # side of the view-pixel window read per frame (>= size)
    origin: tuple[int, int] | None = None       # journey_map: fixed top-left, view pixels

    def project(self, lat, lon):
        x, y = to_global(lat, lon, self.zoom)
        return x * self.scale, y * self.scale

    def tiles_for_view_box(self, x0: float, y0: float, x1: float, y1: float) -> set[Tile]:
        s = self.scale
        return tiles_in_box(self.zoom, x0 / s - 1, y0 / s - 1, x1 / s + 1, y1 / s + 1)


def tile_zoom(design_zoom: int, place_scale: float, style: TileStyle) -> tuple[int, float]:
    """(tile zoom, scale) showing the area of `design_zoom` at the layout's scale on this video."""
    step = max(0, math.ceil(math.log2(max(place_scale, 1e-6)) - 0.05))
    z = style.clamp_zoom(max(MIN_ZOOM, min(MAX_ZOOM, design_zoom)) + step)
    return z, place_scale * 2.0 ** (design_zoom - z)


def _finite(lat, lon):
    lat = np.asarray(lat, dtype=np.float64).ravel()
    lon = np.asarray(lon, dtype=np.float64).ravel()
    ok = np.isfinite(lat) & np.isfinite(lon)
    return lat[ok], lon[ok]


def hold(values: np.ndarray) -> np.ndarray:
    """NaNs replaced by the last finite value before them (or the first after, at the start)."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    if not ok.any() or ok.all():
        return v.copy()
    idx = np.where(ok, np.arange(len(v)), -1)
    np.maximum.accumulate(idx, out=idx)
    first = int(np.argmax(ok))
    idx[idx < 0] = first
    return v[idx]


def plan(kind: str, attrs: dict, place_scale: float, size: int, style: TileStyle,
         track: np.ndarray, lat, lon) -> MapGeometry | None:
    """The geometry of one map widget, or None when there is nothing to place (no positions)."""
    track = np.asarray(track, dtype=np.float64).reshape(-1, 2)
    tlat, tlon = _finite(track[:, 0], track[:, 1])
    plat, plon = _finite(lat if lat is not None else [], lon if lon is not None else [])
    if kind == "journey_map":
        alat, alon = (tlat, tlon) if len(tlat) else (plat, plon)
        if not len(alat):
            return None
        pad = max(8.0, size * 0.06)
        z = fit_zoom(alat, alon, size, size, pad=pad, min_zoom=max(MIN_ZOOM, style.min_zoom),
                     max_zoom=min(17, style.max_zoom))
        g = MapGeometry(kind, size, z, 1.0)
        x, y = g.project(alat, alon)
        ox = round((x.min() + x.max()) / 2 - size / 2)
        oy = round((y.min() + y.max()) / 2 - size / 2)
        return MapGeometry(kind, size, z, 1.0, window=size, origin=(ox, oy))
    if not len(plat) and not len(tlat):
        return None
    z, s = tile_zoom(int(attrs.get("zoom", 16)), place_scale, style)
    rotate = kind == "moving_map" and bool(attrs.get("rotate", True))
    window = int(math.ceil(size * math.sqrt(2))) + 4 if rotate else size
    window += window % 2
    return MapGeometry(kind, size, z, s, rotate=rotate, window=window)


def centres(g: MapGeometry, lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """The view-pixel centre of the map at every frame (positions held across gaps and zones).

    Both moving maps keep the position in the middle, moving_journey_map too: its
    documented meaning is a map that moves with the position, not one that stops at
    the ride's edges.
    """
    return g.project(hold(lat), hold(lon))


def needed_tiles(g: MapGeometry, lat, lon, track) -> set[Tile]:
    """Every tile this widget can show during the render."""
    if g.origin is not None:
        ox, oy = g.origin
        return g.tiles_for_view_box(ox, oy, ox + g.size, oy + g.size)
    if lat is None or lon is None or not np.isfinite(np.asarray(lat, dtype=float)).any():
        track = np.asarray(track, dtype=np.float64).reshape(-1, 2)
        lat, lon = track[:, 0], track[:, 1]
    cx, cy = centres(g, lat, lon)
    s = g.scale
    # Round the centres to whole pixels first: thousands of frames, far fewer distinct windows.
    pts = np.unique(np.round(np.column_stack([cx, cy])[np.isfinite(cx) & np.isfinite(cy)]), axis=0)
    if not len(pts):
        return set()
    half = g.window / 2 + 2
    return tiles_for_windows(g.zoom, pts[:, 0] / s, pts[:, 1] / s, half / s + 1, half / s + 1)


def positions(lat, lon, zones) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per-frame lat/lon with privacy zones hidden (None when the table has none)."""
    if lat is None or lon is None:
        return None, None
    return mask_points(lat, lon, zones)


__all__ = ["MAP_TYPES", "MapGeometry", "TILE", "plan", "centres", "needed_tiles", "positions", "hold", "tile_zoom"]
