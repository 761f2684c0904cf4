"""Every decoded stream of every sample file: counts, first/last values, time spans, units.

Expected values come from tests/gpmf_reference.py (struct-based walk and the
spec's timing rule restated in plain Python) and arithmetic shown inline.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from overlay.telemetry.gopro import load_gopro
from tests.support import gpmf_reference as ref
from tests.support.paths import device_file

FILES = ["hero5.raw", "hero6.raw", "Fusion.raw", "hero7.raw", "hero11.raw", "hero9-rotation.gpmd", "max-heromode.mp4"]
# a STRM ending in one of these holds no data (hero6 has an empty one ending in STNM)
PROPERTIES = {"STNM", "TICK", "TOCK", "EMPT", "TSMP", "SCAL", "SIUN", "TYPE"}
PLAIN = {"GRAV": "grav", "CORI": "cori", "IORI": "iori"}  # no ORIN: file order is w,x,y,z / x,y,z


def source(name: str) -> tuple[list[bytes], list[tuple[float, float]]]:
    path = device_file(f"gopro/{name}")
    if name.endswith(".mp4"):
        return ref.payloads(path), ref.payload_times(path)
    payloads = ref.raw_payloads(path)
    return payloads, ref.raw_payload_times(payloads)


@pytest.fixture(scope="module", params=FILES)
def case(request):
    payloads, times = source(request.param)
    return request.param, payloads, times, load_gopro(device_file(f"gopro/{request.param}"))


def test_every_stream_count_span_and_inventory(case):
    name, payloads, times, tel = case
    listed = {i.fourcc: i for i in tel.inventory}
    data_keys = set()
    for p in payloads:
        items = ref.walk(p)
        for k, item in enumerate(items):
            if item.key == "STRM":
                stop = next((j for j, i in enumerate(items[k + 1:]) if i.depth < 2), len(items) - k - 1)
                inner = items[k + 1:k + 1 + stop]
                if inner:
                    data_keys.add(inner[-1].key)  # the last item of a STRM is its data
    # every stream in the file is listed by info, decoded or not (property-only STRMs excepted)
    assert data_keys - PROPERTIES <= set(listed)
    for key, stream in [("ACCL", "accl"), ("GYRO", "gyro"), *PLAIN.items(), ("MAGN", "magn")]:
        count = sum((ref.stream_parts(p, key) or (0,))[0] for p in payloads)
        if not count:
            assert stream not in tel
            continue
        t = ref.expected_times(payloads, times, key)
        ts = tel[stream]
        assert len(ts) == count == listed[key].count
        assert ts.span == pytest.approx((t[0], t[-1]), abs=1e-9)
        assert listed[key].rate == pytest.approx((count - 1) / (t[-1] - t[0]))


@pytest.mark.parametrize("name", FILES)
def test_plain_streams_first_last_values(name):
    payloads, _ = source(name)
    tel = load_gopro(device_file(f"gopro/{name}"))
    for key, stream in PLAIN.items():
        rows = [r for p in payloads for r in ref.scaled_rows(p, key)]
        if not rows:
            continue
        axes = "wxyz" if key != "GRAV" else "xyz"
        for i in (0, -1):
            assert [tel[stream][f"{stream}.{a}"][i] for a in axes] == pytest.approx(rows[i])


def test_cori_euler_angles_by_hand():
    # hero11 payload 0, CORI sample 0 raw int16 / 32767: w,x,y,z as below (from the bytes)
    w, x, y, z = ref.scaled_rows(ref.raw_payloads(device_file("gopro/hero11.raw"))[0], "CORI")[0]
    cori = load_gopro(device_file("gopro/hero11.raw"))["cori"]
    roll = math.degrees(math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)))
    pitch = math.degrees(math.asin(2 * (w * y - z * x)))
    yaw = math.degrees(math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    assert (cori["cori.roll"][0], cori["cori.pitch"][0], cori["cori.yaw"][0]) == pytest.approx((roll, pitch, yaw))
    # identity quaternion -> 0,0,0: hero9's first CORI is ~(1, 0.0009, 0.0017, 0.0046), all angles < 1 deg
    h9 = load_gopro(device_file("gopro/hero9-rotation.gpmd"))["cori"]
    assert max(abs(h9[f"cori.{a}"][0]) for a in ("roll", "pitch", "yaw")) < 1.0


def test_magnetometer_in_tesla():
    # Fusion MAGN is float with SIUN 'µT' (SCAL 1): 25.9 µT = 2.59e-5 T
    rows = ref.scaled_rows(ref.raw_payloads(device_file("gopro/Fusion.raw"))[0], "MAGN")
    magn = load_gopro(device_file("gopro/Fusion.raw"))["magn"]
    assert [magn[f"magn.{a}"][0] for a in "xyz"] == pytest.approx([v * 1e-6 for v in rows[0]])
    max_magn = load_gopro(device_file("gopro/max-heromode.mp4"))["magn"]  # 4 columns stored; x, y, z kept
    first = ref.scaled_rows(ref.payloads(device_file("gopro/max-heromode.mp4"))[0], "MAGN")[0]
    assert len(first) == 4 and max_magn["magn.x"][0] == pytest.approx(first[0] * 1e-6)


@pytest.mark.parametrize("name", ["hero5.raw", "hero11.raw", "max-heromode.mp4"])
def test_camera_temperature_per_payload(name):
    payloads, times = source(name)
    temp = load_gopro(device_file(f"gopro/{name}"))["temp"]
    expected = [ref.stream_props(p, "ACCL")["TMPC"][0] for p in payloads]
    assert temp["temp"].tolist() == pytest.approx(expected)
    assert temp.t.tolist() == pytest.approx([s + d / 2 for s, d in times])  # payload middles


def test_hero11_gps9_utc_times():
    payloads = ref.raw_payloads(device_file("gopro/hero11.raw"))
    gps = load_gopro(device_file("gopro/hero11.raw"))["gps"]
    rows = [r for p in payloads for r in ref.gps9_raw(p)[0]]
    utc = [ref.GPS_EPOCH + days * 86400 + ms / 1000 for days, ms in (r[5:7] for r in rows)]
    assert gps["timestamp"].tolist() == pytest.approx(utc, abs=1e-6)
    # first: 8298 days + 48576.899 s after 2000-01-01 = 2022-09-20 13:29:36.899 UTC
    assert utc[0] == pytest.approx(946684800 + 8298 * 86400 + 48576.899)
    assert np.all(np.diff(gps["timestamp"]) > 0)
    # GPS9 times advance 0.1 s per sample (10 Hz) as the video-time axis does: real time
    assert np.median(np.diff(gps["timestamp"])) == pytest.approx(0.1, abs=1e-6)


def test_timing_notes_and_speedup():
    tel = load_gopro(device_file("gopro/max-heromode.mp4"))
    assert tel.speedup == 1.0 and tel.firmware == "H19.03.01.30.00"  # udta FIRM, by hexdump
    assert any("STMP" in note for note in tel.notes)
    assert any("TSMP" in note for note in load_gopro(device_file("gopro/hero7.raw")).notes)  # no STMP in HERO7
