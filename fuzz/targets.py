"""The parsers under fuzz: each one's user-facing entry point and its seed corpus.

An entry point takes a path (what a user hands overdash) and must return data or raise
InputError. Seeds are the real device files in ../shared/data where present (skipped
where not), trimmed so a case costs milliseconds, plus small files made here with the
project's own writers, so every parser has a corpus in a bare checkout too.
"""
from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests.support.paths import ROOT, SHARED_DATA


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    focus: tuple[int, int] | None = None  # the span holding the structure (an MP4's moov)


@dataclass(frozen=True)
class Target:
    name: str
    suffix: str  # the file name's ending: parsers pick a format by it
    call: Callable[[Path], object]
    seeds: Callable[[], list[Seed]]


def _shared(relative: str) -> bytes | None:
    path = SHARED_DATA / relative
    return path.read_bytes() if path.is_file() else None


# ------------------------------------------------------------------ entry points

def _load_gopro(path: Path) -> object:
    from overlay.telemetry.gopro import load_gopro
    return load_gopro(path)


def _load_fit(path: Path) -> object:
    from overlay.telemetry.fit import load_fit
    return load_fit(path)


def _load_gpx(path: Path) -> object:
    from overlay.telemetry.gpx import load_gpx
    return load_gpx(path)


def _load_layout(path: Path) -> object:
    from overlay.layout.parse import load_layout
    return load_layout(path)


def _load_profile(path: Path) -> object:
    """A user's profile file as `--profile FILE.json` reads it, and as the
    ~/.gopro-graphics/ffmpeg-profiles.json reader reads the same bytes."""
    from encoders.profiles import ProfileError, gopro_profiles, load_profile
    try:
        load_profile(str(path))
    except ProfileError:
        pass
    return gopro_profiles(path)


def _read_index(path: Path) -> object:
    """The probe's MP4 index reader: facts or None (ffprobe then), whatever the bytes."""
    from encoders.mp4index import read_index_facts
    return read_index_facts(path)


def _decode_tile(path: Path) -> object:
    from overlay.maps.mosaic import decode_tile
    return decode_tile(path)


# ------------------------------------------------------------------ seeds

def _demo_payloads(seconds: float = 2.0, imu: bool = True) -> list[bytes]:
    from overlay.telemetry.demo import demo_telemetry
    from overlay.telemetry.gpmfwrite import encode
    return encode(demo_telemetry(seconds + 1.0), seconds, gps_rate=10.0, imu_rate=20.0, imu=imu)


def _real_payloads() -> list[tuple[str, list[bytes]]]:
    from overlay.telemetry.gpmf import split_raw
    out = []
    for name in ("gopro/hero5.raw", "gopro/hero6.raw", "gopro/Fusion.raw", "gopro/hero7.raw",
                 "gopro/hero11.raw", "gopro/hero9-rotation.gpmd"):
        data = _shared(name)
        if data is not None:
            out.append((name, split_raw(data)[:2]))
    return out


def gpmf_seeds() -> list[Seed]:
    seeds = [Seed("demo-imu", b"".join(_demo_payloads())), Seed("demo-gps", b"".join(_demo_payloads(3.0, False)))]
    seeds += [Seed(name, b"".join(payloads)) for name, payloads in _real_payloads()]
    return seeds


def _moov_span(data: bytes) -> tuple[int, int] | None:
    import struct
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size < 8:
            return None
        if kind == b"moov":
            return pos, min(len(data), pos + size)
        pos += size
    return None


def mp4_seeds() -> list[Seed]:
    from overlay.telemetry.mp4write import gpmd_mp4
    seeds = []
    for name, payloads in [("demo", _demo_payloads())] + _real_payloads()[:3]:
        data = gpmd_mp4(payloads, [1001] * len(payloads))
        seeds.append(Seed(f"{name}.mp4", data, _moov_span(data)))
    real = _shared("gopro/max-heromode.mp4")
    if real is not None:
        seeds.append(Seed("max-heromode.mp4", real, _moov_span(real)))
    return seeds


def index_seeds() -> list[Seed]:
    """H.264 files the index settles, made by the system ffmpeg (B-frames and AAC in MP4; a
    drop-frame timecode in MOV), and the camera's file."""
    import subprocess
    import tempfile
    seeds = []
    with tempfile.TemporaryDirectory(prefix="overdash-fuzz-seed-") as tmp:
        for name, inputs, outputs in (("made.mp4", ["-f", "lavfi", "-i", "sine=sample_rate=48000"], ["-c:a", "aac"]),
                                      ("made.mov", [], ["-timecode", "01:02:03;04"])):
            out = Path(tmp) / name
            subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi",
                            "-i", "testsrc2=size=64x48:rate=30000/1001", *inputs, "-t", "0.3",
                            "-c:v", "libx264", "-preset", "veryfast", *outputs, str(out)], check=True)
            data = out.read_bytes()
            seeds.append(Seed(name, data, _moov_span(data)))
    real = _shared("gopro/max-heromode.mp4")
    if real is not None:
        seeds.append(Seed("max-heromode.mp4", real, _moov_span(real)))
    return seeds


def fit_seeds() -> list[Seed]:
    seeds = [Seed("made.fit", _fit_made())]
    real = _shared("fit/ride-2021-09-24-karoo.fit")
    if real is None:
        return seeds
    # The header, definitions and the first records: a few kilobytes read the same way the
    # whole file does (its end is reported as damage), at a hundredth of the cost.
    return seeds + [Seed(f"karoo-{n}", real[:n]) for n in (1024, 4096, 12288)] + [
        Seed("karoo-tail", real[:14] + real[-2048:])]


def _fit_crc(data: bytes) -> int:
    """The FIT protocol's CRC-16 (nibble table, as its SDK documents it)."""
    table = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)
    crc = 0
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = table[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ table[nibble]
    return crc


def _fit_made() -> bytes:
    """A small activity FIT file: a file_id and ten record messages (time, position, hr, speed)."""
    import struct
    body = bytearray()
    # definition, local 0 = file_id (global 0): type (enum), manufacturer (uint16)
    body += struct.pack("<BBBHB", 0x40, 0, 0, 0, 2) + bytes([0, 1, 0, 1, 2, 0x84])
    body += struct.pack("<BBH", 0x00, 4, 255)
    # definition, local 1 = record (global 20): timestamp, lat, lon (sint32), heart_rate, speed (uint16)
    body += struct.pack("<BBBHB", 0x41, 0, 0, 20, 5)
    body += bytes([253, 4, 0x86, 0, 4, 0x85, 1, 4, 0x85, 3, 1, 2, 6, 2, 0x84])
    for i in range(10):
        body += struct.pack("<BIiiBH", 0x01, 1_000_000_000 + i, 614_000_000 + i * 1000, -1_430_000 + i * 1000,
                            120 + i, 5000 + i * 10)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", _fit_crc(header))
    data = header + bytes(body)
    return data + struct.pack("<H", _fit_crc(data))


GPX_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="fuzz" '
            'xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n<trk><trkseg>\n')


def _gpx_made() -> bytes:
    points = []
    for i in range(6):
        points.append(f'<trkpt lat="{51.5 + i * 1e-4:.6f}" lon="{-0.12 + i * 1e-4:.6f}"><ele>{10 + i}</ele>'
                      f'<time>2021-09-24T10:00:{i:02d}Z</time><extensions><gpxtpx:TrackPointExtension>'
                      f'<gpxtpx:hr>{120 + i}</gpxtpx:hr><gpxtpx:cad>80</gpxtpx:cad></gpxtpx:TrackPointExtension>'
                      '</extensions></trkpt>\n')
    return (GPX_HEAD + "".join(points) + "</trkseg></trk>\n</gpx>\n").encode()


def gpx_seeds() -> list[Seed]:
    made = _gpx_made()
    seeds = [Seed("made.gpx", made), Seed("made.gpx.gz", gzip.compress(made, mtime=0))]
    real = _shared("gpx/ride-2021-09-24.gpx.gz")
    if real is not None:
        text = gzip.decompress(real)
        cut = text.find(b"</trkpt>", 2500) + len(b"</trkpt>")  # the header and the first dozen points
        head = text[:cut] + b"\n</trkseg></trk></gpx>\n"
        seeds += [Seed("ride-head.gpx", head), Seed("ride-head.gpx.gz", gzip.compress(head, mtime=0))]
    return seeds


def layout_seeds() -> list[Seed]:
    return [Seed(p.name, p.read_bytes()) for p in sorted((ROOT / "overlay" / "layouts").glob("*.xml"))]


def profile_seeds() -> list[Seed]:
    seeds = [Seed(p.name, p.read_bytes()) for p in sorted((ROOT / "profiles").glob("*.json"))[:6]]
    gopro = {"mine": {"input": ["-hwaccel", "cuda"], "output": ["-vcodec", "h264_nvenc", "-b:v", "20M"]},
             "cpu": {"input": [], "output": ["-vcodec", "libx264", "-preset", "veryfast"],
                     "filter": "[0:v][1:v]overlay"}}
    seeds.append(Seed("ffmpeg-profiles.json", json.dumps(gopro, indent=2).encode()))
    return seeds


def tile_seeds() -> list[Seed]:
    from PIL import Image, ImageDraw, features
    im = Image.new("RGB", (256, 256), (230, 225, 210))
    ImageDraw.Draw(im).line([(0, 40), (256, 200)], fill=(90, 90, 200), width=6)
    seeds = []
    for name, fmt, mode in (("tile.png", "PNG", "RGB"), ("tile-p.png", "PNG", "P"), ("tile.jpg", "JPEG", "RGB"),
                            ("tile.webp", "WEBP", "RGB"), ("tile-la.png", "PNG", "LA"), ("tile.gif", "GIF", "P")):
        if fmt == "WEBP" and not features.check("webp"):
            continue
        buf = io.BytesIO()
        (im.quantize(16) if mode == "P" else im.convert(mode)).save(buf, fmt)
        seeds.append(Seed(name, buf.getvalue()))
    return seeds


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("mp4", ".mp4", _load_gopro, mp4_seeds),
    Target("gpmf", ".raw", _load_gopro, gpmf_seeds),
    Target("index", ".mp4", _read_index, index_seeds),
    Target("fit", ".fit", _load_fit, fit_seeds),
    Target("gpx", ".gpx", _load_gpx, gpx_seeds),
    Target("layout", ".xml", _load_layout, layout_seeds),
    Target("profile", ".json", _load_profile, profile_seeds),
    Target("tile", ".png", _decode_tile, tile_seeds),
)}
