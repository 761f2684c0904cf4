"""load_gopro and the GPMF decoder on real GoPro files.

Expected values come from tests/gpmf_reference.py (a separate struct-based
walker over the same bytes), from ffprobe, or from arithmetic shown inline;
none from overlay.telemetry itself.
"""
from __future__ import annotations

import json
import shutil
import statistics
import struct
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from overdash import InputError
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.gpmf import Decoder, GPMFWarning, parse_gpsu
from tests.support import gpmf_reference as ref
from tests.support.paths import SHARED_DATA, device_file, needs_device_file

MAX = SHARED_DATA / "gopro" / "max-heromode.mp4"
RAW = ["hero5.raw", "hero6.raw", "Fusion.raw", "hero7.raw", "hero11.raw", "hero9-rotation.gpmd"]
needs_ffmpeg = pytest.mark.skipif(not shutil.which("ffprobe") or not shutil.which("ffmpeg"), reason="no ffmpeg")


def ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def gps_counts(payloads: list[bytes]) -> list[int]:
    """GPS samples per payload: GPS9 where present (preferred), else GPS5."""
    return [len(ref.gps9_raw(p)[0]) or len(ref.gps5_raw(p)[0]) for p in payloads]


def first_rows(counts: list[int]) -> np.ndarray:
    return np.cumsum([0] + counts[:-1])


@pytest.fixture(scope="module")
def max_tel():
    return load_gopro(device_file("gopro/max-heromode.mp4"))


# ---------------------------------------------------------------- max-heromode.mp4

@needs_device_file("gopro/max-heromode.mp4")
@needs_ffmpeg
def test_max_payload_count():
    streams = ffprobe(MAX, "-show_streams")["streams"]
    gpmd, = [s for s in streams if s["codec_tag_string"] == "gpmd"]
    assert int(gpmd["nb_frames"]) == len(ref.payloads(MAX)) == 11


@needs_device_file("gopro/max-heromode.mp4")
def test_max_gps_values(max_tel):
    gps = max_tel["gps"]
    payloads = ref.payloads(MAX)
    rows = [r for p in payloads for r in ref.gps5_raw(p)[0]]
    scal = ref.gps5_raw(payloads[0])[1]  # [1e7, 1e7, 1000, 1000, 100]
    assert len(gps) == len(rows) == 191  # 17+18+19+18+18+19+18+18+18+18+10
    recorded = load_gopro(MAX, altitude="ellipsoid")["gps"]["alt"]  # no GPSA: heights above the ellipsoid
    for i in (0, -1):
        lat, lon, alt, speed, speed3d = (v / s for v, s in zip(rows[i], scal))
        assert gps["lat"][i] == pytest.approx(lat, abs=1e-9)
        assert gps["lon"][i] == pytest.approx(lon, abs=1e-9)
        assert recorded[i] == pytest.approx(alt)  # mean sea level (the default): tests/overlay/telemetry/test_geoid.py
        assert gps["speed"][i] == pytest.approx(speed)
        assert gps["speed3d"][i] == pytest.approx(speed3d)
    # the raw int32 of the first sample, by hand: 0x13bebe74 / 1e7 = 33.1267700 deg
    assert gps["lat"][0] == pytest.approx(0x13BEBE74 / 1e7)
    assert {"lat", "lon", "alt", "speed", "speed3d", "gps-lock", "gps-dop", "timestamp", "gps-ok"} <= set(gps.columns)


@needs_device_file("gopro/max-heromode.mp4")
def test_max_sample_times_follow_measured_rate(max_tel):
    gps = max_tel["gps"]
    payloads = ref.payloads(MAX)
    times = ref.payload_times(MAX)  # stts: ten payloads of 1.001 s, then 0.533 s
    assert [round(d, 3) for _, d in times] == [1.001] * 10 + [0.533]
    assert np.allclose(gps.t, ref.expected_times(payloads, times, "GPS5"), atol=1e-9)
    # 191 samples over 10.543 s of payloads: about 18.1 Hz, evenly spaced across the file
    steps = np.diff(gps.t)
    assert np.allclose(steps, steps[0]) and 1 / steps[0] == pytest.approx(191 / 10.543, rel=0.01)
    assert abs(gps.t[0]) < 0.1  # first GPS sample near frame 0 (STMP 0.102 s vs ACCL 0.081 s)


@needs_device_file("gopro/max-heromode.mp4")
def test_max_gps_lock_dop_timestamp(max_tel):
    gps = max_tel["gps"]
    payloads = ref.payloads(MAX)
    counts = gps_counts(payloads)
    t = ref.expected_times(payloads, ref.payload_times(MAX), "GPS5")
    gpsu = []
    for k, (p, first) in enumerate(zip(payloads, first_rows(counts))):
        props = ref.stream_props(p, "GPS5")
        part = slice(first, first + counts[k])
        assert np.all(gps["gps-lock"][part] == props["GPSF"][0])
        assert np.allclose(gps["gps-dop"][part], props["GPSP"][0] / 100)
        gpsu.append(ref.gpsu_seconds(props["GPSU"][0]) - t[first])  # GPSU = first sample's UTC
    intercept = statistics.median(gpsu)  # one line over the file, real time (speedup 1)
    assert np.allclose(gps["timestamp"], [intercept + x for x in t], atol=1e-6)
    # payload 0: GPSU '191118234514.000' = 2019-11-18 23:45:14 UTC = 1574120714
    assert ref.gpsu_seconds(ref.stream_props(payloads[0], "GPS5")["GPSU"][0]) == 1574120714.0
    # GPSU minus its payload's first-sample time is -0.025 s in payload 0, then 1.51, 1.51,
    # 1.454 x3, 1.398 x3, 1.452 x2 s: payload 0's GPSU is the odd one out (the same ~1.4 s lag
    # GPS9 shows for GPSU on HERO11), and the median line (1.452 s) follows the majority
    assert gps["timestamp"][0] - 1574120714.0 == pytest.approx(1.452 + gps.t[0], abs=0.01)


def imu_raw(payload: bytes, key: str) -> tuple[list[tuple[int, int, int]], int, str | None]:
    group = ref.strm_items(payload, key)[0]
    props = {i.key: i for i in group}
    data = props[key].data
    assert props[key].type == "s" and props["SCAL"].type == "s"
    rows = [struct.unpack(">3h", data[i:i + 6]) for i in range(0, len(data), 6)]
    scal = struct.unpack(">h", props["SCAL"].data)[0]
    orin = props["ORIN"].data.decode() if "ORIN" in props else None
    return rows, scal, orin


@needs_device_file("gopro/max-heromode.mp4")
def test_max_imu_follows_orin(max_tel):
    payloads = ref.payloads(MAX)
    for key, name in (("ACCL", "accl"), ("GYRO", "gyro")):
        rows, scal, orin = imu_raw(payloads[0], key)
        assert orin == "XzY"  # stored columns are X, -Z, Y
        ts = max_tel[name]
        assert len(ts) == sum(len(imu_raw(p, key)[0]) for p in payloads)
        c0, c1, c2 = rows[0]
        assert ts[f"{name}.x"][0] == pytest.approx(c0 / scal)
        assert ts[f"{name}.z"][0] == pytest.approx(-c1 / scal)
        assert ts[f"{name}.y"][0] == pytest.approx(c2 / scal)
        assert ts.t[0] == pytest.approx(ref.expected_times(payloads, ref.payload_times(MAX), key)[0], abs=1e-9)


@needs_device_file("gopro/max-heromode.mp4")
def test_max_device_from_minf(max_tel):
    udta_gpmf = ref.user_data(MAX, "GPMF")  # moov/udta/GPMF: 'Global Settings' DEVC with MINF
    names = [i.data.split(b"\0")[0].decode() for i in ref.walk(udta_gpmf) if i.key == "MINF"]
    assert max_tel.device == names[0] == "GoPro Max"
    assert max_tel.source == str(MAX)


@needs_device_file("gopro/max-heromode.mp4")
def test_gps5_speed_at_agrees_with_loader(max_tel):
    gps = max_tel["gps"]
    for t in (0.0, 0.02, 1.0, 3.3333, 7.5, 10.2, 10.49):
        assert np.interp(t, gps.t, gps["speed"]) == pytest.approx(ref.gps5_speed_at(MAX, t), abs=1e-9)


@needs_device_file("gopro/max-heromode.mp4")
@needs_ffmpeg
def test_muxed_gpmf_on_video_with_edit_list(tmp_path):
    # x264 B-frames make ffmpeg write a video edit list (media_time > 0); frame 0 is still t=0
    out = tmp_path / "mux.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30000/1001",
                    "-i", str(MAX), "-map", "0:v", "-map", "1:3", "-t", "10.5", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd", str(out)], check=True)
    assert ref.read_movie(out).video().elst[0][1] > 0
    video_start = float(ffprobe(out, "-select_streams", "v", "-show_streams")["streams"][0]["start_time"])
    pts = [float(p["pts_time"]) - video_start
           for p in ffprobe(out, "-select_streams", "d", "-show_entries", "packet=pts_time")["packets"]]
    gps = load_gopro(out)["gps"]
    assert np.allclose([s for s, _ in ref.payload_times(out)], pts, atol=1e-3)
    assert np.allclose(gps.t, ref.expected_times(ref.payloads(out), ref.payload_times(out), "GPS5"), atol=1e-9)
    for t in (0.5, 5.0, 9.9):
        assert np.interp(t, gps.t, gps["speed"]) == pytest.approx(ref.gps5_speed_at(out, t), abs=1e-9)


# ---------------------------------------------------------------- raw GPMF files

@pytest.mark.parametrize("name", RAW)
def test_raw_files_load(name):
    path = device_file(f"gopro/{name}")
    payloads = ref.raw_payloads(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every sample file decodes cleanly
        tel = load_gopro(path)
    gps = tel["gps"]
    counts = gps_counts(payloads)
    assert len(gps) == sum(counts)
    # no sample file has TICK in more than one payload: payload times are ACCL STMP
    # differences (multi-payload files with STMP) or 1.001 s slots
    key = "GPS9" if ref.gps9_raw(payloads[0])[0] else "GPS5"
    assert np.allclose(gps.t, ref.expected_times(payloads, ref.raw_payload_times(payloads), key), atol=1e-9)
    rows, scal = ref.gps9_raw(payloads[0]) if ref.gps9_raw(payloads[0])[0] else ref.gps5_raw(payloads[0])
    assert gps["lat"][0] == pytest.approx(rows[0][0] / scal[0], abs=1e-9)
    assert gps["speed"][0] == pytest.approx(rows[0][3] / scal[3])
    for key, stream in (("ACCL", "accl"), ("GYRO", "gyro")):
        n = sum(i.repeat for p in payloads for i in ref.walk(p) if i.key == key)
        assert len(tel[stream]) == n and set(tel[stream].columns) == {f"{stream}.{a}" for a in "xyz"}
    dvnm = [i.data.split(b"\0")[0].decode() for i in ref.walk(payloads[0]) if i.key == "DVNM"][0]
    assert tel.device == (None if dvnm == "Camera" else dvnm)  # HERO5 calls itself just 'Camera'


def test_hero5_imu_file_order_without_orin():
    rows, scal, orin = imu_raw(ref.raw_payloads(device_file("gopro/hero5.raw"))[0], "ACCL")
    assert orin is None
    accl = load_gopro(device_file("gopro/hero5.raw"))["accl"]
    assert [accl[f"accl.{a}"][0] for a in "xyz"] == pytest.approx([c / scal for c in rows[0]])


def test_hero6_has_no_fix():
    payload = ref.raw_payloads(device_file("gopro/hero6.raw"))[0]
    props = ref.stream_props(payload, "GPS5")
    assert props["GPSF"] == [0] and props["GPSP"] == [9999]
    gps = load_gopro(device_file("gopro/hero6.raw"))["gps"]
    assert np.all(gps["gps-lock"] == 0) and np.all(gps["gps-dop"] == 99.99)


def test_hero11_prefers_gps9_with_utc_per_sample():
    payloads = ref.raw_payloads(device_file("gopro/hero11.raw"))
    gps = load_gopro(device_file("gopro/hero11.raw"))["gps"]
    rows = [r for p in payloads for r in ref.gps9_raw(p)[0]]
    scal = ref.gps9_raw(payloads[0])[1]  # [1e7, 1e7, 1000, 1000, 100, 1, 1000, 100, 1]
    assert len(gps) == len(rows)
    days, millis, dop, fix = rows[0][5:9]
    first_utc = ref.GPS_EPOCH + days * 86400 + millis / scal[6]
    assert gps["timestamp"][0] == pytest.approx(first_utc, abs=1e-6)
    assert gps["gps-dop"][0] == pytest.approx(dop / scal[7]) and gps["gps-lock"][0] == fix == 3
    last_days, last_millis = rows[-1][5:7]
    assert gps["timestamp"][-1] == pytest.approx(ref.GPS_EPOCH + last_days * 86400 + last_millis / 1000, abs=1e-6)
    # GPSU of the same payload (in the GPS5 stream) is '220920132938.299'; GPS9's first sample
    # is 8298 days + 48576.899 s after 2000-01-01 = 2022-09-20 13:29:36.899 UTC: GPSU is
    # 1.4 s later than GPS9's first sample in every payload of this file (a HERO11 quirk).
    gpsu = ref.gpsu_seconds(ref.stream_props(payloads[0], "GPS5")["GPSU"][0])
    assert 0 <= gpsu - first_utc < 2.0


@pytest.mark.parametrize("text, expected", [
    ("191118234514.000", 1574120714.0),  # 2019-11-18 23:45:14 UTC
    ("220920132938.299", 1663680578.299),  # 2022-09-20 13:29:38.299 UTC
    ("garbage", None),
])
def test_parse_gpsu(text, expected):
    assert parse_gpsu(text) == (pytest.approx(expected) if expected else None)


# ---------------------------------------------------------------- damaged input

def test_truncated_raw_keeps_intact_payloads(tmp_path):
    src = device_file("gopro/hero7.raw")
    payloads = ref.raw_payloads(src)
    path = tmp_path / "cut.raw"
    path.write_bytes(src.read_bytes()[:-len(payloads[-1]) // 2])  # half of payload 16 is gone
    with pytest.warns(GPMFWarning, match=r"payload 16\b"):
        gps = load_gopro(path)["gps"]
    assert len(gps) == sum(gps_counts(payloads[:16]))


@needs_device_file("gopro/max-heromode.mp4")
@needs_ffmpeg
def test_truncated_faststart_mp4_keeps_intact_payloads(tmp_path):
    # with moov at the front (faststart) a cut file still has its index; the last payload is gone
    fast = tmp_path / "fast.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(MAX), "-map", "0:0", "-map", "0:3", "-c", "copy",
                    "-copy_unknown", "-tag:d", "gpmd", "-movflags", "+faststart", str(fast)], check=True)
    gpmd = ref.read_movie(fast).track("gpmd")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(fast.read_bytes()[:gpmd.offsets[-1] + 100])
    with pytest.warns(GPMFWarning, match=r"payload 10\b"):
        gps = load_gopro(cut)["gps"]
    assert len(gps) == sum(gps_counts(ref.payloads(MAX)[:10]))


@needs_device_file("gopro/max-heromode.mp4")
def test_truncated_mp4_without_index(tmp_path):
    path = tmp_path / "cut.mp4"
    path.write_bytes(MAX.read_bytes()[:3_000_000])  # moov is at the end of GoPro files
    with pytest.raises(InputError, match=r"its MP4 index \('moov' box\) is missing"):
        load_gopro(path)


def _flip(data: bytearray, offset: int, value: int) -> None:
    data[offset] = value


@needs_device_file("gopro/max-heromode.mp4")
@pytest.mark.parametrize("how", ["key", "repeat"])
def test_byte_flipped_mp4_skips_one_payload(tmp_path, how):
    gpmd = ref.read_movie(MAX).track("gpmd")
    payload3 = ref.payloads(MAX)[3]
    gps_item = next(i for i in ref.walk(payload3) if i.key == "GPS5")
    data = bytearray(MAX.read_bytes())
    at = gpmd.offsets[3] + gps_item.offset
    if how == "key":
        _flip(data, at, 0xFF)  # 'GPS5' -> '\xffPS5': not a valid key
    else:
        _flip(data, at + 6, 0xFF)  # repeat 0x0012 -> 0xff12: runs past its STRM
    path = tmp_path / "flipped.mp4"
    path.write_bytes(bytes(data))
    with pytest.warns(GPMFWarning, match=r"GPMF payload 3: corrupt"):
        gps = load_gopro(path)["gps"]
    counts = gps_counts(ref.payloads(MAX))
    assert len(gps) == sum(counts) - counts[3]
    kept = [k for k in range(len(counts)) if k != 3]  # TSMP keeps payload 3's gap in the count
    payloads, times = ref.payloads(MAX), ref.payload_times(MAX)
    expected = ref.expected_times([payloads[k] for k in kept], [times[k] for k in kept], "GPS5")
    assert np.allclose(gps.t, expected, atol=1e-9)
    assert gps.t[sum(counts[:3])] - gps.t[sum(counts[:3]) - 1] > 1.0  # the gap


def test_byte_flipped_raw_skips_one_payload(tmp_path):
    src = device_file("gopro/hero7.raw")
    payloads = ref.raw_payloads(src)
    data = bytearray(src.read_bytes())
    start5 = sum(len(p) for p in payloads[:5])
    _flip(data, start5 + 1, ord("x"))  # 'DEVC' -> 'DxVC' at payload 5
    path = tmp_path / "flipped.raw"
    path.write_bytes(bytes(data))
    with pytest.warns(GPMFWarning, match=r"payload 5\b"):
        gps = load_gopro(path)["gps"]
    counts = gps_counts(payloads)
    assert len(gps) == sum(counts) - counts[5]
    kept = [k for k in range(len(payloads)) if k != 5]  # payload 6 keeps its slot
    expected = ref.expected_times([payloads[k] for k in kept], [(1.001 * k, 1.001) for k in kept], "GPS5")
    assert np.allclose(gps.t, expected, atol=1e-9)


@needs_device_file("gopro/max-heromode.mp4")
def test_random_damage_never_raises():
    # seeded random byte changes and cuts, biased towards item headers: each payload
    # decodes or is skipped with a warning, never an exception
    rng = np.random.default_rng(7)
    payloads = ref.payloads(MAX) + ref.raw_payloads(device_file("gopro/hero11.raw"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GPMFWarning)
        for _ in range(300):
            data = bytearray(payloads[rng.integers(len(payloads))])
            for _ in range(rng.integers(1, 4)):
                data[rng.integers(min(len(data), 600))] = rng.integers(256)
            if rng.random() < 0.2:
                data = data[:rng.integers(len(data))]
            result = Decoder().decode(bytes(data), 0)
            assert result is None or all(s.values.ndim == 2 for s in result.streams)


# ---------------------------------------------------------------- unusable input

def test_not_an_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n")
    with pytest.raises(InputError) as err:
        load_gopro(path)
    assert str(err.value).startswith(f"{path}: not an MP4/MOV file (") and "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"GPS data? no, just text\n"])
def test_not_a_raw_gpmf_file(tmp_path, content):
    path = tmp_path / "track.gpmd"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"not a raw GPMF file"):
        load_gopro(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_gopro(tmp_path / "nope.mp4")


@needs_ffmpeg
def test_mp4_without_gpmf_track(tmp_path):
    path = tmp_path / "x.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-t", "1",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    with pytest.raises(InputError) as err:
        load_gopro(path)
    message = str(err.value)
    assert message.startswith(f"{path}: no GoPro telemetry (GPMF) track — ") and "\n" not in message


@needs_device_file("gopro/max-heromode.mp4")
def test_gpmf_track_without_gps(tmp_path):
    gpmd = ref.read_movie(MAX).track("gpmd")
    data = bytearray(MAX.read_bytes())
    for offset, payload in zip(gpmd.offsets, ref.payloads(MAX)):
        for item in ref.walk(payload):
            if item.key == "GPS5":
                data[offset + item.offset:offset + item.offset + 4] = b"GPSX"  # valid, but not GPS
    path = tmp_path / "nogps.mp4"
    path.write_bytes(bytes(data))
    tel = load_gopro(path)
    assert "gps" not in tel and "accl" in tel and "gyro" in tel


# ---------------------------------------------------------------- decoder types (synthetic)
# No sample file holds q/Q/d/j or TYPE arrays; these items are built by hand.

def klv(key: bytes, type_char: str, size: int, repeat: int, data: bytes) -> bytes:
    return key + struct.pack(">cBH", type_char.encode("latin-1"), size, repeat) + data + bytes(-len(data) % 4)


def strm(*items: bytes) -> bytes:
    body = b"".join(items)
    return klv(b"STRM", "\0", 1, len(body), body)


def devc(*streams: bytes) -> bytes:
    body = klv(b"DVID", "L", 4, 1, struct.pack(">I", 1)) + klv(b"DVNM", "c", 1, 4, b"Test") + b"".join(streams)
    return klv(b"DEVC", "\0", 1, len(body), body)


def test_decoder_types():
    payload = devc(
        strm(klv(b"SCAL", "l", 4, 2, struct.pack(">2i", 10, 100)),
             klv(b"TYPE", "c", 1, 5, b"f[2]l"),
             klv(b"SIUN", "c", 3, 3, b"m  s  Hz "),
             klv(b"DEMO", "?", 12, 2, struct.pack(">2fi2fi", 1.0, 2.0, 300, 3.0, 4.0, 600))),
        strm(klv(b"STNM", "c", 1, 5, b"fixed"),
             klv(b"FIXQ", "q", 8, 2, struct.pack(">4i", 1 << 16, -(1 << 15), 3 << 16, 1))),
        strm(klv(b"BIGQ", "Q", 8, 1, struct.pack(">q", -(3 << 31)))),
        strm(klv(b"BIGD", "d", 8, 1, struct.pack(">d", 2.5)), klv(b"BIGJ", "j", 8, 1, struct.pack(">q", -7))),
        strm(klv(b"SCAL", "s", 2, 2, struct.pack(">2h", 1, 2)), klv(b"BADS", "s", 6, 1, bytes(6))))
    with pytest.warns(GPMFWarning, match=r"payload 0: stream BADS skipped \(2 SCAL values for 3 columns\)"):
        decoded = Decoder().decode(payload, 0)
    demo = decoded.find("DEMO")
    # fields f[2] (two floats) share SCAL 10, l gets 100: one SCAL per field, expanded per element
    assert demo.values.tolist() == [[1.0 / 10, 2.0 / 10, 300 / 100], [3.0 / 10, 4.0 / 10, 600 / 100]]
    assert demo.meta.units == ("m", "s", "Hz") and demo.device_name == "Test" and demo.device_id == 1
    assert decoded.find("FIXQ").values.tolist() == [[1.0, -0.5], [3.0, 1 / 65536]]  # Q15.16
    assert decoded.find("FIXQ").meta.name == "fixed"
    assert decoded.find("BIGQ").values.tolist() == [[-1.5]]  # Q31.32: -(3 << 31) / 2**32
    assert decoded.find("BIGJ").values.tolist() == [[-7.0]]  # the last item is the data ...
    assert decoded.find("BIGD") is None and decoded.find("BIGJ").meta.other == {"BIGD": 2.5}  # ... the rest props
    assert decoded.find("BADS") is None


def test_decoder_carries_scale_to_later_payloads():
    with_scal = devc(strm(klv(b"SCAL", "s", 2, 1, struct.pack(">h", 4)), klv(b"VALS", "s", 2, 1, struct.pack(">h", 2))))
    without = devc(strm(klv(b"VALS", "s", 2, 1, struct.pack(">h", 6))))
    decoder = Decoder()
    assert decoder.decode(with_scal, 0).find("VALS").values.tolist() == [[0.5]]
    assert decoder.decode(without, 1).find("VALS").values.tolist() == [[1.5]]
