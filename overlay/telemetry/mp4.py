"""A small ISO-BMFF (MP4/MOV) index reader: tracks and sample tables, never media data.

Telemetry lives in its own MP4 track; to find each GPMF payload and its time we
need only box headers and the sample tables of `moov`. `mdat` is skipped by
seeking, so a 4 GB video costs a few kilobytes of reading. Sample tables are
resolved into numpy arrays (one row per sample) so no caller loops per sample.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping

import numpy as np

from overdash import InputError
from overdash.isobmff import EPOCH_1904
from overdash.isobmff import boxes as _boxes
from overdash.isobmff import read_moov as _read_moov

_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}


@dataclass(frozen=True, eq=False)
class SampleTable:
    """Per-sample file offset and size (bytes), start and duration (seconds, media time)."""

    offsets: np.ndarray
    sizes: np.ndarray
    starts: np.ndarray
    durations: np.ndarray

    def __len__(self) -> int:
        return len(self.sizes)


@dataclass(frozen=True)
class Edit:
    """One edit-list entry. `media_time` is None for an empty edit (a gap)."""

    duration: float  # seconds of movie time
    media_time: float | None  # seconds of media time where the segment starts
    rate: float = 1.0


@dataclass(frozen=True)
class Track:
    track_id: int
    handler: str  # 'vide', 'soun', 'meta', 'tmcd', ...
    name: str  # hdlr name, e.g. 'GoPro MET'
    fourcc: str  # first sample entry: 'avc1', 'mp4a', 'gpmd', 'tmcd', ...
    timescale: int
    duration: float  # seconds, media time (mdhd)
    edits: tuple[Edit, ...]
    samples: SampleTable = field(repr=False)

    @property
    def frame_count(self) -> int:
        return len(self.samples)

    @property
    def movie_offset(self) -> float:
        """Seconds to add to a media time to get movie time (empty edits minus media start).

        Only the first non-empty edit is honoured: GoPro and ffmpeg write at most
        one gap plus one segment; multi-segment edits would need a piecewise map.
        """
        gap = 0.0
        for edit in self.edits:
            if edit.media_time is None:
                gap += edit.duration
            else:
                return gap - edit.media_time
        return gap

    @property
    def presentation_start(self) -> float:
        """Movie time at which this track starts presenting (its first empty edits)."""
        gap = 0.0
        for edit in self.edits:
            if edit.media_time is not None:
                break
            gap += edit.duration
        return gap


@dataclass(frozen=True)
class Movie:
    path: str
    timescale: int
    duration: float  # seconds (mvhd)
    creation_time: datetime | None  # as written; GoPro writes local time labelled UTC
    tracks: tuple[Track, ...]
    user_data: Mapping[str, bytes] = field(default_factory=dict, repr=False)  # moov/udta children
    size: int = 0  # bytes in the file

    def find(self, handler: str | None = None, fourcc: str | None = None) -> Track | None:
        """First track matching handler type and/or sample-entry fourcc."""
        for track in self.tracks:
            if (handler is None or track.handler == handler) and (fourcc is None or track.fourcc == fourcc):
                return track
        return None

    @property
    def video(self) -> Track | None:
        return self.find(handler="vide")

    def video_cut(self) -> tuple[int, int] | None:
        """(frames whole in the file, frames the index lists) when the video's data runs past the
        end of the file, else None. A file whose index comes first (moved there by `-movflags
        +faststart`, or an editor's export) keeps it when a copy or download stops early: ffmpeg
        then decodes what is there and the rest goes missing without an error. (A camera writes
        its index last: cut short, the file has none, and read_mp4 says so.)"""
        video = self.video
        if video is None or not len(video.samples) or not self.size:
            return None
        whole = int(np.count_nonzero(video.samples.offsets + video.samples.sizes <= self.size))
        return None if whole == len(video.samples) else (whole, len(video.samples))


def read_mp4(path: str | os.PathLike) -> Movie:
    """Read the index of an MP4/MOV file. Raises InputError if it is not one."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            moov = _read_moov(fh, size, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return _parse_moov(moov, str(path), size)


def _index(buf: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """Map box path (b'mdia/minf/stbl/stsz') to its payload span; first occurrence wins."""
    found: dict[bytes, tuple[int, int]] = {}

    def walk(s: int, e: int, prefix: bytes) -> None:
        for kind, ps, pe in _boxes(buf, s, e):
            key = prefix + kind
            found.setdefault(key, (ps, pe))
            if kind in _CONTAINERS and kind != b"udta":
                walk(ps, pe, key + b"/")

    walk(start, end, b"")
    return found


def _parse_moov(moov: bytes, path: str, limit: int) -> Movie:
    try:
        timescale, duration, created = 1, 0.0, None
        tracks: list[Track] = []
        user_data: dict[str, bytes] = {}
        for kind, ps, pe in _boxes(moov, 0, len(moov)):
            if kind == b"mvhd":
                timescale, duration, created = _mvhd(moov, ps)
            elif kind == b"udta":
                for sub, ss, se in _boxes(moov, ps, pe):
                    user_data.setdefault(sub.decode("latin-1"), moov[ss:se])
            elif kind == b"trak":
                track = _track(moov, ps, pe, timescale, limit)
                if track is not None:
                    tracks.append(track)
    except (ValueError, struct.error, IndexError, OverflowError) as exc:  # Overflow: a date past year 9999
        raise InputError(f"{path}: corrupt MP4/MOV index ({exc})") from exc
    return Movie(path, timescale, duration, created, tuple(tracks), user_data, limit)


def _mvhd(buf: bytes, pos: int) -> tuple[int, float, datetime | None]:
    version = buf[pos]
    if version == 1:
        created, _, timescale, duration = struct.unpack_from(">QQIQ", buf, pos + 4)
    else:
        created, _, timescale, duration = struct.unpack_from(">IIII", buf, pos + 4)
    when = EPOCH_1904 + timedelta(seconds=created) if created else None
    return timescale, duration / timescale if timescale else 0.0, when


def _track(buf: bytes, start: int, end: int, movie_timescale: int, limit: int) -> Track | None:
    idx = _index(buf, start, end)
    need = (b"tkhd", b"mdia/mdhd", b"mdia/hdlr", b"mdia/minf/stbl/stsd")
    if any(k not in idx for k in need):
        return None
    tkhd = idx[b"tkhd"][0]
    track_id = struct.unpack_from(">I", buf, tkhd + (20 if buf[tkhd] == 1 else 12))[0]
    mdhd = idx[b"mdia/mdhd"][0]
    if buf[mdhd] == 1:
        timescale, duration = struct.unpack_from(">IQ", buf, mdhd + 20)
    else:
        timescale, duration = struct.unpack_from(">II", buf, mdhd + 12)
    if timescale == 0:
        raise ValueError(f"track {track_id} has timescale 0")
    hs, he = idx[b"mdia/hdlr"]
    handler = buf[hs + 8:hs + 12].decode("latin-1")
    name = _handler_name(buf[hs + 24:he])
    ss, se = idx[b"mdia/minf/stbl/stsd"]
    fourcc = buf[ss + 12:ss + 16].decode("latin-1") if se - ss >= 16 else ""
    edits = _elst(buf, idx.get(b"edts/elst"), movie_timescale, timescale)
    samples = _sample_table(buf, idx, timescale, limit)
    return Track(track_id, handler, name, fourcc, timescale, duration / timescale, edits, samples)


def _handler_name(raw: bytes) -> str:
    """hdlr name: a C string in MP4, a Pascal (length-prefixed) string in QuickTime."""
    if raw and raw[0] < 32 and raw[0] < len(raw):  # a C string does not start with a control byte
        raw = raw[1:1 + raw[0]]
    return raw.split(b"\0")[0].decode("latin-1").strip()


def _elst(buf: bytes, span: tuple[int, int] | None, movie_ts: int, media_ts: int) -> tuple[Edit, ...]:
    if span is None:
        return ()
    pos = span[0]
    version = buf[pos]
    count = struct.unpack_from(">I", buf, pos + 4)[0]
    fmt, step = (">QqhH", 20) if version == 1 else (">IihH", 12)
    edits = []
    for i in range(count):
        seg, media, rate_int, rate_frac = struct.unpack_from(fmt, buf, pos + 8 + i * step)
        media_time = None if media == -1 else media / media_ts
        edits.append(Edit(seg / movie_ts, media_time, rate_int + rate_frac / 65536))
    return tuple(edits)


def _table(buf: bytes, span: tuple[int, int], dtype: str, columns: int, skip: int = 4) -> np.ndarray:
    """A full-box table: version/flags, (skip-4 more header bytes), entry count, then rows."""
    pos = span[0] + skip
    count = struct.unpack_from(">I", buf, pos)[0]
    rows = np.frombuffer(buf, dtype=dtype, count=count * columns, offset=pos + 4)
    return rows.reshape(count, columns).astype(np.int64)


def _sample_table(buf: bytes, idx: dict[bytes, tuple[int, int]], timescale: int, limit: int) -> SampleTable:
    """`limit`: the file's size in bytes, which no table may describe more samples than."""
    stbl = b"mdia/minf/stbl/"
    sizes = _sizes(buf, idx, stbl, limit)
    n = len(sizes)
    if stbl + b"stts" in idx:
        stts = _table(buf, idx[stbl + b"stts"], ">u4", 2)
        deltas = np.repeat(stts[:, 1], _upto(stts[:, 0], n))
    else:
        deltas = np.zeros(0, dtype=np.int64)
    if len(deltas) < n:  # a short stts: repeat the last duration
        deltas = np.concatenate([deltas, np.full(n - len(deltas), deltas[-1] if len(deltas) else 0)])
    starts = np.concatenate([[0], np.cumsum(deltas)[:-1]]) if n else np.zeros(0, dtype=np.int64)
    offsets = _offsets(buf, idx, stbl, sizes)
    if len(offsets) < n:
        raise ValueError(f"chunk tables describe {len(offsets)} samples, sample sizes {n}")
    return SampleTable(offsets[:n], sizes, starts / timescale, deltas / timescale)


def _upto(counts: np.ndarray, total: int) -> np.ndarray:
    """Run lengths cut so they add up to at most `total`: a corrupt table's counts (up to
    2^32 each) must not be expanded before the sample count cuts them."""
    ends = np.minimum(np.cumsum(counts), total)
    return np.diff(np.concatenate([[0], ends]))


def _sizes(buf: bytes, idx: dict[bytes, tuple[int, int]], stbl: bytes, limit: int) -> np.ndarray:
    if stbl + b"stsz" in idx:
        pos = idx[stbl + b"stsz"][0]
        uniform, count = struct.unpack_from(">II", buf, pos + 4)
        if uniform:
            if count * uniform > limit:
                raise ValueError(f"stsz: {count} samples of {uniform} bytes, more than the file's {limit}")
            return np.full(count, uniform, dtype=np.int64)
        return np.frombuffer(buf, ">u4", count, pos + 12).astype(np.int64)
    if stbl + b"stz2" in idx:
        pos = idx[stbl + b"stz2"][0]
        field_size, count = buf[pos + 7], struct.unpack_from(">I", buf, pos + 8)[0]
        if field_size == 4:
            packed = np.frombuffer(buf, np.uint8, (count + 1) // 2, pos + 12)
            return np.stack([packed >> 4, packed & 15], axis=1).reshape(-1)[:count].astype(np.int64)
        dtype = {8: ">u1", 16: ">u2"}.get(field_size)
        if dtype is None:
            raise ValueError(f"stz2 field size {field_size}")
        return np.frombuffer(buf, dtype, count, pos + 12).astype(np.int64)
    return np.zeros(0, dtype=np.int64)


def _offsets(buf: bytes, idx: dict[bytes, tuple[int, int]], stbl: bytes, sizes: np.ndarray) -> np.ndarray:
    """Per-sample file offsets from chunk offsets (stco/co64) and samples-per-chunk (stsc)."""
    if stbl + b"stco" in idx:
        chunks = _table(buf, idx[stbl + b"stco"], ">u4", 1)[:, 0]
    elif stbl + b"co64" in idx:
        chunks = _table(buf, idx[stbl + b"co64"], ">u8", 1)[:, 0]
    else:
        return np.zeros(0, dtype=np.int64)
    if stbl + b"stsc" not in idx or not len(chunks):
        return np.zeros(0, dtype=np.int64)
    stsc = _table(buf, idx[stbl + b"stsc"], ">u4", 3)
    first = (stsc[:, 0] - 1).clip(0, len(chunks))  # 0-based first chunk of each run
    run_len = _upto(np.diff(np.append(first, len(chunks))).clip(min=0), len(chunks))  # unsorted runs: no more
    per_chunk = _upto(np.repeat(stsc[:, 1], run_len), len(sizes))  # samples in each chunk
    chunk_of = np.repeat(np.arange(len(per_chunk)), per_chunk)[: len(sizes)]
    n = len(chunk_of)
    before = np.concatenate([[0], np.cumsum(sizes[:n])[:-1]]) if n else np.zeros(0, dtype=np.int64)
    chunk_first = (np.cumsum(per_chunk) - per_chunk)[chunk_of]  # first sample index of the chunk
    return chunks[chunk_of] + before - before[chunk_first]
