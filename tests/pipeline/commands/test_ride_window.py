"""Times a user types for a part of a ride (`render ride.gpx … --from/--to`, `preview --at`):
seconds, [HH:]MM:SS[.s] as in ffmpeg's -ss, or (for a ride) an ISO 8601 date and time."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from overdash import InputError
from pipeline.commands.config import RenderConfig, parse_clock
from pipeline.commands.sources import load_ride_only

START = dt.datetime(2021, 9, 24, 10, 0, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text, seconds", [
    ("90", 90.0), ("0.5", 0.5), ("1:30", 90.0), ("01:30.25", 90.25), ("1:02:03.5", 3723.5),
    ("0:00:10", 10.0), ("125", 125.0), (" 2:00 ", 120.0),
])
def test_clock_times(text, seconds):
    assert parse_clock(text, "--from") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["soon", "", "-5", "nan", "inf", "1:75", "1:60", "1:2:3:4", "1.5:30", "1:-3",
                                  "::", "2021-09-24T10:00:00Z"])
def test_not_clock_times(text):
    with pytest.raises(InputError, match=r"--to .*\[HH:\]MM:SS"):
        parse_clock(text, "--to")


def write_ride(path, minutes: int = 12):
    """A GPX of one point a second, going north, from START."""
    points = "".join(
        f'<trkpt lat="{45 + i * 1e-5:.7f}" lon="6.0"><ele>500</ele>'
        f'<time>{(START + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}</time></trkpt>'
        for i in range(minutes * 60 + 1))
    path.write_text('<?xml version="1.0"?><gpx version="1.1" creator="test" '
                    'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>' + points + "</trkseg></trk></gpx>")
    return path


@pytest.mark.parametrize("start, end", [
    ("600", "630"), ("10:00", "10:30"), ("0:10:00", "00:10:30.0"),
    ("2021-09-24T10:10:00Z", "2021-09-24T10:10:30Z"), ("600", "2021-09-24T10:10:30Z"),
])
def test_every_spelling_picks_the_same_part_of_the_ride(tmp_path, start, end):
    ride = load_ride_only(RenderConfig(input=write_ride(tmp_path / "r.gpx"), output=tmp_path / "o.mov", workers=1,
                                       from_time=start, to_time=end, quiet=True))
    assert ride.start_utc == START.timestamp() + 600
    assert ride.duration == pytest.approx(30.0)


@pytest.mark.parametrize("args, needle", [
    (["--from", "soon"], "--from 'soon': give the time into the ride"),
    (["--from", "10:00", "--to", "9:00"], "with --from before --to"),
    (["--to", "13:00"], "must lie inside the ride"),
])
def test_a_window_the_ride_cannot_give_is_one_line(tmp_path, args, needle):
    ride = write_ride(tmp_path / "r.gpx")
    proc = subprocess.run([sys.executable, "-m", "pipeline.commands.cli", "render", str(ride),
                           str(tmp_path / "o.mov"), "-q", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.glob("*.mov"))
