"""Loading a FIT file of one million records: target a few seconds (issue 4).

The file is made, not stored: the Karoo's ride (ride-2021-09-24-karoo.fit, 8600
record messages under ~60 big-endian definitions, events and device_info
between them) repeated with every timestamp moved on by the ride's length, so
the clock keeps running, until there are one million records; the file_id and
developer data messages only once, a correct header and CRC. Made once and kept
in the benchmark cache directory (the CRC takes a few seconds in Python).
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from overlay.telemetry.fit import load_fit

SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fit" / "ride-2021-09-24-karoo.fit"
RECORDS = 1_000_000

_TABLE = []
for _i in range(256):  # CRC-16/ARC, the FIT CRC, a byte at a time
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0xA001 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc16(data: bytes, crc: int = 0) -> int:
    table = _TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def fit_file(body: bytes, profile: int = 2132) -> bytes:
    """A 14-byte header, the body, the CRC."""
    header = struct.pack("<BBHI4s", 14, 0x20, profile, len(body), b".FIT")
    header += struct.pack("<H", crc16(header))
    return header + body + struct.pack("<H", crc16(header + body))


def _messages(source: Path) -> list[tuple[bytes, int | None, int, str, bool]]:
    """(raw bytes, global number or None for a definition, timestamp offset or -1, endianness, is record)."""
    import fitdecode

    out = []
    with fitdecode.FitReader(str(source), processor=None, keep_raw_chunks=True) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDefinitionMessage):
                out.append((frame.chunk.bytes, None, -1, frame.endian, False))
            elif isinstance(frame, fitdecode.FitDataMessage):
                d, pos, ts = frame.def_mesg, 1, -1
                for fd in d.field_defs:
                    if fd.def_num == 253 and fd.size == 4:
                        ts = pos
                    pos += fd.size
                out.append((frame.chunk.bytes, frame.global_mesg_num, ts, d.endian, frame.global_mesg_num == 20))
    return out


def make_big_fit(path: Path, records: int = RECORDS, source: Path = SOURCE) -> Path:
    msgs = _messages(source)
    template = b"".join(m[0] for m in msgs)
    starts = np.cumsum([0] + [len(m[0]) for m in msgs[:-1]])
    stamps = [(int(s) + m[2], m[3]) for s, m in zip(starts, msgs) if m[2] >= 0]
    first = min(struct.unpack_from(e + "I", template, p)[0] for p, e in stamps)
    last = max(struct.unpack_from(e + "I", template, p)[0] for p, e in stamps)
    step = last - first + 1
    per_rep = sum(m[4] for m in msgs)
    later = np.array([m[1] not in (0, 206, 207) for m in msgs])  # file_id, developer data: first copy only
    parts, count, rep = [], 0, 0
    big = np.array([p for p, e in stamps if e == ">"], dtype=np.int64)
    little = np.array([p for p, e in stamps if e == "<"], dtype=np.int64)
    while count < records:
        block = np.frombuffer(template, dtype=np.uint8).copy()
        for pos, dt in ((big, ">u4"), (little, "<u4")):
            if len(pos):
                idx = pos[:, None] + np.arange(4)
                block[idx] = (block[idx].copy().view(dt).ravel() + rep * step).astype(dt).view(np.uint8).reshape(-1, 4)
        keep = later if rep else np.ones(len(msgs), dtype=bool)
        if count + per_rep > records:  # the last copy: only as many records as still needed
            is_record = np.array([m[4] for m in msgs])
            cut = int(np.searchsorted(np.cumsum(is_record), records - count)) + 1
            keep = keep & (np.arange(len(msgs)) < cut)
        chunks = np.split(block, starts[1:])
        parts.append(b"".join(c.tobytes() for c, k in zip(chunks, keep) if k))
        count += min(per_rep, records - count)
        rep += 1
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(fit_file(b"".join(parts)))
    tmp.replace(path)
    return path


@pytest.fixture(scope="module")
def million_fit():
    from benchmarks.clips import cache_dir

    if not SOURCE.exists():
        pytest.skip("shared test data not present")
    path = cache_dir() / f"karoo-x{RECORDS}.fit"
    return path if path.exists() else make_big_fit(path)


def test_load_million_record_fit(benchmark, million_fit):
    tel = benchmark.pedantic(load_fit, args=(million_fit,), rounds=3, iterations=1)
    assert len(tel["gps"]) == RECORDS and not tel.notes
