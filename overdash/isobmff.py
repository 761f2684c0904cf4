"""ISO-BMFF (MP4/MOV) box walking, shared by the telemetry reader (overlay.telemetry.mp4) and the
index probe (encoders.mp4index): both need only box headers and `moov`, never the media data."""
from __future__ import annotations

import struct
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterator

from overdash import InputError

# MP4 times count seconds from here (mvhd, mdhd, tkhd creation and modification times).
EPOCH_1904 = datetime(1904, 1, 1, tzinfo=timezone.utc)
# Box types that may open an MP4/MOV file (QuickTime allows several before 'moov').
FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp"}
# What a file that is not MP4/MOV often is, by its first bytes: said by name, not as bytes.
_OTHER_FORMATS = ((b"\x1aE\xdf\xa3", "Matroska/WebM"), (b"RIFF", "RIFF (AVI/WAV)"))


def not_mp4(path: Path, why: str) -> InputError:
    return InputError(f"{path}: not an MP4/MOV file ({why})")


def missing_index(path: Path) -> InputError:
    """A file that starts as an MP4 and has no 'moov': the camera writes it last, as it stops."""
    return InputError(f"{path}: an unfinished recording or a cut-short copy: its MP4 index ('moov' box) is "
                      f"missing (the camera stopped before closing the file, or the copy ended early)")


def read_moov(fh: BinaryIO, size: int, path: Path) -> bytes:
    """Seek over top-level boxes until 'moov' and return its payload; InputError if there is none."""
    pos = 0
    first = True
    while pos + 8 <= size:
        fh.seek(pos)
        head = fh.read(16)
        box_size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if box_size == 1:
            if len(head) < 16:
                raise not_mp4(path, "truncated box header")
            box_size = struct.unpack(">Q", head[8:16])[0]
            header = 16
        elif box_size == 0:
            box_size = size - pos
        if first and kind not in FIRST_BOXES:
            known = next((name for magic, name in _OTHER_FORMATS if head.startswith(magic)), None)
            if known is None:
                raise not_mp4(path, f"starts with {head[:8]!r}")
            raise not_mp4(path, f"a {known} file: GoPro telemetry is in the camera's MP4 — with another video, "
                                f"give the ride with --gpx or --fit")
        first = False
        if box_size < header:
            raise not_mp4(path, f"invalid size {box_size} of box {kind!r} at byte {pos}")
        if kind == b"moov":
            if pos + box_size > size:
                raise InputError(f"{path}: truncated MP4/MOV file ('moov' box runs past end of file)")
            fh.seek(pos + header)
            return fh.read(box_size - header)
        pos += box_size
    if first:
        raise not_mp4(path, f"only {size} bytes")
    raise missing_index(path)


def boxes(buf: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload start, payload end) for the boxes in buf[start:end]; ValueError on a bad size."""
    pos = start
    while pos + 8 <= end:
        box_size, kind = struct.unpack_from(">I4s", buf, pos)
        header = 8
        if box_size == 1:
            box_size = struct.unpack_from(">Q", buf, pos + 8)[0]
            header = 16
        elif box_size == 0:
            box_size = end - pos
        if box_size < header or pos + box_size > end:
            raise ValueError(f"box {kind!r} at {pos} has invalid size {box_size}")
        yield kind, pos + header, pos + box_size
        pos += box_size
