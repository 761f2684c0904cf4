"""Sample times of GPMF streams, the way the GPMF specification describes them.

A payload says only how many samples of a stream it holds; no per-sample time.
The specification's method: count the samples (TSMP, the total delivered
since the recording started, makes gaps from lost payloads visible), compare
the count with a trusted clock over the whole file and so measure the
stream's true rate (a nominal 200 Hz IMU runs at 201.9 Hz). Samples are then
evenly spaced at that rate across the file, not squeezed into each payload.

Two clocks can be compared with the count:

* the MP4 clock: payload k starts at `start_k` on the video timeline, and the
  first sample of payload k is sample number `before_k` of the stream. A
  least-squares line through (before_k, start_k) — plus the end of the last
  payload after its last sample — gives every sample's video time.
* the camera clock (STMP, microseconds, time of the payload's first sample):
  a line through (before_k, stmp_k) gives each sample's camera time; one
  linear map per device, fitted to (stmp_k, start_k) of all its timestamped
  streams pooled, takes camera time to video time. Pooling keeps the streams'
  relative timing as the camera measured it (GPS 20 ms after ACCL) instead of
  forcing each stream's first sample onto the payload start.

The map's slope is video seconds per real second: 1 for normal video, 1/15 for
a 15x TimeWarp or a 0.5 s timelapse played at 30 fps. So timelapse files need
no special case: samples land at the video time of the frame shot with them,
and `speedup` (its inverse) says how much real time one video second holds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REALTIME_TOLERANCE = 0.05  # |speedup - 1| below this is clock drift/jitter, not a timelapse


@dataclass(frozen=True, eq=False)
class Pieces:
    """One stream's parts, one row per payload holding it (payload order)."""

    payload: np.ndarray  # payload index
    counts: np.ndarray  # samples in that payload
    tsmp: np.ndarray  # TSMP (total samples after this payload), NaN when absent
    stmp: np.ndarray  # STMP in seconds (camera clock, first sample), NaN when absent

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def before(self) -> np.ndarray:
        """Stream sample number of each payload's first sample: from TSMP when every payload
        has a consistent one (lost payloads then leave a gap), else by counting."""
        counted = np.cumsum(self.counts) - self.counts
        if not len(self.tsmp) or not np.all(np.isfinite(self.tsmp)):
            return counted.astype(np.float64)
        before = self.tsmp - self.counts
        if np.any(before < 0) or np.any(np.diff(before) < self.counts[:-1]):
            return counted.astype(np.float64)  # TSMP reset or inconsistent: do not trust it
        return before - before[0]

    def has_stmp(self) -> bool:
        """STMP usable: present in every payload and increasing (two or more payloads)."""
        s = self.stmp
        return len(s) > 0 and bool(np.all(np.isfinite(s))) and bool(np.all(np.diff(s) > 0))


@dataclass(frozen=True)
class CameraMap:
    """Camera clock (s) to video time (s): video = offset + scale * camera."""

    offset: float
    scale: float = 1.0

    @property
    def speedup(self) -> float:
        """Real seconds per video second (1 normal, ~15 for a 15x TimeWarp); within
        REALTIME_TOLERANCE of 1 it is clock drift and reported as exactly 1."""
        return snap_speedup(1.0 / self.scale if self.scale > 0 else 1.0)


def snap_speedup(value: float) -> float:
    return 1.0 if not np.isfinite(value) or abs(value - 1.0) < REALTIME_TOLERANCE else float(value)


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Least-squares (intercept, slope) of y on x; None when x does not vary."""
    if len(x) < 2 or np.ptp(x) == 0:
        return None
    xm, ym = x.mean(), y.mean()
    slope = float(((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum())
    return float(ym - slope * xm), slope


def video_line(pieces: Pieces, starts: np.ndarray, durations: np.ndarray) -> tuple[float, float]:
    """(time of sample 0, seconds per sample) on the video clock, by regression over the file."""
    before = pieces.before()
    x = np.append(before, before[-1] + pieces.counts[-1])
    last = pieces.payload[-1]
    y = np.append(starts[pieces.payload], starts[last] + durations[last])
    fit = _line(x, y)
    if fit is None or fit[1] <= 0:  # degenerate: spread evenly over the payloads' time
        span = float(durations[pieces.payload].sum())
        return float(starts[pieces.payload[0]]), span / max(pieces.total, 1)
    return fit


def camera_map(streams: list[Pieces], starts: np.ndarray) -> CameraMap | None:
    """Fit the camera-to-video map on all timestamped streams of one device, pooled."""
    usable = [p for p in streams if p.has_stmp() and p.total]
    if not usable:
        return None
    cam = np.concatenate([p.stmp for p in usable])
    video = np.concatenate([starts[p.payload] for p in usable])
    fit = _line(cam, video) if max(len(p.stmp) for p in usable) > 1 else None
    if fit is None or fit[1] <= 0:  # one payload: no slope to measure, assume real time
        return CameraMap(offset=float(np.mean(video - cam)))
    return CameraMap(*fit)  # the slope is kept even near 1: it is the clocks' drift


def sample_times(pieces: Pieces, starts: np.ndarray, durations: np.ndarray,
                 cmap: CameraMap | None = None) -> np.ndarray:
    """Video time of every sample of the stream, in payload order (vectorised)."""
    before = pieces.before()
    first = np.cumsum(pieces.counts) - pieces.counts
    index = np.repeat(before, pieces.counts) + (np.arange(pieces.total) - np.repeat(first, pieces.counts))
    if cmap is not None and pieces.has_stmp():
        cam_fit = _line(before, pieces.stmp)
        if cam_fit is not None and cam_fit[1] > 0:
            t0, period = cam_fit
        else:  # one payload: camera time of its first sample, period from the video clock
            t0 = float(pieces.stmp[0])
            period = video_line(pieces, starts, durations)[1] / cmap.scale
        return cmap.offset + cmap.scale * (t0 + index * period)
    t0, period = video_line(pieces, starts, durations)
    return t0 + index * period
