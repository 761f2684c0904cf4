"""`overdash info` lists the detected events; `overdash export --events` writes them as CSV."""
from __future__ import annotations

import csv

import pytest

from overdash import InputError
from tests.pipeline.commands.test_info_export import run
from tests.support import gpmf_reference as ref
from tests.support.paths import SHARED_DATA, needs_device_file

HERO7 = SHARED_DATA / "gopro" / "hero7.raw"


def top_gps5_speed(path) -> float:
    """The highest GPS5 2D speed in the file, read by the reference reader (raw int32 / SCAL)."""
    best = 0.0
    for payload in ref.raw_payloads(path):
        rows, scal = ref.gps5_raw(payload)
        best = max([best] + [r[3] / scal[3] for r in rows])
    return best


@needs_device_file("gopro/hero7.raw")
def test_info_and_export_list_the_events(capsys, tmp_path):
    top = top_gps5_speed(HERO7)  # 7.333 m/s: a ride, no jump in it
    assert run("info", HERO7) == 0
    out = capsys.readouterr().out.splitlines()
    at = out.index("events (1):")
    assert out[at + 1].split()[0] == "top-speed" and f"{top:.2f} m/s" in out[at + 1]
    path = tmp_path / "events.csv"
    assert run("export", HERO7, "--events", "-o", path) == 0
    rows = list(csv.DictReader(path.open()))
    assert [r["kind"] for r in rows] == ["top-speed"]
    assert float(rows[0]["value"]) == pytest.approx(top, abs=1e-3) and rows[0]["value_unit"] == "m/s"


def test_export_events_needs_csv(tmp_path):
    with pytest.raises(InputError, match=r"events.gpx: --events writes CSV"):
        run("export", tmp_path / "missing.mp4", "--events", "-o", tmp_path / "events.gpx")
