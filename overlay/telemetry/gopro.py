"""GoPro telemetry (GPMF) from an MP4/MOV or a raw GPMF dump, into the Telemetry model.

Times are on the video timeline: frame 0 of the video is t=0. In an MP4 each
GPMF payload's start and duration come from the sample table of its track,
shifted by both tracks' edit lists. Samples inside a payload are spread evenly
over the payload's duration (t_i = start + i * duration / n); this first cut
ignores the per-stream clock drift (TSMP regression, STMP) the spec describes.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from overdash import InputError
from overlay.telemetry.gpmf import Decoder, GPMFWarning, Payload, Stream, split_raw
from overlay.telemetry.mp4 import Movie, Track, read_mp4
from overlay.telemetry.timeseries import Telemetry, Timeseries

RAW_PAYLOAD_SECONDS = 1.001  # GoPro writes one payload per 1001 ms of video
GPS_EPOCH = 946684800.0  # 2000-01-01T00:00:00Z, day 0 of GPS9's day count
GENERIC_NAMES = {"Camera", "Global Settings", ""}  # DVNM values that name no model
MP4_SUFFIXES = {".mp4", ".mov", ".m4v", ".360"}
RAW_SUFFIXES = {".raw", ".gpmd", ".gpmf", ".bin"}
IMU_STREAMS = {"ACCL": "accl", "GYRO": "gyro"}
WANTED = {"GPS5", "GPS9", *IMU_STREAMS}  # streams decoded; the rest are walked over


@dataclass(frozen=True, eq=False)
class GPMFTrack:
    """Decoded payloads of one recording with their times on the video timeline."""

    payloads: tuple[Payload | None, ...]  # None: skipped (corrupt/truncated), already warned
    starts: np.ndarray  # seconds, per payload
    durations: np.ndarray  # seconds, per payload
    device: str | None  # camera model, if the file names one


def load_gopro(path: str | os.PathLike) -> Telemetry:
    """Read GPS ('gps') and IMU ('accl', 'gyro') streams of a GoPro MP4/MOV or raw GPMF file."""
    track = read_gpmf(path, only=WANTED)
    args = (track.payloads, track.starts, track.durations)
    streams: dict[str, Timeseries] = {}
    gps = _gps(*args)
    if gps is not None:
        streams["gps"] = gps
    for fourcc, name in IMU_STREAMS.items():
        imu = _imu(*args, fourcc, name)
        if imu is not None:
            streams[name] = imu
    return Telemetry(streams=streams, source=str(path), device=track.device)


def read_gpmf(path: str | os.PathLike, only: Iterable[str] | None = None) -> GPMFTrack:
    """Decode the GPMF payloads of an MP4/MOV or raw GPMF file (`only`: fourccs to decode).

    Raw files (.raw/.gpmd: concatenated payloads, e.g. `ffmpeg -map 0:3 -c copy
    -f rawvideo`) have no sample table: payload i is assumed to start at
    i * 1.001 s and last 1.001 s, unless every payload carries a device TICK
    (and TOCK), in milliseconds, which then give starts and durations.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    reader = _from_mp4 if _looks_like_mp4(path) else _from_raw
    payloads, starts, durations, device = reader(path, Decoder(only))
    return GPMFTrack(tuple(payloads), starts, durations, device or _device_name(payloads))


def _looks_like_mp4(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in MP4_SUFFIXES:
        return True
    if suffix in RAW_SUFFIXES:
        return False
    with open(path, "rb") as fh:
        head = fh.read(8)
    return head[:4] != b"DEVC"  # let the MP4 reader explain what the file is not


def _from_mp4(path: Path, decoder: Decoder) -> tuple[list[Payload | None], np.ndarray, np.ndarray, str | None]:
    movie = read_mp4(path)
    track = movie.find(handler="meta", fourcc="gpmd") or movie.find(fourcc="gpmd")
    if track is None:
        kinds = ", ".join(f"{t.handler}/{t.fourcc}" for t in movie.tracks) or "none"
        raise InputError(f"{path}: no GoPro telemetry (GPMF) track — tracks: {kinds}; "
                         "was GPS/telemetry off, or was the file re-encoded without the data track?")
    table = track.samples
    payloads: Sequence[Payload | None] = []
    with open(path, "rb") as fh:
        for i, (offset, size) in enumerate(zip(table.offsets.tolist(), table.sizes.tolist())):
            fh.seek(offset)
            data = fh.read(size)
            if len(data) < size:
                warnings.warn(f"GPMF payload {i}: truncated ({len(data)} of {size} bytes in file); skipped",
                              GPMFWarning, stacklevel=3)
                payloads.append(None)
                continue
            payloads.append(decoder.decode(data, i))
    starts = table.starts + _video_shift(movie, track)
    return payloads, starts, table.durations.copy(), _model_from_udta(movie)


def _video_shift(movie: Movie, track: Track) -> float:
    """Seconds to add to GPMF media times to land on the video timeline (frame 0 = 0)."""
    video = movie.video
    origin = video.presentation_start if video is not None else 0.0
    return track.movie_offset - origin


def _model_from_udta(movie: Movie) -> str | None:
    """Camera model from the GPMF in moov/udta (MINF, newer cameras), if any."""
    blob = movie.user_data.get("GPMF")
    if not blob:
        return None
    payload = Decoder().decode(blob, 0, label="udta box")
    for device in payload.devices if payload else ():
        minf = device.get("MINF")
        if isinstance(minf, str) and minf.strip():
            return minf.strip()
    return None


def _from_raw(path: Path, decoder: Decoder) -> tuple[list[Payload | None], np.ndarray, np.ndarray, str | None]:
    chunks = split_raw(path.read_bytes())
    if not chunks or not chunks[0].startswith(b"DEVC"):
        raise InputError(f"{path}: not a raw GPMF file (expected a 'DEVC' payload at byte 0)")
    payloads = [decoder.decode(chunk, i) for i, chunk in enumerate(chunks)]
    starts, durations = _raw_times(payloads)
    return payloads, starts, durations, None


def _raw_times(payloads: Sequence[Payload | None]) -> tuple[np.ndarray, np.ndarray]:
    """Payload starts/durations: 1.001 s slots, or the device TICK/TOCK (ms) when all have it."""
    n = len(payloads)
    starts = np.arange(n) * RAW_PAYLOAD_SECONDS
    durations = np.full(n, RAW_PAYLOAD_SECONDS)
    ticks = [_device_value(p, "TICK") for p in payloads]
    known = [(i, t) for i, t in enumerate(ticks) if t is not None]
    if not known or len(known) < sum(p is not None for p in payloads):
        return starts, durations
    i0, t0 = known[0]
    for i, tick in known:
        starts[i] = i0 * RAW_PAYLOAD_SECONDS + (tick - t0) / 1000.0
    for i, _ in known:
        tock = _device_value(payloads[i], "TOCK")
        if tock is not None and tock > (ticks[i] or 0):
            durations[i] = (tock - ticks[i]) / 1000.0
        elif i + 1 < n and ticks[i + 1] is not None:
            durations[i] = starts[i + 1] - starts[i]
    return starts, durations


def _device_value(payload: Payload | None, key: str) -> float | None:
    for device in payload.devices if payload else ():
        value = device.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    return None


def _device_name(payloads: Sequence[Payload | None]) -> str | None:
    """Camera model from the payloads: MINF, else a DVNM that names a model."""
    for key in ("MINF", "DVNM"):
        for payload in payloads:
            for device in payload.devices if payload else ():
                value = device.get(key)
                if isinstance(value, str) and value.strip() not in GENERIC_NAMES:
                    return value.strip()
    return None


def _sample_times(start: float, duration: float, n: int) -> np.ndarray:
    return start + np.arange(n) * (duration / n if n else 0.0)


def _gps(payloads: Sequence[Payload | None], starts: np.ndarray, durations: np.ndarray) -> Timeseries | None:
    """GPS9 where a payload has it (per-sample time, fix, DOP), else GPS5 + GPSU/GPSF/GPSP."""
    names = ("lat", "lon", "alt", "speed", "speed3d", "gps-lock", "gps-dop", "timestamp")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("t",) + names}
    found = False
    for payload, start, duration in zip(payloads, starts.tolist(), durations.tolist()):
        if payload is None:
            continue
        rows = _gps9(payload.find("GPS9")) or _gps5(payload.find("GPS5"), duration)
        if rows is None:
            continue
        found = True
        n = len(rows["lat"])
        parts["t"].append(_sample_times(start, duration, n))
        for name in names:
            parts[name].append(rows[name])
    if not found:
        return None
    t = np.concatenate(parts["t"])
    return Timeseries(t, {name: np.concatenate(parts[name]).astype(np.float64) for name in names})


def _gps9(stream: Stream | None) -> dict[str, np.ndarray] | None:
    """GPS9 fields: lat, lon, alt, 2D, 3D speed, days since 2000, seconds of day, DOP, fix."""
    if stream is None or stream.values.shape[1] < 9:
        return None
    v = stream.values
    stamp = np.where(v[:, 5] > 0, GPS_EPOCH + v[:, 5] * 86400.0 + v[:, 6], np.nan)  # day 0: no time yet
    return {"lat": v[:, 0], "lon": v[:, 1], "alt": v[:, 2], "speed": v[:, 3], "speed3d": v[:, 4],
            "timestamp": stamp, "gps-dop": v[:, 7], "gps-lock": v[:, 8]}


def _gps5(stream: Stream | None, duration: float) -> dict[str, np.ndarray] | None:
    """GPS5 with per-payload GPSF (fix), GPSP (DOP x100) and GPSU, taken as the first sample's
    UTC time. (HERO11 writes both: there GPSU is ~1.4 s later than GPS9's first sample.)"""
    if stream is None or stream.values.shape[1] < 5:
        return None
    v, meta = stream.values, stream.meta
    n = len(v)
    nan = np.full(n, np.nan)
    lock = nan if meta.gpsf is None else np.full(n, float(meta.gpsf))
    dop = nan if meta.gpsp is None else np.full(n, meta.gpsp / 100.0)
    stamp = nan if meta.gpsu is None else _sample_times(meta.gpsu, duration, n)  # GPSU = first sample
    return {"lat": v[:, 0], "lon": v[:, 1], "alt": v[:, 2], "speed": v[:, 3], "speed3d": v[:, 4],
            "gps-lock": lock, "gps-dop": dop, "timestamp": stamp}


def _axes(stream: Stream, name: str) -> dict[str, np.ndarray] | None:
    """x, y, z columns: ORIN names each stored column's axis, lowercase = negated (consistent
    with MTRX and ORIO in the sample files); without ORIN the file order is kept as x, y, z."""
    v = stream.values
    if v.shape[1] != 3:
        return None
    orin = stream.meta.orin
    if orin and len(orin) == 3 and sorted(orin.lower()) == ["x", "y", "z"]:
        return {f"{name}.{c.lower()}": (v[:, j] if c.isupper() else -v[:, j]) for j, c in enumerate(orin)}
    return {f"{name}.{axis}": v[:, j] for j, axis in enumerate("xyz")}


def _imu(payloads: Sequence[Payload | None], starts: np.ndarray, durations: np.ndarray, fourcc: str,
         name: str) -> Timeseries | None:
    times: list[np.ndarray] = []
    cols: dict[str, list[np.ndarray]] = {f"{name}.{a}": [] for a in "xyz"}
    for payload, start, duration in zip(payloads, starts.tolist(), durations.tolist()):
        stream = payload.find(fourcc) if payload is not None else None
        axes = _axes(stream, name) if stream is not None else None
        if axes is None:
            continue
        times.append(_sample_times(start, duration, len(stream)))
        for key, col in axes.items():
            cols[key].append(col)
    if not times:
        return None
    return Timeseries(np.concatenate(times), {k: np.concatenate(v) for k, v in cols.items()})
