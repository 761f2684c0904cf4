"""`overdash info` and `overdash export` (pipeline/commands/info.py, export.py) on the sample files."""
from __future__ import annotations

import argparse
import csv
import json
import re
import xml.etree.ElementTree as ET

import pytest

from overdash import InputError
from pipeline.commands.export import add_export_parser
from pipeline.commands.info import add_info_parser
from tests.support import gpmf_reference as ref
from tests.support.paths import SHARED_DATA, device_file, needs_device_file

DATA = SHARED_DATA / "gopro"
MAX = DATA / "max-heromode.mp4"
HERO11 = DATA / "hero11.raw"


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="overdash")
    sub = parser.add_subparsers(dest="command")
    add_info_parser(sub)
    add_export_parser(sub)
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@needs_device_file("gopro/max-heromode.mp4")
def test_info_lists_every_stream(capsys):
    assert run("info", MAX) == 0
    out = capsys.readouterr().out
    assert "camera: GoPro Max, firmware H19.03.01.30.00" in out
    accl = sum((ref.stream_parts(p, "ACCL") or (0,))[0] for p in ref.payloads(MAX))
    assert re.search(rf"ACCL\s+{accl}\s", out)  # 2082
    assert re.search(r"SHUT\s+316\s.*listed only", out)  # 30 x 10 + 16 exposure values, not decoded
    assert "gps: 191 of 191 samples trusted" in out
    assert "STMP" in out


def test_info_reports_gps_quality(capsys):
    run("info", device_file("gopro/hero6.raw"))
    assert "gps: 0 of 17 samples trusted; marked: no 3D fix 17, DOP too high 17" in capsys.readouterr().out


@needs_device_file("gopro/hero11.raw")
def test_export_gps_csv(tmp_path):
    out = tmp_path / "gps.csv"
    assert run("export", HERO11, "-o", out) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["t", "utc", "lat", "lon", "alt", "speed2d", "speed3d", "fix", "dop"]
    gps9 = [r for p in ref.raw_payloads(HERO11) for r in ref.gps9_raw(p)[0]]
    assert len(rows) - 1 == len(gps9) == 110
    first = gps9[0]  # raw lat int32 / 1e7, ms of day 48576899 -> 13:29:36.899
    assert float(rows[1][2]) == pytest.approx(first[0] / 1e7, abs=1e-8)
    assert rows[1][1] == "2022-09-20T13:29:36.899Z"
    assert rows[1][7] == "3" and float(rows[1][8]) == pytest.approx(first[7] / 100)


@needs_device_file("gopro/hero11.raw")
@pytest.mark.parametrize("stream, header", [("ACCL", ["t", "x", "y", "z"]), ("GRAV", ["t", "x", "y", "z"]),
                                            ("CORI", ["t", "w", "x", "y", "z", "roll", "pitch", "yaw"])])
def test_export_other_streams(tmp_path, stream, header):
    out = tmp_path / f"{stream}.csv"
    run("export", HERO11, "-o", out, "--stream", stream)
    rows = list(csv.reader(out.open()))
    assert rows[0] == header
    assert len(rows) - 1 == sum((ref.stream_parts(p, stream) or (0,))[0] for p in ref.raw_payloads(HERO11))


@needs_device_file("gopro/hero11.raw")
def test_export_gpx_and_geojson(tmp_path):
    run("export", HERO11, "-o", tmp_path / "t.gpx")
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    points = ET.parse(tmp_path / "t.gpx").getroot().findall(".//g:trkpt", ns)
    assert len(points) == 110
    assert points[0].find("g:time", ns).text == "2022-09-20T13:29:36.899Z"
    assert points[0].find("g:ele", ns) is not None and points[0].find(".//g:speed", ns) is not None
    run("export", HERO11, "-o", tmp_path / "t.geojson")
    feature = json.loads((tmp_path / "t.geojson").read_text())["features"][0]
    assert len(feature["geometry"]["coordinates"]) == 110 and feature["properties"]["time"][0].endswith(".899Z")


def test_only_locked(tmp_path):
    out = tmp_path / "h6.csv"
    run("export", device_file("gopro/hero6.raw"), "-o", out)
    assert len(out.read_text().splitlines()) == 18  # header + 17 samples, all marked fix 0
    run("export", device_file("gopro/hero6.raw"), "-o", out, "--only-locked")
    assert len(out.read_text().splitlines()) == 1  # header only


@needs_device_file("gopro/hero11.raw")
def test_failures_leave_no_output(tmp_path):
    out = tmp_path / "t.gpx"
    with pytest.raises(InputError, match="GPS tracks only"):
        run("export", HERO11, "-o", out, "--stream", "ACCL")
    with pytest.raises(InputError, match=r"nope\.mp4: no such file"):
        run("export", tmp_path / "nope.mp4", "-o", out)
    with pytest.raises(InputError, match="unknown output format"):
        run("export", HERO11, "-o", tmp_path / "t.txt")
    assert list(tmp_path.iterdir()) == []


@needs_device_file("gopro/hero11.raw")
def test_failure_mid_write_keeps_old_output(tmp_path, monkeypatch):
    import pipeline.commands.export as commands

    out = tmp_path / "g.csv"
    out.write_text("old\n")

    def broken(*args, **kwargs):
        yield "t,utc\n"
        raise InputError("boom")

    monkeypatch.setattr(commands, "export_text", broken)
    with pytest.raises(InputError):
        run("export", HERO11, "-o", out)
    assert out.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["g.csv"]
