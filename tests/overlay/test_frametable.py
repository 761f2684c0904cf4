"""FrameTable: interpolation at frame times, vocabulary aliases, running statistics."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from overdash import InputError
from overlay.conversion import UnitConverter
from overlay.frametable import build_frame_table, running
from overlay.layout import parse_layout
from overlay.telemetry.timeseries import Telemetry, Timeseries
from tests.support.paths import device_file


def telemetry() -> Telemetry:
    t = np.arange(0, 10.01, 0.5)  # 2 Hz
    speed = np.array([0, 1, 2, 3, 4, 5, 4, 3, np.nan, np.nan, 2, 1, 0, 1, 6, 1, 0, 0, 0, 0, 0], float)
    gps = Timeseries(t, {"speed": speed, "alt": 100 + t})
    cori = Timeseries(t, {"cori.pitch": np.full(len(t), 90.0)})
    return Telemetry({"gps": gps, "cori": cori})


def test_running_statistics_skip_missing_values():
    v = np.array([np.nan, 3, 1, np.nan, 5, 2])
    np.testing.assert_array_equal(running(v, "max"), [np.nan, 3, 3, 3, 5, 5])
    np.testing.assert_array_equal(running(v, "min"), [np.nan, 3, 1, 1, 1, 1])
    np.testing.assert_allclose(running(v, "avg"), [np.nan, 3, 2, 2, 3, 11 / 4])


def test_requested_statistics_and_units_are_columns():
    table = build_frame_table(telemetry(), count=300, fps=Fraction(30), convert=UnitConverter().convert,
                              requests=[("speed.max", "kph"), ("speed.avg", None), ("alt", "foot")])
    top = table.columns["speed.max|kph"]
    assert np.all(np.diff(top[np.isfinite(top)]) >= 0), "a running maximum never falls"
    # speed peaks at 6 m/s at t = 7 s (frame 210): 21.6 km/h from then on
    assert table.value("speed.max|kph", 209) < 21.6 and table.value("speed.max|kph", 210) == pytest.approx(21.6)
    assert table.value("alt|foot", 30) == pytest.approx((100 + 1.0) / 0.3048)
    # frames inside the NaN gap (t 4..5 s) keep the running average of what came before
    assert np.isfinite(table.value("speed.avg", 135))


def test_vocabulary_orientation_is_in_radians():
    table = build_frame_table(telemetry(), count=30, fps=Fraction(30))
    assert table.value("ori.pitch", 10) == pytest.approx(np.pi / 2)


def test_layout_accepts_statistics_of_known_metrics_only():
    ok = parse_layout('<layout><component type="metric" x="0" y="0" metric="speed.max" units="kph"/></layout>')
    assert ("speed.max", "kph") in ok.unit_requests()
    with pytest.raises(InputError, match="bogus.max"):
        parse_layout('<layout><component type="metric" x="0" y="0" metric="bogus.max"/></layout>')


def test_untrusted_gps_samples_show_as_missing():
    """hero9-rotation.gpmd never has a GPS lock (GPSF 0): its frozen position/speed must not be shown."""

    from overlay.telemetry.gopro import load_gopro

    unlocked = build_frame_table(load_gopro(device_file("gopro/hero9-rotation.gpmd")), count=300, fps=Fraction(30))
    assert np.isnan(unlocked.columns["speed"]).all() and np.isnan(unlocked.columns["lat"]).all()
    assert np.isfinite(unlocked.columns["timestamp"]).any()  # the clock is still known
    locked = build_frame_table(load_gopro(device_file("gopro/max-heromode.mp4")), count=300,
                               fps=Fraction(30000, 1001))
    assert np.isfinite(locked.columns["speed"]).all()


def test_running_statistics_are_in_their_metrics_unit():
    """'dist.max' converts like 'dist' (a layout may ask for it in km or miles)."""
    from overlay.frametable import base_unit
    from overlay.layout.metrics import METRIC_TABLE as TABLE

    for metric in TABLE:
        for stat in ("min", "max", "avg"):
            assert base_unit(f"{metric.name}.{stat}") == base_unit(metric.name), f"{metric.name}.{stat}"
    assert base_unit("dist.max") == "meter"


def long_ride(frames: int, fps: int = 60) -> Telemetry:
    """A ride of `frames` frames: GPS at 18 Hz with positions, time and speed; ACCL at 200 Hz."""
    seconds = frames / fps
    t = np.arange(0.0, seconds, 1 / 18)
    gps = Timeseries(t, {"lat": 51.5 + t * 1e-6, "lon": -0.1 + t * 1.3e-6, "alt": 80 + np.sin(t / 60) * 30,
                         "speed": 7 + np.sin(t / 30), "timestamp": 1.7e9 + t})
    ta = np.arange(0.0, seconds, 1 / 200)
    accl = Timeseries(ta, {f"accl.{a}": np.cos(ta * k) * 9.8 for k, a in enumerate("xyz", 1)})
    return Telemetry({"gps": gps, "accl": accl})


RIDE_REQUESTS = [("speed", "kph"), ("speed.max", "kph"), ("alt", "foot"), ("lat", None), ("lon", None),
                 ("timestamp", None), ("elapsed", None)]


def test_frame_table_bytes_per_frame_are_bounded():
    """4 bytes a frame for a float32 column, 8 for positions and time, and only the columns asked for
    (with lat/lon, which maps and privacy zones read): these 7 requests make 10 columns (speed.max and
    the unconverted speed and alt besides), 7 × 4 + 3 × 8 = 52 bytes a frame, 33.7 MB for a 3-hour
    60 fps ride (648,000 frames)."""
    frames = 60 * 60 * 3  # a minute at 60 fps: the bytes per frame do not depend on the length
    table = build_frame_table(long_ride(frames), frames, Fraction(60), RIDE_REQUESTS,
                              convert=UnitConverter().convert, keep=True)
    for key, col in table.columns.items():
        assert col.nbytes == (8 if key in ("lat", "lon", "timestamp") else 4) * frames, key
    assert not any(k.startswith("accl.") for k in table.columns), "the layout reads no accelerometer"
    assert set(table.columns) == {"speed", "speed|kph", "speed.max", "speed.max|kph", "alt", "alt|foot",
                                  "lat", "lon", "timestamp", "elapsed"}
    assert sum(c.nbytes for c in table.columns.values()) == frames * 52
    every = build_frame_table(long_ride(frames), frames, Fraction(60), RIDE_REQUESTS,
                              convert=UnitConverter().convert)
    assert {"accl.x", "speed|kph"} <= set(every.columns), "without keep, every metric stays (the editor)"


def test_float32_columns_keep_float64_accuracy():
    """Each float32 column is the float64 result rounded once (relative error < 1e-6); positions and
    POSIX time are float64 and exact."""
    frames = 60 * 60 * 2
    tel = long_ride(frames)
    table = build_frame_table(tel, frames, Fraction(60), RIDE_REQUESTS, convert=UnitConverter().convert, keep=True)
    times = np.arange(frames) / 60
    g = tel["gps"]
    speed = np.interp(times, g.t, g["speed"])
    np.testing.assert_allclose(table.columns["speed"], speed, rtol=1e-6)
    np.testing.assert_allclose(table.columns["speed|kph"], speed * 3.6, rtol=1e-6)
    np.testing.assert_allclose(table.columns["speed.max|kph"], np.maximum.accumulate(speed) * 3.6, rtol=1e-6)
    np.testing.assert_allclose(table.columns["alt|foot"], np.interp(times, g.t, g["alt"]) / 0.3048, rtol=1e-6)
    inside = times <= g.t[-1]
    for key in ("lat", "lon", "timestamp"):
        assert table.columns[key].dtype == np.float64
        np.testing.assert_allclose(table.columns[key][inside], np.interp(times, g.t, g[key])[inside],
                                   rtol=1e-15, atol=0)
    # float32 would have cost ~0.5 m of latitude: the kept column resolves far finer than 1 cm
    assert np.abs(table.columns["lat"] - np.float32(table.columns["lat"])).max() > 1e-7


def test_motion_sensor_columns_are_float32():
    """ACCL/GYRO at ~200 Hz are the bulk of a long recording: 4 bytes a sample an axis, GPS stays float64."""
    tel = long_ride(600)
    assert tel["accl"]["accl.x"].dtype == np.float32 and tel["accl"].t.dtype == np.float64
    assert tel["gps"]["lat"].dtype == np.float64
