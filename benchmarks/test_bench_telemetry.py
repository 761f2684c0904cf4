"""Loading one hour of GoPro telemetry: target about one second (issue 3).

The track is made, not stored: the 42 full payloads of hero9-rotation.gpmd
(GPS5 18 Hz, ACCL/GYRO 200 Hz, CORI/IORI/GRAV 30 Hz, 15 more streams) repeated
to 3600 payloads, with each repetition's TSMP and STMP moved on so the counts
and camera clock keep running as in a real one-hour recording.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from overlay.telemetry.gopro import load_gopro

SOURCE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gopro" / "hero9-rotation.gpmd"
PAYLOADS = 3600  # 1.001 s each: one hour


def _walk(buf: bytes, start: int, end: int, out: list[tuple[str, int]]) -> None:
    """(key, offset of the item's data) of every KLV item in document order."""
    pos = start
    while pos + 8 <= end:
        key, size, repeat = buf[pos:pos + 4].decode("latin-1"), buf[pos + 5], struct.unpack_from(">H", buf, pos + 6)[0]
        out.append((key, pos + 8))
        if buf[pos + 4] == 0:
            _walk(buf, pos + 8, pos + 8 + size * repeat, out)
        pos += 8 + (size * repeat + 3) // 4 * 4


def _payloads(buf: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos + 8 <= len(buf) and buf[pos:pos + 4] == b"DEVC":
        length = buf[pos + 5] * struct.unpack_from(">H", buf, pos + 6)[0]
        out.append(buf[pos:pos + 8 + (length + 3) // 4 * 4])
        pos += 8 + (length + 3) // 4 * 4
    return out


def make_hour_track(path: Path) -> Path:
    full = _payloads(SOURCE.read_bytes())[1:-1]  # the first and last are partial
    stamps = []
    for p in (full[0], full[-1]):
        items: list[tuple[str, int]] = []
        _walk(p, 0, len(p), items)
        stamps.append([(k, off) for k, off in items if k in ("TSMP", "STMP")])
    # per TSMP/STMP position: how far one repetition moves it (one payload period beyond the last)
    steps = []
    for (k, a), (_, b) in zip(*stamps):
        fmt = ">I" if k == "TSMP" else ">Q"
        first, last = struct.unpack_from(fmt, full[0], a)[0], struct.unpack_from(fmt, full[-1], b)[0]
        steps.append((last - first) * len(full) // (len(full) - 1))
    with open(path, "wb") as fh:
        for n in range(PAYLOADS):
            rep, payload = divmod(n, len(full))
            data = bytearray(full[payload])
            items = []
            _walk(data, 0, len(data), items)
            for (key, off), step in zip([i for i in items if i[0] in ("TSMP", "STMP")], steps):
                fmt = ">I" if key == "TSMP" else ">Q"
                struct.pack_into(fmt, data, off, struct.unpack_from(fmt, data, off)[0] + rep * step)
            fh.write(data)
    return path


@pytest.fixture(scope="module")
def hour_track(tmp_path_factory):
    if not SOURCE.exists():
        pytest.skip(f"device file missing: {SOURCE}")
    return make_hour_track(tmp_path_factory.mktemp("telemetry") / "hour.gpmd")


def test_load_one_hour(benchmark, hour_track):
    # five rounds, the first one cold: the median stays put on a busy 2-core machine
    tel = benchmark.pedantic(load_gopro, args=(hour_track,), rounds=5, iterations=1)
    assert tel["gps"].span[1] > 3500 and len(tel["accl"]) > 700_000
