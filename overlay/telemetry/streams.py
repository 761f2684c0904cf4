"""Decoded GPMF payloads into the Telemetry model: one Timeseries per stream, exactly timed.

Every stream is timed by overlay.telemetry.timing (rate measured over the
whole file, camera timestamps where present). Columns are in SI base units
(see BASE_UNITS); axes follow ORIN where the camera writes it.

GPS: GPS9 is preferred where present — each sample carries its own UTC time,
fix and DOP. GPS5 gets fix and DOP from the payload's GPSF/GPSP, and UTC from
GPSU, which GoPro's maintainer describes as the time of the payload's first
GPS5 sample (gpmf-parser issue #46). On HERO11 (hero11.raw), where both exist,
the GPS5 and GPS9 rows are the same fixes, GPS9's first time minus STMP is
constant to +-5 ms, but GPSU is a constant 1.4 s later than GPS9's first
sample in every payload: there GPSU is not the first sample's time, and GPS9
is what we use. For GPS5-only cameras the per-payload GPSU values are fitted
with one line over the file (robust: median intercept), not stepped per
payload, because single GPSU values are known to jump by up to 2 s.

Altitude is height above mean sea level: samples of payloads whose stream lacks
GPSA "MSLV" are heights above the WGS84 ellipsoid and are corrected with the
EGM96 geoid (overlay.telemetry.geoid) unless `altitude="ellipsoid"` asks for them raw.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np

from overlay.telemetry.geoid import msl_heights
from overlay.telemetry.gpmf import GPMFWarning, Payload, Stream
from overlay.telemetry.quality import QualityLimits, mark_gps
from overlay.telemetry.timeseries import StreamInfo, Telemetry, Timeseries, column_dtype, median
from overlay.telemetry.timing import CameraMap, Pieces, camera_map, sample_times, snap_speedup

GPS_EPOCH = 946684800.0  # 2000-01-01T00:00:00Z, day 0 of GPS9's day count
VECTORS = {"ACCL": "accl", "GYRO": "gyro", "GRAV": "grav", "MAGN": "magn"}
QUATERNIONS = {"CORI": "cori", "IORI": "iori"}
DECODED = frozenset({"GPS5", "GPS9", *VECTORS, *QUATERNIONS})
# Metrics made from a camera stream's values besides its own columns ("accl.x", "cori.roll", ...):
# overlay.telemetry.derived, and what the event detector reads.
DERIVED_FROM = {"accl": ("accel", "event"), "gyro": ("event",), "grav": ("lean",), "cori": ("lean",)}
# Columns each fixed-layout stream must have; vectors may have 1 to 4 (_vector fills the rest with NaN).
COLUMNS = {"GPS5": 5, "GPS9": 9, "CORI": 4, "IORI": 4}
TO_TESLA = {"T": 1.0, "mT": 1e-3, "µT": 1e-6, "uT": 1e-6, "nT": 1e-9}


@dataclass(frozen=True)
class Timing:
    """Per-payload times of the recording: start and duration on the video timeline."""

    starts: np.ndarray
    durations: np.ndarray


@dataclass
class _Collected:
    """One stream's decoded parts across payloads (before timing)."""

    parts: list[tuple[int, Stream]] = field(default_factory=list)

    def pieces(self) -> Pieces:
        idx = np.array([k for k, _ in self.parts], dtype=np.int64)
        counts = np.array([s.values.shape[0] for _, s in self.parts], dtype=np.int64)
        tsmp = np.array([np.nan if s.meta.tsmp is None else s.meta.tsmp for _, s in self.parts], dtype=float)
        stmp = np.array([np.nan if s.meta.stmp is None else s.meta.stmp / 1e6 for _, s in self.parts], dtype=float)
        return Pieces(idx, counts, tsmp, stmp)

    def values(self) -> np.ndarray:
        return np.concatenate([s.values for _, s in self.parts])


def counted_fourccs(values_of: frozenset[str] | None) -> frozenset[str]:
    """IMU fourccs to count rather than decode when only the streams `values_of` (Telemetry
    names: "accl", "cori", ...) are read; None reads all. GPS is always decoded."""
    if values_of is None:
        return frozenset()
    return frozenset(f for f, name in {**VECTORS, **QUATERNIONS}.items() if name not in values_of)


def streams_read(metrics) -> frozenset[str]:
    """Camera IMU streams (Telemetry names) whose values the metric names `metrics` read: a stream's
    own columns ("grav.x" reads grav) and the metrics derived from it (DERIVED_FROM)."""
    metrics = frozenset(metrics)
    out = set()
    for name in {*VECTORS.values(), *QUATERNIONS.values()}:
        derived = DERIVED_FROM.get(name, ())
        if any(m.startswith(f"{name}.") or m.split(".")[0] in derived for m in metrics):
            out.add(name)
    return frozenset(out)


def assemble(payloads: Sequence[Payload | None], timing: Timing, source: str = "", device: str | None = None,
             firmware: str | None = None, limits: QualityLimits = QualityLimits(),
             altitude: str = "msl", counted: frozenset[str] = frozenset()) -> Telemetry:
    """Build every known stream, the inventory of all streams, and the timelapse factor.

    `altitude`: "msl" corrects heights above the ellipsoid to mean sea level, "ellipsoid" keeps them.
    `counted`: fourccs decoded for timing only (gpmf.Decoder): they time the camera clock and are
    listed in the inventory, but become no Timeseries."""
    collected, skipped = _collect(payloads, counted)
    pieces = {key: p for key, p in ((key, c.pieces()) for key, c in collected.items()) if p.total}
    cmap = camera_map(list(pieces.values()), timing.starts)
    def timed(key: str) -> np.ndarray:
        return sample_times(pieces[key], timing.starts, timing.durations, cmap)

    times = {key: timed(key) for key in pieces if key not in counted}  # counted: timed one by one, for the inventory
    streams: dict[str, Timeseries] = {}
    notes = [_clock_note(cmap, pieces)]
    gps_key = "GPS9" if "GPS9" in pieces else "GPS5" if "GPS5" in pieces else None
    speedup = cmap.speedup if cmap is not None else 1.0
    if gps_key is not None:
        if cmap is None:
            speedup = _gps_speedup(collected[gps_key], gps_key, times[gps_key], pieces[gps_key])
        gps = _gps9(collected["GPS9"]) if gps_key == "GPS9" else _gps5(collected["GPS5"], times["GPS5"], speedup)
        gps["alt"], note = msl_heights(gps["lat"], gps["lon"], gps["alt"], _ellipsoidal(collected[gps_key]), altitude)
        notes.append(note)
        gps.update(_packets(collected[gps_key]))
        streams["gps"] = mark_gps(Timeseries(times[gps_key], gps), limits, speedup)
    for fourcc, name in VECTORS.items():
        if fourcc in pieces and fourcc not in counted:
            streams[name] = Timeseries(times[fourcc], _vector(collected[fourcc], name))
    for fourcc, name in QUATERNIONS.items():
        if fourcc in pieces and fourcc not in counted:
            streams[name] = Timeseries(times[fourcc], _quaternion(collected[fourcc].values(), name, fourcc == "CORI"))
    temp = _temperature(collected, timing)
    if temp is not None:
        streams["temp"] = temp
    if speedup != 1.0:
        notes.append(f"timelapse/TimeWarp: {speedup:.2f} real seconds per video second")
    inventory = _inventory(collected, skipped, lambda key: times[key] if key in times else timed(key), timing, gps_key)
    return Telemetry(streams=streams, source=source, device=device, firmware=firmware, speedup=speedup,
                     inventory=inventory, notes=tuple(notes))


def _collect(payloads: Sequence[Payload | None], counted: frozenset[str] = frozenset()
             ) -> tuple[dict[str, _Collected], dict[str, list[tuple[int, int]]]]:
    """Streams by fourcc (first device to write a fourcc wins) and the skipped ones' counts.
    `counted` fourccs carry no columns (only their rows are counted), so their width is not checked."""
    collected: dict[str, _Collected] = {}
    owner: dict[str, object] = {}
    skipped: dict[str, list[tuple[int, int]]] = {}
    for k, payload in enumerate(payloads):
        if payload is None:
            continue
        for stream in payload.streams:
            fourcc = stream.fourcc
            if owner.setdefault(fourcc, stream.device_id) != stream.device_id:
                continue  # same fourcc from a second device (a connected sensor): not mixed in
            coll = collected.get(fourcc)
            width = stream.values.shape[1] if stream.values.ndim == 2 else 0
            need = COLUMNS.get(fourcc, 1) if coll is None or fourcc in VECTORS else coll.parts[0][1].values.shape[1]
            if fourcc not in counted and (width < need or (fourcc in COLUMNS and coll is not None
                                                           and width != need)):
                warnings.warn(f"GPMF payload {k}: {fourcc} has {width} columns, expected {need}; skipped",
                              GPMFWarning, stacklevel=3)
                continue
            if coll is None:
                coll = collected[fourcc] = _Collected()
            coll.parts.append((k, stream))
        for fourcc, count in payload.skipped:
            rows = skipped.get(fourcc)
            if rows is None:
                rows = skipped[fourcc] = []
            rows.append((k, count))
    return collected, skipped


def _clock_note(cmap: CameraMap | None, pieces: dict[str, Pieces]) -> str:
    if cmap is not None:
        return (f"timing: camera timestamps (STMP) mapped to the video clock "
                f"(x{cmap.scale:.6f}, offset {cmap.offset:+.3f} s); rates measured over the whole file")
    how = "TSMP sample counts" if any(np.all(np.isfinite(p.tsmp)) for p in pieces.values()) else "sample counts"
    return f"timing: {how} regressed against payload times over the whole file"


def _gps_speedup(coll: _Collected, key: str, t: np.ndarray, pieces: Pieces) -> float:
    """Real seconds per video second from GPS time when there is no camera clock."""
    if key == "GPS9":
        utc = _gps9(coll)["timestamp"]
        ok = np.isfinite(utc)
        x, y = t[ok], utc[ok]
    else:
        first = np.cumsum(pieces.counts) - pieces.counts
        gpsu = np.array([np.nan if s.meta.gpsu is None else s.meta.gpsu for _, s in coll.parts])
        ok = np.isfinite(gpsu)
        x, y = t[first][ok], gpsu[ok]
    if len(x) < 2 or np.ptp(x) < 2.0:
        return 1.0
    slope = np.polyfit(x, y, 1)[0]
    return snap_speedup(float(slope)) if slope > 0 else 1.0


def _ellipsoidal(coll: _Collected) -> np.ndarray:
    """Per sample: does its payload's stream give heights above the ellipsoid (no GPSA "MSLV")?"""
    return np.repeat([s.meta.gpsa != "MSLV" for _, s in coll.parts], [len(s) for _, s in coll.parts])


def _packets(coll: _Collected) -> dict[str, np.ndarray]:
    """gps-packet (the payload each fix came in, from 0) and gps-packet-index (its place in that payload)."""
    counts = np.array([len(s) for _, s in coll.parts], dtype=np.int64)
    packet = np.repeat(np.array([k for k, _ in coll.parts], dtype=np.float64), counts)
    index = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return {"gps-packet": packet, "gps-packet-index": index.astype(np.float64)}


def _gps9(coll: _Collected) -> dict[str, np.ndarray]:
    """GPS9 fields: lat, lon, alt, 2D, 3D speed, days since 2000, seconds of day, DOP, fix."""
    v = coll.values()
    stamp = np.where(v[:, 5] > 0, GPS_EPOCH + v[:, 5] * 86400.0 + v[:, 6], np.nan)  # day 0: no time yet
    return {"lat": v[:, 0], "lon": v[:, 1], "alt": v[:, 2], "speed": v[:, 3], "speed3d": v[:, 4],
            "gps-lock": v[:, 8], "gps-dop": v[:, 7], "timestamp": stamp}


def _gps5(coll: _Collected, t: np.ndarray, speedup: float) -> dict[str, np.ndarray]:
    """GPS5 with per-payload GPSF (fix), GPSP (DOP x100) and a UTC line fitted to GPSU."""
    v = coll.values()
    counts = [len(s) for _, s in coll.parts]
    lock = np.repeat([np.nan if s.meta.gpsf is None else s.meta.gpsf for _, s in coll.parts], counts)
    dop = np.repeat([np.nan if s.meta.gpsp is None else s.meta.gpsp / 100.0 for _, s in coll.parts], counts)
    first = np.cumsum(counts) - counts
    gpsu = np.array([np.nan if s.meta.gpsu is None else s.meta.gpsu for _, s in coll.parts])
    ok = np.isfinite(gpsu) & (np.asarray(counts) > 0)
    stamp = np.full(len(v), np.nan)
    if ok.any():
        intercept = median(gpsu[ok] - speedup * t[first[ok]])
        stamp = intercept + speedup * t
    return {"lat": v[:, 0], "lon": v[:, 1], "alt": v[:, 2], "speed": v[:, 3], "speed3d": v[:, 4],
            "gps-lock": lock.astype(float), "gps-dop": dop.astype(float), "timestamp": stamp}


def _vector(coll: _Collected, name: str) -> dict[str, np.ndarray]:
    """x, y, z in SI. ORIN names each stored column's axis, lowercase = negated (consistent
    with MTRX and ORIO in the sample files); without ORIN the file order is kept. Extra
    columns (MAX's MAGN has a 4th) are dropped; magnetometer µT/mT become tesla.

    Each payload's rows are written into the final columns (in their stored dtype, see
    timeseries.column_dtype) one part at a time: a 3-hour ACCL is 2.2M rows, and building it
    through whole-stream temporaries would hold several float64 copies at once."""
    total = sum(len(stream.values) for _, stream in coll.parts)
    out = {f"{name}.{a}": np.full(total, np.nan, dtype=column_dtype(f"{name}.{a}") or np.float64) for a in "xyz"}
    row = 0
    for _, stream in coll.parts:
        units, v = stream.meta.units, stream.values
        factor = TO_TESLA.get(units[0], 1.0) if name == "magn" and units else 1.0
        axes = _axes(stream.meta.orin)
        n, width = v.shape[0], v.shape[1]
        pairs = axes if axes is not None else tuple((a, False) for a in "xyz")
        for j, (axis, negate) in enumerate(pairs):
            if j < width:  # (ORIN may name more axes than the stream has columns: those stay NaN)
                out[f"{name}.{axis}"][row:row + n] = factor * (-v[:, j] if negate else v[:, j])
        row += n
    return out


@lru_cache(maxsize=64)
def _axes(orin: str | None) -> tuple[tuple[str, bool], ...] | None:
    """ORIN as (axis, negated) per stored column, or None when it does not name x, y and z."""
    if orin and len(orin) == 3 and sorted(orin.lower()) == ["x", "y", "z"]:
        return tuple((c.lower(), not c.isupper()) for c in orin)
    return None


def _quaternion(v: np.ndarray, name: str, euler: bool) -> dict[str, np.ndarray]:
    """w, x, y, z (as stored, scaled) and, for CORI, roll/pitch/yaw in degrees: the Z-Y-X
    (yaw, pitch, roll) Tait-Bryan angles of the quaternion in the camera's axes."""
    w, x, y, z = (v[:, j] for j in range(4))
    cols = {f"{name}.w": w, f"{name}.x": x, f"{name}.y": y, f"{name}.z": z}
    if euler:
        cols[f"{name}.roll"] = np.degrees(np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)))
        cols[f"{name}.pitch"] = np.degrees(np.arcsin(np.clip(2 * (w * y - z * x), -1.0, 1.0)))
        cols[f"{name}.yaw"] = np.degrees(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    return cols


def _temperature(collected: dict[str, _Collected], timing: Timing) -> Timeseries | None:
    """Camera temperature (TMPC of the IMU streams, once per payload) at each payload's middle."""
    for fourcc in ("ACCL", "GYRO"):
        if fourcc not in collected:
            continue
        rows = [(k, s.meta.tmpc) for k, s in collected[fourcc].parts if s.meta.tmpc is not None]
        if rows:
            idx = np.array([k for k, _ in rows])
            t = timing.starts[idx] + timing.durations[idx] / 2
            return Timeseries(t, {"temp": np.array([c for _, c in rows], dtype=float)})
    return None


def _inventory(collected: dict[str, _Collected], skipped: dict[str, list[tuple[int, int]]],
               times, timing: Timing, gps_key: str | None) -> tuple[StreamInfo, ...]:
    """`times(fourcc)`: the sample times of a collected stream."""
    out = []
    names = {**VECTORS, **QUATERNIONS, **({gps_key: "gps"} if gps_key else {})}
    for fourcc, coll in collected.items():
        t = times(fourcc) if coll.pieces().total else np.zeros(0)
        span = (float(t[0]), float(t[-1])) if len(t) else (float("nan"), float("nan"))
        rate = (len(t) - 1) / (span[1] - span[0]) if len(t) > 1 and span[1] > span[0] else float("nan")
        out.append(StreamInfo(fourcc, coll.parts[0][1].meta.name, len(t), rate, span, True, names.get(fourcc)))
    for fourcc, rows in skipped.items():
        idx = np.array([k for k, _ in rows])
        count = sum(n for _, n in rows)
        start, end = float(timing.starts[idx[0]]), float(timing.starts[idx[-1]] + timing.durations[idx[-1]])
        covered = float(timing.durations[idx].sum())
        out.append(StreamInfo(fourcc, None, count, count / covered if covered > 0 else float("nan"),
                              (start, end), False))
    return tuple(out)
