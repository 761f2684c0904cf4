"""A small FIT reader for what overdash takes from a FIT file, fast enough for millions of records.

The FIT protocol (public, garmin.com/fit/protocol): a 12- or 14-byte file header
(size, protocol and profile versions, body size, '.FIT', header CRC), the body
(records), a 2-byte CRC; files may be chained. Each record starts with a
header byte:

* normal header (bit 7 clear): bit 6 definition / data, bit 5 developer data
  (definitions only), bits 0-3 the local message type (0-15);
* compressed-timestamp header (bit 7 set): a data message of local type
  bits 5-6 whose timestamp is the last full timestamp moved on to the 5-bit
  time offset in bits 0-4 (rolling over every 32 s).

A definition message gives the architecture (0 little-, else big-endian), the
global message number and (field number, size, base type) per field, then,
with the developer flag, (field number, size, developer data index) per
developer field, typed by earlier field_description (206) messages of the
developer_data_id (207) they name.

`scan` walks the records once in a tight loop that only follows message
lengths and notes where each data message of interest starts: record messages
(global 20) per distinct definition, messages carrying a timestamp field,
compressed-header messages, lap messages (global 19, for lap start times);
file_id, field_description and developer_data_id are decoded on the spot. The record messages of one definition are then
decoded together (`gather`): their payloads are picked out of the file with one
fancy index and viewed as a numpy structured array built from the definition.

The CRCs are not checked (as before, with fitdecode). A file damaged part way
(truncated, a data message of an undefined local type, an invalid definition)
keeps everything read before the damage: `Scan.damage` says what went wrong.
"""
from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass, field

import numpy as np

RECORD, FILE_ID, FIELD_DESCRIPTION, DEVELOPER_DATA_ID = 20, 0, 206, 207
LAP = 19
TIMESTAMP = 253  # field number of 'timestamp' in every message


class FitHeaderError(ValueError):
    """Not a FIT file (no valid file header where one must be)."""


class _Damage(Exception):
    pass


@dataclass(frozen=True)
class BaseType:
    code: int
    name: str
    kind: str  # 'num', 'string' or 'byte'
    np: str  # numpy type without byte order ('u2', 'f4', ...)
    size: int
    invalid: int | None  # the 'no value' marker; None: NaN (floats) or all 0xFF (byte)


def _bt(code, name, kind, np_, size, invalid):
    return code, BaseType(code, name, kind, np_, size, invalid)


BASE_TYPES = dict((
    _bt(0x00, "enum", "num", "u1", 1, 0xFF), _bt(0x01, "sint8", "num", "i1", 1, 0x7F),
    _bt(0x02, "uint8", "num", "u1", 1, 0xFF), _bt(0x83, "sint16", "num", "i2", 2, 0x7FFF),
    _bt(0x84, "uint16", "num", "u2", 2, 0xFFFF), _bt(0x85, "sint32", "num", "i4", 4, 0x7FFFFFFF),
    _bt(0x86, "uint32", "num", "u4", 4, 0xFFFFFFFF), _bt(0x07, "string", "string", "u1", 1, None),
    _bt(0x88, "float32", "num", "f4", 4, None), _bt(0x89, "float64", "num", "f8", 8, None),
    _bt(0x0A, "uint8z", "num", "u1", 1, 0), _bt(0x8B, "uint16z", "num", "u2", 2, 0),
    _bt(0x8C, "uint32z", "num", "u4", 4, 0), _bt(0x0D, "byte", "byte", "u1", 1, None),
    _bt(0x8E, "sint64", "num", "i8", 8, 0x7FFFFFFFFFFFFFFF), _bt(0x8F, "uint64", "num", "u8", 8, 0xFFFFFFFFFFFFFFFF),
    _bt(0x90, "uint64z", "num", "u8", 8, 0),
))
BYTE = BASE_TYPES[0x0D]  # what an unknown base type is read as


@dataclass(frozen=True)
class DevField:
    """A developer field as its field_description declared it."""
    dev_index: int
    num: int
    base: BaseType
    name: str | None
    native: int | None  # native_field_num: the standard field it stands for, if any


@dataclass(frozen=True)
class FieldDef:
    num: int
    size: int
    base: BaseType
    offset: int  # within the message payload
    dev: DevField | None = None  # set for developer fields

    @property
    def scalar(self) -> bool:
        """One number (not a string, byte blob or array)."""
        return self.base.kind == "num" and self.size == self.base.size


@dataclass
class Definition:
    global_num: int
    big_endian: bool
    fields: tuple[FieldDef, ...]  # standard fields, then developer fields, in message order
    size: int  # payload bytes
    broken: str | None = None  # why a data message of this definition cannot be read
    _dtype: np.dtype | None = None

    def dtype(self) -> np.dtype:
        """Structured dtype of the payload: 'f<i>' per scalar field, 'b<i>' (bytes) per byte field."""
        if self._dtype is None:
            order = ">" if self.big_endian else "<"
            names, formats, offsets = [], [], []
            for i, f in enumerate(self.fields):
                if f.scalar:
                    names.append(f"f{i}")
                    formats.append(order + f.base.np)
                elif f.base.kind == "byte" and 0 < f.size <= 8:
                    names.append(f"b{i}")
                    formats.append(("u1", (f.size,)))
                else:
                    continue
                offsets.append(f.offset)
            self._dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                    "itemsize": max(self.size, 1)})
        return self._dtype


@dataclass
class Group:
    """The data messages of one distinct definition: payload offsets, in file order."""
    definition: Definition
    offsets: array = field(default_factory=lambda: array("q"))


@dataclass
class Scan:
    records: list[Group] = field(default_factory=list)  # record (20) messages by definition
    timed: list[Group] = field(default_factory=list)  # other messages with a timestamp field
    laps: list[Group] = field(default_factory=list)  # lap (19) messages by definition (also in `timed`, if timed)
    other_compressed: array = field(default_factory=lambda: array("q"))  # other compressed-header messages
    # (offset, def) per record definition
    record_definitions: list[tuple[int, Definition]] = field(default_factory=list)
    file_starts: list[int] = field(default_factory=list)  # body offset of each (chained) FIT file
    file_ids: list[int] = field(default_factory=list)  # end offset of each file_id message
    damage: str | None = None
    trailing: int = 0  # bytes after the last FIT file that are not one

    @property
    def count(self) -> int:
        return sum(len(g.offsets) for g in self.records)


def parse_string(raw: bytes) -> str | None:
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end]).decode("utf-8", errors="replace") or None


def values(data: bytes, start: int, d: Definition) -> dict[int, object]:
    """One data message's standard fields as {field number: value or None}, the slow way (rare messages)."""
    out: dict[int, object] = {}
    order = ">" if d.big_endian else "<"
    for f in d.fields:
        if f.dev is not None or f.num in out:
            continue
        if f.scalar:
            v = struct.unpack_from(order + _STRUCT[f.base.np], data, start + f.offset)[0]
            out[f.num] = None if (v != v if f.base.invalid is None else v == f.base.invalid) else v
        elif f.base.kind == "string":
            out[f.num] = parse_string(data[start + f.offset:start + f.offset + f.size])
    return out


_STRUCT = {"u1": "B", "i1": "b", "u2": "H", "i2": "h", "u4": "I", "i4": "i", "u8": "Q", "i8": "q",
           "f4": "f", "f8": "d"}


class _Reader:
    """Scan state of one pass (see `scan`)."""

    def __init__(self, data: bytes):
        self.data = data
        self.scan = Scan()
        self.known: dict[tuple, tuple] = {}  # definition key -> (size, append, special, Definition)
        self.dev_types: dict[int, dict[int, DevField]] = {}

    def definition(self, pos: int, limit: int, body_end: int, defs: list) -> int:
        data = self.data
        hdr = data[pos]
        if pos + 6 > limit:
            raise _Damage("truncated definition message")
        big = data[pos + 2] != 0
        global_num, nfields = struct.unpack_from(">HB" if big else "<HB", data, pos + 3)
        end = pos + 6 + 3 * nfields
        dev_specs: tuple = ()
        if hdr & 0x20:
            if end + 1 > limit:
                raise _Damage("truncated definition message")
            ndev = data[end]
            dev_specs = tuple(data[end + 1 + 3 * i:end + 4 + 3 * i] for i in range(ndev))
            end += 1 + 3 * ndev
        if end > limit or end > body_end:
            raise _Damage("truncated definition message" if end > limit else "definition crosses the end of the data")
        devs = []
        for num, size, index in dev_specs:
            fields = self.dev_types.get(index)
            if fields is None:
                raise _Damage(f"developer data index {index} not defined")
            if num not in fields:
                raise _Damage(f"no developer field {num} for developer data index {index}")
            devs.append(fields[num])
        key = (hdr & 0x20, data[pos + 1:end], tuple(devs))
        entry = self.known.get(key)
        if entry is None:
            entry = self.known[key] = self._new_definition(pos, global_num, big, nfields, dev_specs, devs)
        defs[hdr & 0x0F] = entry
        if global_num == RECORD:
            self.scan.record_definitions.append((pos, entry[3]))
        return end

    def _new_definition(self, pos, global_num, big, nfields, dev_specs, devs) -> tuple:
        data = self.data
        fields, offset, broken = [], 0, None
        for i in range(nfields):
            num, size, code = data[pos + 6 + 3 * i:pos + 9 + 3 * i]
            base = BASE_TYPES.get(code, BYTE)
            if size % base.size:
                raise _Damage(f"invalid field size {size} for base type {base.name} "
                              f"(field {num}, message {global_num})")
            if not size:
                broken = f"field {num} of message {global_num} has size 0"
            fields.append(FieldDef(num, size, base, offset))
            offset += size
        for (num, size, _), dev in zip(dev_specs, devs):
            if not size or size % dev.base.size:
                broken = f"invalid size {size} for developer field {dev.name or num} ({dev.base.name})"
            fields.append(FieldDef(num, size, dev.base, offset, dev))
            offset += size
        d = Definition(global_num, big, tuple(fields), offset, broken)
        append = special = None
        if broken:
            special = "broken"
        elif global_num == RECORD:
            group = Group(d)
            self.scan.records.append(group)
            append = group.offsets.append
        else:
            group = Group(d)
            if any(f.num == TIMESTAMP and f.dev is None and f.scalar for f in fields):
                self.scan.timed.append(group)
                append = group.offsets.append
            if global_num == LAP:
                self.scan.laps.append(group)
                append = group.offsets.append
            special = {FILE_ID: "file_id", FIELD_DESCRIPTION: "field_description",
                       DEVELOPER_DATA_ID: "developer_data_id"}.get(global_num)
        return offset, append, special, d

    def special(self, kind: str, start: int, end: int, d: Definition) -> None:
        if kind == "broken":
            raise _Damage(d.broken)
        if kind == "file_id":
            self.scan.file_ids.append(end)
            return
        v = values(self.data, start, d)
        if kind == "developer_data_id":
            if v.get(3) is None:
                raise _Damage("developer_data_id without developer_data_index")
            self.dev_types[v[3]] = {}
        else:  # field_description
            index, num = v.get(0), v.get(1)
            if index is None or num is None or index not in self.dev_types:
                raise _Damage(f"field_description of undefined developer data index {index}")
            code = v.get(2)
            if code is not None and code not in BASE_TYPES:
                raise _Damage(f"field_description with unknown base type {code}")
            base = BYTE if code is None else BASE_TYPES[code]
            self.dev_types[index][num] = DevField(index, num, base, v.get(3), v.get(15))

    def body(self, pos: int, body_end: int) -> None:
        """Walk the records of one FIT file's body (the hot loop)."""
        data = self.data
        limit = min(body_end, len(data))
        defs: list = [None] * 16
        other_compressed = self.scan.other_compressed.append
        definition, special = self.definition, self.special
        while pos < body_end:
            if pos >= limit:
                raise _Damage("file truncated")
            hdr = data[pos]
            if hdr & 0x80:
                entry = defs[(hdr >> 5) & 3]
            elif hdr & 0x40:
                pos = definition(pos, limit, body_end, defs)
                continue
            else:
                entry = defs[hdr & 0x0F]
            if entry is None:
                raise _Damage(f"data message of undefined local type {hdr & 0x0F if hdr < 0x80 else (hdr >> 5) & 3}")
            start = pos + 1
            pos = start + entry[0]
            if pos > limit:
                raise _Damage("file truncated in a data message" if pos > len(data)
                              else "data message crosses the end of the data")
            if entry[1] is not None:
                entry[1](start)
            elif hdr & 0x80:
                other_compressed(start)
            if entry[2] is not None:
                special(entry[2], start, pos, entry[3])


def scan(data: bytes) -> Scan:
    """Where the messages of a FIT file (or of chained FIT files) are; see the module docstring.

    Raises FitHeaderError when the data does not start with a FIT file header.
    """
    reader = _Reader(data)
    out = reader.scan
    pos, total = 0, len(data)
    while pos < total:
        first = not out.file_starts
        problem = None
        if total - pos < 12:
            problem = "file truncated in the header"
        else:
            hsize, _, _, body_size, magic = struct.unpack_from("<BBHI4s", data, pos)
            if magic != b".FIT" or hsize < 12 or hsize == 13:
                problem = "no FIT header"
            elif pos + hsize > total:
                problem = "file truncated in the header"
        if problem:
            if first:
                raise FitHeaderError(problem)
            out.trailing = total - pos
            break
        pos += hsize
        out.file_starts.append(pos)
        reader.dev_types = {}
        try:
            reader.body(pos, pos + body_size)
        except _Damage as exc:
            out.damage = str(exc)
            break
        pos += body_size
        if pos + 2 > total:
            out.damage = "CRC missing at the end of the file"
            break
        pos += 2
    return out


def gather(u8: np.ndarray, d: Definition, offsets: np.ndarray) -> np.ndarray:
    """The payloads at `offsets` (all of definition `d`) as one structured array (dtype `d.dtype()`)."""
    dtype = d.dtype()
    if not len(offsets):
        return np.empty(0, dtype=dtype)
    windows = np.lib.stride_tricks.sliding_window_view(u8, dtype.itemsize)
    return np.ascontiguousarray(windows[offsets]).view(dtype).reshape(len(offsets))


def scalar_fields(u8: np.ndarray, definition: Definition, offsets: np.ndarray,
                  numbers: tuple[int, ...] | None = None) -> dict[int, np.ndarray]:
    """Each plain field (no developer field, one value) of the messages at `offsets`, by field number, as
    float64 with NaN where the file wrote its invalid value; the first field of a number wins. Unscaled:
    for the few message types read whole-message (laps, events) rather than through the record profile."""
    recs = gather(u8, definition, offsets)
    got: dict[int, np.ndarray] = {}
    for i, f in enumerate(definition.fields):
        if f.dev is None and f.scalar and f.num not in got and (numbers is None or f.num in numbers):
            raw = recs[f"f{i}"]
            valid = ~np.isnan(raw) if f.base.invalid is None else raw != f.base.invalid
            got[f.num] = np.where(valid, raw.astype(np.float64), np.nan)
    return got
