"""gopro-dashboard-overlay's metrics (gps-packet, respiration, gears, odo, pace units) and `overdash export`
of everything a ride file records, checked against the files' own records (fitdecode, gpxpy)."""
from __future__ import annotations

import argparse
import csv
import gzip
from datetime import datetime, timezone
from fractions import Fraction

import fitdecode
import gpxpy
import numpy as np
import pytest

from overlay.conversion import UnitConverter
from overlay.frametable import build_frame_table
from overlay.layout import UnitSettings, pace_aware
from overlay.telemetry.fit import load_fit
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.merge import align
from overlay.telemetry.timeseries import Telemetry, Timeseries
from pipeline.commands.export import add_export_parser
from tests.overlay.telemetry.test_fit_fast import FILE_ID, data, definition, write
from tests.overlay.widgets.test_widgets import same_as_text
from tests.support import gpmf_reference as ref
from tests.support.paths import device_file

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=timezone.utc).timestamp()


def run(*argv) -> int:
    parser = argparse.ArgumentParser(prog="overdash")
    add_export_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


def read_csv(path) -> tuple[list[str], dict[str, np.ndarray], list[str]]:
    rows = list(csv.reader(path.open()))
    header, body = rows[0], rows[1:]
    cols = {name: np.array([float(r[i]) if r[i] else np.nan for r in body]) for i, name in enumerate(header)
            if name != "utc"}
    return header, cols, [r[1] for r in body]


def table_of(tel: Telemetry, seconds: float, requests=(), fps: int = 10):
    return build_frame_table(tel, int(seconds * fps), Fraction(fps), requests,
                             convert=pace_aware(UnitConverter(cache=False).convert))


def shown(metric_attrs: str, table, frame: int, expected: str) -> None:
    """A metric component of our own layout draws exactly the pixels of a text saying `expected`."""
    same_as_text(f'<component type="metric" {{style}} {metric_attrs}/>', expected, table=table, frame=frame)


# --- a FIT file with gear changes and respiration (the shared ride has neither) -------------------------

T0 = 1000000000  # FIT seconds


def gear_fit(tmp_path):
    """Records every second for 10 s (hr, enhanced_respiration_rate, at +4 s respiration_rate), and gear
    change events: at +2 s front 2 / rear 5 (in `data`), at +5 s rear 7 (explicit fields), at +7 s front 1."""
    body = FILE_ID
    body += definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02), (108, 2, 0x84)])
    body += definition(4, 20, [(253, 4, 0x86), (3, 1, 0x02), (99, 1, 0x02)])
    body += definition(2, 21, [(253, 4, 0x86), (0, 1, 0x00), (1, 1, 0x00), (3, 4, 0x86)])
    body += definition(3, 21, [(253, 4, 0x86), (0, 1, 0x00), (1, 1, 0x00), (9, 1, 0x0A), (11, 1, 0x0A)])

    def gear_word(front, rear):
        return (front << 16) | rear

    events = {2: data(2, "IBBI", T0 + 2, 43, 3, gear_word(2, 5)),  # rear_gear_change, event_type marker
              5: data(3, "IBBBB", T0 + 5, 43, 3, 2, 7),
              7: data(2, "IBBI", T0 + 7, 42, 3, gear_word(1, 7))}
    for k in range(10):
        if k in events:
            body += events[k]
        if k == 4:  # a record with the older, whole-breath field only
            body += data(4, "IBB", T0 + k, 120 + k, 30)
        else:  # enhanced_respiration_rate, scale 100: 15.00, 15.10 ... breaths/min
            body += data(1, "IBH", T0 + k, 120 + k, 1500 + 10 * k)
    return write(tmp_path, body, "gears.fit")


def test_fit_gears_and_respiration_against_fitdecode(tmp_path):
    path = gear_fit(tmp_path)
    tel = load_fit(path)
    s = tel["sensors"]
    np.testing.assert_array_equal(s.t, FIT_EPOCH + T0 + np.arange(10))
    # what fitdecode says the events and records hold
    events, resp = [], []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "event":
                v = {f.name: f.value for f in frame.fields}
                events.append((v["event"], v.get("front_gear_num"), v.get("rear_gear_num")))
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                resp.append(frame.get_value("enhanced_respiration_rate", fallback=None)
                            or frame.get_value("respiration_rate", fallback=None))
    assert events == [("rear_gear_change", 2, 5), ("rear_gear_change", 2, 7), ("front_gear_change", 1, 7)]
    assert resp[4] == 30  # no enhanced value there: the plain respiration_rate
    np.testing.assert_allclose(s["respiration"], resp)
    nan = np.nan
    np.testing.assert_array_equal(s["gear.front"], [nan, nan, 2, 2, 2, 2, 2, 1, 1, 1])
    np.testing.assert_array_equal(s["gear.rear"], [nan, nan, 5, 5, 5, 7, 7, 7, 7, 7])


def test_gear_and_respiration_are_drawn_and_held(tmp_path):
    tel = load_fit(gear_fit(tmp_path))
    tel = align(tel, FIT_EPOCH + T0)  # video time 0 = the first record
    ft = table_of(tel, 10)
    # held between records, never blended: frame 45 is 4.5 s in, between the records at +4 and +5
    assert ft.value("gear.rear", 45) == 5 and ft.value("gear.rear", 50) == 7
    shown('metric="gear.front" dp="0"', ft, 25, "2")
    shown('metric="gear.rear" dp="0"', ft, 55, "7")
    shown('metric="gear.front" dp="0"', ft, 10, "-")  # before the first change: no gear
    shown('metric="respiration" dp="1"', ft, 30, "15.3")


def test_new_metrics_missing_from_a_file_are_no_value_not_an_error():
    t = np.arange(5.0)
    tel = Telemetry(streams={"sensors": Timeseries(t, {"hr": np.full(5, 100.0)})})
    ft = table_of(tel, 4)
    for metric in ("gps-packet", "gps-packet-index", "respiration", "gear.front", "gear.rear", "sdps", "odo",
                   "gradient", "dist"):
        shown(f'metric="{metric}"', ft, 5, "-")


# --- GoPro: the GPMF payload of each GPS fix ---------------------------------------------------------------

def test_gps_packet_and_index_of_hero11():
    tel = load_gopro(device_file("gopro/hero11.raw"))
    gps = tel["gps"]
    packet, index = gps["gps-packet"], gps["gps-packet-index"]
    # the independent GPMF reader of the tests: the GPS9 fixes of each payload, in file order
    per_payload = [len(ref.gps9_raw(p)[0]) for p in ref.raw_payloads(device_file("gopro/hero11.raw"))]
    assert sum(per_payload) == len(packet) == 110
    np.testing.assert_array_equal(packet, np.repeat(np.arange(len(per_payload)), per_payload))
    np.testing.assert_array_equal(index, np.concatenate([np.arange(n) for n in per_payload]))
    ft = table_of(tel, 5)
    k = int(np.searchsorted(gps.t, 2.0))  # the first fix at or after 2 s
    frame = int(np.ceil(gps.t[k] * 10))
    held = np.searchsorted(gps.t, frame / 10, side="right") - 1  # the fix shown at that frame
    shown('metric="gps-packet" dp="0"', ft, frame, f"{packet[held]:.0f}")
    shown('metric="gps-packet-index" dp="0"', ft, frame, f"{index[held]:.0f}")


# --- pace: minutes per distance unit, shown m:ss ---------------------------------------------------------

@pytest.mark.parametrize("units, attrs, expected", [
    ("pace_km", 'format="pace"', "2:00"),  # 119.87 s per km: seconds round up
    ("pace_km", 'dp="2"', "2.00"),  # the value is minutes
    ("pace_mile", 'format="pace"', "3:13"),  # 192.9 s per mile
    ("pace", 'format="pace"', "2:00"),  # follows the distance setting: km by default
])
def test_pace_units_are_minutes_per_distance(units, attrs, expected):
    from overlay.layout import resolve_unit

    speed = 1000 / 119.87
    tel = Telemetry(streams={"gps": Timeseries(np.arange(3.0), {"speed": np.full(3, speed)})})
    unit = resolve_unit(units, UnitSettings())
    ft = table_of(tel, 2, [("speed", unit)])
    per = {"minute / kilometer": 1.0, "minute / mile": 1.609344}[unit]
    assert ft.value(f"speed|{unit}", 0) == pytest.approx(119.87 * per / 60)
    shown(f'metric="speed" units="{units}" {attrs}', ft, 0, expected)


def test_pace_follows_the_distance_setting():
    from overlay.layout import resolve_unit

    assert resolve_unit("pace", UnitSettings(distance="km")) == "minute / kilometer"
    assert resolve_unit("pace", UnitSettings(distance="mile")) == "minute / mile"


# --- export: everything a ride file records -------------------------------------------------------------

def test_fit_export_carries_every_record_column(tmp_path):
    path = device_file("fit/ride-2021-09-24-karoo.fit")
    out = tmp_path / "ride.csv"
    assert run("export", path, "-o", out) == 0
    header, cols, utc = read_csv(out)
    records = []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                records.append({f.name: f.value for f in frame.fields})
    assert len(utc) == len(records)
    stamps = [r["timestamp"].timestamp() for r in records]
    t0 = stamps[0]
    np.testing.assert_allclose(cols["t"], np.array(stamps) - t0, atol=1e-6)
    assert utc[0] == records[0]["timestamp"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    semicircle = 180 / 2 ** 31
    checks = {"lat": ("position_lat", semicircle), "lon": ("position_long", semicircle),
              "alt": ("enhanced_altitude", 1), "speed": ("enhanced_speed", 1), "odo": ("distance", 1),
              "hr": ("heart_rate", 1), "cadence": ("cadence", 1), "temp": ("temperature", 1)}
    for column, (field, scale) in checks.items():
        assert column in header, column
        want = np.array([np.nan if r.get(field) is None else r[field] * scale for r in records], dtype=float)
        assert np.isfinite(want).sum() > 1000, field
        np.testing.assert_allclose(cols[column], want, rtol=1e-9, atol=1e-9, err_msg=column)
    assert {"codo", "cspeed", "gps-lock"} <= set(header)  # and what overdash computes from them


def test_gpx_export_carries_every_extension(tmp_path):
    path = device_file("gpx/ride-2021-09-24.gpx.gz")
    out = tmp_path / "ride.csv"
    assert run("export", path, "-o", out) == 0
    header, cols, utc = read_csv(out)
    doc = gpxpy.parse(gzip.decompress(path.read_bytes()).decode())
    points = [p for trk in doc.tracks for seg in trk.segments for p in seg.points]
    assert len(utc) == len(points) == 8597

    def ext(p, name):
        for el in p.extensions:
            for e in el.iter():
                if e.tag.rsplit("}", 1)[-1] == name:
                    return float(e.text)
        return np.nan

    for column, get in {"lat": lambda p: p.latitude, "lon": lambda p: p.longitude, "alt": lambda p: p.elevation,
                        "hr": lambda p: ext(p, "hr"), "cadence": lambda p: ext(p, "cad"),
                        "temp": lambda p: ext(p, "atemp")}.items():
        want = np.array([get(p) for p in points], dtype=float)
        assert np.isfinite(want).sum() > 8000, column
        np.testing.assert_allclose(cols[column], want, rtol=1e-12, err_msg=column)


def test_gopro_export_merged_with_a_fit_on_the_camera_timeline(tmp_path):
    camera = device_file("gopro/hero11.raw")
    ride = device_file("fit/ride-2021-09-24-karoo.fit")
    out = tmp_path / "merged.csv"
    start = "2021-09-24T10:30:00Z"  # the camera's first frame put in the middle of the ride
    assert run("export", camera, "--fit", ride, "--start", start, "-o", out) == 0
    header, cols, _ = read_csv(out)
    assert {"lat", "speed", "gps-packet", "hr", "cadence", "odo"} <= set(header)
    gps = load_gopro(camera)["gps"]
    np.testing.assert_allclose(cols["t"], gps.t, atol=1e-6)  # the camera's GPS rows
    np.testing.assert_allclose(cols["lat"], gps["lat"], atol=1e-9)  # the camera's own position (extend)
    hr_t, hr = [], []
    with fitdecode.FitReader(str(ride)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record" \
                    and frame.get_value("heart_rate", fallback=None) is not None:
                hr_t.append(frame.get_value("timestamp").timestamp())
                hr.append(frame.get_value("heart_rate"))
    at = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp() + gps.t
    np.testing.assert_allclose(cols["hr"], np.interp(at, hr_t, hr), rtol=1e-9)
