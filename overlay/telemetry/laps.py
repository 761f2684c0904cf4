"""Laps from the track: when the GPS track crosses a start/finish line (and sector lines).

A line is given by its centre (`--lap-line LAT,LON[,BEARING][,WIDTH_M]`) or found by
overlay.telemetry.laps_auto. It is a segment WIDTH_M long, square to BEARING, the direction
of travel across it; without a bearing, the direction of the track where it first passes the
centre. Only crossings in that direction count, so a loop driven backwards never completes a lap.

Why not the nearest sample: at 18 Hz and 30 m/s the fixes are 1.7 m (55 ms) apart. A crossing
is the time the distance past the line, s(t), is zero: a quadratic fitted to s over the fixes
within FIT_WINDOW of the crossing, solved by Newton's method, which averages GPS jitter out
instead of following one noisy fix (a straight line between the two fixes either side is the
fallback where fixes are too sparse).

Double counts: a rider waiting at the line, or jitter across it, makes several crossings in a
row without leaving the line; those form one pass, timed at its fastest crossing (the real
pass through the line; jitter crosses at walking pace). Passes closer than `min_lap` seconds
to the one before are dropped too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from overdash import InputError
from overlay.telemetry.derived import EARTH_RADIUS
from overlay.telemetry.timeseries import Telemetry

WIDTH = 30.0  # m: default line length, a wide track's width with margin for GPS error
MIN_LAP = 10.0  # s: default shortest lap
FIT_WINDOW = 1.5  # s either side of a crossing fitted by the quadratic
MAX_GAP = 5.0  # s: fixes further apart than this are not joined (as the frame table's interpolation)
AWAY = 50.0  # m: leaving the line's centre by this much ends a pass


@dataclass(frozen=True)
class LapLine:
    """A timing line: centre (degrees), bearing of travel across it (degrees clockwise from north;
    None: taken from the track), and its length in metres."""

    lat: float
    lon: float
    bearing: float | None = None
    width: float = WIDTH

    def ends(self) -> tuple[float, float, float, float]:
        """(lat1, lon1, lat2, lon2) of the segment (needs the bearing): what maps draw."""
        b = math.radians(self.bearing or 0.0)
        half = self.width / 2
        dx, dy = math.cos(b) * half, -math.sin(b) * half  # square to travel: east, north in metres
        return (*from_xy(-dx, -dy, self.lat, self.lon), *from_xy(dx, dy, self.lat, self.lon))

    def describe(self) -> str:
        b = "" if self.bearing is None else f", bearing {self.bearing:.0f}°"
        return f"{self.lat:.6f},{self.lon:.6f}{b}, {self.width:g} m wide"


@dataclass(frozen=True)
class LapSpec:
    """What the command line asked for: a start/finish line, or `auto`, and sector lines."""

    line: LapLine | None = None
    auto: bool = False
    sectors: tuple[LapLine, ...] = ()
    min_lap: float = MIN_LAP


@dataclass(frozen=True)
class TrackLaps:
    """Laps found on the track: the lines as used (bearings resolved), and the crossing times."""

    line: LapLine
    sector_lines: tuple[LapLine, ...]
    starts: np.ndarray  # start/finish crossings, sorted: lap k runs from starts[k-1] to starts[k]
    sectors: np.ndarray  # sector line crossings, sorted, all lines together


def parse_line(text: str, option: str = "--lap-line") -> LapLine:
    """'LAT,LON[,BEARING][,WIDTH_M]' (an empty BEARING: from the track) → LapLine, or one-line InputError."""
    usage = f"{option} {text!r}: give LAT,LON[,BEARING][,WIDTH_M] in degrees and metres, e.g. 47.37120,8.54250,90,20"
    parts = [p.strip() for p in text.split(",")]
    if not 2 <= len(parts) <= 4:
        raise InputError(usage)
    try:
        values = [float(p) if p else None for p in parts]
    except ValueError:
        raise InputError(usage) from None
    lat, lon = values[0], values[1]
    bearing = values[2] if len(values) > 2 else None
    width = values[3] if len(values) > 3 else WIDTH
    if lat is None or lon is None or width is None or not all(math.isfinite(v) for v in values if v is not None):
        raise InputError(usage)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"{option} {text!r}: latitude must be within ±90 and longitude within ±180")
    if bearing is not None and not 0 <= bearing <= 360:
        raise InputError(f"{option} {text!r}: bearing must be 0 to 360 degrees (clockwise from north)")
    if not 0 < width <= 1000:
        raise InputError(f"{option} {text!r}: width must be above 0 and at most 1000 m")
    return LapLine(lat, lon, None if bearing is None else bearing % 360.0, width)


def lap_spec(lap_line: str | None, laps: str | None, sector_lines=(), min_lap: float | None = None) -> LapSpec | None:
    """The command line's lap options checked together; None when none was given. `laps`: "auto",
    or anything else (None; export's "file") for laps from the line or the file."""
    laps = "auto" if laps == "auto" else None
    if lap_line is None and laps is None and not sector_lines:
        return None
    if lap_line is not None and laps == "auto":
        raise InputError("give --lap-line or --laps auto, not both")
    if lap_line is None and laps != "auto":
        raise InputError("--sector-line needs a start/finish line: add --lap-line LAT,LON or --laps auto")
    if min_lap is not None and not min_lap > 0:
        raise InputError(f"--min-lap {min_lap:g}: must be above 0 seconds")
    return LapSpec(line=parse_line(lap_line) if lap_line else None, auto=laps == "auto",
                   sectors=tuple(parse_line(s, "--sector-line") for s in sector_lines),
                   min_lap=MIN_LAP if min_lap is None else min_lap)


def gps_fixes(telemetry: Telemetry) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, lat, lon) of the trusted fixes (gps-ok, when there is one) with a known position."""
    if "gps" not in telemetry or "lat" not in telemetry["gps"]:
        raise InputError(f"{telemetry.source or 'the telemetry'}: laps from the track need GPS positions, "
                         f"and there are none")
    gps = telemetry["gps"]
    t = np.asarray(gps.t, float)
    lat, lon = np.asarray(gps["lat"], float), np.asarray(gps["lon"], float)
    ok = np.isfinite(t) & np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    if "gps-ok" in gps:
        ok &= np.asarray(gps["gps-ok"], bool)
    return t[ok], lat[ok], lon[ok]


def local_xy(lat, lon, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Metres east and north of (lat0, lon0): equirectangular, exact to millimetres over a circuit."""
    k = math.radians(1.0) * EARTH_RADIUS
    x = (np.asarray(lon, float) - lon0) * k * math.cos(math.radians(lat0))
    y = (np.asarray(lat, float) - lat0) * k
    return x, y


def path_length(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Metres travelled along the path (x, y) up to each of its points, from 0."""
    return np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))


def from_xy(x: float, y: float, lat0: float, lon0: float) -> tuple[float, float]:
    """(lat, lon) of the point x metres east and y north of (lat0, lon0): local_xy's inverse."""
    k = math.radians(1.0) * EARTH_RADIUS
    return lat0 + y / k, lon0 + x / (k * math.cos(math.radians(lat0)))


def heading(x: np.ndarray, y: np.ndarray, t: np.ndarray, i: int, half: float = FIT_WINDOW) -> float:
    """Direction of travel (degrees from north) at fix i, across the fixes within `half` s of it."""
    lo = int(np.searchsorted(t, t[i] - half))
    hi = int(np.searchsorted(t, t[i] + half, side="right")) - 1
    lo, hi = min(lo, max(i - 1, 0)), max(hi, min(i + 1, len(t) - 1))
    return math.degrees(math.atan2(x[hi] - x[lo], y[hi] - y[lo])) % 360.0


def resolve_bearing(line: LapLine, t, x, y) -> LapLine:
    """`line` with its bearing: the track's direction where it first passes closest to the centre."""
    if line.bearing is not None:
        return line
    r = np.hypot(x, y)
    near = np.flatnonzero(r <= line.width / 2)
    if not len(near):
        raise InputError(f"line {line.lat:.6f},{line.lon:.6f}: the track never passes within "
                         f"{line.width / 2:g} m of it (closest {np.min(r) if len(r) else float('nan'):.0f} m)")
    first = near[: int(np.argmax(np.diff(near, append=near[-1] + 2) > 1)) + 1]  # the first run of near fixes
    i = int(first[np.argmin(r[first])])
    return replace(line, bearing=heading(x, y, t, i))


def crossings(t: np.ndarray, x: np.ndarray, y: np.ndarray, line: LapLine, min_lap: float = 0.0) -> np.ndarray:
    """Times the track (x, y: metres from the line's centre) crosses `line` in its direction (bearing
    set): one time per pass, passes at least `min_lap` s apart (see the module's doc)."""
    assert line.bearing is not None, "resolve_bearing first"
    b = math.radians(line.bearing)
    s = x * math.sin(b) + y * math.cos(b)  # metres past the line, along travel
    u = x * math.cos(b) - y * math.sin(b)  # metres along the line from its centre
    i = np.flatnonzero((s[:-1] < 0) & (s[1:] >= 0) & (np.diff(t) <= MAX_GAP))
    f = -s[i] / (s[i + 1] - s[i])
    i = i[np.abs(u[i] + f * (u[i + 1] - u[i])) <= line.width / 2]
    found = [_refine(t, s, int(k)) for k in i]
    if not found:
        return np.zeros(0)
    r = np.hypot(x, y)
    passes: list[tuple[float, float]] = []
    last_k = -1
    for k, (when, speed) in zip(i, found):
        if passes and not (r[last_k + 1:k + 1] > max(AWAY, line.width)).any():
            if speed > passes[-1][1]:  # the same pass: keep its fastest crossing
                passes[-1] = (when, speed)
        else:
            passes.append((when, speed))
        last_k = int(k)
    kept: list[float] = []
    for when, _ in passes:
        if not kept or when - kept[-1] >= min_lap:
            kept.append(when)
    return np.asarray(kept, dtype=np.float64)


def _refine(t: np.ndarray, s: np.ndarray, k: int) -> tuple[float, float]:
    """(time, speed through the line) of the crossing between fixes k and k+1: the root of a quadratic
    fitted to s over FIT_WINDOW either side, else the straight line between the two fixes. The speed
    is the distance made across the whole window over its length: near zero for jitter at a standstill,
    however fast two noisy fixes seem to jump."""
    dt = t[k + 1] - t[k]
    linear = t[k] + (-s[k] / (s[k + 1] - s[k])) * dt if s[k + 1] != s[k] else t[k]
    ends = np.interp([linear - FIT_WINDOW, linear + FIT_WINDOW], t, s)
    speed = float(ends[1] - ends[0]) / (2 * FIT_WINDOW)
    lo = int(np.searchsorted(t, linear - FIT_WINDOW))
    hi = int(np.searchsorted(t, linear + FIT_WINDOW, side="right"))
    if hi - lo < 5 or np.any(np.diff(t[lo:hi]) > MAX_GAP):
        return float(linear), speed
    tau = t[lo:hi] - linear
    c2, c1, c0 = np.polyfit(tau, s[lo:hi], 2)
    root = 0.0
    for _ in range(4):  # Newton from the straight-line estimate
        slope = 2 * c2 * root + c1
        if slope <= 0:
            return float(linear), speed
        root -= (c2 * root * root + c1 * root + c0) / slope
    if abs(root) > dt:  # the fit disagrees with the fixes themselves: trust the fixes
        return float(linear), speed
    return float(linear + root), speed


def find_laps(telemetry: Telemetry, spec: LapSpec) -> TrackLaps:
    """Crossing times of the start/finish line (given, or found by laps_auto) and the sector lines."""
    t, lat, lon = gps_fixes(telemetry)
    if len(t) < 2:
        raise InputError(f"{telemetry.source or 'the telemetry'}: too few GPS fixes to time laps")
    if spec.auto:
        from overlay.telemetry.laps_auto import find_circuit

        line = find_circuit(t, lat, lon)
    else:
        assert spec.line is not None, "a LapSpec has a line or auto"
        line = spec.line

    def times(ln: LapLine, min_gap: float) -> tuple[LapLine, np.ndarray]:
        x, y = local_xy(lat, lon, ln.lat, ln.lon)
        ln = resolve_bearing(ln, t, x, y)
        return ln, crossings(t, x, y, ln, min_gap)

    line, starts = times(line, spec.min_lap)
    sector_lines, sector_times = [], []
    for ln in spec.sectors:
        ln, when = times(ln, spec.min_lap)
        sector_lines.append(ln)
        sector_times.append(when)
    sectors = np.sort(np.concatenate(sector_times)) if sector_times else np.zeros(0)
    return TrackLaps(line, tuple(sector_lines), starts, sectors)


def apply_laps(telemetry: Telemetry, spec: LapSpec | None) -> Telemetry:
    """`telemetry` (in place; returned) with its laps replaced by those found on the track, and the
    sector times and line ends set for the frame table and the maps. No spec: unchanged."""
    if spec is None:
        return telemetry
    found = find_laps(telemetry, spec)
    telemetry.laps = found.starts
    telemetry.sectors = found.sectors
    telemetry.lap_lines = np.array([ln.ends() for ln in (found.line, *found.sector_lines)], dtype=np.float64)
    return telemetry
