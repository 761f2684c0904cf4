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

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from overdash import InputError


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


def zone_for(lat: float, lon: float) -> str | None:
    """IANA zone name at a position ('Europe/London'), None if unknown or no lookup package."""
    if lat is None or lon is None or not (np.isfinite(lat) and np.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    lookup = _lookup()
    if lookup is None:
        return None
    try:
        name = lookup(float(lat), float(lon))
    except Exception:  # a lookup library failing must not stop a render: fall back to UTC
        return None
    return name or None


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
