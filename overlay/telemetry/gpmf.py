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
from dataclasses import dataclass, field
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
# Properties that describe a stream's data and so stay valid in later payloads if omitted
# (GPSA: the altitude's reference, "MSLV" = mean sea level; absent = the WGS84 ellipsoid).
CARRIED = ("STNM", "SCAL", "SIUN", "UNIT", "TYPE", "ORIN", "GPSA")
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
    gpsa: str | None = None  # GPS altitude reference: "MSLV" (mean sea level); None: WGS84 ellipsoid
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


class _Item(NamedTuple):  # iter_items' item; the Decoder's _walk builds plain tuples (below), cheaper still
    key: str
    type: str
    size: int  # struct size
    repeat: int
    start: int  # data offset in the buffer
    children: tuple = ()


_HEADER = struct.Struct(">IBBH")  # key (as an int), type, struct size, repeat
_TYPE_OF = {ord(c): c for c in VALID_TYPES}  # type byte -> type char ('\0': container)
_TYPE_CHARS = [_TYPE_OF.get(b) for b in range(256)]  # the same, by index
_KEYS: dict[int, str] = {}  # checked (printable) keys, as big-endian ints -> str; bounded
_KEYS_MAX = 4096
# An item as the walker builds it, a plain tuple (cheap to make: a payload has ~170 items):
# (key, type char, struct size, repeat, data offset, children: a list for a container, else ())
_K, _T, _SIZE, _REP, _START, _KIDS = range(6)


def _check_key(buf: bytes, pos: int, end: int) -> str | None:
    """The key of the item header at pos; None at zero padding; else GPMFError."""
    key_bytes = buf[pos:pos + 4]
    if key_bytes == b"\0\0\0\0" and not any(buf[pos:end]):
        return None  # zero padding after the last item
    if not _PRINTABLE.fullmatch(key_bytes):
        raise GPMFError(f"bad key {key_bytes!r} at byte {pos}")
    key = key_bytes.decode()
    if len(_KEYS) < _KEYS_MAX:
        _KEYS[int.from_bytes(key_bytes, "big")] = key
    return key


def _walk(buf: bytes, start: int, end: int, depth: int = 0) -> list[tuple]:
    """The KLV items in buf[start:end] as tuples (see _K..), nesting into type-0 containers.

    The Decoder's walk: the same items and the same GPMFErrors as iter_items, eagerly and
    about 3x faster (one struct call and one dict lookup per item header)."""
    if depth > MAX_DEPTH:
        raise GPMFError(f"containers nested deeper than {MAX_DEPTH} at byte {start}")
    items: list[tuple] = []
    append, unpack, keys, type_chars = items.append, _HEADER.unpack_from, _KEYS, _TYPE_CHARS
    pos, nested, last = start, False, end - 8
    while pos <= last:
        key_int, type_byte, size, repeat = unpack(buf, pos)
        key = keys.get(key_int)
        if key is None:
            key = _check_key(buf, pos, end)
            if key is None:
                return _Nested(items) if nested else items
        type_char = type_chars[type_byte]
        if type_char is None:
            raise GPMFError(f"unknown type {chr(type_byte)!r} of {key} at byte {pos}")
        length = size * repeat
        nxt = pos + 8 + length
        if nxt > end:
            raise GPMFError(f"{key} at byte {pos} runs {nxt - end} bytes past its container")
        if type_byte:
            append((key, type_char, size, repeat, pos + 8, ()))
        else:
            append((key, type_char, size, repeat, pos + 8, _walk(buf, pos + 8, nxt, depth + 1)))
            nested = True
        pos = nxt + (-length & 3)
    if pos < end and any(buf[pos:end]):
        raise GPMFError(f"{end - pos} stray bytes at byte {pos}")
    return _Nested(items) if nested else items


class _Nested(list):
    """Items of a container that holds containers itself (a DEVC; rarely a STRM)."""


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


def _text(buf: bytes, item: tuple) -> list[str]:
    """Strings of a c/F/U item: one per struct (or one in all when struct size is 1)."""
    _, type_char, size, repeat, start, _ = item
    data = buf[start:start + size * repeat]
    width = len(data) if size == 1 and type_char == "c" else size
    parts = [data[i:i + width] for i in range(0, len(data), width)] if width else []
    return [p.split(b"\0")[0].decode("latin-1").rstrip() for p in parts]


# One-value numeric items (TSMP, STMP, TMPC, GPSF, ...), read without numpy: the same Python
# int or float that numpy's .item() gives.
_SCALAR = {t: struct.Struct(">" + c) for t, c in
           {"b": "b", "B": "B", "s": "h", "S": "H", "l": "i", "L": "I", "j": "q", "J": "Q",
            "f": "f", "d": "d", "q": "i", "Q": "q"}.items()}
_SCALAR_SIZE = {t: s.size for t, s in _SCALAR.items()}
_UNDECODABLE = object()  # cached: the property cannot be decoded
_CACHE_MAX = 4096  # property values kept per Decoder; cleared when full


def _properties(buf: bytes, items: list[tuple], cache: dict | None = None) -> dict[str, object]:
    """Property values by key (a later one wins); an undecodable property is left out.

    `cache` maps (type, size, repeat, data bytes) to a decoded value: the descriptive
    properties (SCAL, SIUN, TYPE, ORIN, STNM, ...) repeat byte for byte in every payload."""
    props: dict[str, object] = {}
    for item in items:
        key, type_char, size, repeat, start, _ = item
        if repeat == 1 and _SCALAR_SIZE.get(type_char) == size:
            value = _SCALAR[type_char].unpack_from(buf, start)[0]
            props[key] = value / FIXED_POINT[type_char] if type_char in FIXED_POINT else value
            continue
        if cache is None:
            try:
                props[key] = _property(buf, item)
            except ValueError:
                pass
            continue
        cache_key = (type_char, size, repeat, bytes(buf[start:start + size * repeat]))  # bytes: hashable
        value = cache.get(cache_key)
        if value is None:
            try:
                value = _property(buf, item)
            except ValueError:
                value = _UNDECODABLE
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[cache_key] = value
        if value is not _UNDECODABLE:
            props[key] = value
    return props


def _property(buf: bytes, item: tuple) -> object:
    """A property's value as a Python scalar, tuple or string."""
    _, type_char, size, repeat, start, _ = item
    if type_char in ("c", "F"):
        texts = _text(buf, item)
        return texts[0] if len(texts) == 1 else tuple(texts)
    if type_char == "U":
        return parse_gpsu(_text(buf, item)[0]) if repeat else None
    if type_char in NUMERIC:
        values = _numbers(buf, item, type_char).ravel()
        values = [v.item() for v in values]
        return values[0] if len(values) == 1 else tuple(values)
    return buf[start:start + size * repeat]


_DTYPES = {t: np.dtype(d) for t, d in NUMERIC.items()}


def _numbers(buf: bytes, item: tuple, type_char: str) -> np.ndarray:
    """(repeat, size/width) array of a single-type numeric item, fixed point converted."""
    key, _, size, repeat, start, _ = item
    dtype = _DTYPES[type_char]
    if size % dtype.itemsize:
        raise ValueError(f"{key}: struct size {size} is not a multiple of {type_char!r}")
    k = size // dtype.itemsize
    arr = np.frombuffer(buf, dtype, repeat * k, start).reshape(repeat, k)
    # a copy, not a view: a view would keep the whole payload's bytes alive as long as the stream
    return arr / FIXED_POINT[type_char] if type_char in FIXED_POINT else arr.copy()


def _struct_dtype(fields: list[tuple[str, int]]) -> np.dtype:
    parts = []
    for i, (char, count) in enumerate(fields):
        if char in NUMERIC:
            parts.append((f"f{i}", NUMERIC[char], (count,)) if count > 1 else (f"f{i}", NUMERIC[char]))
        else:
            parts.append((f"f{i}", f"S{TEXT[char] * count}"))
    return np.dtype(parts)


def _complex(buf: bytes, item: tuple, spec: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Decode a '?' item: (structured raw, float values, columns per field)."""
    key, _, size, repeat, start, _ = item
    fields = parse_type(spec)
    dtype = _struct_dtype(fields)
    if dtype.itemsize != size:
        raise ValueError(f"{key}: TYPE {spec!r} is {dtype.itemsize} bytes, struct size {size}")
    raw = np.frombuffer(buf, dtype, repeat, start)
    columns, widths = [], []
    for i, (char, count) in enumerate(fields):
        col = raw[f"f{i}"]
        if char in NUMERIC:
            col = col.reshape(repeat, count).astype(np.float64)
            columns.append(col / FIXED_POINT[char] if char in FIXED_POINT else col)
            widths.append(col.shape[1])
        else:
            columns.append(np.full((repeat, 1), np.nan))
            widths.append(1)
    return raw, np.hstack(columns) if columns else np.zeros((repeat, 0)), widths


def _divisor(scale: tuple[float, ...], widths: tuple[int, ...], columns: int) -> np.ndarray:
    """The SCAL divisor per column: one for all columns, one per column, or one per struct field."""
    divisor = np.asarray(scale, dtype=np.float64)
    if len(divisor) == len(widths) and len(widths) != columns:
        divisor = np.repeat(divisor, widths)
    if len(divisor) not in (1, columns):
        raise ValueError(f"{len(divisor)} SCAL values for {columns} columns")
    return np.where(divisor == 0, 1.0, divisor)


def _scale(values: np.ndarray, scale: tuple[float, ...], widths: list[int],
           cache: dict | None = None) -> np.ndarray:
    """Divide by SCAL: one for all columns, one per column, or one per struct field.
    Unscaled values are returned as they are; scaled ones as new float64."""
    if not scale:
        return values
    key = (scale, tuple(widths), values.shape[1])
    divisor = cache.get(key) if cache is not None else None
    if divisor is None:
        divisor = _divisor(*key)
        if cache is not None:
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[key] = divisor
    return np.true_divide(values, divisor)


def _scales(props: Mapping[str, object]) -> tuple[float, ...]:
    scale = props.get("SCAL")
    if scale is None:
        return ()
    return tuple(float(s) for s in scale) if isinstance(scale, tuple) else (float(scale),)


def _stream(buf: bytes, key: str, data: list[tuple], props: dict[str, object],
            cache: dict | None = None, device_id: object = None, device_name: object = None) -> Stream:
    """Decode every data item of one STRM into one Stream with its properties."""
    device_id = device_id if isinstance(device_id, int) else None
    device_name = device_name if isinstance(device_name, str) else None
    if len(data) == 1 and data[0][_T] in NUMERIC:  # the usual case: one numeric item
        raw = _numbers(buf, data[0], data[0][_T])
        scale_t = _scales(props)
        # the same floats as raw.astype(float64) / divisor, in one pass
        scaled = _scale(raw, scale_t, [raw.shape[1]], cache) if scale_t else raw.astype(np.float64)
        return Stream(key, scaled, raw, _meta(props, scale_t), device_id, device_name)
    type_spec = props.get("TYPE")
    raws, values, widths = [], [], [1]
    for item in data:
        type_char = item[_T]
        if type_char == "?":
            if not isinstance(type_spec, str):
                raise ValueError(f"{key}: complex ('?') data without a TYPE")
            raw, vals, widths = _complex(buf, item, type_spec)
        elif type_char in NUMERIC:
            raw = _numbers(buf, item, type_char)
            vals = raw.astype(np.float64)
            widths = [vals.shape[1]]
        elif type_char == "U":
            raw = np.array(_text(buf, item))
            times = [parse_gpsu(t) for t in raw]
            vals = np.array([np.nan if t is None else t for t in times], dtype=np.float64).reshape(-1, 1)
        else:  # c, F, G: text or ids; kept raw
            raw = np.array(_text(buf, item)) if type_char != "G" else np.frombuffer(
                buf, "V16", item[_REP], item[_START])
            vals = np.full((len(raw), 1), np.nan)
        raws.append(raw)
        values.append(vals)
    if len({v.shape[1] for v in values}) > 1:
        raise ValueError(f"{key}: items of different widths in one stream")
    scale_t = _scales(props)
    scaled = _scale(np.concatenate(values), scale_t, widths, cache)
    raw_all = np.concatenate(raws) if len(raws) > 1 else raws[0]
    return Stream(key, scaled, raw_all, _meta(props, scale_t), device_id, device_name)


# Property -> (StreamMeta field, type) for the optional scalar fields (None when absent or not a scalar).
_META_FIELDS = {"STNM": ("name", str), "ORIN": ("orin", str), "TYPE": ("type", str), "TSMP": ("tsmp", int),
                "STMP": ("stmp", int), "TICK": ("tick", int), "TOCK": ("tock", int), "TMPC": ("tmpc", float),
                "GPSU": ("gpsu", float), "GPSF": ("gpsf", int), "GPSP": ("gpsp", int),
                "GPSA": ("gpsa", str)}
_KNOWN = frozenset({*_META_FIELDS, "SIUN", "UNIT", "SCAL"})


def _meta(props: Mapping[str, object], scale: tuple[float, ...]) -> StreamMeta:
    units = props.get("SIUN", props.get("UNIT"))
    units = (units,) if isinstance(units, str) else tuple(units or ())
    fields: dict[str, object] = {}
    other: dict[str, object] = {}
    try:
        for key, value in props.items():
            target = _META_FIELDS.get(key)
            if target is not None:
                if isinstance(value, (int, float, str)):
                    fields[target[0]] = target[1](value)
            elif key not in _KNOWN:
                other[key] = value
    except (ValueError, OverflowError):  # e.g. a TSMP of text: fail on the field StreamMeta lists first
        for key in _META_FIELDS:
            value = props.get(key)
            if isinstance(value, (int, float, str)):
                _META_FIELDS[key][1](value)
        raise
    return StreamMeta(units=units, scale=scale, other=other, **fields)


def _flatten(items: list[tuple]) -> list[tuple]:
    """Items of a STRM with nested sub-containers inlined (their TICK/TOCK + data)."""
    out: list[tuple] = []
    for item in items:
        if item[_T] == "\0":
            out.extend(_flatten(item[_KIDS]))
        else:
            out.append(item)
    return out


class Decoder:
    """Decodes consecutive payloads of one recording, carrying descriptive properties
    (SCAL, TYPE, units, ...) forward in case a later payload omits them."""

    def __init__(self, only: Iterable[str] | None = None, counted: Iterable[str] = ()) -> None:
        """`only`: decode just these data fourccs (e.g. {'GPS5', 'ACCL'}); None = all.
        `counted`: of those, fourccs whose samples are only counted: their properties (STMP,
        TSMP, TMPC, ...) are read, their values are not (a Stream of n rows and no columns).
        A long ride's IMU streams then still time the camera clock without holding 2 bytes
        raw plus 8 scaled per sample and axis that the layout never reads."""
        self._only = frozenset(only) if only is not None else None
        self._counted = frozenset(counted)
        self._carried: dict[tuple[object, str], dict[str, object]] = {}
        self._cache: dict = {}  # decoded property values and SCAL divisors, by their bytes

    def decode(self, buf: bytes, index: int, label: str = "payload") -> Payload | None:
        """Decode one payload; on broken structure warn naming it and return None."""
        try:
            top = _walk(buf, 0, len(buf))
            if not top:
                raise GPMFError("empty")
            bad = next((i for i in top if i[_K] != "DEVC" or i[_T] != "\0"), None)
            if bad is not None:
                raise GPMFError(f"expected DEVC, found {bad[_K]}")
        except GPMFError as exc:
            warnings.warn(f"GPMF {label} {index}: corrupt or truncated ({exc}); skipped",
                          GPMFWarning, stacklevel=2)
            return None
        devices, streams, skipped = [], [], []
        only, cache, property_keys = self._only, self._cache, PROPERTY_KEYS
        for devc in top:
            children = devc[_KIDS]
            device = _properties(buf, [i for i in children if i[_T] != "\0"], cache)
            devices.append(device)
            dev_id, dev_name = device.get("DVID"), device.get("DVNM")
            for strm in children:
                if strm[_K] != "STRM" or strm[_T] != "\0":
                    continue
                items = strm[_KIDS]
                if type(items) is _Nested:
                    items = _flatten(items)
                if not items:
                    continue
                data_key = items[-1][_K]
                if data_key in property_keys:
                    continue  # a stream with properties only (e.g. an empty '3A STATS')
                if only is not None and data_key not in only:
                    skipped.append((data_key, sum([i[_REP] for i in items if i[_K] == data_key])))
                    continue
                stream = self._strm(buf, items, data_key, dev_id, dev_name, index, label)
                if stream is not None:
                    streams.append(stream)
        return Payload(index, tuple(streams), tuple(devices), tuple(skipped))

    def _strm(self, buf: bytes, items: list[tuple], data_key: str, dev_id: object, dev_name: object,
              index: int, label: str) -> Stream | None:
        prop_items, data = [], []
        for item in items:
            (data if item[_K] == data_key else prop_items).append(item)
        props = _properties(buf, prop_items, self._cache)
        carried = self._carried.get((dev_id, data_key))
        if carried is None:
            carried = self._carried[(dev_id, data_key)] = {}
        for key in CARRIED:
            if key in props:
                carried[key] = props[key]
            elif key in carried:
                props[key] = carried[key]
        try:
            if data_key in self._counted:
                rows = sum(item[_REP] for item in data)
                return Stream(data_key, np.empty((rows, 0)), np.empty((rows, 0)), _meta(props, ()),
                              dev_id if isinstance(dev_id, int) else None,
                              dev_name if isinstance(dev_name, str) else None)
            return _stream(buf, data_key, data, props, self._cache, dev_id, dev_name)
        except ValueError as exc:
            warnings.warn(f"GPMF {label} {index}: stream {data_key} skipped ({exc})",
                          GPMFWarning, stacklevel=3)
            return None


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
