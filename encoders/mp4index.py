"""VideoInfo read from an MP4's index alone, for the files whose facts the index settles.

ffprobe costs every render ~0.08 CPU-s and ~90 ms, most of it loading ffmpeg's ~200 shared
libraries, and then decodes a few frames to learn what the index already says. For H.264 in
MP4/MOV, as GoPro cameras and ffmpeg write it, every fact VideoInfo holds is in the 'moov' box
and the stream's SPS. This module reads them and gives exactly what ffprobe's JSON would give
through `probe.video_info_from_json`, or None for anything it does not model, and the caller then
runs ffprobe:

* other codecs (HEVC's SPS is not parsed), 10-bit, 4:2:2, interlaced, or left/top cropping;
* colour it cannot settle the way ffmpeg's decoder does (the SPS's VUI wins over the 'colr' box);
* an edit list other than one whole segment starting at the first frame, so the video's first
  frame is at 0 and every stream starts there; variable frame durations; a rotation matrix;
* cover art or chapter pictures (ffmpeg adds or marks them as picture streams), fragments,
  several sample descriptions;
* audio other than AAC in an 'mp4a' entry; a timecode track ffmpeg would read differently.

tests/encoders/test_mp4index.py holds it to ffprobe on the real camera file and on generated ones.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

from encoders.h264sps import parse_avcc
from encoders.probe import MAX_SANE_FPS, TIMECODE_FORMAT, VideoInfo
from overdash import InputError
from overdash.isobmff import EPOCH_1904, boxes, read_moov

_IDENTITY = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# matrix_coefficients (H.273) as ffprobe names them; 0 (GBR) and 8 (YCgCo) change the pixel format.
_MATRICES = {1: "bt709", 2: None, 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
             9: "bt2020nc", 10: "bt2020c"}
_VIDEO_CHILDREN = {b"avcC", b"colr", b"pasp", b"btrt"}
_MOOV_CHILDREN = {b"mvhd", b"trak", b"udta", b"iods", b"free", b"skip", b"wide"}
_TIMECODE_RATES = {24, 25, 30, 48, 50, 60, 100, 120, 150}
_REORDER_DEPTH = 16  # samples checked for a presentation time before the first frame's


@dataclass(frozen=True)
class _Trak:
    handler: str
    fourcc: bytes
    entry: bytes                  # the one sample entry's payload, after its 8-byte header
    timescale: int
    duration: int                 # mdhd, in timescale units
    created: int                  # mdhd creation time, seconds since 1904 (0: none)
    matrix: bytes
    edits: tuple[tuple[int, int, int], ...]   # (segment, media_time, rate 16.16) per elst entry
    stts: tuple[tuple[int, int], ...]
    offsets: tuple[int, ...]      # ctts sample offsets of the first samples (all zero without ctts)
    samples: int                  # stsz/stz2 count
    uniform_size: bool            # stsz gives one size for every sample (never so for video frames)
    first_chunk: int | None       # file offset of the first chunk


class _Unsettled(Exception):
    """The index does not settle a fact the way ffprobe would: ask ffprobe."""


def read_index_facts(path) -> VideoInfo | None:
    """VideoInfo from the file's MP4 index, or None: not an MP4, or not a case this module settles."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            moov = read_moov(fh, size, path)
            return _facts(path, moov, fh, size)
    except (OSError, InputError, ValueError, ZeroDivisionError, struct.error, IndexError, OverflowError,
            _Unsettled):
        return None


def _facts(path: Path, moov: bytes, fh, size: int) -> VideoInfo:
    mvhd, traks = None, []
    for kind, ps, pe in boxes(moov, 0, len(moov)):
        _settle(kind in _MOOV_CHILDREN, "moov child")
        if kind == b"mvhd":
            mvhd = (ps, pe)
        elif kind == b"trak":
            traks.append(_trak(moov, ps, pe))
        elif kind == b"udta":
            _settle(b"covr" not in moov[ps:pe], "cover art")
            _user_data(moov, ps, pe)
    if mvhd is None or not traks:
        raise _Unsettled("no mvhd or tracks")
    movie_scale, movie_created, movie_matrix = _mvhd(moov, *mvhd)
    videos = [i for i, t in enumerate(traks) if t.handler == "vide"]
    _settle(bool(videos), "no video track")
    index = videos[0]
    video = traks[index]
    for t in traks:
        _settle(_starts_at_zero(t, movie_scale, t is video), "a stream does not start at 0")
    _settle(video.fourcc == b"avc1" and video.matrix == _IDENTITY and movie_matrix == _IDENTITY, "codec/matrix")
    _settle(len(video.stts) == 1 and video.stts[0][0] == video.samples > 0, "frame durations")
    _settle(not video.uniform_size, "video frames all of one size")
    count, delta = video.stts[0]
    _settle(video.duration == count * delta, "media duration")
    fps = Fraction(video.timescale, delta)
    _settle(0 < fps <= MAX_SANE_FPS, "frame rate")
    width, height, pix_fmt, color_range, color_space = _picture(video.entry)
    audio = next((t for t in traks if t.handler == "soun"), None)
    gpmd = next((i for i, t in enumerate(traks) if t.fourcc == b"gpmd"), None)
    tmcd = next((i for i, t in enumerate(traks) if t.fourcc == b"tmcd"), None)
    return VideoInfo(
        path=path, width=width, height=height, fps_num=fps.numerator, fps_den=fps.denominator,
        frame_count=count, duration=float(f"{video.duration * (1.0 / video.timescale):f}"), start_time=0.0,
        has_audio=audio is not None, audio_codec=_audio_codec(audio) if audio else None,
        video_codec="h264", pix_fmt=pix_fmt,
        creation_time=_creation(movie_created) or _creation(video.created),
        rotation=0, gpmd_stream=gpmd, video_stream=index, format_start_time=0.0,
        color_range=color_range, color_space=color_space,
        timecode=_timecode(traks, fh, size), timecode_stream=tmcd)


def _user_data(buf: bytes, start: int, end: int) -> None:
    """ValueError unless 'udta' is a well-formed tree down to its metadata items, which ffmpeg
    reads for tags and chapters: one that runs past its box ends ffprobe with an error."""
    for kind, ps, pe in boxes(buf, start, end):
        if kind == b"HMMT":  # GoPro's HiLight tags, which ffmpeg reads as chapters: a count, then times
            _settle(pe - ps >= 4 and struct.unpack_from(">I", buf, ps)[0] <= (pe - ps) // 4, "HiLight count")
        _settle(kind != b"loci", "location box")
        if kind != b"meta":
            continue
        hdlr = buf.find(b"hdlr", ps, pe)  # ISO 'meta' has version and flags first, QuickTime's not
        _settle(hdlr >= ps + 4, "meta without hdlr")
        for sub, ss, se in boxes(buf, hdlr - 4, pe):
            if sub == b"ilst":
                for _, item_start, item_end in boxes(buf, ss, se):
                    for _ in boxes(buf, item_start, item_end):
                        pass


def _settle(condition, what: str) -> None:
    if not condition:
        raise _Unsettled(what)


def _mvhd(buf: bytes, ps: int, pe: int) -> tuple[int, int, bytes]:
    _settle(buf[ps] <= 1, "mvhd version")
    if buf[ps] == 1:
        created, _, scale = struct.unpack_from(">QQI", buf, ps + 4)
        matrix_at = ps + 4 + 28 + 4 + 2 + 10
    else:
        created, _, scale = struct.unpack_from(">III", buf, ps + 4)
        matrix_at = ps + 4 + 16 + 4 + 2 + 10
    _settle(scale > 0 and matrix_at + 36 <= pe, "mvhd")
    return scale, created, buf[matrix_at:matrix_at + 36]


def _trak(buf: bytes, start: int, end: int) -> _Trak:
    found: dict[bytes, tuple[int, int]] = {}
    twice: set[bytes] = set()

    def walk(s: int, e: int, prefix: bytes) -> None:
        for kind, ps, pe in boxes(buf, s, e):
            key = prefix + kind
            if key in found:
                twice.add(key)
            found.setdefault(key, (ps, pe))
            if kind in (b"mdia", b"minf", b"stbl", b"edts", b"dinf"):
                walk(ps, pe, key + b"/")

    walk(start, end, b"")
    stbl = b"mdia/minf/stbl/"
    _settle(not twice & {b"tkhd", b"edts", b"edts/elst", b"mdia", b"mdia/mdhd", b"mdia/hdlr", b"mdia/minf",
                         b"mdia/minf/stbl", *(stbl + k for k in (b"stsd", b"stts", b"ctts", b"stsc", b"stsz",
                                                                 b"stz2", b"stco", b"co64"))}, "a box twice")
    for need in (b"tkhd", b"mdia/mdhd", b"mdia/hdlr", stbl + b"stsd", stbl + b"stts", stbl + b"stsc"):
        _settle(need in found, "missing box")
    if b"mdia/minf/dinf/dref" in found:  # one self-contained reference: ffmpeg refuses a broken list
        ps, pe = found[b"mdia/minf/dinf/dref"]
        _settle(buf[ps + 4:ps + 12] == b"\0\0\0\1\0\0\0\x0c" and pe - ps == 8 + 12
                and buf[ps + 12:ps + 16] in (b"url ", b"alis") and buf[ps + 19] & 1, "data reference")
    if b"udta" in found:
        _user_data(buf, *found[b"udta"])
    if b"tref" in found:  # a chapter track ('chap') that is video becomes a picture stream in ffmpeg
        _settle(b"chap" not in buf[slice(*found[b"tref"])], "chapter track")
    for box in (b"tkhd", b"mdia/mdhd", b"edts/elst"):  # ffmpeg reads versions 0 and 1 only
        _settle(box not in found or buf[found[box][0]] <= 1, "box version")
    tkhd = found[b"tkhd"][0]
    matrix_at = tkhd + (4 + 32 + 16 if buf[tkhd] == 1 else 4 + 20 + 16)
    mdhd = found[b"mdia/mdhd"][0]
    if buf[mdhd] == 1:
        created, _, scale, duration = struct.unpack_from(">QQIQ", buf, mdhd + 4)
    else:
        created, _, scale, duration = struct.unpack_from(">IIII", buf, mdhd + 4)
    _settle(scale > 0, "timescale")
    hs = found[b"mdia/hdlr"][0]
    ss, se = found[stbl + b"stsd"]
    descriptions, first_size = struct.unpack_from(">II", buf, ss + 4)
    _settle(descriptions == 1 and first_size >= 16, "sample descriptions")  # ffmpeg refuses a size of 0
    for kind, step in ((b"stss", 4), (b"stps", 4), (b"sbgp", 8)):  # tables ffmpeg reads to the end
        if stbl + kind in found:
            ts, te = found[stbl + kind]
            head = 8 + (4 if kind == b"sbgp" else 0) + (4 if kind == b"sbgp" and buf[ts] == 1 else 0)
            _settle(ts + head <= te and ts + head + step * struct.unpack_from(">I", buf, ts + head - 4)[0] <= te,
                    f"{kind!r} runs past its box")
    entry = next(boxes(buf, ss + 8, se))
    samples, uniform_size = _sample_count(buf, found, stbl)
    return _Trak(
        handler=buf[hs + 8:hs + 12].decode("latin-1"), fourcc=entry[0], entry=buf[entry[1] + 8:entry[2]],
        timescale=scale, duration=duration, created=created, matrix=buf[matrix_at:matrix_at + 36],
        edits=_elst(buf, found.get(b"edts/elst")), stts=_rows(buf, found[stbl + b"stts"], ">II"),
        offsets=_ctts(buf, found.get(stbl + b"ctts")), samples=samples, uniform_size=uniform_size,
        first_chunk=_chunks(buf, found, stbl, samples))


def _rows(buf: bytes, span: tuple[int, int], fmt: str, limit: int | None = None) -> tuple:
    count = struct.unpack_from(">I", buf, span[0] + 4)[0]
    step = struct.calcsize(fmt)
    _settle(span[0] + 8 + count * step <= span[1], "table runs past its box")
    n = count if limit is None else min(count, limit)
    return tuple(struct.unpack_from(fmt, buf, span[0] + 8 + i * step) for i in range(n))


def _elst(buf: bytes, span: tuple[int, int] | None) -> tuple[tuple[int, int, int], ...]:
    if span is None:
        return ()
    fmt = ">QqI" if buf[span[0]] == 1 else ">IiI"
    return _rows(buf, span, fmt, limit=2)


def _ctts(buf: bytes, span: tuple[int, int] | None) -> tuple[int, ...]:
    """Composition offsets of the first samples; ffmpeg reads them signed, whatever the version."""
    if span is None:
        return (0,) * _REORDER_DEPTH
    offsets: list[int] = []
    for count, offset in _rows(buf, span, ">Ii", limit=_REORDER_DEPTH):
        offsets.extend([offset] * min(count, _REORDER_DEPTH))
    return tuple(offsets[:_REORDER_DEPTH])


def _sample_count(buf: bytes, found: dict, stbl: bytes) -> tuple[int, bool]:
    """(the track's sample count, whether one size is given for all), once its sizes are ones
    ffmpeg indexes: over 2^31 it refuses the file, over 2^30 it stops indexing the track there."""
    if stbl + b"stsz" in found:
        ps, pe = found[stbl + b"stsz"]
        uniform, count = struct.unpack_from(">II", buf, ps + 4)
        largest = uniform
        if not uniform:
            _settle(ps + 12 + 4 * count <= pe, "stsz runs past its box")
            largest = max(buf[ps + 12:ps + 12 + 4 * count:4], default=0) << 24  # each size's top byte
        _settle(largest <= 0x3FFFFFFF, "a sample size ffmpeg refuses")
        return count, uniform > 0
    if stbl + b"stz2" in found:
        ps, _ = found[stbl + b"stz2"]
        _settle(buf[ps + 7] in (4, 8, 16), "stz2 field size")
        return struct.unpack_from(">I", buf, ps + 8)[0], False
    raise _Unsettled("no sample sizes")


def _chunks(buf: bytes, found: dict, stbl: bytes, samples: int) -> int | None:
    """The file offset of the first chunk, once the chunk tables hold exactly the track's samples:
    stsc's runs in order from chunk 1, one sample description, within the chunk count."""
    for kind, fmt in ((b"stco", ">I"), (b"co64", ">Q")):
        if stbl + kind in found:
            span = found[stbl + kind]
            chunks = struct.unpack_from(">I", buf, span[0] + 4)[0]
            first = _rows(buf, span, fmt, limit=1)
            break
    else:
        return None
    runs = _rows(buf, found[stbl + b"stsc"], ">III")
    described, starts = 0, [r[0] for r in runs] + [chunks + 1]
    for (start, per_chunk, description), end in zip(runs, starts[1:]):
        _settle(per_chunk >= 1 and description == 1 and start < end, "stsc")
        described += (end - start) * per_chunk
    _settle(runs and runs[0][0] == 1 and described == samples, "chunks and samples disagree")
    return first[0][0] if first else None


def _starts_at_zero(t: _Trak, movie_scale: int, is_video: bool) -> bool:
    """Whether ffmpeg starts this stream at 0: no edit list and no reordering offset, or one whole
    segment from the first frame (the video's B-frame delay, the audio's encoder priming)."""
    _settle(t.samples > 0 and t.first_chunk is not None and t.stts, "an empty track")
    if any(off < 0 for off in t.offsets) or not t.offsets:
        return False
    edits = t.edits
    if not edits:
        return t.offsets[0] == 0
    if len(edits) != 1:
        return False
    segment, media_time, rate = edits[0]
    if rate != 0x10000 or media_time < 0:
        return False
    if is_video:
        covers = segment * t.timescale >= t.duration * movie_scale  # to the last frame's end
        return covers and t.offsets[0] == media_time and min(t.offsets[i] + i * t.stts[0][1]
                                                            for i in range(len(t.offsets))) >= media_time
    if t.handler == "soun":  # priming: ffmpeg skips those samples and starts the stream at 0
        return t.offsets[0] == 0 and media_time <= t.stts[0][1]
    return media_time == 0 and t.offsets[0] == 0


def _picture(entry: bytes) -> tuple[int, int, str, str | None, str | None]:
    """(width, height, pix_fmt, color_range, color_space) of an 'avc1' entry as ffmpeg's decoder
    reports them: the SPS's VUI when it signals range or matrix, else the 'colr' box."""
    width, height = struct.unpack_from(">HH", entry, 16)
    _settle(entry[66:70] == b"\0\x18\xff\xff", "depth and colour table")  # 24 bits, none: else a palette
    children = {kind: entry[ps:pe] for kind, ps, pe in boxes(entry, 70, len(entry))}
    _settle(set(children) <= _VIDEO_CHILDREN and b"avcC" in children, "sample entry boxes")
    sps = parse_avcc(children[b"avcC"])
    _settle(sps.chroma_format == 1 and sps.bit_depth == 8 and sps.frame_mbs_only and not sps.crop_left_top,
            "picture format")
    _settle((sps.width, sps.height) == (width, height), "sizes disagree")
    full, matrix = sps.full_range, sps.matrix
    colr = children.get(b"colr")
    if colr is not None:
        kind = colr[:4]
        _settle(kind in (b"nclx", b"nclc") and len(colr) >= 10, "colr type")
        if matrix is None:
            matrix = struct.unpack_from(">H", colr, 8)[0]
        if full is None and kind == b"nclx":
            _settle(len(colr) >= 11, "colr size")
            full = bool(colr[10] >> 7)
    if matrix is not None:
        _settle(matrix in _MATRICES, "matrix")
    color_range = None if full is None else ("pc" if full else "tv")
    return width, height, "yuvj420p" if full else "yuv420p", color_range, _MATRICES.get(matrix or 2)


def _audio_codec(t: _Trak) -> str:
    _settle(t.fourcc == b"mp4a" and len(t.entry) >= 20 and t.entry[0:2] == b"\0\0", "audio entry")
    esds = {kind: t.entry[ps:pe] for kind, ps, pe in boxes(t.entry, 20, len(t.entry))}.get(b"esds")
    if esds is None or esds[4] != 0x03:
        raise _Unsettled("esds")
    pos = _descriptor_body(esds, 5)  # ES_Descriptor: ES_ID, flags, then what the flags say is there
    flags = esds[pos + 2]
    pos += 3 + (2 if flags & 0x80 else 0)
    if flags & 0x40:
        pos += 1 + esds[pos]
    pos += 2 if flags & 0x20 else 0
    _settle(esds[pos] == 0x04, "decoder config")
    config = _descriptor_body(esds, pos + 1)
    _settle(esds[config] == 0x40, "not MPEG-4 AAC")
    _settle(esds[config + 13] == 0x05, "no AudioSpecificConfig")  # after type, buffer size, bit rates
    start = _descriptor_body(esds, config + 14)
    length = _descriptor_length(esds, config + 14)
    _settle(length >= 2 and start + length <= len(esds), "AudioSpecificConfig size")
    first, second = esds[start], esds[start + 1]
    aot, rate_index, channels = first >> 3, (first & 7) << 1 | second >> 7, second >> 3 & 15
    _settle(aot in (1, 2, 3, 4, 5, 29) and rate_index < 13 and 1 <= channels <= 7, "AudioSpecificConfig")
    return "aac"


def _descriptor_length(buf: bytes, pos: int) -> int:
    length = 0
    for i in range(4):
        length = length << 7 | buf[pos + i] & 0x7F
        if not buf[pos + i] & 0x80:
            return length
    raise _Unsettled("descriptor size")


def _descriptor_body(buf: bytes, pos: int) -> int:
    """Skip an MPEG-4 descriptor's size (1–4 bytes, 7 bits each) at pos; return where its body starts."""
    for _ in range(4):
        more = buf[pos] & 0x80
        pos += 1
        if not more:
            return pos
    raise _Unsettled("descriptor size")


def _creation(seconds: int) -> str | None:
    """ffmpeg's creation_time: seconds since 1904 as ISO 8601 UTC with microseconds."""
    if not seconds:
        return None
    when = EPOCH_1904 + timedelta(seconds=seconds)
    _settle(1970 <= when.year <= 9999, "creation time")  # before 1970, ffmpeg versions read it differently
    return when.strftime("%Y-%m-%dT%H:%M:%S") + ".000000Z"


def _timecode(traks: list[_Trak], fh, size: int) -> str | None:
    """The start timecode of the one 'tmcd' track: the frame number its first sample holds, in the
    track's rounded frame rate (drop-frame, 24-hour wrap as its flags say)."""
    tracks = [t for t in traks if t.fourcc == b"tmcd"]
    if not tracks:
        return None
    _settle(len(tracks) == 1 and len(tracks[0].entry) >= 17, "timecode tracks")
    t = tracks[0]
    flags, num, den = struct.unpack_from(">III", t.entry, 4)
    frames = t.entry[16]
    _settle(num > 0 and den > 0 and flags & ~0x3 == 0, "timecode entry")
    fps = (num + den // 2) // den
    _settle(fps in _TIMECODE_RATES and frames in (fps, num // den), "timecode rate")
    _settle(t.first_chunk is not None and t.first_chunk + 4 <= size, "timecode sample")
    fh.seek(t.first_chunk)
    value = struct.unpack(">I", fh.read(4))[0]
    _settle(value < 2 ** 31, "timecode value")
    drop = bool(flags & 1)
    if drop:
        _settle(fps % 30 == 0, "drop frame")
        value = _drop_frame(value, fps)
    hours = value // (fps * 3600)
    if flags & 2:
        hours %= 24
    text = (f"{hours:02d}:{value // (fps * 60) % 60:02d}:{value // fps % 60:02d}"
            f"{';' if drop else ':'}{value % fps:02d}")
    return text if TIMECODE_FORMAT.fullmatch(text) else None


def _drop_frame(frame: int, fps: int) -> int:
    """A frame count as the drop-frame label counts (two labels skipped a minute at 29.97, but
    not every tenth minute); SMPTE 12M."""
    dropped, per_ten = fps // 30 * 2, fps // 30 * 17982
    tens, rest = divmod(frame, per_ten)
    return frame + 9 * dropped * tens + dropped * max(0, (rest - dropped) // (per_ten // 10))
