"""A data-only MP4 holding one timed GPMF track, for ffmpeg to copy into a video.

Why: ffmpeg can copy a GoPro telemetry track into an MP4 (`-c:d copy`; the
muxer names it handler 'meta', "GoPro MET", sample entry 'gpmd', as cameras
do), but only from an input that carries it as timed bin_data packets. Of the
containers ffmpeg reads, MP4/MOV is the one that maps a 'gpmd' sample entry to
bin_data: NUT data streams come back with no codec (which the MP4 muxer
refuses) and a raw file has no timestamps. So the payloads go into a minimal
MP4 here (one track, one sample per chunk), and ffmpeg interleaves them with
the video exactly as it does when re-muxing a camera file. The file is a valid
telemetry source on its own as well (`overdash info`, `--gpmf`).

Boxes follow ISO/IEC 14496-12 (version 0 everywhere, 32-bit offsets): ftyp,
mdat with the payloads, moov > mvhd + trak > tkhd + mdia > mdhd + hdlr +
minf > nmhd + dinf/dref + stbl > stsd ('gpmd' entry), stts, stsc, stsz, stco.
"""
from __future__ import annotations

import struct
from datetime import datetime, timezone
from typing import Sequence

from overdash.isobmff import EPOCH_1904

TIMESCALE = 1000  # media and movie time in milliseconds: GoPro's payloads last 1001 of them
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)  # identity
MAX_FILE = 2 ** 32 - 1  # stco holds 32-bit offsets


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full(kind: bytes, *parts: bytes, version: int = 0, flags: int = 0) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def _mac_time(when: datetime | None) -> int:
    """Seconds since 1904-01-01 UTC, MP4's clock; 0 (unknown) without a time."""
    if when is None:
        return 0
    seconds = int((when.astimezone(timezone.utc) - EPOCH_1904).total_seconds())
    return seconds if 0 <= seconds < 2 ** 32 else 0


def gpmd_mp4(payloads: Sequence[bytes], durations_ms: Sequence[int], *, created: datetime | None = None,
             handler_name: str = "GoPro MET") -> bytes:
    """The whole file: payload i lasts durations_ms[i] milliseconds, the first starts at 0."""
    if not payloads:
        raise ValueError("a GPMF track needs at least one payload")
    if len(durations_ms) != len(payloads):
        raise ValueError(f"{len(payloads)} payloads but {len(durations_ms)} durations")
    if any(int(d) != d or d <= 0 for d in durations_ms):
        raise ValueError("payload durations must be positive whole milliseconds")
    ftyp = _box(b"ftyp", b"mp42", struct.pack(">I", 0), b"mp42", b"isom")
    mdat_header = 8
    first = len(ftyp) + mdat_header
    offsets, pos = [], first
    for p in payloads:
        offsets.append(pos)
        pos += len(p)
    if pos > MAX_FILE:
        raise ValueError(f"{pos} bytes of telemetry: past what 32-bit chunk offsets reach")
    mdat = _box(b"mdat", *payloads)
    duration = int(sum(durations_ms))
    when = _mac_time(created)
    moov = _box(b"moov", _mvhd(when, duration), _trak(payloads, durations_ms, offsets, when, duration,
                                                        handler_name))
    return ftyp + mdat + moov


def _mvhd(when: int, duration: int) -> bytes:
    return _full(b"mvhd", struct.pack(">IIII", when, when, TIMESCALE, duration),
                 struct.pack(">IH", 0x10000, 0x100), b"\0" * 10, _MATRIX, b"\0" * 24,
                 struct.pack(">I", 2))  # next track id


def _trak(payloads, durations_ms, offsets, when: int, duration: int, handler_name: str) -> bytes:
    tkhd = _full(b"tkhd", struct.pack(">IIII", when, when, 1, 0), struct.pack(">I", duration), b"\0" * 8,
                 struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", 0, 0), flags=3)
    mdhd = _full(b"mdhd", struct.pack(">IIII", when, when, TIMESCALE, duration),
                 struct.pack(">HH", 0x55C4, 0))  # language 'und'
    hdlr = _full(b"hdlr", struct.pack(">I4s", 0, b"meta"), b"\0" * 12,
                 handler_name.encode("latin-1") + b"\0")
    dinf = _box(b"dinf", _full(b"dref", struct.pack(">I", 1), _full(b"url ", flags=1)))
    stbl = _box(b"stbl", _stsd(), _stts(durations_ms),
                _full(b"stsc", struct.pack(">IIII", 1, 1, 1, 1)),  # every chunk: one sample
                _full(b"stsz", struct.pack(">II", 0, len(payloads)),
                      struct.pack(f">{len(payloads)}I", *(len(p) for p in payloads))),
                _full(b"stco", struct.pack(">I", len(offsets)), struct.pack(f">{len(offsets)}I", *offsets)))
    minf = _box(b"minf", _full(b"nmhd"), dinf, stbl)
    return _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))


def _stsd() -> bytes:
    """One 'gpmd' sample entry: six reserved bytes and data reference 1, nothing else (as cameras write)."""
    entry = _box(b"gpmd", b"\0" * 6, struct.pack(">H", 1))
    return _full(b"stsd", struct.pack(">I", 1), entry)


def _stts(durations_ms: Sequence[int]) -> bytes:
    """Run-length (count, duration) entries."""
    runs: list[list[int]] = []
    for d in durations_ms:
        if runs and runs[-1][1] == d:
            runs[-1][0] += 1
        else:
            runs.append([1, int(d)])
    return _full(b"stts", struct.pack(">I", len(runs)), b"".join(struct.pack(">II", *r) for r in runs))
