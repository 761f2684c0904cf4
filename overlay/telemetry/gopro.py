"""GoPro telemetry (GPMF) from an MP4/MOV or a raw GPMF dump, into the Telemetry model.

Times are on the video timeline: frame 0 of the video is t=0. In an MP4 each
GPMF payload's start and duration come from the sample table of its track,
shifted by both tracks' edit lists; raw files (.raw/.gpmd) have no table and
take 1.001 s payload slots (or TICK/TOCK). Samples are then timed per stream
by overlay.telemetry.timing (measured rate over the file, STMP where present)
and built into streams by overlay.telemetry.streams.

HiLight tags (button presses, overlay.telemetry.hilights) become laps: lap 1
from the first frame, a new lap at each HiLight (`load_gopro`).
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from overdash import InputError
from overlay.telemetry.derived import add_derived
from overlay.telemetry.gpmf import Decoder, GPMFWarning, Payload, split_raw
from overlay.telemetry.hilights import hilight_laps, movie_hilights
from overlay.telemetry.mp4 import Movie, Track, read_mp4
from overlay.telemetry.quality import QualityLimits
from overlay.telemetry.streams import DECODED, Timing, assemble, counted_fourccs
from overlay.telemetry.timeseries import Telemetry, median

RAW_PAYLOAD_SECONDS = 1.001  # GoPro writes one payload per 1001 ms of video
GPS_EPOCH = 946684800.0  # 2000-01-01T00:00:00Z, day 0 of GPS9's day count
GENERIC_NAMES = {"Camera", "Global Settings", ""}  # DVNM values that name no model
MP4_SUFFIXES = {".mp4", ".mov", ".m4v", ".360"}
RAW_SUFFIXES = {".raw", ".gpmd", ".gpmf", ".bin"}


@dataclass(frozen=True, eq=False)
class GPMFTrack:
    """Decoded payloads of one recording with their times on the video timeline."""

    payloads: tuple[Payload | None, ...]  # None: skipped (corrupt/truncated), already warned
    starts: np.ndarray  # seconds, per payload
    durations: np.ndarray  # seconds, per payload
    device: str | None  # camera model, if the file names one
    firmware: str | None = None  # udta FIRM of an MP4, e.g. 'H19.03.01.30.00'
    video_duration: float | None = None  # seconds, video track (MP4 only)
    hilights: np.ndarray = field(default_factory=lambda: np.zeros(0))  # HiLight times, seconds (MP4 only)


def load_gopro(path: str | os.PathLike, limits: QualityLimits = QualityLimits(), altitude: str = "msl",
               values_of: frozenset[str] | None = None) -> Telemetry:
    """Every known stream of a GoPro MP4/MOV or raw GPMF file, timed, marked and with derived metrics;
    its HiLights as laps (lap 1 from the first frame, a new lap at each HiLight; none: no laps).
    `altitude`: "msl" (heights above mean sea level) or "ellipsoid" (GPS heights as recorded).
    `values_of`: the IMU streams to read values of (streams.streams_read), None: all; the others
    still time the camera clock, so every time is the same either way."""
    tel = add_derived(load_parts(path, limits, altitude, values_of)[0])
    return tel.with_times(tel.start, hilight_laps(tel.laps))


def load_parts(path: str | os.PathLike, limits: QualityLimits = QualityLimits(),
               altitude: str = "msl", values_of: frozenset[str] | None = None) -> tuple[Telemetry, float]:
    """Measured streams (no derived metrics) and the file's length in seconds of video — the
    video track's duration, or the payloads' total for a raw file — for joining chapters.

    The Telemetry's `laps` are the file's HiLight times, each the start of a new lap; the first
    lap (from frame 0 of the whole recording) is added once by load_gopro / load_gopro_chapters
    (overlay.telemetry.hilights.hilight_laps), so a chapter boundary never starts a lap."""
    counted = counted_fourccs(values_of)
    track = read_gpmf(path, only=DECODED, counted=counted)
    tel = assemble(track.payloads, Timing(track.starts, track.durations), source=str(path),
                   device=track.device, firmware=track.firmware, limits=limits, altitude=altitude, counted=counted)
    if len(track.hilights):
        tel.with_times(tel.start, track.hilights)
        shown = ", ".join(f"{t:.3f}" for t in track.hilights[:10]) + (", …" if len(track.hilights) > 10 else "")
        tel.notes = tel.notes + (f"{len(track.hilights)} HiLight tag(s) at {shown} s: each starts a lap",)
    duration = track.video_duration
    if duration is None:
        duration = float(track.starts[-1] + track.durations[-1]) if len(track.starts) else 0.0
    return tel, duration


def read_gpmf(path: str | os.PathLike, only: Iterable[str] | None = None, counted: Iterable[str] = ()) -> GPMFTrack:
    """Decode the GPMF payloads of an MP4/MOV or raw GPMF file (`only`: fourccs to decode;
    `counted`: of those, fourccs whose samples are counted but not decoded, see gpmf.Decoder).

    Raw files (.raw/.gpmd: concatenated payloads, e.g. `ffmpeg -map 0:3 -c copy
    -f rawvideo`) have no sample table: payload i is assumed to start at
    i * 1.001 s and last 1.001 s, unless every payload carries a device TICK
    (and TOCK), in milliseconds, or one stream's STMP (µs, camera clock) is in
    every payload: those then give starts and durations.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", GPMFWarning)
        track = _read_gpmf(path, only, counted)
    for w in said:  # each damaged payload, said naming its file (the decoder knows only the payload)
        if issubclass(w.category, GPMFWarning):
            warnings.warn(f"{path}: {w.message}", GPMFWarning, stacklevel=2)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return track


def _read_gpmf(path: Path, only: Iterable[str] | None, counted: Iterable[str]) -> GPMFTrack:
    if _looks_like_mp4(path):
        payloads, starts, durations, movie = _from_mp4(path, Decoder(only, counted))
        firmware = movie.user_data.get("FIRM", b"").split(b"\0")[0].decode("latin-1").strip() or None
        video = movie.video
        udta = _udta_gpmf(movie)
        return GPMFTrack(tuple(payloads), starts, durations, _model_from_udta(udta) or _device_name(payloads),
                         firmware, video.duration if video is not None else None, movie_hilights(movie, udta))
    payloads, starts, durations = _from_raw(path, Decoder(only, counted))
    return GPMFTrack(tuple(payloads), starts, durations, _device_name(payloads))


def _looks_like_mp4(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in MP4_SUFFIXES:
        return True
    if suffix in RAW_SUFFIXES:
        return False
    with open(path, "rb") as fh:
        head = fh.read(8)
    return head[:4] != b"DEVC"  # let the MP4 reader explain what the file is not


def _from_mp4(path: Path, decoder: Decoder) -> tuple[list[Payload | None], np.ndarray, np.ndarray, Movie]:
    movie = read_mp4(path)
    track = movie.find(handler="meta", fourcc="gpmd") or movie.find(fourcc="gpmd")
    if track is None:
        kinds = ", ".join(f"{t.handler}/{t.fourcc}" for t in movie.tracks) or "none"
        raise InputError(f"{path}: no GoPro telemetry (GPMF) track — tracks: {kinds}; "
                         "was GPS/telemetry off, or was the file re-encoded without the data track?")
    table = track.samples
    payloads: Sequence[Payload | None] = []
    with open(path, "rb") as fh:
        file_size = os.fstat(fh.fileno()).st_size
        for i, (offset, size) in enumerate(zip(table.offsets.tolist(), table.sizes.tolist())):
            fh.seek(offset)
            data = fh.read(max(0, min(size, file_size - offset)))  # a corrupt size must not allocate it
            if len(data) < size:
                warnings.warn(f"GPMF payload {i}: truncated ({len(data)} of {size} bytes in file); skipped",
                              GPMFWarning, stacklevel=3)
                payloads.append(None)
                continue
            payloads.append(decoder.decode(data, i))
    starts = table.starts + _video_shift(movie, track)
    return payloads, starts, table.durations.copy(), movie


def _video_shift(movie: Movie, track: Track) -> float:
    """Seconds to add to GPMF media times to land on the video timeline (frame 0 = 0)."""
    video = movie.video
    origin = video.presentation_start if video is not None else 0.0
    return track.movie_offset - origin


def _udta_gpmf(movie: Movie) -> Payload | None:
    """The GPMF in moov/udta (global settings, HiLights; newer cameras) decoded, if any."""
    blob = movie.user_data.get("GPMF")
    return Decoder().decode(blob, 0, label="udta box") if blob else None


def _model_from_udta(payload: Payload | None) -> str | None:
    """Camera model from the udta GPMF (MINF, newer cameras), if any."""
    for device in payload.devices if payload else ():
        minf = device.get("MINF")
        if isinstance(minf, str) and minf.strip():
            return minf.strip()
    return None


def _from_raw(path: Path, decoder: Decoder) -> tuple[list[Payload | None], np.ndarray, np.ndarray]:
    chunks = split_raw(path.read_bytes())
    if not chunks or not chunks[0].startswith(b"DEVC"):
        raise InputError(f"{path}: not a raw GPMF file (expected a 'DEVC' payload at byte 0)")
    payloads = []
    for i in range(len(chunks)):  # each payload's bytes are let go once decoded (a long track is tens of MB)
        payloads.append(decoder.decode(chunks[i], i))
        chunks[i] = b""
    starts, durations = _raw_times(payloads)
    return payloads, starts, durations


def _raw_times(payloads: Sequence[Payload | None]) -> tuple[np.ndarray, np.ndarray]:
    """Payload starts/durations: 1.001 s slots, or the device TICK/TOCK (ms) when all have it."""
    n = len(payloads)
    starts = np.arange(n) * RAW_PAYLOAD_SECONDS
    durations = np.full(n, RAW_PAYLOAD_SECONDS)
    ticks = [_device_value(p, "TICK") for p in payloads]
    known = [(i, t) for i, t in enumerate(ticks) if t is not None]
    if not known or len(known) < sum(p is not None for p in payloads):
        stamped = _stmp_times(payloads)
        return stamped if stamped is not None else (starts, durations)
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


def _stmp_times(payloads: Sequence[Payload | None]) -> tuple[np.ndarray, np.ndarray] | None:
    """Payload starts from the camera clock: the STMP (µs) of one stream present in every
    intact payload, increasing. Raw files have no sample table, and 1.001 s slots are
    wrong for cameras that write payloads at other intervals (HERO11: ~1.04 s)."""
    intact = [i for i, p in enumerate(payloads) if p is not None]
    if len(intact) < 2:
        return None
    for fourcc in ("ACCL", "GYRO", *(s.fourcc for s in payloads[intact[0]].streams)):
        found = [payloads[i].find(fourcc) for i in intact]
        stamps = [s.meta.stmp for s in found if s is not None and s.meta.stmp is not None]
        if len(stamps) == len(intact) and all(b > a for a, b in zip(stamps, stamps[1:])):
            break
    else:
        return None
    known = np.asarray(intact, dtype=float)
    secs = (np.asarray(stamps, dtype=float) - stamps[0]) / 1e6 + intact[0] * RAW_PAYLOAD_SECONDS
    step = median(np.diff(secs) / np.diff(known))
    starts = np.interp(np.arange(len(payloads)), known, secs, left=np.nan, right=np.nan)
    starts = np.where(np.isfinite(starts), starts, secs[0] + (np.arange(len(payloads)) - intact[0]) * step)
    durations = np.append(np.diff(starts), step)
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
