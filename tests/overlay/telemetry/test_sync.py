"""--sync auto: recover a known clock offset between a GPX/FIT file and the camera.

Offsets follow overlay.telemetry.merge: t_video = UTC - start - offset, and
find_offset returns what to add to the offset the file was aligned with.
"""
from __future__ import annotations

import numpy as np
import pytest

from overdash import InputError
from overlay.telemetry.derived import add_derived
from overlay.telemetry.fit import load_fit
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.gpx import load_gpx
from overlay.telemetry.merge import align
from overlay.telemetry.sync import find_offset, sync
from overlay.telemetry.timeseries import Telemetry, Timeseries
from tests.support.paths import device_file

M_PER_DEG = 111_195.0  # metres per degree of latitude (Earth radius 6371 km)


@pytest.fixture(scope="module")
def hero():
    return load_gopro(device_file("gopro/max-heromode.mp4"))


@pytest.fixture(scope="module")
def rides():
    return load_fit(device_file("fit/ride-2021-09-24-karoo.fit")), load_gpx(device_file("gpx/ride-2021-09-24.gpx.gz"))


def noisy_copy(camera: Telemetry, shift: float, pos_sigma: float, speed_sigma: float, seed: int) -> Telemetry:
    """The camera's own GPS as a 'file': times later by `shift` s, Gaussian noise (metres, m/s) added,
    derived metrics recomputed from the noisy positions."""
    rng = np.random.default_rng(seed)
    gps = camera["gps"]
    n = len(gps)
    lat = gps["lat"] + rng.normal(0, pos_sigma, n) / M_PER_DEG
    lon = gps["lon"] + rng.normal(0, pos_sigma, n) / (M_PER_DEG * np.cos(np.radians(gps["lat"])))
    cols = {"lat": lat, "lon": lon, "alt": gps["alt"] + rng.normal(0, pos_sigma, n),
            "speed": np.abs(gps["speed"] + rng.normal(0, speed_sigma, n)), "gps-ok": gps["gps-ok"].copy()}
    return add_derived(Telemetry(streams={"gps": Timeseries(gps.t + shift, cols)}, source="noisy.gpx"))


@pytest.mark.parametrize("shift", [3.7, -2.2])
def test_recovers_a_shift_of_the_cameras_own_gps_with_noise(hero, shift):
    # 10.5 s of walking at ~1.2 m/s; 18 Hz fixes with 0.3 m of white noise on each, and
    # 0.1 m/s on the recorded speed (about the speed's own variation over the clip)
    noisy = noisy_copy(hero, shift, pos_sigma=0.3, speed_sigma=0.1, seed=7)
    offset, confidence = find_offset(hero, noisy)
    assert offset == pytest.approx(shift, abs=0.1)
    assert confidence > 0.1
    # recorded speeds only (no positions): the noisy speed series still lines up
    result = sync(hero, noisy, speed="speed", use_position=False)
    assert result.offset == pytest.approx(shift, abs=0.15)
    assert not result.used_position


def test_shift_of_the_cameras_gps_with_larger_position_noise(hero):
    noisy = noisy_copy(hero, 3.7, pos_sigma=1.0, speed_sigma=0.1, seed=11)
    result = sync(hero, noisy)
    assert result.used_position
    assert result.offset == pytest.approx(3.7, abs=0.1)


def _cut(tel: Telemetry, t0: float, t1: float) -> Telemetry:
    streams = {}
    for name, s in tel.streams.items():
        keep = (s.t >= t0) & (s.t <= t1)
        streams[name] = Timeseries(s.t[keep], {k: v[keep] for k, v in s.columns.items()})
    return Telemetry(streams=streams, source=tel.source)


@pytest.mark.parametrize("true_offset", [37.3, -200.6, 0.0])
def test_recovers_the_shift_of_one_ride_file_against_the_other(rides, true_offset):
    fit, gpx = rides
    start = fit["gps"].t[0] + 3000.0  # the 'video' starts 50 min into the ride
    camera = _cut(align(fit, start), 0.0, 600.0)  # 10 min of the Karoo's track as the camera's
    # the GPX's clock runs `true_offset` s ahead: its timestamps are shifted, aligned with offset 0
    shifted = Telemetry(streams={k: Timeseries(s.t + true_offset, dict(s.columns)) for k, s in gpx.streams.items()},
                        source="shifted.gpx")
    offset, confidence = find_offset(camera, align(shifted, start))
    assert offset == pytest.approx(true_offset, abs=0.15)
    assert confidence > 0.3
    speed_only = sync(camera, align(shifted, start), use_position=False)
    assert speed_only.offset == pytest.approx(true_offset, abs=0.2)


def test_whole_ride_against_whole_ride_with_gps_noise(rides):
    fit, gpx = rides
    rng = np.random.default_rng(3)
    g = gpx["gps"]
    cols = {"lat": g["lat"] + rng.normal(0, 3.0, len(g)) / M_PER_DEG,
            "lon": g["lon"] + rng.normal(0, 3.0, len(g)) / (M_PER_DEG * 0.62), "alt": g["alt"]}
    noisy = add_derived(Telemetry(streams={"gps": Timeseries(g.t - 12.4, cols)}))
    start = fit["gps"].t[0]
    result = sync(align(fit, start), align(noisy, start))
    assert result.offset == pytest.approx(-12.4, abs=0.2)
    assert result.confidence > 0.2


def test_search_window_limits_the_answer(rides):
    fit, gpx = rides
    start = fit["gps"].t[0] + 3000.0
    camera = _cut(align(fit, start), 0.0, 600.0)
    file = align(gpx, start, offset=-300.0)  # 300 s off, searching only +-60 s
    result = sync(camera, file, search=60.0)
    assert abs(result.offset) <= 60.0 + 1e-6
    assert abs(result.offset - 300.0) > 1.0
    assert sync(camera, file, search=400.0).offset == pytest.approx(300.0, abs=0.15)


def test_nothing_to_compare_is_an_input_error(hero):
    empty = Telemetry(streams={"accl": Timeseries(np.arange(10.0), {"accl.x": np.zeros(10)})})
    with pytest.raises(InputError, match="--sync auto"):
        find_offset(hero, empty)
    far = Telemetry(streams={"gps": Timeseries(hero["gps"].t + 5000, dict(hero["gps"].columns))})
    with pytest.raises(InputError, match="not within"):
        find_offset(hero, far)
