"""The GPMF writer against two readers: overlay.telemetry.gpmf (ours) and
tests/support/gpmf_reference.py (a separate struct walker).

Expected values are the writer's inputs — the demo ride sampled on the payload
grid (`gps5_rows`), GPSU/GPSF/GPSP from its columns — and the reading must
give them back within the scaling's precision (1e-7 degrees, 1 mm, 1 mm/s,
1 cm/s); sample times exactly, because the grid is what TSMP/STMP describe.
"""
from __future__ import annotations

import struct

import numpy as np
import pytest

from overlay.telemetry import gpmfwrite as w
from overlay.telemetry.demo import START_UTC, demo_telemetry
from overlay.telemetry.gopro import load_parts, read_gpmf
from overlay.telemetry.gpmf import Decoder, iter_items, split_raw
from overlay.telemetry.timeseries import Telemetry, Timeseries
from tests.support import gpmf_reference as ref

SECONDS = 5.0
HALF_QUANTUM = 0.5 / np.asarray(w.GPS5_SCALE, dtype=float)  # the most rounding can move a value
TOL = HALF_QUANTUM + 1e-9


@pytest.fixture(scope="module")
def tel() -> Telemetry:
    return demo_telemetry()


@pytest.fixture(scope="module")
def payloads(tel) -> list[bytes]:
    return w.encode(tel, SECONDS)


def assert_within(error, tol) -> None:
    """|error| < tol everywhere (tol broadcast per column); the worst case named on failure."""
    error = np.abs(error)
    assert np.all(error < tol), f"worst error {np.max(error / tol):.3f} x the tolerance"


def test_one_payload_per_1001_ms_with_gps_on_the_grid(payloads):
    assert len(payloads) == 5  # 5.0 s of video: payloads start at 0, 1.001, ..., 4.004
    assert all(p[:5] == b"DEVC\0" and len(p) % 4 == 0 for p in payloads)
    assert w.payload_count(5.005) == 5 and w.payload_count(5.006) == 6 and w.payload_count(0.2) == 1
    assert [len(ref.gps5_raw(p)[0]) for p in payloads] == [18] * 5  # round(18 Hz * 1.001 s)


def test_klv_items_as_the_spec_lays_them_out():
    item = w.klv("SCAL", "l", w.GPS5_SCALE)
    assert item[:8] == b"SCALl\x14\x00\x01" and struct.unpack(">5i", item[8:]) == w.GPS5_SCALE
    assert w.klv("GPSP", "S", 120) == b"GPSPS\x02\x00\x01\x00\x78\0\0"  # 2 bytes of data, 2 of padding
    assert w.klv("UNIT", "c", ("deg", "m/s")) == b"UNITc\x03\x00\x02degm/s\0\0"
    assert w.klv("DVNM", "c", "Camera") == b"DVNMc\x01\x00\x06Camera\0\0"
    assert w.klv("TYPE", "F", ["GPS5", "ACCL"])[:8] == b"TYPEF\x04\x00\x02"
    rows = w.klv("ACCL", "s", [[1, -2, 3], [4, 5, -6]])
    assert rows[:8] == b"ACCLs\x06\x00\x02" and struct.unpack(">6h", rows[8:20]) == (1, -2, 3, 4, 5, -6)
    nested = w.nest("STRM", [w.klv("TSMP", "L", 7), rows])
    assert nested[:8] == b"STRM\0\x01" + struct.pack(">H", len(nested) - 8)
    big = w.nest("DEVC", [w.klv("BIGG", "B", np.zeros((65535, 1)))])  # past 65535 bytes: struct size 4
    assert big[5] == 4 and struct.unpack(">H", big[6:8])[0] * 4 == len(big) - 8
    for buf in (nested, big):
        ours = [(i.key, i.type, i.size, i.repeat) for i in iter_items(buf, 0, len(buf))]
        theirs = [(i.key, i.type, i.size, i.repeat) for i in ref.walk(buf) if i.depth == 0]
        assert ours == theirs


def test_gps5_values_read_back_by_both_readers(tel, payloads):
    expected = w.gps5_rows(tel, len(payloads), 18)
    decoder = Decoder()
    for k, payload in enumerate(payloads):
        ours = decoder.decode(payload, k).find("GPS5")
        assert ours is not None and ours.meta.scale == tuple(float(s) for s in w.GPS5_SCALE)
        assert_within(ours.values - expected[k], TOL)
        rows, scal = ref.gps5_raw(payload)
        theirs = np.asarray(rows, dtype=float) / np.asarray(scal, dtype=float)
        assert_within(theirs - expected[k], TOL)
        assert ours.meta.name == w.GPS5_NAME and ours.meta.units == w.GPS5_UNITS


def test_gpsu_gpsf_gpsp_tsmp_stmp(tel, payloads):
    gps = tel["gps"]
    starts = np.arange(len(payloads)) * w.PAYLOAD_SECONDS
    for k, payload in enumerate(payloads):
        props = ref.stream_props(payload, "GPS5")
        utc = np.interp(starts[k], gps.t, gps["timestamp"])
        assert ref.gpsu_seconds(props["GPSU"][0]) == pytest.approx(utc, abs=0.0005)
        assert props["GPSF"] == [3] and props["GPSP"] == [120]  # demo: 3D fix, DOP 1.2
        assert props["TSMP"] == [18 * (k + 1)]
        assert props["STMP"] == [round(starts[k] * 1e6)]
        meta = Decoder().decode(payload, k).find("GPS5").meta
        assert (meta.gpsf, meta.gpsp, meta.tsmp, meta.stmp) == (3, 120, 18 * (k + 1), round(starts[k] * 1e6))
        assert meta.gpsu == pytest.approx(utc, abs=0.0005)
    assert w.gpsu_text(START_UTC) == "240911120000.000"
    assert w.gpsu_text(START_UTC + 59.9996) == "240911120100.000"  # rounding carries into the minute


def test_accl_and_camera_temperature(tel, payloads):
    t = w.grid(len(payloads), 200)
    accl = tel["accl"]
    for k, payload in enumerate(payloads):
        expected = np.stack([np.interp(t[k], accl.t, accl[f"accl.{a}"]) for a in "xyz"], axis=1)
        theirs = np.asarray(ref.scaled_rows(payload, "ACCL"))
        assert theirs.shape == (200, 3)
        assert_within(theirs - expected, 0.5 / 418 + 1e-9)
        ours = Decoder().decode(payload, k).find("ACCL")
        np.testing.assert_allclose(ours.values, theirs, rtol=0, atol=1e-12)
        assert ours.meta.orin == "XYZ" and ours.meta.units == ("m/s\xb2",)
        mid = (k + 0.5) * w.PAYLOAD_SECONDS
        assert ours.meta.tmpc == pytest.approx(np.interp(mid, tel["sensors"].t, tel["sensors"]["temp"]), abs=1e-5)


def test_raw_track_loads_with_exact_sample_times(tel, payloads, tmp_path):
    """The raw track through the real loader: GPS times on the grid, values as written, UTC from GPSU."""
    path = tmp_path / "demo.gpmd"
    path.write_bytes(w.raw_track(payloads))
    assert split_raw(path.read_bytes()) == payloads
    loaded, duration = load_parts(path)
    gps = loaded["gps"]
    grid = w.grid(len(payloads), 18).ravel()
    np.testing.assert_allclose(gps.t, grid, rtol=0, atol=1e-9)
    reference = ref.expected_times(payloads, ref.raw_payload_times(payloads), "GPS5")
    np.testing.assert_allclose(reference, grid, rtol=0, atol=1e-9)
    expected = w.gps5_rows(tel, len(payloads), 18).reshape(-1, 5)
    for j, name in enumerate(w.GPS5_COLUMNS):
        assert_within(gps[name] - expected[:, j], TOL[j])
    np.testing.assert_allclose(gps["timestamp"], np.interp(grid, tel["gps"].t, tel["gps"]["timestamp"]), atol=0.001)
    assert duration == pytest.approx(5 * w.PAYLOAD_SECONDS)
    assert read_gpmf(path).device == "overdash demo"
    assert loaded.speedup == 1.0 and "accl" in loaded and "temp" in loaded


def _gps(t, **cols) -> Telemetry:
    n = len(t)
    base = {"lat": np.full(n, 46.5), "lon": np.full(n, 6.6), "alt": np.full(n, 400.0), "speed": np.full(n, 5.0)}
    base.update(cols)
    return Telemetry({"gps": Timeseries(np.asarray(t, float), base)})


@pytest.mark.parametrize("call, message", [
    (lambda: w.klv("GPS", "l", 1), "4 printable ASCII"),
    (lambda: w.klv("GP\x00S", "l", 1), "4 printable ASCII"),
    (lambda: w.klv("GPS5", "x", 1), "type 'x' cannot be written"),
    (lambda: w.klv("GPS5", "l", 2 ** 31), "do not fit type 'l'"),
    (lambda: w.klv("GPS5", "S", -1), "do not fit type 'S'"),
    (lambda: w.klv("GPS5", "l", float("nan")), "NaN"),
    (lambda: w.klv("GPS5", "l", 1.5), "whole numbers"),
    (lambda: w.klv("GPS5", "l", "abc"), "not numbers"),
    (lambda: w.klv("GPS5", "l", np.zeros((2, 2, 2))), "3-D"),
    (lambda: w.klv("ACCL", "s", np.zeros((65536, 3))), "at most 65535"),
    (lambda: w.klv("WIDE", "d", np.zeros(32)), "does not fit in one byte"),
    (lambda: w.klv("GPSU", "U", "2409111200"), "16 characters"),
    (lambda: w.klv("DVNM", "c", "caméra ✓"), "not Latin-1"),
    (lambda: w.gpsu_text(946684799.0), "year 1999"),
    (lambda: w.gps5_stream(np.zeros((3, 4)), tsmp=3, stmp_us=0, utc=None), "rows of 5"),
    (lambda: w.gps5_stream(np.zeros((3, 5)), tsmp=3, stmp_us=0, utc=None, fix=1), "GPSF"),
    (lambda: w.gps5_stream(np.full((1, 5), 300.0), tsmp=1, stmp_us=0, utc=None), "a smaller SCAL"),
    (lambda: w.imu_stream("MAGN", np.zeros((3, 3)), tsmp=3, stmp_us=0), "not an IMU stream"),
    (lambda: w.encode(Telemetry({}), 3), "no 'gps' stream"),
    (lambda: w.encode(_gps([0, 1, 2]), 0), "positive number of seconds"),
    (lambda: w.encode(_gps([0, 2, 1]), 3), "must increase"),
    (lambda: w.encode(_gps([0, 1, 2], lat=np.array([46.5, np.nan, 46.5])), 3), "'lat' has NaN"),
    (lambda: w.encode(Telemetry({"gps": Timeseries(np.arange(3.0), {"lat": np.zeros(3)})}), 3), "lacks lon"),
    (lambda: w.encode(_gps([0, 1, 2]), 3, gps_rate=0.1), "samples a payload"),
    (lambda: w.encode(Telemetry({**_gps([0, 1]).streams, "accl": Timeseries(np.arange(2.0), {})}), 3),
     "accl: stream lacks accl.x, accl.y, accl.z"),
])
def test_malformed_input_raises_clearly(call, message):
    with pytest.raises(w.GPMFEncodeError, match=message):
        call()


def test_minimal_telemetry_gets_defaults(tmp_path):
    """No timestamp, fix, DOP or 3D speed: no GPSU, fix 3, DOP 1.0, 3D speed = 2D speed; no IMU."""
    payloads = w.encode(_gps([0.0, 10.0], speed=np.array([2.0, 4.0])), 2.0)
    props = ref.stream_props(payloads[0], "GPS5")
    assert "GPSU" not in props and props["GPSF"] == [3] and props["GPSP"] == [100]
    rows, scal = ref.gps5_raw(payloads[1])
    assert [r[3] / scal[3] for r in rows][:2] == pytest.approx([2.2002, 2.2002 + 2 * 1.001 / 180], abs=1e-3)
    assert all(r[4] / scal[4] == pytest.approx(r[3] / scal[3], abs=0.006) for r in rows)
    assert not ref.strm_items(payloads[0], "ACCL")
