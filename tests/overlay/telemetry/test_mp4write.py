"""The data-only MP4 of a GPMF track, read by overlay.telemetry.mp4 and by the reference box walker."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from overlay.telemetry import gpmfwrite as w
from overlay.telemetry.demo import demo_telemetry
from overlay.telemetry.gopro import load_parts
from overlay.telemetry.mp4 import read_mp4
from overlay.telemetry.mp4write import gpmd_mp4
from tests.support import gpmf_reference as ref

CREATED = datetime(2024, 9, 11, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def payloads() -> list[bytes]:
    return w.encode(demo_telemetry(), 4.0)


def test_one_gpmd_track_with_payload_times(payloads, tmp_path):
    path = tmp_path / "telemetry.mp4"
    path.write_bytes(gpmd_mp4(payloads, [1001] * len(payloads), created=CREATED))
    movie = read_mp4(path)
    (track,) = movie.tracks
    assert (track.handler, track.name, track.fourcc, track.timescale) == ("meta", "GoPro MET", "gpmd", 1000)
    assert movie.creation_time == CREATED and track.duration == pytest.approx(4.004)
    np.testing.assert_allclose(track.samples.starts, np.arange(4) * 1.001, atol=1e-12)
    np.testing.assert_allclose(track.samples.durations, 1.001, atol=1e-12)
    theirs = ref.read_movie(path).track("gpmd")
    assert theirs.handler == "meta" and theirs.stts == [(4, 1001)]
    assert ref.payloads(path) == payloads
    assert list(track.samples.offsets) == theirs.offsets and list(track.samples.sizes) == theirs.sizes


def test_loads_like_the_raw_track(payloads, tmp_path):
    mp4, raw = tmp_path / "t.mp4", tmp_path / "t.gpmd"
    mp4.write_bytes(gpmd_mp4(payloads, [1001] * len(payloads)))
    raw.write_bytes(w.raw_track(payloads))
    a, b = load_parts(mp4)[0]["gps"], load_parts(raw)[0]["gps"]
    np.testing.assert_allclose(a.t, b.t, atol=1e-9)
    for name in ("lat", "lon", "alt", "speed", "timestamp"):
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("args, message", [
    (([], []), "at least one payload"),
    (([b"DEVC"], [1001, 1001]), "1 payloads but 2 durations"),
    (([b"DEVC"], [0]), "positive whole milliseconds"),
    (([b"DEVC"], [1.5]), "positive whole milliseconds"),
])
def test_bad_track_raises(args, message):
    with pytest.raises(ValueError, match=message):
        gpmd_mp4(*args)
