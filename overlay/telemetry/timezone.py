"""The local time zone of where a ride happened, offline, for dates and times on the dashboard.

Lookup by position uses tzfpy (PyPI, MIT; one ~5 MB wheel with the time
zone boundary data compiled in, no dependencies, no network: checked by
running it in a network namespace with no interfaces). It answers e.g.
'Europe/London', and 'Etc/GMT+2' at sea. Where tzfpy is not installed,
timezonefinder is used if present (works offline too, but ~35 MB with its
data package and three more dependencies). Without either, `zone_for`
returns None and the dashboard shows UTC unless `--tz` names a zone.

`resolve_zone(tz_option, lat, lon)` is what the CLI wants: `--tz` wins
(validated against the zoneinfo database), then the position, then None.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from overdash import InputError
from overlay import memo as memo_store


@lru_cache(maxsize=1)
def _lookup():
    try:
        import tzfpy

        return lambda lat, lon: tzfpy.get_tz(lon, lat)  # tzfpy takes (lng, lat)
    except ImportError:
        pass
    try:
        from timezonefinder import TimezoneFinder

        finder = TimezoneFinder()
        return lambda lat, lon: finder.timezone_at(lat=lat, lng=lon)
    except ImportError:
        return None


# Remembered answers: cells CELL degrees square (~1 km) whose 3x3 grid of points all lie in
# one zone. tzfpy's first lookup in a process loads its boundary data (~60 ms, 1.5% of
# rendering a 10 s clip); re-rendering a ride, or its next chapter, then skips it.
CELL = 0.01


def zone_for(lat: float, lon: float, memo: str | os.PathLike | None = "") -> str | None:
    """IANA zone name at a position ('Europe/London'), None if unknown or no lookup package.

    memo: file of remembered cells ("" = the user's cache folder, None = none).
    """
    if lat is None or lon is None or not (np.isfinite(lat) and np.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    cells = _Cells(memo) if memo is not None else None
    cell = (math.floor(lat / CELL), math.floor(lon / CELL))
    if cells is not None and (known := cells.get(cell)):
        return known
    lookup = _lookup()
    if lookup is None:
        return None
    try:
        name = lookup(float(lat), float(lon))
    except Exception:  # a lookup library failing must not stop a render: fall back to UTC
        return None
    if name and cells is not None:
        try:
            grid = [lookup((cell[0] + i / 2) * CELL, (cell[1] + j / 2) * CELL) for i in range(3) for j in range(3)]
        except Exception:
            grid = []
        if grid and all(g == name for g in grid):
            cells.put(cell, name)
    return name or None


class _Cells:
    """The remembered cells, per installed lookup package (new boundary data: new file)."""

    def __init__(self, path):
        tag = memo_store.package_tag("tzfpy", "timezonefinder")
        self.path = Path(path) if path else memo_store.cache_dir() / f"zones-{tag}.json"
        self.cells = memo_store.load(self.path)

    def get(self, cell) -> str | None:
        value = self.cells.get(f"{cell[0]},{cell[1]}")
        return value if isinstance(value, str) else None

    def put(self, cell, name: str) -> None:
        self.cells[f"{cell[0]},{cell[1]}"] = name
        memo_store.save(self.path, self.cells)


def resolve_zone(tz_option: str | None, lat: float | None = None, lon: float | None = None) -> ZoneInfo | None:
    """`--tz` if given (InputError if unknown), else the zone at (lat, lon), else None (show UTC)."""
    if tz_option:
        try:
            return ZoneInfo(tz_option)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(f"--tz {tz_option!r}: not a known time zone (e.g. Europe/London, "
                             "America/Los_Angeles, UTC)") from exc
    name = zone_for(lat, lon) if lat is not None and lon is not None else None
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def first_position(tel) -> tuple[float, float] | None:
    """The first trusted (lat, lon) of a Telemetry's 'gps' stream, None without one."""
    if "gps" not in tel or "lat" not in tel["gps"]:
        return None
    gps = tel["gps"]
    ok = np.isfinite(gps["lat"]) & np.isfinite(gps["lon"])
    if "gps-ok" in gps:
        ok &= np.asarray(gps["gps-ok"], bool)
    idx = np.flatnonzero(ok)
    return (float(gps["lat"][idx[0]]), float(gps["lon"][idx[0]])) if len(idx) else None
