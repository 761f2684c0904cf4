"""Put GPX/FIT telemetry (UTC time) on a video's timeline and merge it with the camera's.

Clock convention, used by align, merge, sync and the CLI alike:

    t_video = UTC - video_start_utc - offset

`offset` (seconds, `--offset`) is how far the file's clock runs ahead of the
video's: +2 means the file's sample stamped 10:00:02 belongs to the frame
filmed at 10:00:00 (video time 0 if the video started then). It shifts the
data either way in any mode; overlay.telemetry.sync.find_offset measures it.

`video_start_utc` is the UTC time of frame 0: from the camera's own GPS
(`camera_start_utc`), else the video's creation_time metadata, else `--start`.

A Telemetry's `start` and `laps` (same clock as its streams) move with them:
`align` shifts them like every `t`; `merge` keeps the file's when it has them
(a ride's start and laps are the rider's, from the bike computer), else the
camera's (start None: the video's first frame).
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from overdash import InputError
from overlay.telemetry.filedata import iso
from overlay.telemetry.timeseries import Telemetry, Timeseries, median

MODES = ("extend", "replace")
# Columns of a file's gps stream that `extend` never adds next to a camera GPS
# (they describe the file's receiver, or are recomputed per stream).
GPS_BOOKKEEPING = {"timestamp", "gps-lock", "gps-flags", "gps-ok", "gps-dop", "gps-accuracy"}
# What `replace` takes from the file: position, speed and everything derived from them.
POSITION_COLUMNS = {"lat", "lon", "alt", "speed", "odo", "codo", "cspeed", "azi", "cog", "cgrad", "vspeed",
                    "gps-lock", "gps-flags", "gps-ok", "gps-accuracy", "timestamp"}


def to_posix(when: float | datetime | str) -> float:
    """UTC POSIX seconds from a number, an aware datetime or an ISO 8601 string (naive = UTC)."""
    if isinstance(when, str):
        text = when.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            when = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InputError(f"start time {when!r}: expected ISO 8601, e.g. 2021-09-24T10:03:00Z") from exc
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return float(when)


def utc_span(tel: Telemetry) -> tuple[float, float]:
    """First and last UTC time over the streams' 'timestamp' columns (NaN if none)."""
    lo, hi = np.inf, -np.inf
    for series in tel.streams.values():
        if "timestamp" in series and len(series):
            ts = series["timestamp"][np.isfinite(series["timestamp"])]
            if len(ts):
                lo, hi = min(lo, float(ts.min())), max(hi, float(ts.max()))
    return (lo, hi) if lo <= hi else (float("nan"), float("nan"))


def time_span(tel: Telemetry) -> tuple[float, float]:
    """First and last `t` over all streams."""
    spans = [s.span for s in tel.streams.values() if len(s)]
    if not spans:
        return (float("nan"), float("nan"))
    return (min(a for a, _ in spans), max(b for _, b in spans))


def camera_start_utc(camera: Telemetry) -> float | None:
    """UTC of video time 0 from the camera's GPS times (median over trusted fixes), None without."""
    if "gps" not in camera or "timestamp" not in camera["gps"]:
        return None
    gps = camera["gps"]
    ok = np.isfinite(gps["timestamp"]) & np.isfinite(gps.t)
    if "gps-ok" in gps and np.asarray(gps["gps-ok"], bool)[ok].any():
        ok &= np.asarray(gps["gps-ok"], bool)
    if not ok.any():
        return None
    return median(gps["timestamp"][ok] - gps.t[ok] * camera.speedup)


def align(file_tel: Telemetry, video_start_utc: float | datetime | str, offset: float = 0.0,
          duration: float | None = None) -> Telemetry:
    """The file's streams moved onto the video timeline: t = UTC - video_start_utc - offset.

    With `duration` (seconds of video), a file that does not overlap [0, duration]
    raises InputError naming both time ranges.
    """
    start = to_posix(video_start_utc)
    shift = start + float(offset)
    streams = {name: Timeseries(s.t - shift, dict(s.columns)) for name, s in file_tel.streams.items()}
    out = Telemetry(streams=streams, source=file_tel.source, device=file_tel.device, speedup=1.0,
                    notes=file_tel.notes + (f"aligned: video start {iso(start)}, offset {offset:+.3f} s",),
                    start=None if file_tel.start is None else file_tel.start - shift, laps=file_tel.laps - shift)
    if duration is not None:
        check_overlap(out, 0.0, float(duration), shift, offset)
    return out


def check_overlap(file_tel: Telemetry, video_from: float, video_to: float, shift: float | None = None,
                  offset: float = 0.0) -> None:
    """InputError, on one line with both ranges in ISO 8601 UTC, unless the aligned file covers some of
    [video_from, video_to] (video timeline seconds). `shift`: UTC of video time 0 plus offset
    (measured from the file's timestamps if not given)."""
    lo, hi = time_span(file_tel)
    if np.isfinite(lo) and hi >= video_from and lo <= video_to:
        return
    measured = shift is None
    if measured:
        shift = _shift(file_tel)
    u0, u1 = utc_span(file_tel)
    name = file_tel.source or "telemetry file"
    if measured:
        video = f"video {iso(video_from + shift)} to {iso(video_to + shift)} (on the file's clock)"
    else:
        video = f"video {iso(video_from + shift - offset)} to {iso(video_to + shift - offset)}"
        if offset:
            video += (f" (offset {offset:+.3f} s: {iso(video_from + shift)} to {iso(video_to + shift)}"
                      " on the file's clock)")
    raise InputError(f"{name}: does not overlap the video — file {iso(u0)} to {iso(u1)}, {video}; "
                     "check the camera clock, --start or --offset")


def _shift(tel: Telemetry) -> float:
    for series in tel.streams.values():
        if "timestamp" in series:
            d = series["timestamp"] - series.t
            d = d[np.isfinite(d)]
            if len(d):
                return median(d)
    return float("nan")


def merge(camera_tel: Telemetry, file_tel: Telemetry, mode: str = "extend") -> Telemetry:
    """Camera telemetry plus an aligned file's (see `align`), on the video timeline.

    extend:  the camera's streams stay as they are; every file column the camera has
             in none of its streams (hr, cadence, power, temp, odo, dev.* ...) is added,
             in streams named 'file.<stream>'. A camera without GPS gets the file's
             whole 'gps' stream as 'gps' (position, speed, track, derived metrics).
    replace: position, altitude, speed and their derived metrics come from the file:
             its gps stream becomes 'gps' and the camera's is kept as 'camera.gps' (for
             what the file lacks: speed3d, gps-dop); the rest as in extend.

    The overlay's frame table takes each metric from the first stream that has it, so
    the order of the returned streams is the precedence. Raises InputError (both time
    ranges, ISO 8601 UTC) when the file does not overlap the camera's telemetry.
    """
    if mode not in MODES:
        raise InputError(f"--merge {mode!r}: expected one of {', '.join(MODES)}")
    if camera_tel.speedup != 1.0:
        raise InputError(f"{camera_tel.source}: a TimeWarp/time-lapse video ({camera_tel.speedup:g}x) cannot be "
                         "merged with a GPX/FIT file yet")
    cam_lo, cam_hi = time_span(camera_tel)
    if np.isfinite(cam_lo):
        check_overlap(file_tel, min(cam_lo, 0.0), cam_hi)
    streams: dict[str, Timeseries] = {}
    file_gps = file_tel.streams.get("gps")
    cam_has_gps = "gps" in camera_tel and "lat" in camera_tel["gps"]
    if file_gps is not None and (mode == "replace" or not cam_has_gps):
        if "speed" not in file_gps.columns and "cspeed" in file_gps.columns:
            # Most GPX files record no speed: the file's speed is the one its positions give,
            # or 'speed' would still come from the camera (camera.gps) and vanish where it ends.
            file_gps = Timeseries(file_gps.t, {**file_gps.columns, "speed": file_gps.columns["cspeed"]})
        streams["gps"] = file_gps
        for name, series in camera_tel.streams.items():
            streams["camera.gps" if name == "gps" else name] = series
    else:
        streams.update(camera_tel.streams)
    have = {c for s in streams.values() for c in s.columns}
    for name, series in file_tel.streams.items():
        if series is file_gps and streams.get("gps") is file_gps:
            continue
        skip = GPS_BOOKKEEPING if name == "gps" else {"timestamp"}
        extra = {k: v for k, v in series.columns.items() if k not in have and k not in skip}
        if extra:
            key = f"file.{name}"
            streams[key] = Timeseries(series.t, extra)
            have |= set(extra)
    merged = Telemetry(streams=streams, source=camera_tel.source, device=camera_tel.device,
                       firmware=camera_tel.firmware, speedup=camera_tel.speedup, inventory=camera_tel.inventory,
                       notes=camera_tel.notes + (f"merged ({mode}) with {file_tel.source}",),
                       start=camera_tel.start if file_tel.start is None else file_tel.start,
                       laps=file_tel.laps if len(file_tel.laps) else camera_tel.laps)
    return merged
