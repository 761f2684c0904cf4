"""Reading only the IMU streams a layout needs: the rest still time the camera clock, so every
time and every value that is read is the same as in a full read, and main holds far less."""
from __future__ import annotations

import numpy as np
import pytest

from overlay.frametable import needed_metrics
from overlay.layout import load_layout
from overlay.layout.units import UnitSettings
from overlay.telemetry.gopro import load_gopro
from overlay.telemetry.streams import streams_read
from tests.support.paths import device_file

FILES = ["gopro/hero5.raw", "gopro/hero7.raw", "gopro/hero9-rotation.gpmd", "gopro/hero11.raw",
         "gopro/Fusion.raw", "gopro/max-heromode.mp4"]


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.t, b.t)
    assert a.columns.keys() == b.columns.keys()
    for name in a.columns:
        np.testing.assert_array_equal(a.columns[name], b.columns[name], err_msg=name)


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("values_of", [frozenset(), frozenset({"accl"}), frozenset({"cori", "grav"})])
def test_streams_read_are_identical_to_a_full_read(name, values_of):
    path = device_file(name)
    full = load_gopro(path)
    part = load_gopro(path, values_of=values_of)
    imu = {"accl", "gyro", "grav", "magn", "cori", "iori"}
    expected = {k for k in full.streams if k not in imu or k in values_of}
    derived = {"accel": "accl", "lean": "grav" if "grav" in full.streams else "cori"}
    expected = {k for k in expected if k not in derived or derived[k] in values_of}
    assert set(part.streams) == expected
    for key in expected:
        _same(full.streams[key], part.streams[key])
    # the inventory (overdash info) still counts every stream, with the same times
    assert [(s.fourcc, s.count, s.span) for s in full.inventory] == [(s.fourcc, s.count, s.span)
                                                                     for s in part.inventory]
    assert full.notes == part.notes


def test_demo_sample_gps_the_same_without_imu(tmp_path):
    from overlay.telemetry.demo import demo_telemetry
    from overlay.telemetry.gpmfwrite import encode, raw_track

    raw = tmp_path / "demo.gpmd"
    raw.write_bytes(raw_track(encode(demo_telemetry(120.0), 60.0)))
    full, part = load_gopro(raw), load_gopro(raw, values_of=frozenset())
    assert "accl" in full.streams and "accl" not in part.streams and "accel" not in part.streams
    _same(full.streams["gps"], part.streams["gps"])
    _same(full.streams["temp"], part.streams["temp"])


def _reads(layout_text: str, tmp_path) -> frozenset[str]:
    path = tmp_path / "l.xml"
    path.write_text(layout_text)
    return streams_read(needed_metrics(load_layout(str(path)).unit_requests(UnitSettings())))


def test_what_layouts_read(tmp_path):
    assert streams_read(needed_metrics(load_layout("default").unit_requests(UnitSettings()))) == frozenset()
    one = '<layout width="400" height="100"><component type="text" x="0" y="0">{}</component></layout>'
    metric = '<layout width="400" height="100"><component type="metric" x="0" y="0" metric="{}"/></layout>'
    assert _reads(metric.format("accel"), tmp_path) == {"accl"}
    assert _reads(metric.format("accel.max"), tmp_path) == {"accl"}
    assert _reads(metric.format("grav.x"), tmp_path) == {"grav"}
    assert _reads(metric.format("lean"), tmp_path) == {"grav", "cori"}
    assert _reads(metric.format("ori.roll"), tmp_path) == {"cori"}
    assert _reads(metric.format("speed"), tmp_path) == frozenset()
    assert _reads(one.format("hello"), tmp_path) == frozenset()


def test_a_render_reads_only_what_its_layout_shows(tmp_path):
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.sources import layout_streams

    config = RenderConfig(input=tmp_path / "in.mp4", output=tmp_path / "out.mp4", workers=1)
    assert layout_streams(config) == frozenset()
    assert layout_streams(RenderConfig(input=tmp_path / "in.mp4", output=tmp_path / "out.mp4", workers=1,
                                       layout="motor")) >= {"accl"}
    broken = tmp_path / "broken.xml"
    broken.write_text("<layout><component type=")
    # a layout that does not load reads everything; its error comes later, in its usual place
    assert layout_streams(RenderConfig(input=tmp_path / "in.mp4", output=tmp_path / "out.mp4", workers=1,
                                       layout=str(broken))) is None


def test_events_read_the_motion_streams(tmp_path):
    """The event detector reads ACCL (airtime) and GYRO (cornering): a layout showing an event, or
    a part shown only around one, has them decoded."""
    metric = '<layout width="400" height="100"><component type="metric" x="0" y="0" metric="event"/></layout>'
    assert _reads(metric, tmp_path) == {"accl", "gyro"}
    shown = ('<layout width="400" height="100"><translate x="0" y="0" show-when="event == \'airtime\'" hold="2">'
             '<component type="text" x="0" y="0">jump</component></translate></layout>')
    assert _reads(shown, tmp_path) == {"accl", "gyro"}
