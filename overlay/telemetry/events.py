"""Moments worth showing: airtime, hard braking, hard cornering, the top speed, HiLight presses.

A rider wants the dashboard to react to the jump, not to show a g-meter all the time:
this module finds those moments once, in the main process, from the telemetry already
loaded, and the frame table turns them into the `event`, `event.value` and `event.age`
columns that `show-when` and the text components read.

What is detected, and the thresholds (all times on the video timeline, seconds):

* airtime: free fall. ACCL measures gravity plus acceleration, so it reads about 1 g
  riding along and about 0 g while the camera falls freely, whatever way the camera is
  mounted: only the length of the vector is used. It is smoothed over FREE_SMOOTH (a
  moving mean; GoPro ACCL at ~200 Hz has single-sample dips to 0.2 g on rough ground)
  and must stay below FREE_G for at least MIN_AIRTIME; dips closer than FREE_BRIDGE are
  one flight. Take-off and landing are then placed on the raw samples, at the edges of the
  last and first samples of at least CONTACT_G around the flight (the mean blurs them).
  Value: seconds in the air. Height: g·t²/8 (a ballistic flight of t seconds rises and
  falls t/2 each way: h = ½·g·(t/2)²).
* braking: deceleration from the GPS speed (trusted fixes), the slope over BRAKE_WINDOW,
  at least BRAKE_G for at least BRAKE_MIN. Value: the peak, in g. (ACCL is not used:
  which way the camera faces the road is not known, and its vibration dwarfs braking.)
* cornering: lateral acceleration v·ω. ω, the turn rate, is the GYRO rate about the
  gravity direction (the smoothed ACCL vector) when the camera has both, else the rate of
  change of the GPS course. At least CORNER_G for at least CORNER_MIN. Value: peak, in g.
* top-speed: the moment of the highest trusted GPS speed (at least MIN_TOP_SPEED).
  Value: the speed in m/s.
* hilight: each HiLight button press the camera recorded (overlay.telemetry.hilights).
  Value: the press's number, from 1.

A TimeWarp's video seconds are not real seconds: no airtime or braking is looked for there.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from overlay.layout.metrics import EVENT_KINDS
from overlay.telemetry.timeseries import Telemetry, Timeseries

G = 9.80665  # m/s² per g

FREE_G = 0.35  # g: below this the camera is falling freely
FREE_SMOOTH = 0.05  # s: moving mean of |ACCL| before the threshold
FREE_BRIDGE = 0.04  # s: a bump shorter than this inside a flight does not end it
MIN_AIRTIME = 0.15  # s
CONTACT_G = 0.7  # g: a raw sample this strong is contact with the ground (take-off and landing edges)
BRAKE_G = 0.35  # g of deceleration
BRAKE_WINDOW = 1.0  # s: speed slope taken over this span (GPS speed noise ~0.1 m/s)
BRAKE_MIN = 0.5  # s
CORNER_G = 0.5  # g lateral
CORNER_MIN = 1.0  # s
MIN_TOP_SPEED = 1.0  # m/s: below this nothing moved, so there is no top speed to show
GRID_HZ = 10.0  # braking and cornering are found on a 10 Hz grid of the GPS time span
EVENT_HOLD = 5.0  # s: the event metrics go on showing an event this long after it ends


@dataclass(frozen=True)
class Event:
    """One moment: `kind` is one of EVENT_KINDS; `start`..`end` its span (equal for a point in
    time); `value` as the module notes say per kind; `height` (m) for airtime only."""

    kind: str
    start: float
    end: float
    value: float
    height: float = math.nan

    @property
    def code(self) -> int:
        """The number the frame table's `event` column holds for this kind (1-based)."""
        return EVENT_KINDS.index(self.kind) + 1

    def describe(self) -> str:
        """The value in words, for `overdash info`."""
        if self.kind == "airtime":
            return f"{self.value:.2f} s in the air, about {self.height:.2f} m"
        if self.kind in ("braking", "cornering"):
            return f"{self.value:.2f} g peak"
        if self.kind == "top-speed":
            return f"{self.value:.2f} m/s ({self.value * 3.6:.1f} km/h)"
        return f"press {self.value:.0f}"


def detect_events(tel: Telemetry) -> tuple[Event, ...]:
    """Every event in `tel`, sorted by start time."""
    found: list[Event] = []
    real_time = not tel.speedup or float(tel.speedup) == 1.0
    if real_time and "accl" in tel:
        found += airtime(tel["accl"])
    speed = _speed(tel)
    if speed is not None:
        t, v = speed
        if real_time:
            found += braking(t, v)
        found += cornering(tel, t, v)
        found += top_speed(t, v)
    found += [Event("hilight", float(t), float(t), float(i + 1)) for i, t in enumerate(hilight_times(tel))]
    return tuple(sorted(found, key=lambda e: (e.start, e.kind)))


def airtime(accl: Timeseries) -> list[Event]:
    """Free-fall spans of an ACCL stream (m/s², gravity included): see the module notes."""
    t = np.asarray(accl.t, dtype=np.float64)
    if len(t) < 3:
        return []
    mag = np.sqrt(sum(np.asarray(accl[f"accl.{a}"], dtype=np.float64) ** 2 for a in "xyz")) / G
    ok = np.isfinite(mag) & np.isfinite(t)
    t, mag = t[ok], mag[ok]
    if len(t) < 3:
        return []
    dt = float(np.median(np.diff(t)))
    n = max(1, int(round(FREE_SMOOTH / dt))) if dt > 0 else 1
    # a centred moving mean; at the ends, of the samples there are (not of zero padding)
    smooth = np.convolve(mag, np.ones(n), mode="same") / np.convolve(np.ones(len(mag)), np.ones(n), mode="same")
    spans = _runs(t, smooth < FREE_G, bridge=FREE_BRIDGE)
    out = []
    for start, end in spans:
        start, end = _sharpen(t, mag, start, end, n)
        flight = end - start
        if flight >= MIN_AIRTIME:
            out.append(Event("airtime", start, end, flight, height=G * flight * flight / 8.0))
    return out


def _sharpen(t: np.ndarray, mag: np.ndarray, start: float, end: float, n: int) -> tuple[float, float]:
    """Take-off and landing on the raw samples: the moving mean blurs both by up to its width
    (a 3 g landing lifts it early). Take-off: just after the last sample of at least
    CONTACT_G within a window's width of the smoothed start; landing: the first sample of
    at least CONTACT_G within a window's width of the smoothed end. Kept as found otherwise."""
    i0, i1 = int(np.searchsorted(t, start)), int(np.searchsorted(t, end))
    lo = max(0, i0 - n)
    before = np.flatnonzero(mag[lo:i0 + n // 2] >= CONTACT_G)
    if len(before) and lo + before[-1] + 1 < i1:
        start = float(t[lo + before[-1] + 1])
    lo = max(i0 + 1, i1 - n)
    after = np.flatnonzero(mag[lo:i1 + n] >= CONTACT_G)
    if len(after):
        end = float(t[lo + after[0]])
    return start, end


def braking(t: np.ndarray, v: np.ndarray) -> list[Event]:
    """Spans of deceleration of at least BRAKE_G for BRAKE_MIN, from speeds `v` (m/s) at `t`."""
    grid, speed = _on_grid(t, v)
    if len(grid) < 3:
        return []
    half = max(1, int(round(BRAKE_WINDOW * GRID_HZ / 2)))
    decel = np.full(len(grid), np.nan)
    decel[half:-half] = (speed[:-2 * half] - speed[2 * half:]) / (2 * half / GRID_HZ) / G
    return _peaks("braking", grid, decel, BRAKE_G, BRAKE_MIN)


def cornering(tel: Telemetry, t: np.ndarray, v: np.ndarray) -> list[Event]:
    """Spans of lateral acceleration v·ω of at least CORNER_G for CORNER_MIN."""
    grid, speed = _on_grid(t, v)
    if len(grid) < 3:
        return []
    rate = _turn_rate_gyro(tel, grid)
    if rate is None:
        rate = _turn_rate_course(tel, grid)
    if rate is None:
        return []
    return _peaks("cornering", grid, np.abs(speed * rate) / G, CORNER_G, CORNER_MIN)


def top_speed(t: np.ndarray, v: np.ndarray) -> list[Event]:
    """The moment of the highest speed, when it is at least MIN_TOP_SPEED."""
    if not len(v) or not np.isfinite(v).any():
        return []
    i = int(np.nanargmax(v))
    if v[i] < MIN_TOP_SPEED:
        return []
    return [Event("top-speed", float(t[i]), float(t[i]), float(v[i]))]


def hilight_times(tel: Telemetry) -> np.ndarray:
    """HiLight press times of a camera's telemetry.

    The GoPro loader turns N presses into laps (lap 1 from t = 0, one more per press) and
    says "N HiLight tag(s)" in a note. Laps that replaced those (a ride file's, laps timed
    on a lap line) are not presses: the laps are taken as presses only when they still
    start at 0 and number the notes' presses plus one.
    """
    presses = sum(int(m.group(1)) for note in tel.notes if (m := _HILIGHT_NOTE.match(note)))
    laps = np.asarray(tel.laps, dtype=np.float64)
    if not presses or len(laps) != presses + 1 or laps[0] != 0.0 or len(getattr(tel, "lap_lines", ())):
        return np.zeros(0)
    return laps[1:]


_HILIGHT_NOTE = re.compile(r"(\d+) HiLight tag")


def _speed(tel: Telemetry) -> tuple[np.ndarray, np.ndarray] | None:
    """(t, speed m/s) of the trusted GPS fixes, else of whatever stream records speed."""
    for series in tel.streams.values():
        for name in ("speed", "cspeed"):
            if name in series:
                t = np.asarray(series.t, dtype=np.float64)
                v = np.asarray(series[name], dtype=np.float64)
                ok = np.isfinite(t) & np.isfinite(v)
                if "gps-ok" in series:
                    ok &= np.asarray(series["gps-ok"], dtype=bool)
                if ok.sum() >= 2:
                    return t[ok], v[ok]
    return None


def _on_grid(t: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`v` interpolated on a GRID_HZ grid over `t`'s span."""
    if len(t) < 2 or t[-1] <= t[0]:
        return np.zeros(0), np.zeros(0)
    grid = np.arange(t[0], t[-1], 1.0 / GRID_HZ)
    return grid, np.interp(grid, t, v)


def _turn_rate_gyro(tel: Telemetry, grid: np.ndarray) -> np.ndarray | None:
    """rad/s about the vertical: the GYRO vector projected on the gravity direction, which is
    the ACCL vector averaged over a second (its vibration and short pushes average out)."""
    if "gyro" not in tel or "accl" not in tel:
        return None
    gyro, accl = tel["gyro"], tel["accl"]
    if not len(gyro) or not len(accl):
        return None
    down = np.stack([_mean_on(accl, f"accl.{a}", grid, 1.0) for a in "xyz"])
    spin = np.stack([_mean_on(gyro, f"gyro.{a}", grid, 1.0 / GRID_HZ) for a in "xyz"])
    norm = np.linalg.norm(down, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = (spin * down).sum(axis=0) / norm
    return np.where(np.isfinite(rate), rate, 0.0)


def _mean_on(series: Timeseries, name: str, grid: np.ndarray, span: float) -> np.ndarray:
    """The mean of `series[name]` over `span` seconds around each grid time (cumulative sums)."""
    t = np.asarray(series.t, dtype=np.float64)
    v = np.nan_to_num(np.asarray(series[name], dtype=np.float64))
    total = np.concatenate(([0.0], np.cumsum(v)))
    lo = np.searchsorted(t, grid - span / 2)
    hi = np.searchsorted(t, grid + span / 2)
    count = hi - lo
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (total[hi] - total[lo]) / np.maximum(count, 1), np.nan)


def _turn_rate_course(tel: Telemetry, grid: np.ndarray) -> np.ndarray | None:
    """rad/s from the change of the GPS course over ground (cog, degrees), unwrapped."""
    for series in tel.streams.values():
        if "cog" in series:
            t = np.asarray(series.t, dtype=np.float64)
            cog = np.asarray(series["cog"], dtype=np.float64)
            ok = np.isfinite(t) & np.isfinite(cog)
            if ok.sum() < 3:
                return None
            course = np.interp(grid, t[ok], np.unwrap(np.radians(cog[ok])))
            return np.gradient(course, grid)
    return None


def _peaks(kind: str, grid: np.ndarray, level: np.ndarray, threshold: float, least: float) -> list[Event]:
    """An event per span where `level` >= threshold for at least `least` s; value: its peak."""
    out = []
    for start, end in _runs(grid, np.nan_to_num(level) >= threshold):
        if end - start >= least:
            inside = (grid >= start) & (grid <= end)
            out.append(Event(kind, start, end, float(np.nanmax(level[inside]))))
    return out


def _runs(t: np.ndarray, on: np.ndarray, bridge: float = 0.0) -> list[tuple[float, float]]:
    """(start, end) times of each run of True in `on`; the end is the first False sample after
    the run (the time it stopped). Runs separated by less than `bridge` s are joined."""
    if not on.any():
        return []
    edges = np.diff(np.concatenate(([0], on.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)  # index of the first False after each run (may be len(t))
    spans: list[tuple[float, float]] = []
    for s, e in zip(starts, ends):
        begin, stop = float(t[int(s)]), float(t[min(int(e), len(t) - 1)])
        if spans and begin - spans[-1][1] < bridge:
            spans[-1] = (spans[-1][0], stop)
        else:
            spans.append((begin, stop))
    return spans


def event_columns(events, times: np.ndarray, hold: float) -> dict[str, np.ndarray]:
    """`event` (code: EVENT_KINDS index + 1), `event.value`, `event.age` (s) at `times`.

    A frame shows the most recently begun event whose span, plus `hold` seconds, covers it;
    NaN (missing: text shows '-') where none does. `event.age` is never negative: an event
    is not known before it begins.
    """
    n = len(times)
    code, value, begun = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    for e in sorted(events, key=lambda e: e.start):
        lo = np.searchsorted(times, e.start - 1e-9, side="left")
        hi = np.searchsorted(times, e.end + hold + 1e-9, side="right")
        code[lo:hi], value[lo:hi], begun[lo:hi] = e.code, e.value, e.start
    return {"event": code, "event.value": value, "event.age": np.maximum(times - begun, 0.0)}


# Units of each kind's value, for the CSV and `overdash info`.
VALUE_UNITS = {"airtime": "s", "braking": "g", "cornering": "g", "top-speed": "m/s", "hilight": ""}


def event_lines(events) -> list[str]:
    """`overdash info`'s list: one line per event, times in video seconds."""
    if not events:
        return ["events: none found (airtime, braking, cornering, top speed, HiLights)"]
    lines = [f"events ({len(events)}):"]
    for e in events:
        span = f"{e.start:9.3f} s" if e.end == e.start else f"{e.start:9.3f} .. {e.end:9.3f} s"
        lines.append(f"  {e.kind:10} {span:>26}  {e.describe()}")
    return lines


def events_csv(events):
    """`overdash export --events`: a CSV row per event (times in seconds of video)."""
    yield "kind,start_s,end_s,duration_s,value,value_unit,height_m\n"
    for e in events:
        height = "" if math.isnan(e.height) else f"{e.height:.3f}"
        yield (f"{e.kind},{e.start:.3f},{e.end:.3f},{e.end - e.start:.3f},{e.value:.4g},"
               f"{VALUE_UNITS[e.kind]},{height}\n")
