"""The FIT reader of our own (overlay.telemetry.fitfile + fit.read_records) against fitdecode.

The reference is the loader as it was before (fitdecode, no data processor, CRC
off), kept here verbatim: every column, the record count, the device, the
developer-field mapping and whether there is a damage note must come out the
same, on the Karoo's ride and on small made-up files covering what that ride
lacks (compressed timestamps, little-endian, enum fields, components that
accumulate, developer fields, damage, chained files).
"""
from __future__ import annotations

import struct
from pathlib import Path

import fitdecode
import numpy as np
import pytest

from benchmarks.test_bench_fit import fit_file, make_big_fit
from overdash import InputError
from overlay.telemetry.fit import FIT_EPOCH, NATIVE, RENAME, _device, _sanitise, load_fit, read_records
from tests.support.paths import SHARED_DATA, needs_device_file

FIT = SHARED_DATA / "fit" / "ride-2021-09-24-karoo.fit"
needs_ride = needs_device_file("fit/ride-2021-09-24-karoo.fit")


def reference(path: Path):
    """The fitdecode-based read_records overdash had before (columns as arrays)."""
    cols: dict[str, tuple[list[int], list[float]]] = {}
    native: dict[str, str] = {}
    notes: list[str] = []
    device = None
    n = 0
    try:
        with fitdecode.FitReader(str(path), processor=None, check_crc=fitdecode.CrcCheck.DISABLED,
                                 error_handling=fitdecode.ErrorHandling.RAISE) as reader:
            for frame in reader:
                if frame.frame_type != fitdecode.FIT_FRAME_DATA:
                    continue
                if frame.global_mesg_num != 20:
                    if frame.global_mesg_num == 0 and device is None:
                        device = _device(frame)
                    continue
                for fd in frame.fields:
                    value = fd.value
                    if value is None or value.__class__ not in (int, float):
                        continue
                    field = fd.field
                    if field is None:
                        name = f"fit.unknown_{fd.def_num}"
                    elif field.field_type == "devfield":
                        name = f"dev.{_sanitise(field.name or f'field_{field.def_num}')}"
                        if field.native_field_num in NATIVE:
                            native[name] = NATIVE[field.native_field_num]
                    else:
                        name = RENAME.get(field.name) or f"fit.{field.name}"
                    entry = cols.setdefault(name, ([], []))
                    entry[0].append(n)
                    entry[1].append(value)
                n += 1
    except fitdecode.FitHeaderError as exc:
        raise InputError(f"{path}: not a FIT file ({exc})") from exc
    except (fitdecode.FitError, EOFError, ValueError, KeyError, IndexError) as exc:
        if not n:
            raise InputError(f"{path}: unreadable FIT file ({exc})") from exc
        notes.append(f"FIT file damaged after {n} records ({exc})")
    columns = {}
    for name, (idx, values) in cols.items():
        col = np.full(n, np.nan)
        col[np.asarray(idx, dtype=np.intp)] = np.asarray(values, dtype=np.float64)
        columns[name] = col
    return columns, n, notes, device, native


def assert_same(path: Path):
    ref_cols, ref_n, ref_notes, ref_device, ref_native = reference(path)
    cols, n, notes, device, native = read_records(path)
    assert n == ref_n
    assert list(cols) == list(ref_cols)  # same columns, in order of first appearance
    for name in ref_cols:
        np.testing.assert_array_equal(cols[name], ref_cols[name], err_msg=name)
    assert device == ref_device
    assert native == ref_native
    assert bool(notes) == bool(ref_notes), (notes, ref_notes)
    return cols, n, notes


# --- building small FIT files ------------------------------------------------------------

def definition(local: int, mesg: int, fields, big: bool = False, dev=()) -> bytes:
    out = bytes([0x40 | (0x20 if dev else 0) | local, 0, int(big)]) + struct.pack(">HB" if big else "<HB", mesg,
                                                                                   len(fields))
    out += b"".join(bytes(f) for f in fields)
    if dev:
        out += bytes([len(dev)]) + b"".join(bytes(f) for f in dev)
    return out


def data(local: int, fmt: str, *values, big: bool = False, offset: int | None = None) -> bytes:
    """A data message; `offset`: a compressed-timestamp header with this time offset."""
    header = local if offset is None else 0x80 | (local << 5) | offset
    return bytes([header]) + struct.pack((">" if big else "<") + fmt, *values)


FILE_ID = definition(0, 0, [(1, 2, 0x84), (2, 2, 0x84)]) + data(0, "HH", 1, 3121)  # garmin, a garmin_product


def write(tmp_path: Path, body: bytes, name: str = "x.fit") -> Path:
    path = tmp_path / name
    path.write_bytes(fit_file(body))
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:  # a valid file
        for _ in reader:
            pass
    return path


# --- the real ride -----------------------------------------------------------------------

@needs_ride
def test_karoo_ride_equals_the_fitdecode_loader():
    cols, n, notes = assert_same(FIT)
    assert n == 8600 and not notes
    assert list(cols) == ["timestamp", "lat", "lon", "gps-accuracy", "alt.enhanced", "alt", "odo", "speed.enhanced",
                          "speed", "temp", "hr", "cadence"]


@needs_ride
def test_karoo_ride_equals_fitdecode_record_by_record():
    cols, n = read_records(FIT)[:2]
    rows = []
    with fitdecode.FitReader(str(FIT), processor=None) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.global_mesg_num == 20:
                rows.append({RENAME[f.name]: f.value for f in frame.fields if f.value is not None})
    assert len(rows) == n
    for name, col in cols.items():
        expected = np.array([r.get(name, np.nan) for r in rows], dtype=np.float64)
        if name in ("timestamp", "lat", "lon", "gps-accuracy", "hr", "cadence", "temp"):  # integers: exact
            np.testing.assert_array_equal(col, expected, err_msg=name)
        else:
            np.testing.assert_allclose(col, expected, rtol=1e-12, atol=0, err_msg=name)


@needs_ride
@pytest.mark.parametrize("where", ["record", "definition", "crc", "end-1", "first-message"])
def test_a_truncated_ride_keeps_what_was_read(tmp_path, where):
    raw = FIT.read_bytes()
    chunks = []
    with fitdecode.FitReader(str(FIT), processor=None, keep_raw_chunks=True) as reader:
        for frame in reader:
            if isinstance(frame, (fitdecode.FitDefinitionMessage, fitdecode.FitDataMessage)):
                chunks.append((frame.chunk.offset, len(frame.chunk.bytes),
                               isinstance(frame, fitdecode.FitDefinitionMessage)))
    middle = len(chunks) // 2
    cut = {"record": next(o + l // 2 for o, l, d in chunks[middle:] if not d),
           "definition": next(o + 4 for o, l, d in chunks[middle:] if d),
           "crc": len(raw) - 2, "end-1": len(raw) - 1, "first-message": 16}[where]
    path = tmp_path / "cut.fit"
    path.write_bytes(raw[:cut])
    if where == "first-message":
        for loader in (reference, read_records):
            with pytest.raises(InputError, match="unreadable"):
                loader(path)
        return
    cols, n, notes = assert_same(path)
    assert 0 < n <= 8600 and "damaged after" in notes[0]
    if where in ("crc", "end-1"):
        assert n == 8600
    tel = load_fit(path)
    assert len(tel["gps"]) == n and tel.notes


@needs_ride
def test_a_corrupt_header_byte_stops_there(tmp_path):
    raw = bytearray(FIT.read_bytes())
    with fitdecode.FitReader(str(FIT), processor=None, keep_raw_chunks=True) as reader:
        offsets = [f.chunk.offset for f in reader
                   if isinstance(f, fitdecode.FitDataMessage) and f.global_mesg_num == 20]
    raw[offsets[5000]] = 0x0F  # a data message of local type 15, never defined
    path = tmp_path / "bad.fit"
    path.write_bytes(bytes(raw))
    cols, n, notes = assert_same(path)
    assert n == 5000 and "local type 15" in notes[0]


@needs_ride
@pytest.mark.slow
def test_the_benchmark_file_is_valid_and_reads_the_same(tmp_path):
    path = make_big_fit(tmp_path / "big.fit", records=20_000, source=FIT)
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for _ in reader:
            pass
    cols, n, notes = assert_same(path)
    assert n == 20_000 and not notes
    assert np.all(np.diff(cols["timestamp"]) > 0)


# --- made-up files -----------------------------------------------------------------------

T = 1_000_000_005  # FIT seconds; T % 32 == 5


def test_compressed_timestamps(tmp_path):
    T2 = T + 100
    body = FILE_ID
    body += definition(2, 21, [(253, 4, 0x86), (0, 1, 0x00), (1, 1, 0x00)]) + data(2, "IBB", T, 0, 0)
    body += definition(1, 20, [(3, 1, 0x02)])
    body += data(1, "B", 100, offset=7) + data(1, "B", 101, offset=20) + data(1, "B", 0xFF, offset=31)
    body += data(1, "B", 103, offset=2)  # rolled over: 5 -> 31 -> 2
    body += definition(3, 21, [(0, 1, 0x00), (1, 1, 0x00)]) + data(3, "BB", 0, 0, offset=15)  # an event moves it on
    body += data(1, "B", 105, offset=10)
    body += data(2, "IBB", T2, 0, 0)  # a full timestamp again
    body += data(1, "B", 106, offset=3)
    body += definition(4, 20, [(253, 4, 0x86), (3, 1, 0x02)]) + data(4, "IB", T2 + 30, 107)
    body += data(1, "B", 108, offset=0)
    path = write(tmp_path, body)
    cols, n, _ = assert_same(path)
    expected = [T + 2, T + 15, T + 26, T + 29, T + 69, T + 126, T + 130, T + 155]
    np.testing.assert_array_equal(cols["timestamp"], expected)
    np.testing.assert_array_equal(cols["hr"], [100, 101, np.nan, 103, 105, 106, 107, 108])
    tel = load_fit(path)
    np.testing.assert_array_equal(tel["sensors"].t, np.array(expected) + FIT_EPOCH)
    assert tel.device == "garmin edge_530"


@pytest.mark.parametrize("big", [True, False])
def test_endianness_types_invalid_values_and_enums(tmp_path, big):
    # two layouts of one record: enhanced_altitude before and after altitude (whose component fills it too)
    a = [(253, 4, 0x86), (0, 4, 0x85), (1, 4, 0x85), (78, 4, 0x86), (2, 2, 0x84), (13, 1, 0x01), (5, 4, 0x86),
         (42, 1, 0x00), (30, 1, 0x02), (200, 4, 0x88), (9, 2, 0x83), (7, 2, 0x84)]
    b = [a[0], a[4], a[3]] + a[5:] + [a[1], a[2]]
    fmt_a, fmt_b = "IiiIHbIBBfhH", "IHIbIBBfhHii"

    def rec_a(t, lat, lon, ealt, alt, temp, dist, act, lrb, unk, grade, power):
        return data(1, fmt_a, t, lat, lon, ealt, alt, temp, dist, act, lrb, unk, grade, power, big=big)

    def rec_b(t, lat, lon, ealt, alt, temp, dist, act, lrb, unk, grade, power):
        return data(2, fmt_b, t, alt, ealt, temp, dist, act, lrb, unk, grade, power, lat, lon, big=big)

    body = FILE_ID + definition(1, 20, a, big) + definition(2, 20, b, big)
    nan32 = struct.unpack("<f", b"\xff\xff\xff\xff")[0]
    body += rec_a(T, 612_000_000, -30_000_000, 3000, 2600, 21, 1234, 2, 0x85, 1.5, -150, 250)
    body += rec_a(T + 1, 0x7FFFFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2610, 0x7F, 0xFFFFFFFF, 99, 127, nan32, 0x7FFF, 0xFFFF)
    body += rec_b(T + 2, 612_000_100, -30_000_100, 3100, 2620, -5, 1300, 0xFF, 0xFF, -2.25, 75, 260)
    body += rec_b(T + 3, 612_000_200, -30_000_200, 0xFFFFFFFF, 0xFFFF, 0, 1400, 1, 128, 0.0, 0, 0)
    path = write(tmp_path, body)
    cols, n, _ = assert_same(path)
    assert n == 4
    np.testing.assert_array_equal(cols["alt"], [20.0, 22.0, 24.0, np.nan])  # 2600 / 5 - 500
    # row 0: the altitude component (2600 -> 20 m) comes after enhanced_altitude's own value and wins, as in
    # fitdecode; row 2: enhanced_altitude's own value (3100 -> 120 m) comes last
    np.testing.assert_array_equal(cols["alt.enhanced"], [20.0, 22.0, 120.0, np.nan])
    np.testing.assert_array_equal(cols["temp"], [21, np.nan, -5, 0])
    np.testing.assert_array_equal(cols["fit.activity_type"], [np.nan, 99, np.nan, np.nan])  # named values: skipped
    np.testing.assert_array_equal(cols["fit.left_right_balance"], [0x85, np.nan, np.nan, np.nan])
    np.testing.assert_array_equal(cols["fit.unknown_200"], [1.5, np.nan, -2.25, 0.0])
    np.testing.assert_array_equal(cols["fit.grade"], [-1.5, np.nan, 0.75, 0.0])
    assert np.isnan(cols["lat"][1]) and cols["lat"][0] == 612_000_000


def test_accumulated_components_and_their_reset(tmp_path):
    fields = [(253, 4, 0x86), (8, 3, 0x0D), (18, 1, 0x02), (28, 2, 0x84)]
    dist = [0, 1000, 3000, 4095, 100, 2000, 50, 50, 3000]  # 12-bit distance * 16, rolling over
    body = FILE_ID + definition(0, 20, fields)
    for i, dd in enumerate(dist):
        if i == 6:
            body += definition(0, 20, fields)  # a new definition restarts the accumulators
        packed = (500 + i) | (dd << 12)
        csd = bytes([0xFF] * 3) if i == 3 else packed.to_bytes(3, "little")
        body += bytes([0]) + struct.pack("<I", T + i) + csd + struct.pack("<BH", (i * 100) % 256, (i * 30000) % 65536)
    path = write(tmp_path, body)
    cols, n, _ = assert_same(path)
    assert n == len(dist)
    np.testing.assert_allclose(cols["odo"], [0, 62.5, 187.5, np.nan, 262.25, 381.0, 3.125, 3.125, 187.5])
    assert {"speed", "fit.total_cycles", "fit.accumulated_power", "fit.cycles"} <= set(cols)


def test_developer_fields_chained_files_and_trailing_bytes(tmp_path):
    dev_id = definition(1, 207, [(3, 1, 0x02)]) + data(1, "B", 0)
    desc = definition(2, 206, [(0, 1, 0x02), (1, 1, 0x02), (2, 1, 0x02), (3, 16, 0x07), (15, 1, 0x02)])
    desc += data(2, "BBB16sB", 0, 0, 0x84, b"Power", 7) + data(2, "BBB16sB", 0, 1, 0x88, b"Core Temp", 0xFF)
    rec = definition(3, 20, [(253, 4, 0x86), (3, 1, 0x02)], dev=[(0, 2, 0), (1, 4, 0)])
    one = FILE_ID + dev_id + desc + rec + b"".join(data(3, "IBHf", T + i, 100 + i, 200 + i, 37.5 + i) for i in range(3))
    two = FILE_ID + dev_id + desc + rec + data(3, "IBHf", T + 10, 120, 0xFFFF, 38.0)
    path = tmp_path / "chained.fit"
    path.write_bytes(fit_file(one) + fit_file(two))
    cols, n, notes = assert_same(path)
    assert n == 4 and not notes
    np.testing.assert_array_equal(cols["dev.power"], [200, 201, 202, np.nan])
    np.testing.assert_array_equal(cols["dev.core_temp"], [37.5, 38.5, 39.5, 38.0])
    tel = load_fit(path)
    np.testing.assert_array_equal(tel["sensors"]["power"], [200, 201, 202, np.nan])  # native field 7
    # bytes after the last FIT file: fitdecode refuses the whole file, we keep it and say so
    path.write_bytes(fit_file(one) + b"\0" * 20)
    with pytest.raises(InputError):
        reference(path)
    cols, n, notes, _, _ = read_records(path)
    assert n == 3 and "20 bytes after the end" in notes[0]


def test_not_fit_and_empty(tmp_path):
    path = tmp_path / "x.fit"
    wrong_tag = struct.pack("<BBHI4s", 14, 0x20, 2132, 0, b".FIX") + b"\0\0"
    for content in (b"not a fit file at all", b".FIT" * 2, wrong_tag):
        path.write_bytes(content)
        with pytest.raises(InputError, match="not a FIT file"):
            load_fit(path)
    path.write_bytes(fit_file(FILE_ID))  # a FIT file without records
    with pytest.raises(InputError, match="no timed record messages"):
        load_fit(path)
