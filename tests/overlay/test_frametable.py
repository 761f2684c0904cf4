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
