"""Laps on the command line: --lap-line / --laps auto / --sector-line mistakes are one line and exit 2;
`info` lists the laps of the generated circuit (written as a GPX file) and `export --laps` writes them."""
from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timezone

import numpy as np
import pytest

from tests.overlay.telemetry.test_laps import CENTRE, MEAN_SPEEDS, circuit, true_starts
from tests.pipeline.commands.test_cli import assert_user_error
from tests.support.paths import device_file, needs_device_file

pytestmark = pytest.mark.e2e  # the overdash command end to end
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc).timestamp()


def run(*args):
    return subprocess.run([*OVERDASH, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def circuit_gpx(tmp_path_factory):
    """The generated circuit as a GPX track, its times to the millisecond from 10:00:00 UTC."""
    gps = circuit()["gps"]
    points = []
    for t, lat, lon in zip(gps.t, gps["lat"], gps["lon"]):
        when = datetime.fromtimestamp(T0 + t, timezone.utc)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
        points.append(f'<trkpt lat="{lat:.9f}" lon="{lon:.9f}"><time>{stamp}</time></trkpt>')
    path = tmp_path_factory.mktemp("gpx") / "circuit.gpx"
    path.write_text('<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">'
                    f'<trk><trkseg>{"".join(points)}</trkseg></trk></gpx>')
    return path


LINE = f"{CENTRE[0]},{CENTRE[1]},90,20"


@pytest.mark.parametrize("args, needle", [
    (["render", "/nonexistent/in.mp4", "{tmp}/o.mp4", "--lap-line", "47.1"], "--lap-line '47.1': give LAT,LON"),
    (["render", "/nonexistent/in.mp4", "{tmp}/o.mp4", "--lap-line", "47,8,500"], "bearing"),
    (["preview", "-o", "{tmp}/o.png", "--lap-line", "91,8"], "latitude"),
    (["preview", "-o", "{tmp}/o.png", "--sector-line", "47,8"], "needs a start/finish line"),
    (["info", "{gpx}", "--lap-line", "47,8", "--laps", "auto"], "not both"),
    (["export", "{gpx}", "-o", "{tmp}/l.csv", "--laps", "--lap-line", "47,8,90,-3"], "width"),
    (["export", "{gpx}", "-o", "{tmp}/l.gpx", "--laps"], "--laps writes CSV"),
])
def test_bad_lap_options(tmp_path, circuit_gpx, args, needle):
    proc = run(*[a.format(tmp=tmp_path, gpx=circuit_gpx) for a in args])
    assert_user_error(proc, needle)
    assert not list(tmp_path.iterdir())


def test_a_line_off_the_track_is_one_line(tmp_path, circuit_gpx):
    assert_user_error(run("info", circuit_gpx, "--lap-line", f"{CENTRE[0] + 0.01},{CENTRE[1]}"), "never passes within")


def test_info_lists_laps_and_export_writes_them(tmp_path, circuit_gpx):
    truth = np.diff(true_starts())
    proc = run("info", circuit_gpx, "--lap-line", LINE)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("laps: "))
    assert lines[at].startswith("laps: 5 completed, best lap 4 in ")
    assert float(lines[at].rsplit(" ", 1)[1]) == pytest.approx(truth[3], abs=0.005)
    rows = [line.split() for line in lines[at + 2:at + 7]]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    for r, t in zip(rows, truth):
        assert float(r[2]) == pytest.approx(t, abs=0.005)
    assert rows[3][3] == "best" and float(rows[0][3]) == pytest.approx(truth[0] - truth[3], abs=0.005)

    out = tmp_path / "laps.csv"
    proc = run("export", circuit_gpx, "-o", out, "--laps", "--lap-line", LINE,
               "--sector-line", f"{CENTRE[0] + 2 * 1000 / (2 * np.pi) / 111195.08},{CENTRE[1]},270,20")
    assert proc.returncode == 0, proc.stderr
    with out.open() as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["lap", "start", "end", "time", "delta", "sector1", "sector2"]
    assert len(table) == len(MEAN_SPEEDS)
    for row, t, start in zip(table, truth, true_starts()):
        assert float(row["time"]) == pytest.approx(t, abs=0.005)
        assert float(row["start"]) == pytest.approx(start, abs=0.005)  # seconds from the ride's first point
        assert float(row["sector1"]) + float(row["sector2"]) == pytest.approx(float(row["time"]), abs=0.002)
    assert float(table[3]["delta"]) == 0.0


def test_laps_auto_from_the_command_line(circuit_gpx):
    proc = run("info", circuit_gpx, "--laps", "auto")
    assert proc.returncode == 0, proc.stderr
    assert any(line.startswith("laps: ") and "completed" in line for line in proc.stdout.splitlines())


@needs_device_file("gopro/max-heromode.mp4")
def test_preview_of_a_video_times_laps_on_its_own_track(tmp_path):
    """--lap-line reaches the video's telemetry (sources.load_source): a line across the clip's track
    draws; one 1 km away is refused in one line naming the line."""
    from overlay.telemetry.gopro import load_gopro
    from overlay.telemetry.laps import gps_fixes

    video = device_file("gopro/max-heromode.mp4")
    t, lat, lon = gps_fixes(load_gopro(video))
    mid = len(t) // 2
    layout = tmp_path / "laps.xml"
    layout.write_text('<layout><component type="lap-table" x="10" y="10"/>'
                      '<component type="metric" metric="lap.n" x="10" y="200"/></layout>')
    out = tmp_path / "p.png"
    ok = run("preview", video, "-o", out, "--layout", layout, "--lap-line", f"{lat[mid]:.7f},{lon[mid]:.7f}")
    assert ok.returncode == 0, ok.stderr
    assert out.stat().st_size > 0
    far = run("preview", video, "-o", tmp_path / "q.png", "--layout", layout,
              "--lap-line", f"{lat[mid] + 0.01:.7f},{lon[mid]:.7f}")
    assert_user_error(far, "never passes within")
