"""Laps timed on the track (overlay.telemetry.laps, laps_auto, laps_delta) against a circuit whose every
lap time and delta is known in closed form.

The circuit: a circle 1000 m round. Lap k is driven with 1/speed = a_k + b_k·cos(2πx/L) at x metres
into the lap, so the time to reach x is G_k(x) = a_k·x + b_k·L/(2π)·sin(2πx/L), the lap takes a_k·L,
and the delta at x against lap r is G_k(x) − G_r(x). a_k + b_k is the same for every lap, so the
speed at the line, and its rate of change, run on smoothly from lap to lap (as a car's do).
Fixes at 18 Hz (a GoPro's GPS5 rate) with 0.1 m of independent noise on each axis.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from overdash import InputError
from overlay.telemetry.laps import LapLine, LapSpec, apply_laps, find_laps, lap_spec, parse_line
from overlay.telemetry.laps_delta import LapClock, lap_rows, path_distance
from overlay.telemetry.timeseries import Telemetry, Timeseries
from tests.support.paths import device_file, needs_device_file

L = 1000.0  # m round
R = L / (2 * math.pi)
CENTRE = (47.0, 8.0)
METRES_PER_DEGREE = 6371008.8 * math.pi / 180
P = 1 / 25.0  # s/m at the line: 25 m/s on every lap
MEAN_SPEEDS = (20.0, 21.5, 19.0, 22.0, 20.5)  # m/s, lap by lap
OUT, IN = 200.0, 300.0  # m driven at 25 m/s before the first crossing and after the last
RATE = 18.0
NOISE = 0.1  # m


def lap_clock_time(a: float, x):
    """G(x): seconds from the line to x metres into a lap with 1/v = a + (P - a)·cos(2πx/L)."""
    return a * x + (P - a) * L / (2 * math.pi) * np.sin(2 * math.pi * np.asarray(x) / L)


def true_starts(speeds=MEAN_SPEEDS) -> np.ndarray:
    """Crossing times of the line: the out-lap takes OUT·P s, then each lap a_k·L."""
    return OUT * P + np.concatenate(([0.0], np.cumsum([L / v for v in speeds])))


def circuit(speeds=MEAN_SPEEDS, *, noise=NOISE, seed=1, reverse=False, stop=None) -> Telemetry:
    """GPS fixes of the drive. `reverse`: the same drive the other way round the circle.
    `stop`: (metres past the first crossing, seconds) standing still there."""
    step = 0.02
    total = OUT + L * len(speeds) + IN
    X = np.arange(0.0, total + step, step)  # metres driven
    lap_at = np.clip(np.floor((X - OUT) / L).astype(int), 0, len(speeds) - 1)
    into = X - OUT - lap_at * L
    a = np.array([1 / v for v in speeds])[lap_at]
    T = np.where(X < OUT, X * P, OUT * P + np.concatenate(([0.0], np.cumsum([L / v for v in speeds])))[lap_at]
                 + lap_clock_time(a, into))
    after = X > OUT + L * len(speeds)
    T[after] = true_starts(speeds)[-1] + (X[after] - OUT - L * len(speeds)) * P
    if stop is not None:
        where, wait = stop
        T = T + np.where(X > OUT + where, wait, 0.0)
        X, T = np.concatenate((X, [OUT + where])), np.concatenate((T, [OUT * P + where * P + wait]))
        order = np.argsort(T, kind="stable")
        X, T = X[order], T[order]
    t = np.arange(0.0, T[-1], 1 / RATE)
    x_along = np.interp(t, T, X) - OUT  # 0 at the line
    theta = x_along / R * (-1 if reverse else 1)
    east, north = R * np.sin(theta), -R * np.cos(theta) + R  # the line at (0, 0), travel east
    rng = np.random.default_rng(seed)
    east = east + rng.normal(0, noise, len(t))
    north = north + rng.normal(0, noise, len(t))
    lat = CENTRE[0] + north / METRES_PER_DEGREE
    lon = CENTRE[1] + east / (METRES_PER_DEGREE * math.cos(math.radians(CENTRE[0])))
    return Telemetry(streams={"gps": Timeseries(t, {"lat": lat, "lon": lon})}, source="circuit")


LINE = LapLine(CENTRE[0], CENTRE[1], 90.0, 20.0)


def test_lap_times_to_five_milliseconds():
    found = find_laps(circuit(), LapSpec(line=LINE))
    np.testing.assert_allclose(found.starts, true_starts(), atol=0.003)
    np.testing.assert_allclose(np.diff(found.starts), [L / v for v in MEAN_SPEEDS], atol=0.005)


def test_bearing_taken_from_the_track_and_laps_auto_finds_the_same_circuit():
    tel = circuit()
    found = find_laps(tel, LapSpec(line=LapLine(CENTRE[0], CENTRE[1])))
    assert found.line.bearing == pytest.approx(90.0, abs=3)
    np.testing.assert_allclose(np.diff(found.starts), [L / v for v in MEAN_SPEEDS], atol=0.005)
    auto = find_laps(tel, LapSpec(auto=True))
    # wherever the line is put, each lap is one trip round: the same times to within the jitter
    assert len(auto.starts) in (len(MEAN_SPEEDS), len(MEAN_SPEEDS) + 1)
    laps = np.diff(auto.starts)
    assert np.all(np.abs(laps - L * P) < L * (1 / 19.0 - P) + 0.01)  # between the fastest and slowest
    assert abs(laps.sum() - (auto.starts[-1] - auto.starts[0])) < 1e-9


def test_direction_respected():
    backwards = circuit(reverse=True)
    assert len(find_laps(backwards, LapSpec(line=LINE)).starts) == 0  # westwards through an eastward line
    other_way = find_laps(backwards, LapSpec(line=LapLine(CENTRE[0], CENTRE[1], 270.0, 20.0)))
    np.testing.assert_allclose(np.diff(other_way.starts), [L / v for v in MEAN_SPEEDS], atol=0.005)


def test_a_stop_at_the_line_is_one_crossing():
    # standing 1 m past the line for 30 s, with 0.4 m of jitter: the fixes cross the line back and forth
    tel = circuit(stop=(1.0, 30.0), noise=0.4, seed=3)
    b = math.radians(LINE.bearing)
    from overlay.telemetry.laps import gps_fixes, local_xy

    t, lat, lon = gps_fixes(tel)
    x, y = local_xy(lat, lon, LINE.lat, LINE.lon)
    past = x * math.sin(b) + y * math.cos(b)
    stopped = (t > 9) & (t < 37)
    assert np.count_nonzero(np.diff(np.sign(past[stopped])) > 0) >= 3  # the jitter does cross the line
    found = find_laps(tel, LapSpec(line=LINE, min_lap=5.0))
    truth = true_starts() + np.where(np.arange(len(MEAN_SPEEDS) + 1) > 0, 30.0, 0.0)
    assert len(found.starts) == len(truth)
    assert found.starts[0] == pytest.approx(truth[0], abs=0.05)  # braking to a stop: no fit, the two fixes
    np.testing.assert_allclose(found.starts[1:], truth[1:], atol=0.02)


def test_delta_at_known_points():
    tel = circuit()
    starts = true_starts()
    clock = LapClock(find_laps(tel, LapSpec(line=LINE)).starts, np.zeros(0), path_distance(tel))
    a = [1 / v for v in MEAN_SPEEDS]
    checked = 0
    for k in range(1, len(MEAN_SPEEDS)):
        r = int(np.argmin([L * a[j] for j in range(k)]))  # best lap completed before lap k
        for frac in (0.1, 0.25, 0.5, 0.8, 0.95):
            x = frac * L
            when = starts[k] + lap_clock_time(a[k], x)
            truth = lap_clock_time(a[k], x) - lap_clock_time(a[r], x)
            assert clock.delta(np.array([when]))[0] == pytest.approx(truth, abs=0.010), (k, frac)
            checked += 1
    assert checked == 20
    cols = clock.columns(np.array([starts[0] - 1, starts[0] + 1, starts[2] + 1, starts[5] + 5]))
    assert math.isnan(cols["lap.best"][0]) and math.isnan(cols["lap.best"][1])
    assert cols["lap.best"][2] == pytest.approx(L / 21.5, abs=0.005)
    assert cols["lap.best"][3] == pytest.approx(L / 22.0, abs=0.005)
    np.testing.assert_array_equal(cols["lap.n"], [0, 0, 2, 5])
    assert cols["lap.predicted"][2] == pytest.approx(cols["lap.best"][2] + cols["lap.delta"][2])
    assert math.isnan(cols["sector.time"][2])  # no sector lines


def test_sectors_split_the_lap_and_their_delta_is_the_lap_delta_gained_in_them():
    tel = circuit()
    # a sector line halfway round: the top of the circle, travel westwards
    top = LapLine(CENTRE[0] + 2 * R / METRES_PER_DEGREE, CENTRE[1], 270.0, 20.0)
    apply_laps(tel, LapSpec(line=LINE, sectors=(top,)))
    a = [1 / v for v in MEAN_SPEEDS]
    half = [lap_clock_time(x, L / 2) for x in a]
    np.testing.assert_allclose(tel.sectors, true_starts()[:-1] + half, atol=0.005)
    rows = lap_rows(tel)
    assert [r.lap for r in rows] == [1, 2, 3, 4, 5]
    for row, ak, h in zip(rows, a, half):
        assert row.sectors == pytest.approx((h, L * ak - h), abs=0.005)
    assert min(r.delta for r in rows) == 0.0 and rows[3].delta == 0.0
    assert rows[0].delta == pytest.approx(L / 20.0 - L / 22.0, abs=0.005)
    clock = LapClock(tel.laps, tel.sectors, path_distance(tel))
    when = true_starts()[2] + lap_clock_time(a[2], 0.75 * L)  # lap 3, in its second sector
    cols = clock.columns(np.array([when]))
    assert cols["sector.time"][0] == pytest.approx(when - tel.sectors[2], abs=1e-6)
    gained = (lap_clock_time(a[2], 0.75 * L) - lap_clock_time(a[1], 0.75 * L)) - (half[2] - half[1])
    assert cols["sector.delta"][0] == pytest.approx(gained, abs=0.010)


@pytest.mark.parametrize("text, why", [
    ("47.1", "give LAT,LON"), ("a,b", "give LAT,LON"), ("47,8,90,20,1", "give LAT,LON"),
    ("95,8", "latitude"), ("47,8,400", "bearing"), ("47,8,90,0", "width"), ("47,8,nan", "give LAT,LON"),
])
def test_bad_lap_lines(text, why):
    with pytest.raises(InputError, match=why) as err:
        parse_line(text)
    assert "\n" not in str(err.value) and "--lap-line" in str(err.value)


def test_lap_line_forms():
    assert parse_line("47.5, 8.25") == LapLine(47.5, 8.25, None, 30.0)
    assert parse_line("47.5,8.25,,12") == LapLine(47.5, 8.25, None, 12.0)
    assert parse_line("47.5,8.25,360,12") == LapLine(47.5, 8.25, 0.0, 12.0)
    with pytest.raises(InputError, match="not both"):
        lap_spec("47,8", "auto")
    with pytest.raises(InputError, match="needs a start/finish line"):
        lap_spec(None, None, ["47,8"])
    assert lap_spec(None, None) is None


def test_a_line_the_track_never_reaches():
    with pytest.raises(InputError, match="never passes within"):
        find_laps(circuit(), LapSpec(line=LapLine(CENTRE[0] + 0.01, CENTRE[1])))


def test_laps_auto_on_a_ride_that_is_not_a_circuit():
    t = np.arange(0, 600.0)
    tel = Telemetry(streams={"gps": Timeseries(t, {"lat": 47 + t * 1e-4, "lon": 8 + t * 0.0})})
    with pytest.raises(InputError, match="no circuit found"):
        find_laps(tel, LapSpec(auto=True))


@needs_device_file("gpx/ride-2021-09-24.gpx.gz")
def test_real_ride_through_its_own_start():
    """The real ride: a line at its first fix with the start's own bearing. Whatever it finds must be a
    crossing of the line in that direction, and laps at least the minimum apart."""
    from overlay.telemetry.gpx import load_gpx
    from overlay.telemetry.laps import gps_fixes, local_xy

    tel = load_gpx(device_file("gpx/ride-2021-09-24.gpx.gz"))
    t, lat, lon = gps_fixes(tel)
    i = int(np.argmax(np.hypot(*local_xy(lat, lon, lat[0], lon[0])) > 50))  # well under way
    found = find_laps(tel, LapSpec(line=LapLine(float(lat[i]), float(lon[i]))))
    assert len(found.starts) >= 1 and found.starts[0] == pytest.approx(t[i], abs=2.0)
    assert np.all(np.diff(found.starts) >= 10.0)
