"""Laps, elapsed and moving time: where lap starts come from (FIT lap messages, GPX segments, the demo),
how they travel through align/merge, the per-frame columns (checked by arithmetic), and how durations show."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import fitdecode
import numpy as np
import pytest

from overlay.frametable import FrameTable, build_frame_table
from overlay.frametimes import MOVING_SPEED, STOP_HOLD
from overlay.telemetry.demo import LAP, demo_telemetry
from overlay.telemetry.filedata import build_telemetry
from overlay.telemetry.fit import FIT_EPOCH, load_fit
from overlay.telemetry.gpx import load_gpx
from overlay.telemetry.merge import align, merge
from overlay.telemetry.timeseries import BASE_UNITS, Telemetry, Timeseries
from overlay.widgets.attrs import METRICS, parse_format_spec, parse_metric
from overlay.widgets.text import format_minutes, format_time
from tests.overlay.telemetry.test_fit_fast import FILE_ID, data, definition, write
from tests.overlay.widgets.test_widgets import same_as_text
from tests.support.paths import SHARED_DATA, needs_device_file

FIT = SHARED_DATA / "fit" / "ride-2021-09-24-karoo.fit"
needs_ride = needs_device_file("fit/ride-2021-09-24-karoo.fit")
FPS = Fraction(10)


def fitdecode_lap_starts(path: Path) -> list[float]:
    """Lap start times (UTC POSIX) read with fitdecode alone: start_time, else timestamp - total_elapsed_time."""
    out = []
    with fitdecode.FitReader(str(path)) as reader:
        for frame in reader:
            if frame.frame_type == fitdecode.FIT_FRAME_DATA and frame.name == "lap":
                start = frame.get_value("start_time", fallback=None)
                if start is not None:
                    out.append(start.timestamp())
                else:
                    end = frame.get_value("timestamp")
                    out.append(end.timestamp() - frame.get_value("total_elapsed_time"))
    return sorted(out)


def table(tel: Telemetry, seconds: float, requests=()) -> FrameTable:
    return build_frame_table(tel, int(seconds * FPS) + 1, FPS, requests)


def at(ft: FrameTable, key: str, seconds: float) -> float:
    return ft.value(key, int(round(seconds * FPS)))


# --- where laps come from --------------------------------------------------------------------------------------

@needs_ride
def test_fit_laps_of_the_karoo_ride_and_their_columns_on_a_video():
    expected = fitdecode_lap_starts(FIT)
    ride = load_fit(FIT)
    assert len(expected) >= 1
    np.testing.assert_array_equal(ride.laps, expected)
    assert ride.start == expected[0]  # elapsed counts from the first lap's start
    # a video that starts 10 minutes into the ride
    video = align(ride, expected[0] + 600.0)
    np.testing.assert_allclose(video.laps, np.array(expected) - expected[0] - 600.0)
    assert video.start == pytest.approx(-600.0)
    ft = table(video, 60.0)
    for s in (0.0, 12.3, 60.0):
        assert at(ft, "elapsed", s) == pytest.approx(600.0 + s)
        assert at(ft, "lap", s) == np.searchsorted(expected, expected[0] + 600.0 + s, side="right")
        lap_start = max(x for x in expected if x <= expected[0] + 600.0 + s)
        assert at(ft, "lap.time", s) == pytest.approx(expected[0] + 600.0 + s - lap_start)
    if len(expected) == 1:
        assert math.isnan(at(ft, "lap.last", 30.0))
    # moving time counts from the ride's start: between 0 and the elapsed time, growing
    moving = ft.columns["moving"]
    assert np.all(np.isfinite(moving)) and np.all(np.diff(moving) >= -1e-9)
    assert 0.0 < moving[-1] <= 660.0 + 1e-6


def test_fit_lap_messages_made_up(tmp_path):
    """Three laps, one without start_time (its start is timestamp - total_elapsed_time), written out of order."""
    T = 1_000_000_000
    body = FILE_ID
    body += definition(1, 20, [(253, 4, 0x86), (6, 2, 0x84)])  # record: timestamp, speed
    body += b"".join(data(1, "IH", T + k, 5000) for k in range(0, 400, 10))
    lap = definition(2, 19, [(253, 4, 0x86), (2, 4, 0x86), (7, 4, 0x86)])  # lap: timestamp, start_time, elapsed
    body += lap + data(2, "III", T + 100, T, 100_000)
    body += data(2, "III", T + 300, T + 200, 100_000)
    body += data(2, "III", T + 200, 0xFFFFFFFF, 100_000)  # no start_time: 200 - 100 s
    body += data(2, "III", T + 399, T + 300, 99_000)
    path = write(tmp_path, body)
    expected = fitdecode_lap_starts(path)
    np.testing.assert_array_equal(expected, np.array([0, 100, 200, 300]) + T + FIT_EPOCH)
    ride = load_fit(path)
    np.testing.assert_array_equal(ride.laps, expected)
    video = align(ride, T + FIT_EPOCH + 50)  # the video starts 50 s into lap 1
    ft = table(video, 300.0)
    assert at(ft, "lap", 0) == 1 and at(ft, "lap.time", 0) == pytest.approx(50)
    assert math.isnan(at(ft, "lap.last", 0))
    assert at(ft, "lap", 49.9) == 1 and at(ft, "lap", 50) == 2 and at(ft, "lap.time", 50) == pytest.approx(0)
    assert at(ft, "lap", 260) == 4 and at(ft, "lap.time", 260) == pytest.approx(10)
    assert at(ft, "lap.last", 260) == pytest.approx(100)
    assert at(ft, "elapsed", 260) == pytest.approx(310)


GPX_TWO_SEGMENTS = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<trk><trkseg>{one}</trkseg><trkseg>{two}</trkseg></trk>
</gpx>"""


def gpx_points(t0: int, n: int, lat0: float) -> str:
    out = []
    for k in range(n):
        when = datetime.fromtimestamp(t0 + k, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(f'<trkpt lat="{lat0 + k * 1e-4:.6f}" lon="7.0"><ele>500</ele><time>{when}</time></trkpt>')
    return "".join(out)


def test_gpx_segments_are_laps(tmp_path):
    t0 = 1_700_000_000
    path = tmp_path / "two.gpx"
    path.write_text(GPX_TWO_SEGMENTS.format(one=gpx_points(t0, 60, 46.0), two=gpx_points(t0 + 90, 60, 46.01)))
    ride = load_gpx(path)
    np.testing.assert_array_equal(ride.laps, [t0, t0 + 90])
    assert ride.start == t0
    ft = table(align(ride, t0), 150.0)
    assert at(ft, "lap", 89.9) == 1 and at(ft, "lap.time", 89.9) == pytest.approx(89.9)
    assert at(ft, "lap", 100) == 2 and at(ft, "lap.time", 100) == pytest.approx(10) and at(ft, "lap.last", 100) == 90
    # one segment: no laps, lap metrics missing
    single = tmp_path / "one.gpx"
    single.write_text(GPX_TWO_SEGMENTS.replace("</trkseg><trkseg>{two}", "").format(one=gpx_points(t0, 60, 46.0)))
    ride = load_gpx(single)
    assert len(ride.laps) == 0
    ft = table(align(ride, t0), 30.0)
    assert np.isnan(ft.columns["lap"]).all() and np.isnan(ft.columns["lap.time"]).all()
    assert at(ft, "elapsed", 30) == pytest.approx(30)


def test_demo_has_laps():
    tel = demo_telemetry()
    np.testing.assert_array_equal(tel.laps, np.arange(0, 600, LAP))
    ft = table(tel, 400.0)
    assert at(ft, "lap", 400) == 3 and at(ft, "lap.time", 400) == pytest.approx(100) and at(ft, "lap.last", 400) == LAP


# --- the per-frame columns, by arithmetic ----------------------------------------------------------------------

def ride_with_stops(t0: float = 0.0) -> Telemetry:
    """1 Hz speed samples 0..100 s at 5 m/s, stopped at 31-33 s (shorter than STOP_HOLD) and 61-79 s."""
    t = np.arange(0.0, 101.0)
    speed = np.full(len(t), 5.0)
    speed[(t >= 31) & (t <= 33)] = 0.0
    speed[(t >= 61) & (t <= 79)] = 0.3
    return Telemetry({"gps": Timeseries(t + t0, {"speed": speed, "timestamp": 1.7e9 + t})},
                     start=t0 - 20.0, laps=np.array([10.0, 40.0, 70.0]) + t0)


def test_lap_elapsed_and_moving_columns():
    assert STOP_HOLD == 5.0 and MOVING_SPEED == 1.0  # the arithmetic below uses these
    ft = table(ride_with_stops(), 110.0, [("lap.time.max", None)])
    # elapsed: since start = -20 s
    for s in (0, 5, 50, 110):
        assert at(ft, "elapsed", s) == pytest.approx(s + 20)
    # laps start at 10, 40, 70
    assert math.isnan(at(ft, "lap", 5)) and math.isnan(at(ft, "lap.time", 5)) and math.isnan(at(ft, "lap.last", 5))
    assert (at(ft, "lap", 10), at(ft, "lap.time", 10)) == (1, 0)
    assert math.isnan(at(ft, "lap.last", 39.9))
    assert (at(ft, "lap", 50), at(ft, "lap.time", 50), at(ft, "lap.last", 50)) == (2, pytest.approx(10), 30)
    assert (at(ft, "lap", 95), at(ft, "lap.time", 95), at(ft, "lap.last", 95)) == (3, pytest.approx(25), 30)
    assert at(ft, "lap.time.max", 95) == pytest.approx(30 - 0.1)  # the longest lap time shown so far
    # moving: the 31-33 s stop (4 s since the last moving sample at 30) counts; the long one stops the count
    # STOP_HOLD s after the last moving sample (60 s): 65 s at 80, then on again.
    expected = {0: 0, 30: 30, 32.5: 32.5, 60: 60, 63: 63, 65: 65, 70: 65, 80: 65, 90: 75, 100: 85, 110: 85}
    for s, m in expected.items():
        assert at(ft, "moving", s) == pytest.approx(m), s


def test_laps_and_start_through_merge():
    utc0 = 1_700_000_000.0
    t = np.arange(0.0, 200.0)
    ride = build_telemetry(utc0 + t, {"lat": 46 + t * 1e-5, "lon": 7 + t * 0 + 1e-3, "hr": 120 + t * 0},
                           "ride.fit", laps=[utc0, utc0 + 100], start=utc0 - 5)
    assert ride.start == utc0 - 5 and list(ride.laps) == [utc0, utc0 + 100]
    camera = Telemetry({"gps": Timeseries(t[:60], {"lat": 46 + t[:60] * 1e-5, "lon": 7 + t[:60] * 0,
                                                  "speed": np.full(60, 3.0)})})
    merged = merge(camera, align(ride, utc0 + 50, offset=2.0))  # video starts 50 s into the ride, clock 2 s ahead
    assert merged.start == pytest.approx(-57.0)
    np.testing.assert_allclose(merged.laps, [-52.0, 48.0])
    ft = table(merged, 60.0)
    assert at(ft, "elapsed", 0) == pytest.approx(57.0)
    assert (at(ft, "lap", 47.9), at(ft, "lap", 48)) == (1, 2)
    assert at(ft, "lap.last", 50) == pytest.approx(100)
    # the camera's own start/laps stay when the file has none
    bare = Telemetry({"sensors": Timeseries(t, {"hr": 120 + t * 0})})
    cam = Telemetry(camera.streams, laps=np.array([7.0]))
    assert list(merge(cam, bare).laps) == [7.0] and merge(cam, bare).start is None


def test_no_laps_and_no_speed():
    tel = Telemetry({"sensors": Timeseries(np.arange(0.0, 10.0), {"hr": np.full(10, 100.0)})})
    ft = table(tel, 10.0)
    for key in ("lap", "lap.time", "lap.last"):
        assert np.isnan(ft.columns[key]).all()
    assert "moving" not in ft.columns  # nothing to say who moved
    np.testing.assert_allclose(ft.columns["elapsed"], ft.times())  # no start: the video's first frame


# --- names, units, formats -------------------------------------------------------------------------------------

def test_metric_names_and_units():
    for name in ("elapsed", "moving", "lap", "lap.time", "lap.last"):
        assert name in METRICS and parse_metric(name) == name
        assert BASE_UNITS[name] == ("dimensionless" if name == "lap" else "second")
    assert parse_metric("lap.time.max") == "lap.time.max"
    for spec in ("time", "mm:ss", "pace"):
        assert parse_format_spec(spec) == spec
    with pytest.raises(ValueError, match="'time'"):
        parse_format_spec("hh:mm")


@pytest.mark.parametrize("seconds, time, minutes", [
    (0.0, "0:00:00", "00:00"),
    (59.99, "0:00:59", "00:59"),  # a stopwatch: whole seconds, not rounded up
    (60.0 - 1e-9, "0:01:00", "01:00"),  # float noise from frame times is not a second less
    (307.4, "0:05:07", "05:07"),
    (3725.9, "1:02:05", "62:05"),
    (43200.0, "12:00:00", "720:00"),
])
def test_duration_formats(seconds, time, minutes):
    assert format_time(seconds) == time
    assert format_minutes(seconds) == minutes


def duration_table(**columns) -> FrameTable:
    return FrameTable(count=3, fps_num=30, fps_den=1,
                      columns={k: np.asarray(v, dtype=np.float64) for k, v in columns.items()})


@pytest.mark.parametrize("metric, value, attrs, expected", [
    ("elapsed", 3725.9, 'format="time"', "1:02:05"),
    ("moving", 307.0, 'format="time"', "0:05:07"),
    ("lap.time", 4503.0, 'format="mm:ss"', "75:03"),
    ("lap.last", float("nan"), 'format="time"', "-"),
    ("lap", 3.0, 'dp="0"', "3"),
])
def test_metric_widget_shows_durations(metric, value, attrs, expected):
    t = duration_table(**{metric: [value] * 3})
    same_as_text(f'<component type="metric" metric="{metric}" {{style}} {attrs}/>', expected, table=t, frame=1)


def test_metric_widget_without_laps_shows_dash():
    tel = Telemetry({"sensors": Timeseries(np.arange(0.0, 10.0), {"hr": np.full(10, 100.0)})})
    ft = table(tel, 5.0)
    same_as_text('<component type="metric" metric="lap" dp="0" {style}/>', "-", table=ft, frame=10)
    same_as_text('<component type="metric" metric="lap.time" format="time" {style}/>', "-", table=ft, frame=10)
    same_as_text('<component type="metric" metric="elapsed" format="time" {style}/>', "0:00:01", table=ft, frame=10)
