"""NUT framing for the overlay: one raw video stream per region, frames with timestamps,
so only what changed crosses.

Rawvideo on a pipe has no timestamps: every overlay frame must be sent, also when
it is the previous one again (on a ride file's dashboard, most are). In NUT each
frame carries its stream and pts, and ffmpeg's overlay filter keeps showing a
stream's last frame until its next one: the writer sends a region only when it
differs, so a moving map marker does not drag the unchanged panels along.
This is the overlay's one transport, in both its pixel formats (RGBA, or yuva420p
converted by the workers: FOURCC) and for overlay-only outputs too (a stream per
region, sent when it changed, pasted by ffmpeg into a transparent picture).

Just enough of the format (ffmpeg's nut.txt) for raw video streams, written by
pure functions: the file id, a main header whose frame codes all say "flags,
stream, pts and size follow", one stream header per region, and before every
frame a syncpoint (frames are larger than max_distance). Time base = 1 / overlay
frame rate, so pts = frame index. Checksums are CRC-32 (MSB first, polynomial
0x04C11DB7, init 0), big-endian.
"""
from __future__ import annotations

import struct

FILE_ID = b"nut/multimedia container\0"
MAIN_STARTCODE = 0x4E4D7A561F5F04AD
STREAM_STARTCODE = 0x4E5311405BF2F9DB
SYNCPOINT_STARTCODE = 0x4E4BE4ADEECA4569
FLAG_KEY, FLAG_CODED_PTS, FLAG_STREAM_ID, FLAG_SIZE_MSB, FLAG_CHECKSUM, FLAG_CODED = 1, 8, 16, 32, 64, 4096
MSB_PTS_SHIFT = 7
MAX_DISTANCE = 32768
FRAME_FLAGS = FLAG_KEY | FLAG_STREAM_ID | FLAG_CODED_PTS | FLAG_SIZE_MSB | FLAG_CHECKSUM
# Raw video fourccs (ffmpeg's raw pixel format tags) of the overlay formats.
FOURCC = {"yuva420p": b"Y4\x0b\x08", "rgba": b"RGBA"}


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if c & 0x80000000 else (c << 1) & 0xFFFFFFFF
        table.append(c)
    return table


_CRC = _crc_table()


def crc32(data: bytes, crc: int = 0) -> int:
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[((crc >> 24) ^ b) & 0xFF]
    return crc


def _v(x: int) -> bytes:
    """NUT's variable-length unsigned: 7 bits a byte, most significant first."""
    if x < 0:
        raise ValueError(f"NUT v field cannot be negative ({x})")
    out = [x & 0x7F]
    x >>= 7
    while x:
        out.append(0x80 | (x & 0x7F))
        x >>= 7
    return bytes(reversed(out))


def _s(x: int) -> bytes:
    return _v(2 * abs(x) - (x > 0))


def _vb(data: bytes) -> bytes:
    return _v(len(data)) + data


def _packet(startcode: int, data: bytes) -> bytes:
    if len(data) + 4 > 4096:
        raise ValueError("NUT header packets here stay small (no header checksum)")
    return struct.pack(">Q", startcode) + _v(len(data) + 4) + data + crc32(data).to_bytes(4, "big")


def header(sizes, fps_num: int, fps_den: int, pix_fmt: str = "yuva420p", fourccs=()) -> bytes:
    """File id, main header and one stream header per (width, height) in `sizes`: raw video in
    `pix_fmt`, except where `fourccs` (one per stream, from the first) names another tag (a raw
    format, or coded frames: b"ap4h" is ProRes 4444; see encoders.repeat)."""
    sizes, tags = tuple(sizes), [*fourccs]
    if len(tags) < len(sizes) and pix_fmt not in FOURCC:
        raise ValueError(f"no NUT fourcc for {pix_fmt!r}")
    if not sizes or any(w <= 0 or h <= 0 for w, h in sizes):
        raise ValueError(f"NUT streams need positive sizes, not {sizes}")
    main = _v(3) + _v(len(sizes)) + _v(MAX_DISTANCE) + _v(1) + _v(fps_den) + _v(fps_num)
    # One group of frame codes: all 255 (all but 'N') say FLAG_CODED — the frame gives its flags.
    main += _v(FLAG_CODED) + _v(6) + _s(0) + _v(1) + _v(0) + _v(0) + _v(0) + _v(255)
    main += _v(0)  # elision headers beyond the empty one: none (ffmpeg needs the count)
    tags += [FOURCC[pix_fmt]] * (len(sizes) - len(tags))
    streams = b"".join(
        _packet(STREAM_STARTCODE, _v(i) + _v(0) + _vb(tags[i]) + _v(0) + _v(MSB_PTS_SHIFT) + _v(1 << 30)
                + _v(0) + _v(0) + _vb(b"") + _v(w) + _v(h) + _v(0) + _v(0) + _v(0))
        for i, (w, h) in enumerate(sizes))
    return FILE_ID + _packet(MAIN_STARTCODE, main) + streams


def syncpoint(pts: int) -> bytes:
    """The syncpoint frame_head starts with, alone: sent with the header for the first frame, it
    lets ffmpeg's NUT demuxer (which reads on to the first syncpoint) open the input before that
    frame is drawn."""
    return _packet(SYNCPOINT_STARTCODE, _v(pts) + _v(0))


def frame_head(pts: int, size: int, stream: int = 0, *, synced: bool = False) -> bytes:
    """What goes before `size` bytes of frame `pts` of `stream`: a syncpoint, then the frame header.
    `synced`: syncpoint(pts) was sent already, just before."""
    if stream < 0:
        raise ValueError(f"NUT stream id cannot be negative ({stream})")
    head = bytes([0]) + _v(FLAG_CODED ^ FRAME_FLAGS) + _v(stream) + _v(pts + (1 << MSB_PTS_SHIFT)) + _v(size)
    return (b"" if synced else syncpoint(pts)) + head + crc32(head).to_bytes(4, "big")
