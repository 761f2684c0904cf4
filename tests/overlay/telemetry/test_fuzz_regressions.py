"""Inputs the parser fuzzer (fuzz/, `make fuzz`) found to crash, hang or exhaust memory,
each rebuilt here from a valid file by the one change that broke it (no copied files).

Each runs in a forked child under a 1 GiB address-space limit (fuzz.run.isolated), as
the fuzzer runs its cases, so a regression fails the test instead of the machine.
"""
from __future__ import annotations

import gzip
import struct

import pytest

from fuzz.run import isolated
from overlay.layout.parse import load_layout
from overlay.maps.mosaic import decode_tile
from overlay.telemetry import gpmfwrite as w
from overlay.telemetry import gpx as gpx_module
from overlay.telemetry.demo import demo_telemetry
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.gpmf import GPMFWarning
from overlay.telemetry.gpx import load_gpx
from overlay.telemetry.mp4write import gpmd_mp4


@pytest.fixture(scope="module")
def payloads() -> list[bytes]:
    return w.encode(demo_telemetry(10.0), 3.0, imu=False)


def _mp4(payloads) -> bytearray:
    return bytearray(gpmd_mp4(payloads, [1001] * len(payloads)))


def _box(data: bytearray, kind: bytes) -> int:
    """Offset of a full box's payload after its version and flags."""
    return data.index(kind) + 8


def _load(path):
    return load_gopro(path)


def test_valid_mp4_loads(payloads, tmp_path):
    path = tmp_path / "ok.mp4"
    path.write_bytes(_mp4(payloads))
    assert isolated(_load, path) == "data"


def test_stts_count_of_2_to_the_32_is_cut_to_the_sample_count(payloads, tmp_path):
    """Found: np.repeat expanded a sample count of 0xFFFFFFFF before cutting it (16 GiB)."""
    data = _mp4(payloads)
    stts = _box(data, b"stts")
    struct.pack_into(">I", data, stts + 4, 0xFFFFFFFF)  # first entry's sample count
    path = tmp_path / "stts.mp4"
    path.write_bytes(data)
    assert isolated(_load, path) == "data"


def test_stsc_first_chunk_and_samples_per_chunk_past_any_file(payloads, tmp_path):
    data = _mp4(payloads)
    stsc = _box(data, b"stsc")
    struct.pack_into(">II", data, stsc + 4, 1, 0xFFFFFFF0)  # chunk 1 holds 4 billion samples
    path = tmp_path / "stsc.mp4"
    path.write_bytes(data)
    assert isolated(_load, path) == "data"  # the few samples there are, from chunk 1 on


def test_uniform_sample_size_claiming_more_than_the_file(payloads, tmp_path):
    """stsz with one size for all and a count of 2^32-1 would be a 32 GiB table."""
    data = _mp4(payloads)
    stsz = _box(data, b"stsz")
    struct.pack_into(">II", data, stsz, 100, 0xFFFFFFFF)
    path = tmp_path / "stsz.mp4"
    path.write_bytes(data)
    outcome = isolated(_load, path)
    assert outcome.startswith("InputError: ") and "stsz.mp4: corrupt MP4/MOV index" in outcome
    assert "4294967295 samples of 100 bytes" in outcome


def test_sample_size_of_4_gb_is_not_read_into_memory(payloads, tmp_path):
    """Found: the GPMF reader asked the file for a sample's claimed size (fh.read(4 GB))."""
    data = _mp4(payloads)
    stsz = _box(data, b"stsz")
    struct.pack_into(">I", data, stsz + 8, 0xFFFFFFF0)  # the first sample's size
    path = tmp_path / "size.mp4"
    path.write_bytes(data)
    assert isolated(_load, path) == "data"  # that payload is skipped with a warning, the rest load


def test_creation_date_past_year_9999(payloads, tmp_path):
    """Found: OverflowError from timedelta on a 64-bit mvhd creation time."""
    data = _mp4(payloads)
    mvhd = _box(data, b"mvhd")
    data[mvhd - 4] = 1  # version 1: 64-bit times (the box is long enough to read them)
    struct.pack_into(">Q", data, mvhd, 2 ** 64 - 1)
    path = tmp_path / "date.mp4"
    path.write_bytes(data)
    outcome = isolated(_load, path)
    assert outcome.startswith("InputError: ") and "date.mp4: corrupt MP4/MOV index" in outcome


def test_orin_naming_more_axes_than_the_stream_has(tmp_path):
    """Found: IndexError when ORIN says 'ZXY' but ACCL has one column."""
    strm = w.nest("STRM", [w.klv("STNM", "c", "Accelerometer"), w.klv("ORIN", "c", "ZXY"),
                           w.klv("SCAL", "s", 100), w.klv("ACCL", "s", [[981], [980], [982]])])
    gps = w.gps5_stream(w.gps5_rows(demo_telemetry(5.0), 1, 10)[0], tsmp=10, stmp_us=0, utc=None)
    path = tmp_path / "orin.raw"
    path.write_bytes(w.payload([strm, gps]) + w.payload([strm, gps]))
    assert isolated(_load, path) == "data"


def test_streams_with_fewer_columns_than_their_layout(tmp_path):
    """Found: IndexError when CORI (w, x, y, z) has one column; GPS5 with three is the same bug."""
    cori = w.nest("STRM", [w.klv("SCAL", "s", 32767), w.klv("CORI", "s", [[32767], [32767]])])
    short_gps = w.nest("STRM", [w.klv("SCAL", "l", [1, 1, 1]), w.klv("GPS5", "l", [[515000000, -1200000, 10]])])
    gps = w.gps5_stream(w.gps5_rows(demo_telemetry(5.0), 1, 10)[0], tsmp=10, stmp_us=0, utc=None)
    path = tmp_path / "cori.raw"
    path.write_bytes(w.payload([cori, short_gps]) + w.payload([cori, gps]))
    assert isolated(_load, path) == "data"
    with pytest.warns(GPMFWarning) as record:
        tel = load_gopro(path)
    assert {str(r.message) for r in record} == {
        f"GPMF payload {k}: CORI has 1 columns, expected 4; skipped" for k in (0, 1)} | {
        "GPMF payload 0: GPS5 has 3 columns, expected 5; skipped"}
    assert "cori" not in tel.streams and len(tel.streams["gps"].t) == 10  # only the whole GPS5 payload


def test_corrupt_gzip_gpx_is_one_input_error(tmp_path):
    """Found: zlib.error from a damaged deflate stream escaped the reader."""
    text = (b'<?xml version="1.0"?><gpx version="1.1" creator="t"><trk><trkseg>'
            + b"<trkpt/>" * 200 + b"</trkseg></trk></gpx>")
    packed = bytearray(gzip.compress(text, mtime=0))
    packed[10] = 0x07  # the first deflate block: final, type 3 (reserved, invalid)
    path = tmp_path / "ride.gpx.gz"
    path.write_bytes(packed)
    with pytest.raises(Exception) as info:
        gzip.decompress(bytes(packed))
    assert not isinstance(info.value, OSError)  # the case the reader did not catch
    outcome = isolated(load_gpx, path)
    assert outcome.startswith(f"InputError: {path}: cannot read")


def test_gzip_bomb_gpx_stops_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(gpx_module, "MAX_TEXT", 1 << 20)
    path = tmp_path / "bomb.gpx"
    path.write_bytes(gzip.compress(b" " * (8 << 20), mtime=0))  # 8 KiB of gzip, 8 MiB of text
    outcome = isolated(load_gpx, path)
    assert outcome == f"InputError: {path}: more than 1 MiB of GPX text; not a ride file overdash reads"


def test_layout_with_an_unknown_encoding(tmp_path):
    """Found: LookupError from expat for <?xml encoding="utv-8"?>."""
    path = tmp_path / "layout.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="utv-8"?>\n<layout></layout>\n')
    outcome = isolated(load_layout, path)
    assert outcome.startswith(f"InputError: {path}:1: not well-formed XML: unknown encoding")


def test_layout_in_a_multibyte_encoding(tmp_path):
    """Found: ValueError from expat for an encoding it cannot read (Shift-JIS, EUC-JP, ...)."""
    path = tmp_path / "layout.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="shift_jis"?>\n<layout></layout>\n')
    outcome = isolated(load_layout, path)
    assert outcome == f"InputError: {path}:1: not well-formed XML: multi-byte encodings are not supported"


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (width, height), 200).save(buf, "PNG")
    return buf.getvalue()


def test_tile_whose_image_data_claims_4_gb(tmp_path):
    """Found: the pixels decoded, Pillow read the rest of the IDAT chunk's claimed length
    (0xFFFFFFF0) from the file in one read: a 4 GB allocation (MemoryError under the limit)."""
    png = bytearray(_png(256, 256))
    idat = png.index(b"IDAT") - 4
    struct.pack_into(">I", png, idat, 0xFFFFFFF0)
    path = tmp_path / "tile.png"
    path.write_bytes(png)
    assert isolated(decode_tile, path) == "data"  # every pixel is there: the tile is usable


def test_tile_claiming_a_huge_picture_is_refused_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(_png(4096, 4096))  # 16 Mpx in a few kilobytes
    assert isolated(decode_tile, path) == f"InputError: {path}: tile of 4096x4096 pixels; not a map tile"
    path.write_bytes(_png(256, 256))
    assert isolated(decode_tile, path) == "data"
