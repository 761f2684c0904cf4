"""GPX and FIT readers, alignment to the video, merging with the camera, time zones.

Reference values come from the files themselves, read here without overdash:
the GPX with gzip + ElementTree, the FIT with fitdecode directly. The ride
exists twice (the Karoo's FIT and Strava's GPX export of the same recording).
"""
from __future__ import annotations

import gzip
import json
import struct
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import fitdecode
import numpy as np
import pytest

from overdash import InputError
from overlay.telemetry.derived import haversine
from overlay.telemetry.fit import load_fit
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.gpx import load_gpx
from overlay.telemetry.merge import align, camera_start_utc, merge, to_posix
from overlay.telemetry.timezone import first_position, resolve_zone, zone_for
from tests.support.paths import SHARED_DATA, device_file, needs_device_file

GPX = SHARED_DATA / "gpx" / "ride-2021-09-24.gpx.gz"
FIT = SHARED_DATA / "fit" / "ride-2021-09-24-karoo.fit"
HERO = SHARED_DATA / "gopro" / "max-heromode.mp4"

NS = {"g": "http://www.topografix.com/GPX/1/1"}


@pytest.fixture(scope="module")
def gpx():
    return load_gpx(device_file("gpx/ride-2021-09-24.gpx.gz"))


@pytest.fixture(scope="module")
def fit():
    return load_fit(device_file("fit/ride-2021-09-24-karoo.fit"))


@pytest.fixture(scope="module")
def xml_points():
    """(time, lat, lon, ele, {extension local name: value}) per trkpt, by ElementTree."""
    root = ET.fromstring(gzip.decompress(device_file("gpx/ride-2021-09-24.gpx.gz").read_bytes()))
    out = []
    for p in root.iter("{http://www.topografix.com/GPX/1/1}trkpt"):
        when = datetime.fromisoformat(p.find("g:time", NS).text.replace("Z", "+00:00")).timestamp()
        ext = {}
        for el in p.iter():
            if el.tag.startswith("{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}") and len(el) == 0:
                ext[el.tag.split("}")[1]] = float(el.text)
        out.append((when, float(p.get("lat")), float(p.get("lon")), float(p.find("g:ele", NS).text), ext))
    return out


@pytest.fixture(scope="module")
def fit_records():
    """Record messages as {field name: value} (timestamp as POSIX seconds), by fitdecode."""
    out = []
    with fitdecode.FitReader(str(device_file("fit/ride-2021-09-24-karoo.fit"))) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                rec = {f.name: f.value for f in frame.fields}
                rec["timestamp"] = rec["timestamp"].timestamp()
                out.append(rec)
    return out


def at(series, when: float) -> int:
    idx = np.flatnonzero(series.t == when)
    assert len(idx) == 1, f"no single sample at {when}"
    return int(idx[0])


# --- GPX ---------------------------------------------------------------------------------

def test_gpx_loads_every_point_sorted_on_utc(gpx, xml_points):
    g = gpx["gps"]
    assert len(g) == len(xml_points) == 8597
    assert np.all(np.diff(g.t) > 0)
    np.testing.assert_array_equal(g.t, g["timestamp"])
    assert g.t[0] == datetime(2021, 9, 24, 9, 59, 9, tzinfo=timezone.utc).timestamp()
    when, lat, lon, ele, _ = xml_points[0]
    assert (g.t[0], g["lat"][0], g["lon"][0], g["alt"][0]) == (when, lat, lon, ele)
    assert g["gps-ok"].all()
    for col in ("codo", "cspeed"):  # derived metrics, as for the camera
        assert col in g
    assert {"hr", "cadence", "temp"} <= set(gpx["sensors"].columns)
    assert gpx.device == "StravaGPX"


@pytest.mark.parametrize("i", [0, 1, 500, 2345, 4321, 7000, 8596])
def test_gpx_hr_cadence_temp_match_the_xml(gpx, xml_points, i):
    when, lat, lon, ele, ext = xml_points[i]
    s, g = gpx["sensors"], gpx["gps"]
    k = at(s, when)
    assert s["hr"][k] == ext["hr"]
    assert s["cadence"][k] == ext["cad"]
    assert s["temp"][k] == ext["atemp"]
    assert (g["lat"][k], g["lon"][k], g["alt"][k]) == (lat, lon, ele)


GPX_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"
     xmlns:pw="http://www.garmin.com/xmlschemas/PowerExtension/v1">
 <trk><trkseg>{points}</trkseg></trk>
</gpx>"""


def _pt(lat, lon, time, ext="", ele=100):
    return (f'<trkpt lat="{lat}" lon="{lon}"><ele>{ele}</ele><time>{time}</time>'
            f"<extensions>{ext}</extensions></trkpt>")


def test_gpx_any_prefix_duplicates_unsorted_and_gzip(tmp_path):
    tpx = ("<ns3:TrackPointExtension><ns3:hr>{}</ns3:hr><ns3:cad>{}</ns3:cad><ns3:speed>{}</ns3:speed>"
           "</ns3:TrackPointExtension>")
    points = [
        _pt(51.0, -2.0, "2021-01-01T10:00:02Z", tpx.format(120, 80, 5.5) + "<pw:PowerInWatts>250</pw:PowerInWatts>"),
        _pt(51.0001, -2.0, "2021-01-01T10:00:00Z", tpx.format(110, 70, 5.0)),
        _pt(51.0002, -2.0, "2021-01-01T10:00:01Z", tpx.format(115, 75, 5.2)),
        # a duplicate of 10:00:01 carrying only a heart rate and another position: merged, last value wins
        _pt(51.0003, -2.0, "2021-01-01T10:00:01Z",
            "<ns3:TrackPointExtension><ns3:hr>116</ns3:hr></ns3:TrackPointExtension>"),
    ]
    text = GPX_TEMPLATE.format(points="".join(points))
    plain, packed = tmp_path / "a.gpx", tmp_path / "a.gpx.gz"
    plain.write_text(text)
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        tel = load_gpx(path)
        g, s = tel["gps"], tel["sensors"]
        t0 = datetime(2021, 1, 1, 10, tzinfo=timezone.utc).timestamp()
        np.testing.assert_array_equal(g.t, [t0, t0 + 1, t0 + 2])
        np.testing.assert_array_equal(g["lat"], [51.0001, 51.0003, 51.0])
        np.testing.assert_array_equal(s["hr"], [110, 116, 120])
        np.testing.assert_array_equal(s["cadence"], [70, 75, 80])  # the duplicate had none: kept
        np.testing.assert_array_equal(g["speed"], [5.0, 5.2, 5.5])
        np.testing.assert_array_equal(s["power"][2], 250)
        assert np.isnan(s["power"][:2]).all()
        assert any("merged" in n for n in tel.notes)


def test_gpx_without_times_is_an_input_error(tmp_path):
    path = tmp_path / "route.gpx"
    path.write_text(GPX_TEMPLATE.format(points='<trkpt lat="51" lon="-2"><ele>1</ele></trkpt>'))
    with pytest.raises(InputError, match="no timed track points"):
        load_gpx(path)


# --- FIT ---------------------------------------------------------------------------------

def test_fit_loads_records(fit, fit_records):
    g, s = fit["gps"], fit["sensors"]
    assert len(g) == len(fit_records) == 8600
    assert np.all(np.diff(g.t) > 0)
    first = fit_records[0]
    assert g.t[0] == first["timestamp"] == datetime(2021, 9, 24, 9, 59, 9, tzinfo=timezone.utc).timestamp()
    # semicircles -> degrees: value * 180 / 2^31 (FIT profile)
    assert g["lat"][0] == pytest.approx(first["position_lat"] * 180 / 2**31, abs=1e-12)
    assert g["lon"][0] == pytest.approx(first["position_long"] * 180 / 2**31, abs=1e-12)
    assert g["lat"][0] == pytest.approx(51.3395890, abs=1e-6)  # the GPX's first point
    assert g["alt"][0] == first["enhanced_altitude"]
    assert g["odo"][-1] == pytest.approx(fit_records[-1]["distance"])
    assert fit.device == "hammerhead Karoo 2"
    no_position = [i for i, r in enumerate(fit_records) if r.get("position_lat") is None]
    assert len(no_position) == 3
    assert not g["gps-ok"][no_position].any() and np.isnan(g["lat"][no_position]).all()
    assert {"hr", "cadence", "temp"} <= set(s.columns)


@pytest.mark.parametrize("i", [0, 1, 100, 2500, 4321, 6000, 8599])
def test_fit_hr_cadence_temp_speed_match_the_records(fit, fit_records, i):
    rec = fit_records[i]
    s, g = fit["sensors"], fit["gps"]
    k = at(s, rec["timestamp"])
    for field, col, series in (("heart_rate", "hr", s), ("cadence", "cadence", s), ("temperature", "temp", s),
                               ("enhanced_speed", "speed", g), ("distance", "odo", g)):
        expected = rec.get(field)
        if expected is None:
            assert np.isnan(series[col][k]), (field, i)
        else:
            assert series[col][k] == pytest.approx(expected), (field, i)


def test_gpx_and_fit_of_one_ride_agree(gpx, fit):
    G, F = gpx["gps"], fit["gps"]
    common, ig, jf = np.intersect1d(G.t, F.t, return_indices=True)
    assert len(common) == len(G)  # every GPX point is a FIT record (the FIT has 3 more, without position)
    dist = haversine(G["lat"][ig], G["lon"][ig], F["lat"][jf], F["lon"][jf])
    assert np.median(dist) < 0.1  # same fixes; the GPX rounds to 7 decimals
    assert np.mean(dist < 1.0) > 0.97  # Strava moved ~1.5 % of the points, by up to 21 m
    assert dist.max() < 25
    np.testing.assert_allclose(G["alt"][ig], F["alt"][jf], atol=0.05)
    for col in ("hr", "cadence", "temp"):
        a, b = gpx["sensors"][col][ig], fit["sensors"][col][jf]
        both = np.isfinite(a) & np.isfinite(b)
        assert both.sum() > 0.8 * len(common), col
        np.testing.assert_array_equal(a[both], b[both])
    # distance: the device's odometer vs the GPX's from positions, over 53 km
    assert F["odo"][-1] == pytest.approx(G["codo"][-1], rel=0.02)


def _crc(data: bytes, crc: int = 0) -> int:
    """FIT CRC-16 (the algorithm in the FIT protocol description)."""
    table = (0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
             0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400)
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            tmp = table[crc & 0xF]
            crc = (crc >> 4) & 0x0FFF
            crc = crc ^ tmp ^ table[nibble]
    return crc


def _definition(local: int, mesg: int, fields, dev_fields=()) -> bytes:
    out = bytes([0x40 | (0x20 if dev_fields else 0) | local, 0, 0]) + struct.pack("<HB", mesg, len(fields))
    out += b"".join(bytes(f) for f in fields)
    if dev_fields:
        out += bytes([len(dev_fields)]) + b"".join(bytes(f) for f in dev_fields)
    return out


def write_fit(path: Path, records: list[tuple]) -> None:
    """An indoor activity: no position; hr, cadence, distance, speed and two developer fields,
    'Power' (native field 7 = record.power) and 'Breath' (no native field)."""
    body = _definition(0, 0, [(0, 1, 0x00), (1, 2, 0x84)]) + bytes([0, 4]) + struct.pack("<H", 255)
    body += _definition(1, 207, [(3, 1, 0x02)]) + bytes([1, 0])
    body += _definition(2, 206, [(0, 1, 0x02), (1, 1, 0x02), (2, 1, 0x02), (3, 16, 0x07), (8, 8, 0x07),
                                 (15, 1, 0x02)])
    for num, base, name, units, native in ((0, 0x84, b"Power", b"watts", 7), (1, 0x02, b"Breath", b"bpm", 0xFF)):
        body += bytes([2, 0, num, base]) + name.ljust(16, b"\0") + units.ljust(8, b"\0") + bytes([native])
    body += _definition(3, 20, [(253, 4, 0x86), (3, 1, 0x02), (4, 1, 0x02), (5, 4, 0x86), (6, 2, 0x84)],
                        [(0, 2, 0), (1, 1, 0)])
    for ts, hr, cad, dist, speed, power, breath in records:
        body += bytes([3]) + struct.pack("<IBBIHHB", ts, hr, cad, dist, speed, power, breath)
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", _crc(header))
    path.write_bytes(header + body + struct.pack("<H", _crc(header + body)))


def test_fit_indoor_with_developer_fields(tmp_path):
    path = tmp_path / "indoor.fit"
    t0 = 1000000000  # FIT seconds since 1989-12-31T00:00:00Z
    write_fit(path, [(t0, 100, 80, 0, 8000, 200, 20),
                     (t0 + 1, 0xFF, 81, 800, 8100, 210, 21),  # 0xFF: invalid heart rate
                     (t0 + 2, 102, 82, 1610, 8200, 0xFFFF, 22)])  # 0xFFFF: invalid power
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.RAISE) as reader:  # the file is valid
        assert sum(isinstance(f, fitdecode.FitDataMessage) for f in reader) == 7
    tel = load_fit(path)
    assert "gps" not in tel  # no positions: no GPS stream, everything in 'sensors'
    s = tel["sensors"]
    posix0 = datetime(1989, 12, 31, tzinfo=timezone.utc).timestamp() + t0
    np.testing.assert_array_equal(s.t, [posix0, posix0 + 1, posix0 + 2])
    np.testing.assert_array_equal(s["hr"], [100, np.nan, 102])
    np.testing.assert_array_equal(s["cadence"], [80, 81, 82])
    np.testing.assert_allclose(s["odo"], [0, 8.0, 16.1])  # scale 100 (FIT profile)
    np.testing.assert_allclose(s["speed"], [8.0, 8.1, 8.2])  # scale 1000
    np.testing.assert_array_equal(s["dev.power"], [200, 210, np.nan])
    np.testing.assert_array_equal(s["power"], [200, 210, np.nan])  # native_field_num 7 -> power
    np.testing.assert_array_equal(s["dev.breath"], [20, 21, 22])
    assert tel.device == "development"


def test_fit_that_is_not_fit(tmp_path):
    path = tmp_path / "x.fit"
    path.write_bytes(b"not a fit file at all")
    with pytest.raises(InputError):
        load_fit(path)


# --- align and merge ---------------------------------------------------------------------

def test_align_puts_the_file_on_the_video_timeline(fit):
    start = "2021-09-24T10:30:00Z"
    out = align(fit, start, offset=-3.0)
    s = out["sensors"]
    np.testing.assert_allclose(s.t, s["timestamp"] - to_posix(start) + 3.0)
    assert fit["sensors"].t[0] > 1e9  # the input is unchanged
    k = at(fit["sensors"], to_posix("2021-09-24T10:29:57Z"))  # the sample stamped start + offset: video 0
    assert out["sensors"].t[k] == 0.0


def _camera_without_gps(duration: float = 60.0):
    from overlay.telemetry.timeseries import Telemetry, Timeseries

    t = np.arange(0, duration, 0.005)
    accl = Timeseries(t, {"accl.x": np.zeros(len(t)), "accl.y": np.full(len(t), 9.8), "accl.z": np.zeros(len(t))})
    return Telemetry(streams={"accl": accl}, source="cam.mp4")


@needs_device_file("fit/ride-2021-09-24-karoo.fit")
def test_merge_extend_and_replace():
    fit = load_fit(FIT)
    ride = align(fit, "2021-09-24T10:30:00Z")
    # a camera without GPS (HERO12, any other camera): the file drives position too
    cam = _camera_without_gps()
    merged = merge(cam, ride, "extend")
    assert merged["gps"] is ride["gps"]
    cols = {c: name for name, s in merged.streams.items() for c in s.columns}
    assert {"hr", "cadence", "temp", "lat", "speed", "odo", "accl.x"} <= set(cols)
    # a camera with GPS: extend adds only what it lacks; replace takes position and speed
    camera = align(fit, "2021-09-24T10:30:00Z", offset=0.0)
    camera.streams = {"gps": camera["gps"]}
    extended = merge(camera, ride, "extend")
    assert extended["gps"] is camera["gps"]
    assert "file.sensors" in extended and "hr" in extended["file.sensors"]
    assert "file.gps" not in extended or "lat" not in extended["file.gps"]
    replaced = merge(camera, ride, "replace")
    assert replaced["gps"] is ride["gps"] and replaced["camera.gps"] is camera["gps"]
    assert list(replaced.streams)[0] == "gps"  # first stream wins in the frame table
    with pytest.raises(InputError, match="--merge"):
        merge(camera, ride, "sideways")


def test_replace_with_a_gpx_that_records_no_speed_takes_speed_from_its_positions(gpx):
    """Strava GPX has no speed: with --merge replace the dashboard's speed must come from the
    file's positions, not stay the camera's (which ends with the camera's GPS)."""
    from overlay.frametable import build_frame_table
    from overlay.telemetry.timeseries import Telemetry, Timeseries

    ride = align(gpx, "2021-09-24T10:30:00Z")
    assert "speed" not in ride["gps"] and "cspeed" in ride["gps"]
    t = np.arange(0.0, 10.0, 0.1)  # a camera whose GPS covers the first 10 s only
    cam_gps = Timeseries(t, {"lat": np.full(len(t), 51.0), "lon": np.zeros(len(t)), "speed": np.full(len(t), 7.0)})
    camera = Telemetry(streams={"gps": cam_gps}, source="cam.mp4")
    replaced = merge(camera, ride, "replace")
    table = build_frame_table(replaced, 1800, Fraction(30), ())  # 60 s
    speed = table.columns["speed"]
    g = ride["gps"]
    ok = np.asarray(g["gps-ok"], bool) if "gps-ok" in g else np.ones(len(g), bool)
    # at frames that fall on a trusted ride sample, the speed is that sample's cspeed
    checked = 0
    for t, v, good in zip(g.t, g["cspeed"], ok):
        frame = round(t * 30)
        if 1 < t < 59 and good and np.isfinite(v) and abs(frame / 30 - t) < 1e-6:
            assert speed[frame] == pytest.approx(v, rel=1e-6), f"speed at {t:.0f} s"  # float32 column
            checked += 1
    assert checked > 40
    assert np.isfinite(speed[30:1770]).mean() > 0.9, "speed must not vanish after the camera's GPS ends"
    assert not np.isclose(speed[30:300], 7.0).any(), "the camera's speed is replaced"


@needs_device_file("gopro/max-heromode.mp4")
def test_a_file_that_does_not_overlap_the_video_names_both_ranges(gpx, xml_points):
    camera = load_gopro(HERO)  # filmed 2019-11-18, the ride is 2021-09-24
    start = camera_start_utc(camera)
    assert datetime.fromtimestamp(start, tz=timezone.utc).date().isoformat() == "2019-11-18"
    with pytest.raises(InputError) as err:
        merge(camera, align(gpx, start), "extend")
    text = str(err.value)
    assert "\n" not in text
    first, last = (datetime.fromtimestamp(p[0], tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                   for p in (xml_points[0], xml_points[-1]))
    assert f"file {first} to {last}" in text
    assert "video 2019-11-18T23:45" in text
    # the same check in align, given the video's duration (a camera without telemetry)
    with pytest.raises(InputError, match=r"file 2021-09-24T09:59:09Z to .* video 2019-11-18T23:45:15Z to "
                                         r"2019-11-18T23:45:25.500Z"):
        align(gpx, "2019-11-18T23:45:15Z", duration=10.5)


def test_align_with_duration_accepts_an_overlapping_file(gpx):
    out = align(gpx, "2021-09-24T12:43:30Z", duration=60)  # the last 10 s of the ride (ends 12:43:40)
    assert out["gps"].t[-1] == pytest.approx(10.0)


# --- time zone ---------------------------------------------------------------------------

def test_zone_for_positions(gpx):
    assert zone_for(*first_position(gpx)) == "Europe/London"  # Somerset, England
    assert zone_for(33.12677, -117.3273436) == "America/Los_Angeles"  # max-heromode.mp4's first fix
    assert zone_for(-33.87, 151.21) == "Australia/Sydney"
    assert zone_for(float("nan"), 0.0) is None
    assert zone_for(91.0, 0.0) is None


def test_resolve_zone_tz_option_wins():
    assert resolve_zone("America/New_York", 51.3, -2.5).key == "America/New_York"
    assert resolve_zone(None, 51.3, -2.5).key == "Europe/London"
    assert resolve_zone(None) is None
    with pytest.raises(InputError, match="--tz"):
        resolve_zone("Mars/Olympus_Mons")


def test_zones_of_cells_wholly_inside_one_zone_are_remembered(tmp_path, monkeypatch):
    """A cell (~1 km) is remembered only when its 3x3 grid lies in one zone; a remembered
    cell answers without the lookup package, a border cell always asks it."""
    from overlay.telemetry import timezone as tz

    memo = tmp_path / "zones.json"
    bath = (51.3811, -2.3590)            # well inside England
    basel = (47.5895, 7.5890)            # where Switzerland, France and Germany meet
    assert zone_for(*bath, memo=memo) == "Europe/London"
    first = zone_for(*basel, memo=memo)
    assert first in ("Europe/Zurich", "Europe/Paris", "Europe/Berlin")
    saved = json.loads(memo.read_text())
    assert list(saved.values()) == ["Europe/London"], "the border cell is not remembered"

    def broken():
        raise AssertionError("the lookup package was asked")
    monkeypatch.setattr(tz, "_lookup", lambda: (lambda lat, lon: broken()))
    assert zone_for(bath[0] + 0.001, bath[1] + 0.001, memo=memo) == "Europe/London"  # same cell: remembered
    assert zone_for(*basel, memo=memo) is None  # not remembered: asks, the (broken) lookup fails → UTC
    memo.write_bytes(b"\x00garbage")
    assert zone_for(*bath, memo=memo) is None  # unreadable memo: asks again
