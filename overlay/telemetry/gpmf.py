"""GPMF (GoPro Metadata Format) decoder: KLV payloads into scaled numpy streams.

Written from the format description in the README of gopro/gpmf-parser: every
item is a 4-char key, a type char, a struct size, a big-endian repeat count and
data padded to 32 bits; type 0 nests more items (DEVC > STRM > ...). Inside a
STRM, properties (SCAL, SIUN, TYPE, ...) precede and modify the *last* item,
the data. Sample arrays are decoded in one np.frombuffer call per item, never
per sample, because a payload holds thousands of IMU samples.

A payload with broken structure is skipped as a whole, with a GPMFWarning that
names it: its item boundaries cannot be trusted. A stream whose properties do
not fit its data (wrong SCAL count, bad TYPE) is dropped alone.
"""
from __future__ import annotations

import calendar
import re
import struct
import warnings
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Mapping, NamedTuple

import numpy as np

NUMERIC = {"b": ">i1", "B": ">u1", "s": ">i2", "S": ">u2", "l": ">i4", "L": ">u4", "j": ">i8",
           "J": ">u8", "f": ">f4", "d": ">f8", "q": ">i4", "Q": ">i8"}
FIXED_POINT = {"q": 2.0 ** 16, "Q": 2.0 ** 32}  # Q15.16 and Q31.32 divisors
TEXT = {"c": 1, "F": 4, "G": 16, "U": 16}  # non-numeric types and their sizes in bytes
VALID_TYPES = set(NUMERIC) | set(TEXT) | {"?", "\0"}
# Keys that are always properties, never a stream's data (even when last in a STRM).
PROPERTY_KEYS = {"DVID", "DVNM", "STNM", "RMRK", "SCAL", "SIUN", "UNIT", "TYPE", "TSMP", "TIMO",
                 "EMPT", "TICK", "TOCK", "STMP", "ORIN", "ORIO", "MTRX", "TMPC", "GPSU", "GPSF",
                 "GPSP", "GPSA", "VPTS", "MINF"}
# Properties that describe a stream's data and so stay valid in later payloads if omitted.
CARRIED = ("STNM", "SCAL", "SIUN", "UNIT", "TYPE", "ORIN")
MAX_DEPTH = 8  # DEVC > STRM > (rarely) one more level; deeper is corruption
_PRINTABLE = re.compile(rb"[\x20-\x7e]{4}")


class GPMFError(ValueError):
    """A payload's KLV structure is broken (overrun, bad key or type)."""


class GPMFWarning(UserWarning):
    """Telemetry was skipped because it could not be decoded."""


@dataclass(frozen=True)
class StreamMeta:
    """The properties of one STRM that apply to its data."""

    name: str | None = None  # STNM
    units: tuple[str, ...] = ()  # SIUN, else UNIT; one per column or one for all
    scale: tuple[float, ...] = ()  # SCAL divisor(s); () means 1
    orin: str | None = None  # axis order, e.g. 'ZXY'; lowercase = negated axis
    type: str | None = None  # TYPE of a '?' struct, e.g. 'lllllllSS'
    tsmp: int | None = None  # total samples delivered since record start
    stmp: int | None = None  # microseconds, first sample of this payload
    tick: int | None = None  # milliseconds
    tock: int | None = None
    tmpc: float | None = None  # sensor temperature, °C
    gpsu: float | None = None  # GPS UTC time of the first sample, POSIX seconds
    gpsf: int | None = None  # GPS fix: 0 none, 2 2D, 3 3D
    gpsp: int | None = None  # GPS DOP x100
    other: Mapping[str, object] = field(default_factory=dict)  # any other property by key


@dataclass(frozen=True, eq=False)
class Stream:
    """One data item (all of its KLVs in a STRM), decoded."""

    fourcc: str
    values: np.ndarray  # (n, k) float64, scaled; NaN where a field is not a number
    raw: np.ndarray  # unscaled: (n, k) numbers, a structured array ('?') or strings
    meta: StreamMeta
    device_id: int | None = None
    device_name: str | None = None

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Payload:
    """One GPMF payload (an MP4 sample): device properties and streams."""

    index: int
    streams: tuple[Stream, ...]
    devices: tuple[Mapping[str, object], ...] = ()  # per DEVC: DVID, DVNM, TICK, MINF, ...
    skipped: tuple[tuple[str, int], ...] = ()  # (fourcc, samples) of streams not decoded (`only`)

    def find(self, fourcc: str) -> Stream | None:
        return next((s for s in self.streams if s.fourcc == fourcc), None)


class _Item(NamedTuple):  # a NamedTuple: built ~170 times per payload, a frozen dataclass is 3x slower
    key: str
    type: str
    size: int  # struct size
    repeat: int
    start: int  # data offset in the buffer
    children: tuple = ()


def iter_items(buf: bytes, start: int, end: int, depth: int = 0) -> Iterator[_Item]:
    """Walk the KLV items in buf[start:end], nesting into type-0 containers."""
    if depth > MAX_DEPTH:
        raise GPMFError(f"containers nested deeper than {MAX_DEPTH} at byte {start}")
    pos = start
    while pos + 8 <= end:
        key_bytes = buf[pos:pos + 4]
        if key_bytes == b"\0\0\0\0" and not any(buf[pos:end]):
            return  # zero padding after the last item
        if not _PRINTABLE.fullmatch(key_bytes):
            raise GPMFError(f"bad key {key_bytes!r} at byte {pos}")
        type_char = chr(buf[pos + 4])
        if type_char not in VALID_TYPES:
            raise GPMFError(f"unknown type {type_char!r} of {key_bytes.decode()} at byte {pos}")
        size, repeat = buf[pos + 5], struct.unpack_from(">H", buf, pos + 6)[0]
        length = size * repeat
        if pos + 8 + length > end:
            over = pos + 8 + length - end
            raise GPMFError(f"{key_bytes.decode()} at byte {pos} runs {over} bytes past its container")
        children: tuple[_Item, ...] = ()
        if type_char == "\0":
            children = tuple(iter_items(buf, pos + 8, pos + 8 + length, depth + 1))
        yield _Item(key_bytes.decode(), type_char, size, repeat, pos + 8, children)
        pos += 8 + ((length + 3) & ~3)
    if pos < end and any(buf[pos:end]):
        raise GPMFError(f"{end - pos} stray bytes at byte {pos}")


def parse_type(spec: str) -> list[tuple[str, int]]:
    """TYPE string to (type char, count) fields: 'f[8]L' -> [('f', 8), ('L', 1)]."""
    fields = []
    for char, count in re.findall(r"(.)(?:\[(\d+)\])?", spec.rstrip("\0")):
        if char not in NUMERIC and char not in TEXT:
            raise ValueError(f"TYPE {spec!r} has unknown type {char!r}")
        fields.append((char, int(count) if count else 1))
    return fields


def parse_gpsu(text: str) -> float | None:
    """'yymmddhhmmss.sss' (UTC, years 20xx) to POSIX seconds."""
    m = re.fullmatch(r"(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d(?:\.\d*)?)", text.strip())
    if not m:
        return None
    yy, mo, dd, hh, mi = (int(g) for g in m.groups()[:5])
    sec = float(m.group(6))
    try:
        return calendar.timegm((2000 + yy, mo, dd, hh, mi, 0, 0, 0, 0)) + sec
    except (ValueError, OverflowError):
        return None


def _text(buf: bytes, item: _Item) -> list[str]:
    """Strings of a c/F/U item: one per struct (or one in all when struct size is 1)."""
    data = buf[item.start:item.start + item.size * item.repeat]
    width = len(data) if item.size == 1 and item.type == "c" else item.size
    parts = [data[i:i + width] for i in range(0, len(data), width)] if width else []
    return [p.split(b"\0")[0].decode("latin-1").rstrip() for p in parts]


def _properties(buf: bytes, items: list[_Item]) -> dict[str, object]:
    """Property values by key (a later one wins); an undecodable property is left out."""
    props: dict[str, object] = {}
    for item in items:
        try:
            props[item.key] = _property(buf, item)
        except ValueError:
            continue
    return props


def _property(buf: bytes, item: _Item) -> object:
    """A property's value as a Python scalar, tuple or string."""
    if item.type in ("c", "F"):
        texts = _text(buf, item)
        return texts[0] if len(texts) == 1 else tuple(texts)
    if item.type == "U":
        return parse_gpsu(_text(buf, item)[0]) if item.repeat else None
    if item.type in NUMERIC:
        values = _numbers(buf, item, item.type).ravel()
        values = [v.item() for v in values]
        return values[0] if len(values) == 1 else tuple(values)
    return buf[item.start:item.start + item.size * item.repeat]


def _numbers(buf: bytes, item: _Item, type_char: str) -> np.ndarray:
    """(repeat, size/width) array of a single-type numeric item, fixed point converted."""
    dtype = np.dtype(NUMERIC[type_char])
    if item.size % dtype.itemsize:
        raise ValueError(f"{item.key}: struct size {item.size} is not a multiple of {type_char!r}")
    k = item.size // dtype.itemsize
    arr = np.frombuffer(buf, dtype, item.repeat * k, item.start).reshape(item.repeat, k)
    return arr / FIXED_POINT[type_char] if type_char in FIXED_POINT else arr


def _struct_dtype(fields: list[tuple[str, int]]) -> np.dtype:
    parts = []
    for i, (char, count) in enumerate(fields):
        if char in NUMERIC:
            parts.append((f"f{i}", NUMERIC[char], (count,)) if count > 1 else (f"f{i}", NUMERIC[char]))
        else:
            parts.append((f"f{i}", f"S{TEXT[char] * count}"))
    return np.dtype(parts)


def _complex(buf: bytes, item: _Item, spec: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Decode a '?' item: (structured raw, float values, columns per field)."""
    fields = parse_type(spec)
    dtype = _struct_dtype(fields)
    if dtype.itemsize != item.size:
        raise ValueError(f"{item.key}: TYPE {spec!r} is {dtype.itemsize} bytes, struct size {item.size}")
    raw = np.frombuffer(buf, dtype, item.repeat, item.start)
    columns, widths = [], []
    for i, (char, count) in enumerate(fields):
        col = raw[f"f{i}"]
        if char in NUMERIC:
            col = col.reshape(item.repeat, count).astype(np.float64)
            columns.append(col / FIXED_POINT[char] if char in FIXED_POINT else col)
            widths.append(col.shape[1])
        else:
            columns.append(np.full((item.repeat, 1), np.nan))
            widths.append(1)
    return raw, np.hstack(columns) if columns else np.zeros((item.repeat, 0)), widths


def _scale(values: np.ndarray, scale: tuple[float, ...], widths: list[int]) -> np.ndarray:
    """Divide by SCAL: one for all columns, one per column, or one per struct field."""
    if not scale:
        return values
    divisor = np.asarray(scale, dtype=np.float64)
    if len(divisor) == len(widths) and len(widths) != values.shape[1]:
        divisor = np.repeat(divisor, widths)
    if len(divisor) not in (1, values.shape[1]):
        raise ValueError(f"{len(divisor)} SCAL values for {values.shape[1]} columns")
    return values / np.where(divisor == 0, 1.0, divisor)


def _stream(buf: bytes, key: str, data: list[_Item], props: dict[str, object]) -> Stream:
    """Decode every data item of one STRM into one Stream with its properties."""
    type_spec = props.get("TYPE")
    raws, values, widths = [], [], [1]
    for item in data:
        if item.type == "?":
            if not isinstance(type_spec, str):
                raise ValueError(f"{key}: complex ('?') data without a TYPE")
            raw, vals, widths = _complex(buf, item, type_spec)
        elif item.type in NUMERIC:
            raw = _numbers(buf, item, item.type)
            vals = raw.astype(np.float64)
            widths = [vals.shape[1]]
        elif item.type == "U":
            raw = np.array(_text(buf, item))
            times = [parse_gpsu(t) for t in raw]
            vals = np.array([np.nan if t is None else t for t in times], dtype=np.float64).reshape(-1, 1)
        else:  # c, F, G: text or ids; kept raw
            raw = np.array(_text(buf, item)) if item.type != "G" else np.frombuffer(
                buf, "V16", item.repeat, item.start)
            vals = np.full((len(raw), 1), np.nan)
        raws.append(raw)
        values.append(vals)
    if len({v.shape[1] for v in values}) > 1:
        raise ValueError(f"{key}: items of different widths in one stream")
    scale = props.get("SCAL")
    scales = () if scale is None else scale if isinstance(scale, tuple) else (scale,)
    scale_t = tuple(float(s) for s in scales)
    scaled = _scale(np.concatenate(values), scale_t, widths)
    raw_all = np.concatenate(raws) if len(raws) > 1 else raws[0]
    return Stream(key, scaled, raw_all, _meta(props, scale_t))


def _meta(props: Mapping[str, object], scale: tuple[float, ...]) -> StreamMeta:
    def opt(key: str, kind: type) -> object:
        value = props.get(key)
        return kind(value) if isinstance(value, (int, float, str)) else None

    units = props.get("SIUN", props.get("UNIT"))
    known = {"STNM", "SIUN", "UNIT", "SCAL", "ORIN", "TYPE", "TSMP", "STMP", "TICK", "TOCK", "TMPC",
             "GPSU", "GPSF", "GPSP"}
    return StreamMeta(
        name=opt("STNM", str), units=(units,) if isinstance(units, str) else tuple(units or ()),
        scale=scale, orin=opt("ORIN", str), type=opt("TYPE", str), tsmp=opt("TSMP", int),
        stmp=opt("STMP", int), tick=opt("TICK", int), tock=opt("TOCK", int), tmpc=opt("TMPC", float),
        gpsu=opt("GPSU", float), gpsf=opt("GPSF", int), gpsp=opt("GPSP", int),
        other={k: v for k, v in props.items() if k not in known})


def _flatten(items: tuple[_Item, ...]) -> list[_Item]:
    """Items of a STRM with nested sub-containers inlined (their TICK/TOCK + data)."""
    out: list[_Item] = []
    for item in items:
        out.extend(_flatten(item.children) if item.type == "\0" else [item])
    return out


class Decoder:
    """Decodes consecutive payloads of one recording, carrying descriptive properties
    (SCAL, TYPE, units, ...) forward in case a later payload omits them."""

    def __init__(self, only: Iterable[str] | None = None) -> None:
        """`only`: decode just these data fourccs (e.g. {'GPS5', 'ACCL'}); None = all."""
        self._only = frozenset(only) if only is not None else None
        self._carried: dict[tuple[object, str], dict[str, object]] = {}

    def decode(self, buf: bytes, index: int, label: str = "payload") -> Payload | None:
        """Decode one payload; on broken structure warn naming it and return None."""
        try:
            top = list(iter_items(buf, 0, len(buf)))
            if not top:
                raise GPMFError("empty")
            bad = next((i for i in top if i.key != "DEVC" or i.type != "\0"), None)
            if bad is not None:
                raise GPMFError(f"expected DEVC, found {bad.key}")
        except GPMFError as exc:
            warnings.warn(f"GPMF {label} {index}: corrupt or truncated ({exc}); skipped",
                          GPMFWarning, stacklevel=2)
            return None
        devices, streams, skipped = [], [], []
        for devc in top:
            device = _properties(buf, [i for i in devc.children if i.type != "\0"])
            devices.append(device)
            dev_id, dev_name = device.get("DVID"), device.get("DVNM")
            for strm in (c for c in devc.children if c.key == "STRM" and c.type == "\0"):
                items = _flatten(strm.children)
                data_key = items[-1].key if items else None
                if data_key is None or data_key in PROPERTY_KEYS:
                    continue  # a stream with properties only (e.g. an empty '3A STATS')
                if self._only is not None and data_key not in self._only:
                    skipped.append((data_key, sum(i.repeat for i in items if i.key == data_key)))
                    continue
                stream = self._strm(buf, items, data_key, dev_id, dev_name, index, label)
                if stream is not None:
                    streams.append(stream)
        return Payload(index, tuple(streams), tuple(devices), tuple(skipped))

    def _strm(self, buf: bytes, items: list[_Item], data_key: str, dev_id: object, dev_name: object,
              index: int, label: str) -> Stream | None:
        props = _properties(buf, [i for i in items if i.key != data_key])
        carried = self._carried.setdefault((dev_id, data_key), {})
        for key in CARRIED:
            if key in props:
                carried[key] = props[key]
            elif key in carried:
                props[key] = carried[key]
        try:
            stream = _stream(buf, data_key, [i for i in items if i.key == data_key], props)
        except ValueError as exc:
            warnings.warn(f"GPMF {label} {index}: stream {data_key} skipped ({exc})",
                          GPMFWarning, stacklevel=3)
            return None
        return replace(stream, device_id=dev_id if isinstance(dev_id, int) else None,
                       device_name=dev_name if isinstance(dev_name, str) else None)


def split_raw(buf: bytes) -> list[bytes]:
    """Split a raw GPMF track (concatenated payloads) into payloads.

    A payload may hold several DEVCs (camera plus a connected sensor); a new
    payload starts when a device id repeats. Broken headers cannot be walked
    over, so the split resynchronises at the next 'DEVC' container header.
    """
    payloads: list[bytes] = []
    current_start, seen = 0, set()
    pos = 0
    while pos + 8 <= len(buf):
        if buf[pos:pos + 5] != b"DEVC\0":
            if not any(buf[pos:]):
                break
            nxt = buf.find(b"DEVC\0", pos + 1)
            bad_end = nxt if nxt >= 0 else len(buf)
            if pos > current_start:
                payloads.append(buf[current_start:pos])
            payloads.append(buf[pos:bad_end])  # broken: its decode warns and skips it
            pos = current_start = bad_end
            seen = set()
            continue
        length = buf[pos + 5] * struct.unpack_from(">H", buf, pos + 6)[0]
        end = min(pos + 8 + ((length + 3) & ~3), len(buf))
        dvid = buf[pos + 8:pos + 20] if buf[pos + 8:pos + 12] == b"DVID" else None
        if dvid is None or dvid in seen:
            if pos > current_start:
                payloads.append(buf[current_start:pos])
            current_start, seen = pos, set()
        if dvid is not None:
            seen.add(dvid)
        pos = end
    if current_start < len(buf) and any(buf[current_start:]):
        payloads.append(buf[current_start:])
    return payloads
