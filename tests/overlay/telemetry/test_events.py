"""The event detector (overlay.telemetry.events) on telemetry made for known moments, and on real rides.

Truths come from how the inputs are made: a free fall of 0.4 s from t = 4.0 s rises and falls
0.2 s each way, so its height is g·0.2²/2 = 0.196 m; a speed falling 5 m/s² is a braking of
5 / 9.80665 = 0.510 g; 10 m/s around a 15 m circle is 10²/15 = 6.67 m/s² = 0.680 g.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from overlay.frametable import build_frame_table
from overlay.telemetry import events as ev
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.timeseries import Telemetry, Timeseries
from tests.support.paths import device_file

G = 9.80665
RATE = 200.0  # Hz, as GoPro ACCL


def riding_accl(seconds: float = 10.0, *, fall=None, seed: int = 1) -> Timeseries:
    """ACCL (m/s²) of a camera tilted on a bike: 1 g of gravity along a slanted axis, road
    vibration (white noise 0.15 g per axis plus a 23 Hz buzz of 0.2 g), and, for `fall` =
    (start, seconds), a free fall reading ~0.03 g of noise, then a 3 g landing spike."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 1.0 / RATE)
    down = np.array([0.3, -0.85, 0.43])
    down /= np.linalg.norm(down)
    a = np.outer(np.ones(len(t)), down) * G
    a += rng.normal(0.0, 0.15 * G, a.shape)
    a[:, 0] += 0.2 * G * np.sin(2 * np.pi * 23 * t)
    if fall is not None:
        start, length = fall
        air = (t >= start) & (t < start + length)
        a[air] = rng.normal(0.0, 0.03 * G, (air.sum(), 3))
        spike = (t >= start + length) & (t < start + length + 0.08)
        a[spike] = np.outer(np.ones(spike.sum()), down) * 3 * G
    return Timeseries(t, {"accl.x": a[:, 0], "accl.y": a[:, 1], "accl.z": a[:, 2]})


def test_airtime_of_a_known_jump():
    found = ev.airtime(riding_accl(fall=(4.0, 0.4)))
    assert len(found) == 1
    jump = found[0]
    assert jump.kind == "airtime"
    assert jump.start == pytest.approx(4.0, abs=0.02)  # take-off
    assert jump.end == pytest.approx(4.4, abs=0.02)  # landing
    assert jump.value == pytest.approx(0.4, abs=0.03)
    assert jump.height == pytest.approx(G * 0.4 ** 2 / 8, abs=0.03)  # 0.196 m


def test_no_airtime_on_riding_noise_or_a_short_drop():
    assert ev.airtime(riding_accl()) == []
    assert ev.airtime(riding_accl(fall=(4.0, 0.1))) == []  # shorter than MIN_AIRTIME: a bump, not a jump


@pytest.mark.parametrize("name", ["gopro/hero7.raw", "gopro/hero9-rotation.gpmd", "gopro/max-heromode.mp4",
                                  "gopro/hero11.raw", "gopro/Fusion.raw"])
def test_no_airtime_in_real_riding(name):
    """Real GoPro ACCL: hero7 (riding, single samples down to 0.16 g) and hero9 (a camera being
    turned by hand, dips to 0.27 g) have no flight, and none is found."""
    tel = load_gopro(device_file(name))
    assert [e for e in ev.detect_events(tel) if e.kind == "airtime"] == []


def speed_telemetry(t: np.ndarray, v: np.ndarray, **more) -> Telemetry:
    return Telemetry(streams={"gps": Timeseries(t, {"speed": v, **more})})


def test_braking_and_top_speed_on_a_known_speed():
    t = np.arange(0.0, 40.0, 1 / 18)  # GPS5 at 18 Hz
    v = np.interp(t, [0, 8, 10, 12, 20, 25, 40], [15, 15, 15, 5, 5, 18, 10])  # 5 m/s² from 10 s to 12 s
    v = v + np.random.default_rng(2).normal(0, 0.05, len(t))
    found = ev.detect_events(speed_telemetry(t, v))
    brakes = [e for e in found if e.kind == "braking"]
    assert len(brakes) == 1
    assert brakes[0].value == pytest.approx(5 / G, abs=0.03)
    assert 9.4 <= brakes[0].start <= 10.6 and 11.4 <= brakes[0].end <= 12.6  # the slope is taken over 1 s
    top = [e for e in found if e.kind == "top-speed"]
    assert len(top) == 1 and top[0].start == pytest.approx(25.0, abs=0.3)
    assert top[0].value == pytest.approx(18.0, abs=0.2)
    assert not [e for e in found if e.kind in ("airtime", "cornering")]  # straight, no ACCL


def test_gentle_slowing_is_not_braking():
    t = np.arange(0.0, 30.0, 1 / 18)
    v = np.interp(t, [0, 10, 20, 30], [15, 15, 5, 5])  # 1 m/s²: 0.1 g
    assert not [e for e in ev.detect_events(speed_telemetry(t, v)) if e.kind == "braking"]


def circle(t: np.ndarray, start: float, end: float, v: float, radius: float) -> np.ndarray:
    """Course over ground (degrees) riding straight, then around a circle of `radius` m from start to end."""
    rate = math.degrees(v / radius)
    return (np.clip(t, start, end) - start) * rate % 360


def test_cornering_from_the_gps_course():
    t = np.arange(0.0, 30.0, 1 / 18)
    found = ev.detect_events(speed_telemetry(t, np.full(len(t), 10.0), cog=circle(t, 10.0, 15.0, 10.0, 15.0)))
    corners = [e for e in found if e.kind == "cornering"]
    assert len(corners) == 1
    assert corners[0].value == pytest.approx(100 / 15 / G, abs=0.05)
    assert corners[0].start == pytest.approx(10.0, abs=0.3) and corners[0].end == pytest.approx(15.0, abs=0.3)


def test_cornering_from_the_gyro_about_gravity():
    """The camera is tilted: its GYRO turns about the gravity direction, not about any one axis."""
    t = np.arange(0.0, 30.0, 1 / RATE)
    accl = riding_accl(30.0)
    down = np.array([0.3, -0.85, 0.43]) / np.linalg.norm([0.3, -0.85, 0.43])
    omega = np.where((t >= 10) & (t < 15), 10.0 / 15.0, 0.0)  # rad/s about the vertical
    gyro = np.outer(omega, down) + np.random.default_rng(3).normal(0, 0.05, (len(t), 3))
    gps_t = np.arange(0.0, 30.0, 1 / 18)
    tel = Telemetry(streams={
        "gps": Timeseries(gps_t, {"speed": np.full(len(gps_t), 10.0)}), "accl": accl,
        "gyro": Timeseries(t, {"gyro.x": gyro[:, 0], "gyro.y": gyro[:, 1], "gyro.z": gyro[:, 2]})})
    corners = [e for e in ev.detect_events(tel) if e.kind == "cornering"]
    assert len(corners) == 1
    assert corners[0].value == pytest.approx(100 / 15 / G, abs=0.06)
    assert corners[0].start == pytest.approx(10.0, abs=0.3)


def test_hilights_are_events_only_when_the_laps_came_from_them():
    laps = np.array([0.0, 3.5, 7.25])
    camera = Telemetry(notes=("2 HiLight tag(s) at 3.500, 7.250 s: each starts a lap",), laps=laps)
    replaced = Telemetry(notes=camera.notes, laps=np.array([1.5, 20.0, 40.0]))  # a ride file's, after merging
    assert [(e.kind, e.start, e.value) for e in ev.detect_events(camera)] == [("hilight", 3.5, 1.0),
                                                                             ("hilight", 7.25, 2.0)]
    assert ev.detect_events(Telemetry(laps=laps)) == ()  # a ride file's laps are not presses
    assert ev.detect_events(replaced) == ()


def test_event_columns_hold_and_overlap():
    events = [ev.Event("braking", 2.0, 3.0, 0.5), ev.Event("top-speed", 4.0, 4.0, 20.0)]
    times = np.arange(0.0, 12.0, 0.5)
    cols = ev.event_columns(events, times, hold=2.0)
    at = {float(t): (c, v, a) for t, c, v, a in zip(times, cols["event"], cols["event.value"], cols["event.age"])}
    assert math.isnan(at[1.5][0]) and math.isnan(at[1.5][2])  # before: nothing (age never negative)
    assert at[2.0] == (2.0, 0.5, 0.0) and at[3.5] == (2.0, 0.5, 1.5)  # braking, held after its end
    assert at[4.0] == (4.0, 20.0, 0.0) and at[6.0] == (4.0, 20.0, 2.0)  # the later event takes over
    assert math.isnan(at[6.5][0]) and math.isnan(at[6.5][1])  # top-speed's hold is over


def test_frame_table_event_metrics():
    tel = Telemetry(streams={"accl": riding_accl(fall=(4.0, 0.4))})
    from fractions import Fraction

    table = build_frame_table(tel, 100, Fraction(10), [("event", None), ("event.value", None), ("event.age", None)],
                              keep=True)
    code = table.columns["event"]
    assert np.isnan(code[39]) and code[41] == ev.Event("airtime", 0, 0, 0).code
    assert np.isnan(code[int((4.4 + ev.EVENT_HOLD) * 10) + 2])
    assert table.value("event.value", 42) == pytest.approx(0.4, abs=0.03)
    assert table.value("event.age", 60) == pytest.approx(2.0, abs=0.03)


def test_events_csv_and_info_lines():
    events = (ev.Event("airtime", 4.0, 4.4, 0.4, G * 0.16 / 8), ev.Event("top-speed", 25.0, 25.0, 18.0))
    text = "".join(ev.events_csv(events)).splitlines()
    assert text == ["kind,start_s,end_s,duration_s,value,value_unit,height_m",
                    "airtime,4.000,4.400,0.400,0.4,s,0.196",
                    "top-speed,25.000,25.000,0.000,18,m/s,"]
    lines = ev.event_lines(events)
    assert lines[0] == "events (2):"
    assert "airtime" in lines[1] and "0.40 s in the air, about 0.20 m" in lines[1]
    assert ev.event_lines(()) [0].startswith("events: none found")
