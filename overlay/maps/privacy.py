"""Privacy zones: circles (centre, radius in metres) where the position is never shown.

`mask_table` hides (NaN) the FrameTable's coordinates inside any zone - the
lat/lon columns in every unit, their running statistics, and the whole-ride
track - so text widgets and maps alike lose them. Map widgets also cut the
zones out of the track line they draw (a line between two points outside a
zone may still cross it) and never draw the marker inside one.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from overdash import InputError
from overlay.maps.tiles import EARTH_RADIUS


@dataclass(frozen=True)
class PrivacyZone:
    lat: float
    lon: float
    radius_m: float

    def __post_init__(self):
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"privacy zone {self.lat},{self.lon}: not a latitude,longitude")
        if not self.radius_m > 0:
            raise ValueError(f"privacy zone radius {self.radius_m}: must be above 0 metres")


def parse_zone(text: str) -> PrivacyZone:
    """`--privacy LAT,LON,RADIUS_M` -> PrivacyZone (InputError with the value on mistakes)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) != 3:
            raise ValueError("expected LAT,LON,RADIUS_M")
        lat, lon, radius = (float(p) for p in parts)
        if not all(math.isfinite(v) for v in (lat, lon, radius)):
            raise ValueError("values must be finite numbers")
        return PrivacyZone(lat, lon, radius)
    except ValueError as exc:
        raise InputError(f"--privacy {text!r}: {exc} (e.g. --privacy 51.5007,-0.1246,300)") from None


def distance_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres (haversine), vectorised; NaN in, NaN out."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def inside(lat, lon, zones: Iterable[PrivacyZone]) -> np.ndarray:
    """Boolean mask: which points lie inside any zone (NaN points are not inside)."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    hit = np.zeros(np.broadcast(lat, lon).shape, dtype=bool)
    for z in zones:
        with np.errstate(invalid="ignore"):
            hit |= distance_m(lat, lon, z.lat, z.lon) <= z.radius_m
    return hit


def mask_points(lat, lon, zones) -> tuple[np.ndarray, np.ndarray]:
    """Copies of lat/lon with the points inside any zone set to NaN."""
    lat = np.array(lat, dtype=np.float64)
    lon = np.array(lon, dtype=np.float64)
    if zones:
        hit = inside(lat, lon, zones)
        lat[hit] = np.nan
        lon[hit] = np.nan
    return lat, lon


def mask_track(track, zones) -> np.ndarray:
    """An (n, 2) lat/lon track with the points inside zones set to NaN (rows kept: gaps stay gaps)."""
    track = np.asarray(track, dtype=np.float64).reshape(-1, 2)
    lat, lon = mask_points(track[:, 0], track[:, 1], zones)
    return np.column_stack([lat, lon])


def _is_coordinate(key: str) -> bool:
    metric = key.split("|", 1)[0]
    return metric in ("lat", "lon") or metric.startswith(("lat.", "lon."))


def mask_table(table, zones: Iterable[PrivacyZone]):
    """A FrameTable like `table` with every coordinate inside a zone hidden (NaN).

    Frames inside a zone lose lat and lon (all unit variants and .min/.max/.avg
    statistics, recomputed from the masked values); the track loses its points
    inside. Other columns (speed, heart rate...) are kept.
    """
    from overlay.frametable import running

    zones = tuple(zones)
    if not zones:
        return table
    cols = dict(table.columns)
    lat, lon = cols.get("lat"), cols.get("lon")
    if lat is not None and lon is not None:
        hit = inside(lat, lon, zones)
        for key, col in table.columns.items():
            if not _is_coordinate(key):
                continue
            metric, bar, units = key.partition("|")
            base, _, stat = metric.rpartition(".")
            source = table.columns.get(base + bar + units) if stat in ("min", "max", "avg") else None
            if source is not None:  # a running statistic: recompute it without the hidden values
                new = running(np.where(hit, np.nan, np.asarray(source, dtype=np.float64)), stat)
            else:
                new = np.where(hit, np.nan, np.asarray(col, dtype=np.float64))
            new.setflags(write=False)
            cols[key] = new
    track = mask_track(table.track, zones)
    return dataclasses.replace(table, columns=cols, track=track, lap_lines=_mask_lines(table.lap_lines, zones))


def _mask_lines(lines, zones) -> np.ndarray:
    """Lap and sector lines (lat1, lon1, lat2, lon2 rows) with any end or the middle inside a zone
    made NaN: a start/finish mark drawn there would show where the zone is meant to hide."""
    lines = np.array(lines, dtype=np.float64).reshape(-1, 4)
    if len(lines):
        hit = (inside(lines[:, 0], lines[:, 1], zones) | inside(lines[:, 2], lines[:, 3], zones)
               | inside((lines[:, 0] + lines[:, 2]) / 2, (lines[:, 1] + lines[:, 3]) / 2, zones))
        lines[hit] = np.nan
    return lines
