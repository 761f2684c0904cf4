"""One model for every telemetry source, so alignment and units never care where data came from.

A `Timeseries` is one sampled stream (GPS at 18 Hz, ACCL at 200 Hz, ...): a
time axis in seconds on the *video* timeline (frame 0 of the video is t=0)
and named columns in base SI units: float64, except the motion sensors' (FLOAT32_STREAMS),
kept as float32 because they are the bulk of a long recording (ACCL and GYRO at ~200 Hz are
2.2M samples an axis in 3 hours) and their sensors resolve far less than float32's 7 digits.
A `Telemetry` groups the streams of one recording.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Base units of the metric names used by layouts (docs/layout-xml.md); pint strings.
BASE_UNITS = {
    "lat": "degree",
    "lon": "degree",
    "alt": "meter",
    "speed": "meter / second",
    "speed3d": "meter / second",
    "cspeed": "meter / second",
    "gps-dop": "dimensionless",
    "gps-lock": "dimensionless",
    "timestamp": "second",  # POSIX seconds, UTC
    "hr": "1 / minute",
    "cadence": "1 / minute",
    "power": "watt",
    "temp": "degC",
    "accl.x": "meter / second ** 2",
    "accl.y": "meter / second ** 2",
    "accl.z": "meter / second ** 2",
    "gyro.x": "radian / second",
    "gyro.y": "radian / second",
    "gyro.z": "radian / second",
    "magn.x": "tesla",
    "magn.y": "tesla",
    "magn.z": "tesla",
    "cori.roll": "degree",
    "cori.pitch": "degree",
    "cori.yaw": "degree",
    "gps-ok": "dimensionless",
    "gps-packet": "dimensionless",  # GoPro: GPMF payload of the fix, and the fix's place in it
    "gps-packet-index": "dimensionless",
    "respiration": "1 / minute",  # FIT: breaths per minute
    "gear.front": "dimensionless",  # FIT gear change events: gear numbers
    "gear.rear": "dimensionless",
    # derived metrics (overlay/telemetry/derived.py)
    "odo": "meter",
    "codo": "meter",
    "cog": "degree",
    "azi": "degree",
    "cgrad": "percent",
    "vspeed": "meter / second",
    "accel": "standard_gravity",  # in g
    "lean": "degree",
    # times (overlay.frametable): real seconds, or a 1-based lap number
    "elapsed": "second",
    "moving": "second",
    "lap": "dimensionless",
    "lap.time": "second",
    "lap.last": "second",
}


# Column prefixes (and whole names) of the IMU and orientation streams stored as float32.
FLOAT32_STREAMS = ("accl.", "gyro.", "grav.", "magn.", "cori.", "iori.")
FLOAT32_COLUMNS = frozenset({"accel", "lean"})


def column_dtype(name: str) -> type | None:
    """float32 for motion-sensor columns (FLOAT32_STREAMS), None (left as given) for the rest."""
    return np.float32 if name in FLOAT32_COLUMNS or name.startswith(FLOAT32_STREAMS) else None


@dataclass
class Timeseries:
    """Samples of one stream: `t` (seconds, video timeline) and equal-length columns."""

    t: np.ndarray
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=np.float64)
        self.columns = {name: col if column_dtype(name) is None else np.asarray(col, dtype=column_dtype(name))
                        for name, col in self.columns.items()}
        for name, col in self.columns.items():
            if len(col) != len(self.t):
                raise ValueError(f"column {name!r} has {len(col)} samples, time axis {len(self.t)}")

    def __len__(self) -> int:
        return len(self.t)

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def span(self) -> tuple[float, float]:
        if not len(self.t):
            return (float("nan"), float("nan"))
        return (float(self.t[0]), float(self.t[-1]))


@dataclass(frozen=True)
class StreamInfo:
    """What `overdash info` lists for one stream in the file, decoded or not."""

    fourcc: str  # 'ACCL', 'SHUT', ...
    name: str | None  # STNM, when decoded
    count: int  # samples in the file
    rate: float  # measured samples per second of video
    span: tuple[float, float]  # first and last sample time, video timeline
    decoded: bool  # False: listed only (no overdash stream for it)
    stream: str | None = None  # the Telemetry key it became ('gps', 'accl', ...)


@dataclass
class Telemetry:
    """All streams of one recording, keyed by stream group ('gps', 'accl', 'gyro', ...).

    `speedup` is real seconds per video second: 1 for normal video, e.g. 15 for a
    15x TimeWarp; derived rates (speed from positions) divide by real time.

    `start` is when the recording or activity began, and `laps` when each lap began
    (sorted, lap 1 first), both on the same clock as the streams' `t`: UTC for a
    file as read, the video timeline once aligned (overlay.telemetry.merge moves
    them with the streams). `start` None means t = 0 (a camera's first frame);
    no laps: an empty array. The frame table's elapsed and lap metrics use them.
    """

    streams: dict[str, Timeseries] = field(default_factory=dict)
    source: str = ""
    device: str | None = None
    firmware: str | None = None
    speedup: float = 1.0
    inventory: tuple[StreamInfo, ...] = ()
    notes: tuple[str, ...] = ()  # timing facts for `info` (how the clock was measured)
    start: float | None = None  # recording/activity start, same clock as `t`; None: t = 0
    laps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # lap start times, same clock as `t`
    # Laps timed on the track (overlay.telemetry.laps): sector line crossing times, and each line's ends
    # (n, 4: lat1, lon1, lat2, lon2; the start/finish line first) for maps. Empty otherwise.
    sectors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lap_lines: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))

    def __post_init__(self) -> None:
        self.laps = lap_starts(self.laps)

    def with_times(self, start: float | None, laps) -> "Telemetry":
        """This telemetry with `start` and `laps` set (in place; returns self), e.g. after add_derived
        rebuilt it without them."""
        self.start = None if start is None or not np.isfinite(start) else float(start)
        self.laps = lap_starts(laps)
        return self

    def __contains__(self, name: str) -> bool:
        return name in self.streams

    def __getitem__(self, name: str) -> Timeseries:
        return self.streams[name]


def lap_starts(values) -> np.ndarray:
    """Lap start times as a sorted float64 array without repeats or NaN."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return sorted_unique(v[np.isfinite(v)])


def sorted_unique(values) -> np.ndarray:
    """np.unique of a 1-D array without its first-call import of numpy.ma (~5 ms of start-up)."""
    v = np.sort(np.asarray(values).ravel())
    return v[np.concatenate(([True], v[1:] != v[:-1]))] if v.size else v


def median(values) -> float:
    """np.median's answer without its first-call import of numpy.ma (~15 ms of every render's start-up)."""
    a = np.asarray(values, dtype=float).ravel()
    if a.size == 0 or np.isnan(a).any():
        return float("nan")
    k = a.size // 2
    if a.size % 2:
        return float(np.partition(a, k)[k])
    part = np.partition(a, (k - 1, k))
    return float((part[k - 1] + part[k]) / 2)
