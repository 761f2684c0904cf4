"""GPS quality marks, derived metrics and the timing rules on synthetic input.

Synthetic tracks are built so the expected values follow by arithmetic
(shown inline); real-file checks use tests/gpmf_reference.py.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from overlay.telemetry.derived import add_gps_metrics, bearing, haversine, lean_from_gravity, running
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.quality import DOP, JUMP, NO_FIX, QualityLimits, counts, mark_gps
from overlay.telemetry.timeseries import Timeseries
from overlay.telemetry.timing import Pieces, camera_map, sample_times
from tests.support import gpmf_reference as ref
from tests.support.paths import device_file

M_PER_DEG = 6371008.8 * math.pi / 180  # metres per degree of latitude (great circle)


def track(n=50, speed=10.0, rate=10.0, fix=3.0, dop=1.0) -> Timeseries:
    """Due north at `speed` m/s, sampled at `rate` Hz, from 45N 7E, 100 m climbing 1 m/s."""
    t = np.arange(n) / rate
    lat = 45.0 + speed * t / M_PER_DEG
    return Timeseries(t, {"lat": lat, "lon": np.full(n, 7.0), "alt": 100.0 + t, "gps-lock": np.full(n, fix),
                          "gps-dop": np.full(n, dop), "speed": np.full(n, speed)})


def test_haversine_and_bearing_by_hand():
    assert haversine(0.0, 0.0, 1.0, 0.0) == pytest.approx(M_PER_DEG)  # 111,195 m per degree
    assert haversine(0.0, 0.0, 0.0, 1.0) == pytest.approx(M_PER_DEG)  # on the equator too
    assert bearing(0.0, 0.0, 1.0, 0.0) == pytest.approx(0.0)
    assert bearing(0.0, 0.0, 0.0, 1.0) == pytest.approx(90.0)
    assert bearing(0.0, 0.0, -1.0, 0.0) == pytest.approx(180.0)


def test_quality_marks_each_reason():
    gps = track(20)
    cols = dict(gps.columns)
    cols["gps-lock"] = cols["gps-lock"].copy()
    cols["gps-lock"][2] = 2  # 2D fix only
    cols["gps-dop"] = cols["gps-dop"].copy()
    cols["gps-dop"][5] = 6.0  # above 5.0
    cols["lat"] = cols["lat"].copy()
    cols["lat"][10] += 0.01  # 1.1 km away and back within 0.1 s: a spike
    marked = mark_gps(Timeseries(gps.t, cols))
    flags = marked["gps-flags"]
    assert flags[2] == NO_FIX and flags[5] == DOP and flags[10] == JUMP
    assert np.count_nonzero(flags) == 3 and marked["gps-ok"].sum() == 17
    assert counts(marked) == {"total": 20, "ok": 17, "no 3D fix": 1, "DOP too high": 1, "impossible jump": 1}
    assert len(marked) == 20  # marked, never dropped
    relaxed = mark_gps(Timeseries(gps.t, cols), QualityLimits(max_dop=10.0, max_speed=1e6))
    assert counts(relaxed)["ok"] == 19


def test_quality_on_real_files():
    # hero6: GPSF 0, GPSP 9999 (DOP 99.99) in its only payload -> every sample both reasons
    gps = load_gopro(device_file("gopro/hero6.raw"))["gps"]
    assert counts(gps) == {"total": 17, "ok": 0, "no 3D fix": 17, "DOP too high": 17, "impossible jump": 0}
    # hero11: every GPS9 sample has fix 3 and DOP <= 2.74 (max of the dop column by hand)
    rows = [r for p in ref.raw_payloads(device_file("gopro/hero11.raw")) for r in ref.gps9_raw(p)[0]]
    assert all(r[8] == 3 and r[7] / 100 <= 5.0 for r in rows)
    assert counts(load_gopro(device_file("gopro/hero11.raw"))["gps"])["ok"] == len(rows)


def test_derived_gps_metrics_on_straight_climb():
    gps = add_gps_metrics(mark_gps(track(50)))
    # 49 steps of 1 m (10 m/s at 10 Hz)
    assert gps["codo"][-1] == pytest.approx(49.0, rel=1e-6)
    mid = slice(10, 40)  # away from the clamped ends
    assert gps["cspeed"][mid] == pytest.approx(10.0, rel=1e-6)
    assert gps["cog"][mid] == pytest.approx(0.0, abs=1e-6) and gps["azi"][mid] == pytest.approx(0.0, abs=1e-6)
    assert gps["vspeed"][mid] == pytest.approx(1.0, rel=1e-6)
    assert gps["cgrad"][mid] == pytest.approx(10.0, rel=1e-6)  # 1 m up per 10 m along


def test_derived_uses_real_time_in_timelapse():
    # 15x TimeWarp: the same track squeezed into 1/15 of the video time
    gps = track(50)
    squeezed = Timeseries(gps.t / 15, dict(gps.columns))
    out = add_gps_metrics(mark_gps(squeezed, speedup=15.0), speedup=15.0)
    assert out["cspeed"][10:40] == pytest.approx(10.0, rel=1e-6)


def test_untrusted_samples_do_not_move_the_odometer():
    gps = track(20)
    cols = dict(gps.columns)
    cols["gps-lock"] = np.where(np.arange(20) >= 10, 0.0, 3.0)
    out = add_gps_metrics(mark_gps(Timeseries(gps.t, cols)))
    assert out["codo"][9:] == pytest.approx(9.0, rel=1e-6)


def test_lean_and_running():
    tilt = math.radians(30)
    grav = Timeseries([0, 1], {"grav.x": np.array([0.0, math.sin(tilt)]), "grav.y": np.array([1.0, math.cos(tilt)]),
                               "grav.z": np.zeros(2)})
    assert lean_from_gravity(grav)["lean"] == pytest.approx([0.0, 30.0])
    v = np.array([3.0, np.nan, 1.0, 5.0])
    assert running(v, "min").tolist() == [3.0, 3.0, 1.0, 1.0]
    assert running(v, "max").tolist() == [3.0, 3.0, 3.0, 5.0]
    assert running(v, "avg").tolist() == pytest.approx([3.0, 3.0, 2.0, 3.0])


def test_timelapse_detected_from_camera_clock():
    # 11 payloads of 1.001 s video, each holding 15.015 s of real time (15x TimeWarp)
    starts, durations = np.arange(11) * 1.001, np.full(11, 1.001)
    counts_ = np.full(11, 150)  # a 10 Hz sensor: 150 samples per 15 real seconds
    stmp = 5.0 + np.arange(11) * 15.015
    pieces = Pieces(np.arange(11), counts_, np.cumsum(counts_).astype(float), stmp)
    cmap = camera_map([pieces], starts)
    assert cmap.speedup == pytest.approx(15.0) and cmap.scale == pytest.approx(1 / 15)
    t = sample_times(pieces, starts, durations, cmap)
    # sample c at real 5 + c * 0.1001 s -> video (real - 5) / 15: 150 samples per 1.001 s of video
    assert t[:3] == pytest.approx([0.0, 0.1001 / 15, 0.2002 / 15])
    assert t[150] == pytest.approx(1.001)


def test_rate_regression_spreads_jitter_over_the_file():
    # counts 199, 202, 201, 198 in 1.001 s payloads (the GPMF README's jitter example): one rate
    counts_ = np.array([199, 202, 201, 198])
    pieces = Pieces(np.arange(4), counts_, np.cumsum(counts_).astype(float), np.full(4, np.nan))
    t = sample_times(pieces, np.arange(4) * 1.001, np.full(4, 1.001))
    steps = np.diff(t)
    assert np.allclose(steps, steps[0])
    # least squares through (0, 0), (199, 1.001), (401, 2.002), (602, 3.003), (800, 4.004)
    x, y = [0, 199, 401, 602, 800], [0, 1.001, 2.002, 3.003, 4.004]
    intercept, slope = ref.least_squares(x, y)
    assert steps[0] == pytest.approx(slope) and t[0] == pytest.approx(intercept)


@pytest.mark.parametrize("values", [[3.0], [5.0, 1.0], [4.0, 1.0, 9.0, 2.0, 2.0], list(np.linspace(-3, 7, 1001)),
                                    [1.0, np.nan, 2.0], []])
def test_median_is_numpys(values):
    """timeseries.median answers as np.median does (NaN in, NaN out; empty: NaN)."""
    import warnings

    from overlay.telemetry.timeseries import median

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # np.median of []
        want = float(np.median(np.asarray(values, dtype=float)))
    got = median(values)
    assert isinstance(got, float)
    assert (math.isnan(got) and math.isnan(want)) or got == want


@pytest.mark.parametrize("values", [[], [2.0], [3.0, 1.0, 3.0, 2.0, 1.0], [-0.0, 0.0, 5.0],
                                    list(np.random.default_rng(4).integers(0, 9, 300))])
def test_sorted_unique_is_numpys(values):
    """timeseries.sorted_unique answers as np.unique does; lap starts also drop NaN."""
    from overlay.telemetry.timeseries import lap_starts, sorted_unique

    want = np.unique(np.asarray(values, dtype=float))
    assert np.array_equal(sorted_unique(np.asarray(values, dtype=float)), want)
    assert np.array_equal(lap_starts(list(values) + [np.nan]), want)
