"""GPMF writer: Telemetry into GoPro-style KLV payloads, the inverse of overlay.telemetry.gpmf.

Why write GPMF at all: a fresh clone has no GoPro file, and `overdash demo`
must exercise the same reading path a real camera file does (KLV walking,
SCAL, TSMP/STMP timing, GPSU/GPSF/GPSP), not a shortcut around it.

The layout follows the format description in gopro/gpmf-parser's README and
what the cameras write (hero5/7/9 sample files): every item is a 4-char key,
a type char, a struct size (1 byte), a big-endian repeat count (2 bytes) and
its data padded to 32 bits; type 0 nests items (DEVC > STRM). Containers get
struct size 1 and repeat = length, as the cameras write them (struct size 4
past 65535 bytes, which readers multiply out the same way). In a STRM the
properties (STMP, TSMP, STNM, units, SCAL, GPSU/GPSF/GPSP/GPSA, ...) come first
and the data item last.

Altitudes are written as given and labelled GPSA "MSLV" (mean sea level, as
HERO9 and later write), so a reader takes them as they are; `gpsa=None` leaves
the label out, as HERO5-7 and MAX do, and a reader then takes them as heights
above the WGS84 ellipsoid (and corrects them with the geoid).

Samples are put on the payload grid, N per 1.001 s payload: sample j of
payload k is at (k + j/N) * 1.001 s. A reader that counts samples against
payload times (TSMP, or STMP in microseconds, also written) then recovers
every sample's time exactly, so what is read back can be compared value for
value with what was written (`grid`, `gps5_rows`).
"""
from __future__ import annotations

import math
import struct
import time
from typing import Iterable, Sequence

import numpy as np

from overlay.telemetry.timeseries import Telemetry, Timeseries

PAYLOAD_SECONDS = 1.001  # GoPro writes one payload per 1001 ms of video
GPS5_COLUMNS = ("lat", "lon", "alt", "speed", "speed3d")
GPS5_SCALE = (10_000_000, 10_000_000, 1000, 1000, 100)  # degrees 1e-7, m and m/s 1e-3, 3D m/s 1e-2
GPS5_UNITS = ("deg", "deg", "m", "m/s", "m/s")
GPS5_NAME = "GPS (Lat., Long., Alt., 2D speed, 3D speed)"
# IMU streams: fourcc -> (Telemetry stream, column prefix, STNM, SIUN, SCAL counts per unit).
# The scales are HERO7's: int16 then spans +-78 m/s^2 and +-35 rad/s.
IMU = {"ACCL": ("accl", "Accelerometer", "m/s\xb2", 418),
       "GYRO": ("gyro", "Gyroscope", "rad/s", 939)}
# Numeric type chars and their big-endian dtypes (as the reader decodes them); q/Q are fixed point.
NUMERIC = {"b": ">i1", "B": ">u1", "s": ">i2", "S": ">u2", "l": ">i4", "L": ">u4", "j": ">i8",
           "J": ">u8", "f": ">f4", "d": ">f8", "q": ">i4", "Q": ">i8"}
FIXED_POINT = {"q": 2.0 ** 16, "Q": 2.0 ** 32}
MAX_STRUCT, MAX_REPEAT = 255, 65535


class GPMFEncodeError(ValueError):
    """What was asked cannot be written as GPMF (bad key or type, values out of range, no GPS)."""


# ------------------------------------------------------------------ KLV items

def _check_key(key: str) -> bytes:
    raw = key.encode("latin-1", "replace") if isinstance(key, str) else b""
    if len(raw) != 4 or not all(0x20 <= b <= 0x7E for b in raw):
        raise GPMFEncodeError(f"GPMF key {key!r}: must be 4 printable ASCII characters")
    return raw


def _item(key: str, type_char: str, size: int, repeat: int, data: bytes) -> bytes:
    if not 0 <= size <= MAX_STRUCT:
        raise GPMFEncodeError(f"{key}: struct size {size} does not fit in one byte (at most {MAX_STRUCT})")
    if not 0 <= repeat <= MAX_REPEAT:
        raise GPMFEncodeError(f"{key}: {repeat} samples in one item; at most {MAX_REPEAT}")
    header = _check_key(key) + struct.pack(">cBH", type_char.encode("latin-1"), size, repeat)
    return header + data + b"\0" * (-len(data) % 4)


def klv(key: str, type_char: str, values) -> bytes:
    """One KLV item of numbers (type b/B/s/S/l/L/j/J/f/d/q/Q), text (c), a GPMF date (U) or fourccs (F).

    Numbers: a scalar (repeat 1), a 1-D sequence (one struct of that many values) or a
    2-D array (one struct per row). Integers must already be whole and in range:
    nothing is clipped or wrapped silently. Text: one string (struct size 1,
    repeat = length) or a sequence of strings (struct size = longest, padded with NULs).
    """
    if type_char in NUMERIC:
        return _numeric(key, type_char, values)
    if type_char == "c":
        if isinstance(values, str):
            data = _latin1(key, values)
            return _item(key, "c", 1, len(data), data)
        texts = [_latin1(key, v) for v in values]
        width = max((len(t) for t in texts), default=0)
        return _item(key, "c", width, len(texts), b"".join(t.ljust(width, b"\0") for t in texts))
    if type_char == "U":
        data = _latin1(key, values)
        if not isinstance(values, str) or len(data) != 16:
            raise GPMFEncodeError(f"{key}: a 'U' date is 16 characters yymmddhhmmss.sss, not {values!r}")
        return _item(key, "U", 16, 1, data)
    if type_char == "F":
        codes = [values] if isinstance(values, str) else list(values)
        return _item(key, "F", 4, len(codes), b"".join(_check_key(c) for c in codes))
    raise GPMFEncodeError(f"{key}: type {type_char!r} cannot be written (numeric {''.join(NUMERIC)}, c, U or F)")


def _latin1(key: str, text) -> bytes:
    if not isinstance(text, str):
        raise GPMFEncodeError(f"{key}: text expected, not {type(text).__name__}")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise GPMFEncodeError(f"{key}: {text!r} is not Latin-1 text") from None


def _numeric(key: str, type_char: str, values) -> bytes:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise GPMFEncodeError(f"{key}: values for type {type_char!r} are not numbers") from None
    if arr.ndim > 2:
        raise GPMFEncodeError(f"{key}: values must be a scalar, one struct or rows of structs, not {arr.ndim}-D")
    rows = arr.reshape(1, -1) if arr.ndim < 2 else arr
    dtype = np.dtype(NUMERIC[type_char])
    if type_char in FIXED_POINT:
        rows = np.round(rows * FIXED_POINT[type_char])
    if dtype.kind in "iu":
        if not np.all(np.isfinite(rows)):
            raise GPMFEncodeError(f"{key}: NaN or infinite values cannot be written as type {type_char!r}")
        info = np.iinfo(dtype)
        if rows.size and (rows.min() < info.min or rows.max() > info.max):
            raise GPMFEncodeError(f"{key}: values {rows.min():g}..{rows.max():g} do not fit type "
                                  f"{type_char!r} ({info.min}..{info.max}); a smaller SCAL?")
        if np.any(rows != np.round(rows)):
            raise GPMFEncodeError(f"{key}: type {type_char!r} holds whole numbers; scale and round first")
    data = rows.astype(dtype).tobytes()
    return _item(key, type_char, rows.shape[1] * dtype.itemsize, rows.shape[0], data)


def nest(key: str, children: Iterable[bytes]) -> bytes:
    """A container (type 0) of already encoded items: DEVC, STRM."""
    data = b"".join(children)
    if len(data) <= MAX_REPEAT:
        return _item(key, "\0", 1, len(data), data)
    return _item(key, "\0", 4, len(data) // 4, data)  # items are 32-bit aligned: len % 4 == 0


def gpsu_text(posix: float) -> str:
    """GPSU's 'yymmddhhmmss.sss' (UTC) of POSIX seconds, rounded to the millisecond."""
    if not math.isfinite(posix):
        raise GPMFEncodeError(f"GPSU: time {posix} is not a number")
    ms = round(posix * 1000)
    tm = time.gmtime(ms // 1000)
    if not 2000 <= tm.tm_year <= 2099:
        raise GPMFEncodeError(f"GPSU: year {tm.tm_year} cannot be written (two digits, 2000-2099)")
    return time.strftime("%y%m%d%H%M%S", tm) + f".{ms % 1000:03d}"


# ------------------------------------------------------------------ streams and payloads

def gps5_stream(rows: np.ndarray, *, tsmp: int, stmp_us: int | None, utc: float | None,
                fix: int = 3, dop: float = 1.0, gpsa: str | None = "MSLV") -> bytes:
    """A GPS5 STRM: rows of (lat, lon, alt, 2D speed, 3D speed) in degrees, m and m/s.

    GPSU is the UTC time of the first sample, GPSF the fix (0, 2 or 3), GPSP the DOP x100,
    GPSA what the altitude is measured from ("MSLV": mean sea level; None: not written)."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 5:
        raise GPMFEncodeError(f"GPS5: rows of 5 values expected, got shape {rows.shape}")
    if fix not in (0, 2, 3):
        raise GPMFEncodeError(f"GPSF: fix {fix} must be 0 (none), 2 (2D) or 3 (3D)")
    props = [klv("STMP", "J", stmp_us)] if stmp_us is not None else []
    props += [klv("TSMP", "L", tsmp), klv("STNM", "c", GPS5_NAME)]
    if utc is not None:
        props.append(klv("GPSU", "U", gpsu_text(utc)))
    props += [klv("GPSF", "L", fix), klv("GPSP", "S", round(dop * 100))]
    if gpsa is not None:
        props.append(klv("GPSA", "F", gpsa))
    props += [klv("UNIT", "c", GPS5_UNITS), klv("SCAL", "l", GPS5_SCALE)]
    return nest("STRM", [*props, klv("GPS5", "l", np.round(rows * GPS5_SCALE))])


def imu_stream(fourcc: str, rows: np.ndarray, *, tsmp: int, stmp_us: int | None,
               tmpc: float | None = None) -> bytes:
    """An ACCL or GYRO STRM: rows of x, y, z in m/s^2 or rad/s, as int16 over SCAL, ORIN 'XYZ'."""
    if fourcc not in IMU:
        raise GPMFEncodeError(f"{fourcc}: not an IMU stream this writer knows ({', '.join(IMU)})")
    _, name, unit, scale = IMU[fourcc]
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 3:
        raise GPMFEncodeError(f"{fourcc}: rows of x, y, z expected, got shape {rows.shape}")
    props = [klv("STMP", "J", stmp_us)] if stmp_us is not None else []
    props += [klv("TSMP", "L", tsmp), klv("STNM", "c", name), klv("ORIN", "c", "XYZ"),
              klv("SIUN", "c", unit), klv("SCAL", "s", scale)]
    if tmpc is not None:
        props.append(klv("TMPC", "f", tmpc))
    return nest("STRM", [*props, klv(fourcc, "s", np.round(rows * scale))])


def payload(streams: Sequence[bytes], device_id: int = 1, device_name: str = "overdash demo") -> bytes:
    """One payload: a DEVC with the device's id and name, then its streams."""
    return nest("DEVC", [klv("DVID", "L", device_id), klv("DVNM", "c", device_name), *streams])


# ------------------------------------------------------------------ from Telemetry

def grid(payloads: int, per_payload: int) -> np.ndarray:
    """(payloads, per_payload) sample times: sample j of payload k at (k + j / per_payload) * 1.001 s."""
    k = np.arange(payloads, dtype=np.float64)[:, None]
    j = np.arange(per_payload, dtype=np.float64)[None, :]
    return (k + j / per_payload) * PAYLOAD_SECONDS


def payload_count(seconds: float) -> int:
    """Payloads covering `seconds` of video (the last one may run past its end, as on a camera)."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise GPMFEncodeError(f"{seconds} s of telemetry: must be a positive number of seconds")
    return max(1, math.ceil(seconds / PAYLOAD_SECONDS - 1e-9))


def _at(ts: Timeseries, columns: Sequence[str], t: np.ndarray, what: str) -> np.ndarray:
    """Columns of `ts` linearly interpolated at `t` (held at the ends): (len(t), len(columns))."""
    if len(ts) == 0:
        raise GPMFEncodeError(f"{what}: the stream has no samples")
    if len(ts) > 1 and np.any(np.diff(ts.t) <= 0):
        raise GPMFEncodeError(f"{what}: sample times must increase")
    missing = [c for c in columns if c not in ts]
    if missing:
        raise GPMFEncodeError(f"{what}: stream lacks {', '.join(missing)}")
    out = np.empty((len(t), len(columns)))
    for i, name in enumerate(columns):
        col = np.asarray(ts[name], dtype=np.float64)
        if not np.all(np.isfinite(col)):
            raise GPMFEncodeError(f"{what}: column {name!r} has NaN or infinite values")
        out[:, i] = np.interp(t, ts.t, col)
    return out


def gps5_rows(tel: Telemetry, payloads: int, per_payload: int) -> np.ndarray:
    """(payloads, per_payload, 5) GPS5 values at the grid's times, before scaling."""
    gps = tel.streams.get("gps")
    if gps is None:
        raise GPMFEncodeError("telemetry has no 'gps' stream: GPS5 needs lat, lon, alt and speed")
    missing = [c for c in GPS5_COLUMNS[:4] if c not in gps]
    if missing:
        raise GPMFEncodeError(f"gps stream lacks {', '.join(missing)}")
    columns = [c if c in gps else "speed" for c in GPS5_COLUMNS]  # no 3D speed: the 2D one
    return _at(gps, columns, grid(payloads, per_payload).ravel(), "gps").reshape(payloads, per_payload, 5)


def _first(ts: Timeseries | None, name: str, t: np.ndarray) -> np.ndarray | None:
    if ts is None or name not in ts or not len(ts):
        return None
    col = np.asarray(ts[name], dtype=np.float64)
    ok = np.isfinite(col)
    return np.interp(t, ts.t[ok], col[ok]) if ok.any() else None


def encode(tel: Telemetry, seconds: float, *, gps_rate: float = 18.0, imu_rate: float = 200.0,
           imu: bool = True, device_name: str = "overdash demo", gpsa: str | None = "MSLV") -> list[bytes]:
    """The payloads of `seconds` of video: GPS5 at `gps_rate` Hz, with ACCL/GYRO (`imu`) at
    `imu_rate` Hz where the telemetry has them, and TMPC from a 'temp' column if any.

    GPSU comes from the gps 'timestamp' column (omitted without one), GPSF from 'gps-lock'
    (else 3) and GPSP from 'gps-dop' (else 1.0), each at the payload's first sample.
    `gpsa`: the altitude's reference written in every GPS5 stream (see gps5_stream).
    """
    n = payload_count(seconds)
    gps_n = round(gps_rate * PAYLOAD_SECONDS)
    imu_n = round(imu_rate * PAYLOAD_SECONDS)
    if not 1 <= gps_n <= MAX_REPEAT or (imu and not 1 <= imu_n <= MAX_REPEAT):
        raise GPMFEncodeError(f"rates {gps_rate}/{imu_rate} Hz: 1 to {MAX_REPEAT} samples a payload")
    gps_rows = gps5_rows(tel, n, gps_n)
    starts = grid(n, 1)[:, 0]
    gps = tel.streams["gps"]
    utc = _first(gps, "timestamp", starts)
    fix = _first(gps, "gps-lock", starts)
    dop = _first(gps, "gps-dop", starts)
    temp_stream = next((ts for ts in tel.streams.values() if "temp" in ts), None)
    temp = _first(temp_stream, "temp", starts + PAYLOAD_SECONDS / 2)  # the reader places TMPC mid-payload
    imus = {}
    if imu:
        for fourcc, (key, _, _, _) in IMU.items():
            if key in tel.streams:
                cols = [f"{key}.{a}" for a in "xyz"]
                imus[fourcc] = _at(tel.streams[key], cols, grid(n, imu_n).ravel(), key).reshape(n, imu_n, 3)
    out = []
    for k in range(n):
        streams = []
        for m, (fourcc, rows) in enumerate(imus.items()):
            streams.append(imu_stream(fourcc, rows[k], tsmp=imu_n * (k + 1), stmp_us=round(starts[k] * 1e6),
                                      tmpc=float(temp[k]) if temp is not None and m == 0 else None))
        streams.append(gps5_stream(gps_rows[k], tsmp=gps_n * (k + 1), stmp_us=round(starts[k] * 1e6),
                                   utc=float(utc[k]) if utc is not None else None,
                                   fix=round(fix[k]) if fix is not None else 3,
                                   dop=float(dop[k]) if dop is not None else 1.0, gpsa=gpsa))
        out.append(payload(streams, device_name=device_name))
    return out


def raw_track(payloads: Iterable[bytes]) -> bytes:
    """A raw GPMF track (.gpmd): the payloads back to back, as `ffmpeg -map 0:3 -c copy -f data` writes."""
    return b"".join(payloads)
