"""GPX/FIT rides on the video's timeline through `overdash render`, and a ride drawn on its own."""
from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import fitdecode
import numpy as np
import pytest

from overlay.telemetry.gopro import load_gopro
from pipeline.commands.config import RenderConfig
from pipeline.commands.render import plan_render
from tests.support.paths import SHARED_DATA, needs_device_file, needs_device_files_in

SAMPLE = SHARED_DATA / "gopro" / "max-heromode.mp4"
FIT = SHARED_DATA / "fit" / "ride-2021-09-24-karoo.fit"
GPX = SHARED_DATA / "gpx" / "ride-2021-09-24.gpx.gz"
pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]


def run(*args, timeout=300):
    return subprocess.run([*OVERDASH, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def gpx_from_camera(path: Path, shift: float) -> None:
    """A GPX of max-heromode's own GPS fixes with the clock moved by `shift` seconds, plus a fake hr."""
    gps = load_gopro(SAMPLE)["gps"]
    points = []
    for i, (lat, lon, alt, ts) in enumerate(zip(gps["lat"], gps["lon"], gps["alt"], gps["timestamp"])):
        when = dt.datetime.fromtimestamp(ts + shift, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        points.append(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>{alt:.2f}</ele><time>{when}</time>'
                      f'<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{100 + i % 50}</gpxtpx:hr>'
                      f'</gpxtpx:TrackPointExtension></extensions></trkpt>')
    path.write_text('<?xml version="1.0"?><gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1" '
                    'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"><trk><trkseg>'
                    + "".join(points) + "</trkseg></trk></gpx>")


@needs_device_file("gopro/max-heromode.mp4")
@pytest.mark.slow
def test_sync_auto_finds_the_clock_offset_of_a_gpx(tmp_path):
    gpx = tmp_path / "watch.gpx"
    gpx_from_camera(gpx, shift=3.7)  # the watch's clock runs 3.7 s ahead of the camera's GPS
    out = tmp_path / "o.mp4"
    proc = run("render", SAMPLE, out, "--gpx", gpx, "--sync", "auto", "-q", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    # the table holds what the layout draws: cycling draws heart rate
    plan = plan_render(RenderConfig(input=SAMPLE, output=tmp_path / "p.mp4", workers=1, gpx=gpx, sync="auto",
                                    layout="cycling",
                                    quiet=True))
    table = plan.painter.table
    assert "hr" in table.columns  # the camera has no hr: --merge extend adds it
    # after sync the file's clock is pulled back 3.7 s: its hr at frame k is the sample whose
    # camera time is k/fps, i.e. point i at GPS time t_i carries hr 100 + i % 50
    gps = load_gopro(SAMPLE)["gps"]
    k = 150
    i = int(np.argmin(np.abs(gps.t - k * 1001 / 30000)))
    assert abs(table.value("hr", k) - (100 + i % 50)) <= 1.0


@needs_device_file("fit/ride-2021-09-24-karoo.fit", "gopro/max-heromode.mp4")
def test_a_ride_that_does_not_overlap_the_video(tmp_path):
    proc = run("render", SAMPLE, tmp_path / "o.mp4", "--fit", FIT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "does not overlap" in line and "2021-09-24" in line and "2019-11-18" in line
    # the video's whole span (315 frames), not its telemetry's last sample
    first, last = (dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
                   for t in re.search(r"video (\S+) to (\S+);", line).groups())
    assert (last - first).total_seconds() == pytest.approx(315 * 1001 / 30000, abs=0.002)
    assert not list(tmp_path.iterdir())


def fit_records() -> list[tuple[float, float]]:
    """(POSIX time, heart rate) of every FIT record, read with fitdecode directly."""
    out = []
    with fitdecode.FitReader(str(FIT)) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record":
                if frame.has_field("heart_rate") and frame.get_value("heart_rate") is not None:
                    out.append((frame.get_value("timestamp").timestamp(), float(frame.get_value("heart_rate"))))
    return out


@needs_device_file("fit/ride-2021-09-24-karoo.fit")
def test_any_camera_with_a_fit_and_a_start_time(tmp_path):
    """A video without telemetry: the FIT drives the dashboard from --start on."""
    clip = tmp_path / "plain.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", "4",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    records = fit_records()
    start = records[2000][0]
    iso = dt.datetime.fromtimestamp(start, dt.timezone.utc).isoformat()
    out = tmp_path / "o.mp4"
    proc = run("render", clip, out, "--fit", FIT, "--start", iso, "-q", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    plan = plan_render(RenderConfig(input=clip, output=tmp_path / "p.mp4", workers=1, fit=FIT, start=iso, quiet=True,
                                    layout="cycling"))  # a layout that draws heart rate
    times = np.array([r[0] for r in records])
    hr = np.array([r[1] for r in records])
    for k in (0, 50, 99):
        assert plan.painter.table.value("hr", k) == pytest.approx(np.interp(start + k / 25, times, hr), abs=0.51)


@needs_device_file("gopro/max-heromode.mp4")
def test_time_zone_of_the_ride_and_tz_override(tmp_path):
    local = plan_render(RenderConfig(input=SAMPLE, output=tmp_path / "a.mp4", workers=1, quiet=True))
    # the clip was filmed in California in November: Pacific Standard Time, UTC-8
    assert local.painter.table.value("utc-offset", 0) == -8 * 3600
    utc = plan_render(RenderConfig(input=SAMPLE, output=tmp_path / "b.mp4", workers=1, quiet=True, tz="UTC"))
    assert utc.painter.table.value("utc-offset", 0) == 0


@needs_device_file("fit/ride-2021-09-24-karoo.fit")
def test_a_ride_alone_as_an_overlay_with_alpha(tmp_path):
    out = tmp_path / "ride.mov"
    proc = run("render", FIT, out, "--size", "640x360", "--from", "600", "--to", "604", "--overlay-fps", "10",
               "-q", "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json",
                                      str(out)], check=True, capture_output=True, text=True).stdout)["streams"]
    assert len(info) == 1
    v = info[0]
    assert (v["codec_name"], v["width"], v["height"]) == ("prores", 640, 360)
    assert v["pix_fmt"].startswith("yuva") and int(v["nb_read_frames"]) == 41  # 4 s at 10 fps, both ends
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgba", "-"], check=True, capture_output=True).stdout
    alpha = np.frombuffer(raw, np.uint8).reshape(360, 640, 4)[:, :, 3]
    assert alpha.min() == 0 and alpha.max() > 200  # transparent picture, opaque dashboard


@pytest.mark.parametrize("args, needle", [
    pytest.param(args, needle, marks=needs_device_files_in(*args)) for args, needle in [
        ([FIT, "{tmp}/o.mp4"], "transparency"),
        ([FIT, "{tmp}/o.mov", "--from", "999999"], "inside the ride"),
        ([FIT, "{tmp}/o.mov", "--profile", "cpu"], "draws over a video"),
        ([SAMPLE, "{tmp}/o.mp4", "--size", "640x360"], "without a video"),
        ([SAMPLE, "{tmp}/o.mp4", "--gpx", GPX, "--fit", FIT], "not both"),
    ]])
def test_ride_file_errors(tmp_path, args, needle):
    proc = run("render", *[str(a).format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())


@needs_device_file("fit/ride-2021-09-24-karoo.fit", "gpx/ride-2021-09-24.gpx.gz")
def test_info_and_export_of_ride_files(tmp_path):
    import gzip
    import xml.etree.ElementTree as ET

    proc = run("info", FIT)
    assert proc.returncode == 0, proc.stderr
    assert "hammerhead Karoo 2" in proc.stdout and "Europe/London" in proc.stdout and "hr" in proc.stdout
    out = tmp_path / "ride.csv"
    proc = run("export", GPX, "-o", out)
    assert proc.returncode == 0, proc.stderr
    rows = out.read_text().splitlines()
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    points = ET.fromstring(gzip.decompress(GPX.read_bytes())).findall(".//g:trkpt", ns)
    assert rows[0].startswith("t,utc,lat,lon,alt,") and ",hr,cadence,temp," in rows[0]  # everything it records
    assert len(rows) - 1 == len(points) == 8597
    first = rows[1].split(",")
    assert float(first[0]) == 0.0 and first[1] == points[0].find("g:time", ns).text.replace("Z", ".000Z")
    assert float(first[2]) == pytest.approx(float(points[0].get("lat")), abs=1e-8)
    for suffix in (".gpx", ".geojson"):
        assert run("export", FIT, "-o", tmp_path / f"r{suffix}").returncode == 0
