"""Deliberately simple, separate readers that produce expected values for tests.

Nothing here imports overdash: these walkers re-read the bytes with plain
`struct` and Python loops, written straight from the format descriptions (ISO
BMFF boxes; GPMF KLV: key, type, struct size, repeat, 4-byte padding), so a
bug in overlay.telemetry cannot also produce the expected values.
Slow and minimal on purpose: 32-bit box sizes only, stco only, no stz2.
"""
from __future__ import annotations

import bisect
import calendar
import struct
from dataclasses import dataclass
from pathlib import Path

GPS_EPOCH = calendar.timegm((2000, 1, 1, 0, 0, 0))  # GPS9 counts days from here


# ---------------------------------------------------------------- MP4 boxes

def _children(data: bytes, start: int, end: int) -> list[tuple[str, int, int]]:
    """[(type, payload start, box end)] of the boxes between start and end (32-bit sizes)."""
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        out.append((kind.decode("latin-1"), pos + 8, pos + size))
        pos += size
    return out


def _child(data: bytes, start: int, end: int, kind: str) -> tuple[int, int] | None:
    for k, s, e in _children(data, start, end):
        if k == kind:
            return s, e
    return None


def _path(data: bytes, start: int, end: int, *kinds: str) -> tuple[int, int] | None:
    span: tuple[int, int] | None = (start, end)
    for kind in kinds:
        span = _child(data, span[0], span[1], kind) if span else None
    return span


@dataclass
class RefTrack:
    handler: str
    fourcc: str
    timescale: int
    stts: list[tuple[int, int]]  # (count, delta)
    sizes: list[int]
    offsets: list[int]  # per sample, from stco + stsc
    elst: list[tuple[int, int]]  # (segment duration in movie units, media time in track units)


@dataclass
class RefMovie:
    timescale: int
    tracks: list[RefTrack]

    def track(self, fourcc: str) -> RefTrack:
        return next(t for t in self.tracks if t.fourcc == fourcc)

    def video(self) -> RefTrack:
        return next(t for t in self.tracks if t.handler == "vide")


def read_movie(path: str | Path) -> RefMovie:
    data = Path(path).read_bytes()
    moov = _child(data, 0, len(data), "moov")
    mvhd = _child(data, moov[0], moov[1], "mvhd")
    movie_timescale = struct.unpack(">I", data[mvhd[0] + 12:mvhd[0] + 16])[0]  # version 0 layout
    tracks = []
    for kind, s, e in _children(data, moov[0], moov[1]):
        if kind != "trak":
            continue
        mdhd = _path(data, s, e, "mdia", "mdhd")
        hdlr = _path(data, s, e, "mdia", "hdlr")
        stbl = _path(data, s, e, "mdia", "minf", "stbl")
        stsd = _child(data, *stbl, "stsd")
        timescale = struct.unpack(">I", data[mdhd[0] + 12:mdhd[0] + 16])[0]
        handler = data[hdlr[0] + 8:hdlr[0] + 12].decode("latin-1")
        fourcc = data[stsd[0] + 12:stsd[0] + 16].decode("latin-1")
        stts = _entries(data, _child(data, *stbl, "stts"), 2)
        stsz = _child(data, *stbl, "stsz")
        uniform, count = struct.unpack(">II", data[stsz[0] + 4:stsz[0] + 12])
        sizes = [uniform] * count if uniform else [
            struct.unpack(">I", data[stsz[0] + 12 + 4 * i:stsz[0] + 16 + 4 * i])[0] for i in range(count)]
        chunks = [c[0] for c in _entries(data, _child(data, *stbl, "stco"), 1)]
        stsc = _entries(data, _child(data, *stbl, "stsc"), 3)
        offsets = []
        sample = 0
        for chunk_no, chunk_offset in enumerate(chunks, start=1):
            per_chunk = [spc for first, spc, _ in stsc if first <= chunk_no][-1]
            pos = chunk_offset
            for _ in range(per_chunk):
                if sample < len(sizes):
                    offsets.append(pos)
                    pos += sizes[sample]
                    sample += 1
        elst_span = _path(data, s, e, "edts", "elst")
        elst = []
        if elst_span:
            n = struct.unpack(">I", data[elst_span[0] + 4:elst_span[0] + 8])[0]
            for i in range(n):
                seg, media = struct.unpack(">Ii", data[elst_span[0] + 8 + 12 * i:elst_span[0] + 16 + 12 * i])
                elst.append((seg, media))
        tracks.append(RefTrack(handler, fourcc, timescale, stts, sizes, offsets, elst))
    return RefMovie(movie_timescale, tracks)


def _entries(data: bytes, span: tuple[int, int], width: int) -> list[tuple[int, ...]]:
    count = struct.unpack(">I", data[span[0] + 4:span[0] + 8])[0]
    return [struct.unpack(">" + "I" * width, data[span[0] + 8 + 4 * width * i:span[0] + 8 + 4 * width * (i + 1)])
            for i in range(count)]


def sample_times(track: RefTrack) -> list[tuple[float, float]]:
    """(start, duration) seconds of each sample, by adding up stts deltas."""
    out, clock = [], 0
    for count, delta in track.stts:
        for _ in range(count):
            out.append((clock / track.timescale, delta / track.timescale))
            clock += delta
    return out[:len(track.sizes)]


def _edit_shift(movie: RefMovie, track: RefTrack) -> float:
    """Movie time of media time 0: leading empty edits minus the first segment's media start."""
    gap = 0.0
    for seg, media in track.elst:
        if media == -1:
            gap += seg / movie.timescale
        else:
            return gap - media / track.timescale
    return gap


def payload_times(path: str | Path) -> list[tuple[float, float]]:
    """(start, duration) of each GPMF payload on the video timeline (video's first shown frame = 0)."""
    movie = read_movie(path)
    gpmd = movie.track("gpmd")
    # the video's leading empty edits delay its first frame; everything is measured from that frame
    video_start = 0.0
    for seg, media in movie.video().elst:
        if media != -1:
            break
        video_start += seg / movie.timescale
    shift = _edit_shift(movie, gpmd) - video_start
    return [(s + shift, d) for s, d in sample_times(gpmd)]


def user_data(path: str | Path, kind: str) -> bytes:
    """Payload of the box moov/udta/<kind>."""
    data = Path(path).read_bytes()
    span = _path(data, 0, len(data), "moov", "udta", kind)
    return data[span[0]:span[1]]


def payloads(path: str | Path) -> list[bytes]:
    data = Path(path).read_bytes()
    gpmd = read_movie(path).track("gpmd")
    return [data[o:o + n] for o, n in zip(gpmd.offsets, gpmd.sizes)]


# ---------------------------------------------------------------- GPMF KLV

@dataclass
class Item:
    key: str
    type: str
    size: int
    repeat: int
    data: bytes
    offset: int  # of the item header in the walked buffer
    depth: int


def walk(buf: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> list[Item]:
    """Every KLV item in document order, containers before their contents."""
    end = len(buf) if end is None else end
    out, pos = [], start
    while pos + 8 <= end:
        key = buf[pos:pos + 4].decode("latin-1")
        type_char = chr(buf[pos + 4])
        size = buf[pos + 5]
        repeat = struct.unpack(">H", buf[pos + 6:pos + 8])[0]
        length = size * repeat
        out.append(Item(key, type_char, size, repeat, buf[pos + 8:pos + 8 + length], pos, depth))
        if buf[pos + 4] == 0:
            out.extend(walk(buf, pos + 8, pos + 8 + length, depth + 1))
        pos += 8 + length + (-length % 4)
    return out


def strm_items(buf: bytes, key: str) -> list[list[Item]]:
    """For each STRM holding `key`: its items (properties and data) in order."""
    items = walk(buf)
    groups, current = [], None
    for item in items:
        if item.key == "STRM":
            current = []
            groups.append(current)
        elif current is not None and item.depth >= 2:
            current.append(item)
    return [g for g in groups if any(i.key == key for i in g)]


def _values(item: Item) -> list:
    """Plain per-value decode for the few property types the tests look at."""
    if item.type in "cUF":
        return [item.data.split(b"\0")[0].decode("latin-1")]
    fmt = {"l": "i", "L": "I", "s": "h", "S": "H", "f": "f", "B": "B", "b": "b", "J": "Q", "j": "q"}[item.type]
    width = struct.calcsize(fmt)
    return [struct.unpack(">" + fmt, item.data[i:i + width])[0] for i in range(0, len(item.data), width)]


def stream_props(buf: bytes, key: str) -> dict[str, list]:
    """Properties of the first STRM holding `key` (GPSU, GPSF, GPSP, SCAL, ORIN, ...)."""
    group = strm_items(buf, key)[0]
    return {i.key: _values(i) for i in group if i.key != key}


def gps5_raw(buf: bytes) -> tuple[list[tuple[int, ...]], list[int]]:
    """GPS5 samples as raw int32 5-tuples and the SCAL divisors (int32 or int16 SCAL)."""
    group = strm_items(buf, "GPS5")
    if not group:
        return [], []
    rows: list[tuple[int, ...]] = []
    scal: list[int] = []
    for item in group[0]:
        if item.key == "SCAL":
            scal = _values(item)
        elif item.key == "GPS5":
            rows += [struct.unpack(">5i", item.data[20 * i:20 * i + 20]) for i in range(item.repeat)]
    return rows, scal


def gps9_raw(buf: bytes) -> tuple[list[tuple[int, ...]], list[int]]:
    """GPS9 samples: the TYPE in every sample file is 'lllllllSS' (7 int32, 2 uint16 = 32 bytes)."""
    group = strm_items(buf, "GPS9")
    if not group:
        return [], []
    rows: list[tuple[int, ...]] = []
    scal: list[int] = []
    for item in group[0]:
        if item.key == "TYPE":
            assert item.data.rstrip(b"\0") == b"lllllllSS", item.data
        elif item.key == "SCAL":
            scal = _values(item)
        elif item.key == "GPS9":
            rows += [struct.unpack(">7i2H", item.data[32 * i:32 * i + 32]) for i in range(item.repeat)]
    return rows, scal


def raw_payloads(path: str | Path) -> list[bytes]:
    """Top-level DEVC containers of a raw GPMF file (each sample file has one device)."""
    buf = Path(path).read_bytes()
    return [buf[i.offset:i.offset + 8 + len(i.data)] for i in walk(buf) if i.depth == 0]


def gpsu_seconds(text: str) -> float:
    """GPSU 'yymmddhhmmss.sss' to POSIX seconds."""
    whole = calendar.timegm((2000 + int(text[0:2]), int(text[2:4]), int(text[4:6]),
                             int(text[6:8]), int(text[8:10]), 0))
    return whole + float(text[10:])


# ---------------------------------------------------------------- end-to-end helper

def gps5_speed_at(mp4_path: str | Path, t_seconds: float) -> float:
    """GPS5 2D speed (m/s) at video time t, linearly interpolated, from bytes alone.

    Sample times by expected_times below (payload times from stts on the video
    timeline, after edit lists). Outside the first/last sample the end value is
    returned (like numpy.interp).
    """
    loaded = payloads(mp4_path)
    times = expected_times(loaded, payload_times(mp4_path), "GPS5")
    speeds: list[float] = []
    for payload in loaded:
        rows, scal = gps5_raw(payload)
        divisor = scal[3] if len(scal) > 1 else scal[0]
        speeds += [row[3] / divisor for row in rows]
    if t_seconds <= times[0]:
        return speeds[0]
    if t_seconds >= times[-1]:
        return speeds[-1]
    j = bisect.bisect_right(times, t_seconds)
    t0, t1 = times[j - 1], times[j]
    return speeds[j - 1] + (speeds[j] - speeds[j - 1]) * (t_seconds - t0) / (t1 - t0)


# ---------------------------------------------------------------- timing (GPMF spec method)
# Plain-Python restatement of the rule the GPMF README gives ("compare the TSMP of the
# first payload with the last ... with the time of the video track"): sample number c of a
# stream is at a + c * period, a and period by least squares over the file. With STMP
# (camera µs clock of each payload's first sample) the line is fitted on the camera clock,
# and one camera->video line per file is fitted on all timestamped streams together.

TIMED = ("GPS5", "GPS9", "ACCL", "GYRO", "GRAV", "MAGN", "CORI", "IORI")


def stream_parts(payload: bytes, key: str) -> tuple[int, int | None, int | None] | None:
    """(samples, TSMP, STMP µs) of `key` in one payload; None when absent."""
    groups = strm_items(payload, key)
    if not groups:
        return None
    group = groups[0]
    count = sum(i.repeat for i in group if i.key == key)
    props = {i.key: _values(i)[0] for i in group if i.key in ("TSMP", "STMP")}
    return count, props.get("TSMP"), props.get("STMP")


def least_squares(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """(intercept, slope) of the line y = intercept + slope * x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - slope * mx, slope


def raw_payload_times(payloads: list[bytes]) -> list[tuple[float, float]]:
    """Raw files: ACCL STMP (µs) differences when every payload has it, else 1.001 s slots."""
    stamps = [(stream_parts(p, "ACCL") or (0, None, None))[2] for p in payloads]
    if len(payloads) < 2 or None in stamps:
        return [(1.001 * k, 1.001) for k in range(len(payloads))]
    starts = [(s - stamps[0]) / 1e6 for s in stamps]
    diffs = sorted(b - a for a, b in zip(starts, starts[1:]))
    median = diffs[len(diffs) // 2] if len(diffs) % 2 else (diffs[len(diffs) // 2 - 1] + diffs[len(diffs) // 2]) / 2
    return [(s, (starts[k + 1] - s) if k + 1 < len(starts) else median) for k, s in enumerate(starts)]


def expected_times(payloads: list[bytes], times: list[tuple[float, float]], key: str) -> list[float]:
    """Video time of every sample of `key`, payload order."""
    def parts(k: str) -> list[tuple[int, int, int | None, int | None]]:
        return [(i, *found) for i, p in enumerate(payloads) if (found := stream_parts(p, k)) is not None]

    def before(rows):  # first sample number of each payload
        if all(r[2] is not None for r in rows):
            b = [r[2] - r[1] for r in rows]
            return [x - b[0] for x in b]
        out, c = [], 0
        for r in rows:
            out.append(c)
            c += r[1]
        return out

    def stamped(rows):
        return all(r[3] is not None for r in rows) and all(b[3] > a[3] for a, b in zip(rows, rows[1:]))

    rows = parts(key)
    b = before(rows)
    index = [b[j] + i for j, r in enumerate(rows) for i in range(r[1])]
    pooled = [r for k in TIMED for r in [parts(k)] if r and sum(x[1] for x in r) and stamped(r)]
    if pooled and stamped(rows):
        cam = [r[3] / 1e6 for rs in pooled for r in rs]
        vid = [times[r[0]][0] for rs in pooled for r in rs]
        if max(len(rs) for rs in pooled) > 1:
            offset, scale = least_squares(cam, vid)
        else:
            offset, scale = sum(v - c for v, c in zip(vid, cam)) / len(cam), 1.0
        if len(rows) > 1:
            t0, period = least_squares(b, [r[3] / 1e6 for r in rows])
        else:
            t0 = rows[0][3] / 1e6
            period = times[rows[0][0]][1] / rows[0][1] / scale
        return [offset + scale * (t0 + c * period) for c in index]
    xs = b + [b[-1] + rows[-1][1]]
    ys = [times[r[0]][0] for r in rows] + [times[rows[-1][0]][0] + times[rows[-1][0]][1]]
    t0, period = least_squares(xs, ys)
    return [t0 + c * period for c in index]


def scaled_rows(payload: bytes, key: str) -> list[tuple[float, ...]]:
    """Samples of a single-type stream ('s' or 'f'), each element divided by SCAL (one value)."""
    groups = strm_items(payload, key)
    if not groups:
        return []
    rows: list[tuple[float, ...]] = []
    scal = 1.0
    for item in groups[0]:
        if item.key == "SCAL":
            scal = _values(item)[0]
        elif item.key == key:
            fmt = {"s": "h", "f": "f"}[item.type]
            width = item.size // struct.calcsize(fmt)
            for i in range(item.repeat):
                raw = struct.unpack(">" + fmt * width, item.data[i * item.size:(i + 1) * item.size])
                rows.append(tuple(v / scal for v in raw))
    return rows
