"""Heights above mean sea level: the EGM96 grid, its interpolation, and which GoPro streams are corrected.

Reference values come from outside overdash: published EGM96 geoid heights (sources
beside each), the grid file's own bytes read here with struct, and the raw GPS5
heights of the sample clip as tests/support/gpmf_reference.py (a separate parser)
decodes them.
"""
from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np
import pytest

from overlay.telemetry import geoid
from overlay.telemetry import gpmfwrite as w
from overlay.telemetry.demo import demo_telemetry
from overlay.telemetry.geoid import GeoidUnavailable, msl_heights, read_gtx
from overlay.telemetry.gopro import load_gopro, load_parts
from pipeline.commands.cli import build_parser
from tests.support import gpmf_reference as ref
from tests.support.paths import SHARED_DATA, geoid_grid, needs_device_file, needs_geoid_grid

MAX = SHARED_DATA / "gopro" / "max-heromode.mp4"

# Published EGM96 geoid heights N (metres), lat, lon in degrees.
PUBLISHED = [
    # NGA's online EGM96 geoid calculator (earth-info.nga.mil, "egm96-geoid-calc"), to the mm it prints,
    # as quoted in ATAK's EGM96Test.java (deptofdefense/AndroidTacticalAssaultKit-CIV)
    (42.0, -76.0, -32.894),
    (-42.0, -76.0, 10.717),
    (-42.0, 76.0, 20.927),
    (42.0, 76.0, -37.045),
    (0.0, 0.0, 17.162),
    (22.9963, 134.9974, 39.534),
    # MathWorks Aerospace Toolbox, geoidegm96 reference page examples (EGM96 to degree 360, 15' grid)
    (42.4, 71.0, -36.59),
    (39.3, -77.2, -33.01),
    (33.4, 36.5, 25.55),
]


def gtx_bytes(lat0, lon0, dlat, dlon, heights) -> bytes:
    """A GTX file as the format describes it: 40-byte big-endian header, then big-endian float32 rows."""
    h = np.asarray(heights, dtype=">f4")
    return struct.pack(">4d2i", lat0, lon0, dlat, dlon, *h.shape) + h.tobytes()


def no_grid(monkeypatch, tmp_path: Path) -> None:
    """Point every place the grid is looked for at an empty folder."""
    monkeypatch.setenv("PROJ_DATA", str(tmp_path))
    monkeypatch.delenv("PROJ_LIB", raising=False)
    monkeypatch.setattr(geoid, "DEFAULT_DIRS", ())


# ---------------------------------------------------------------- the real grid

@needs_geoid_grid()
@pytest.mark.parametrize("lat, lon, published", PUBLISHED)
def test_published_egm96_heights(lat, lon, published):
    assert geoid_grid().undulation(lat, lon) == pytest.approx(published, abs=0.3)


@needs_geoid_grid()
def test_at_and_between_nodes_as_the_files_bytes_say():
    grid = geoid_grid()
    data = grid.path.read_bytes()
    lat0, lon0, dlat, dlon, rows, cols = struct.unpack_from(">4d2i", data)

    def node(j: int, i: int) -> float:
        return struct.unpack_from(">f", data, 40 + 4 * (j * cols + i % cols))[0]

    for j, i in [(0, 0), (rows - 1, cols - 1), (492, 251), (360, 0), (123, 1000), (600, 1439)]:
        at = grid.undulation(lat0 + j * dlat, lon0 + i * dlon)
        assert at == pytest.approx(node(j, i), abs=1e-4), (j, i)
    for j, i, fy, fx in [(492, 251, 0.5, 0.5), (100, 700, 0.25, 0.75), (300, cols - 1, 0.5, 0.5)]:  # last: across 180°
        want = ((1 - fy) * ((1 - fx) * node(j, i) + fx * node(j, i + 1))
                + fy * ((1 - fx) * node(j + 1, i) + fx * node(j + 1, i + 1)))
        got = grid.undulation(lat0 + (j + fy) * dlat, lon0 + (i + fx) * dlon)
        assert got == pytest.approx(want, abs=0.1), (j, i)
        assert got != pytest.approx(node(j, i), abs=1e-3)  # really between: not the corner's value


@needs_geoid_grid()
def test_longitudes_wrap_and_arrays_are_elementwise():
    grid = geoid_grid()
    lat = np.array([33.12677, 42.0, -42.0, 10.0])
    lon = np.array([-117.3273436, -76.0, 76.0, 179.9])
    n = grid.undulation(lat, lon)
    np.testing.assert_allclose(grid.undulation(lat, lon + 360.0), n, atol=1e-9)
    np.testing.assert_allclose(n, [grid.undulation(a, b) for a, b in zip(lat, lon)], atol=1e-12)
    assert grid.undulation(5.0, 180.0) == pytest.approx(grid.undulation(5.0, -180.0), abs=1e-9)
    assert np.isnan(grid.undulation([np.nan, 91.0], [0.0, 0.0])).all()


# ---------------------------------------------------------------- a small grid of our own (no install needed)

def test_a_small_global_grid_interpolates_and_wraps(tmp_path):
    # 3 rows (-90, 0, +90), 4 columns from lon 0 every 90°: the last column's east neighbour is column 0
    path = tmp_path / geoid.GRID_NAME
    path.write_bytes(gtx_bytes(-90.0, 0.0, 90.0, 90.0, [[0, 0, 0, 0], [10, 20, 30, 40], [0, 0, 0, 0]]))
    grid = geoid.load_grid([tmp_path])
    np.testing.assert_allclose(grid.undulation([0, 0, 0, 0], [0, 90, -90, 315]), [10, 20, 40, 25])
    assert grid.undulation(45.0, 45.0) == pytest.approx(0.5 * 15)
    assert grid.undulation(0.0, 360.0) == pytest.approx(10)


@pytest.mark.parametrize("content, message", [
    (b"\0" * 12, "not a GTX grid"),
    (gtx_bytes(-90.0, 0.0, 90.0, 90.0, np.zeros((3, 4)))[:-4], "truncated or corrupt"),
    (gtx_bytes(-90.0, 0.0, -1.0, 90.0, np.zeros((3, 4))), "not a GTX grid"),
])
def test_a_broken_file_is_named(tmp_path, content, message):
    path = tmp_path / geoid.GRID_NAME
    path.write_bytes(content)
    with pytest.raises(GeoidUnavailable, match=f"{re.escape(str(path))}: {message}.*apt install proj-data"):
        read_gtx(path)


def test_heights_no_geoid_has_are_refused(tmp_path):
    (tmp_path / geoid.GRID_NAME).write_bytes(gtx_bytes(-90.0, 0.0, 90.0, 90.0, np.full((3, 4), 5000.0)))
    alt, note = msl_heights(np.zeros(2), np.zeros(2), np.array([1.0, 2.0]), np.ones(2, bool), dirs=[tmp_path])
    np.testing.assert_array_equal(alt, [1.0, 2.0])
    assert "not corrected" in note and "corrupt" in note


def test_only_ellipsoidal_samples_change(tmp_path):
    (tmp_path / geoid.GRID_NAME).write_bytes(gtx_bytes(-90.0, 0.0, 90.0, 90.0, np.full((3, 4), -30.0)))
    lat, lon, alt = np.full(4, 10.0), np.full(4, 20.0), np.array([100.0, 100.0, 100.0, 100.0])
    out, note = msl_heights(lat, lon, alt, np.array([True, True, False, False]), dirs=[tmp_path])
    np.testing.assert_allclose(out, [130.0, 130.0, 100.0, 100.0])
    assert "for 2 of 4 samples" in note
    out, note = msl_heights(lat, lon, alt, np.ones(4, bool), mode="ellipsoid", dirs=[tmp_path])
    np.testing.assert_array_equal(out, alt)
    assert note == "altitude: GPS heights kept above the WGS84 ellipsoid (--altitude ellipsoid)"
    with pytest.raises(ValueError, match="altitude 'geoid'"):
        msl_heights(lat, lon, alt, np.ones(4, bool), mode="geoid")


# ---------------------------------------------------------------- GoPro streams

@needs_device_file("gopro/max-heromode.mp4")
@needs_geoid_grid()
def test_sample_clip_is_above_sea_level():
    recorded = ref.gps5_raw(ref.payloads(MAX)[0])  # ([rows], [scales]) by the reference parser
    raw_alt = recorded[0][0][2] / recorded[1][2]
    assert raw_alt == pytest.approx(-22.959)  # below the sea: the height above the ellipsoid
    msl = load_gopro(MAX)["gps"]
    ellipsoid = load_gopro(MAX, altitude="ellipsoid")["gps"]
    assert msl["alt"][0] == pytest.approx(12.0, abs=3.0)  # Carlsbad's beach: a few metres above the sea
    assert ellipsoid["alt"][0] == pytest.approx(raw_alt, abs=1e-6)
    n = geoid_grid().undulation(msl["lat"], msl["lon"])
    np.testing.assert_allclose(msl["alt"], ellipsoid["alt"] - n, atol=1e-9)


def track(tmp_path: Path, gpsa: list[str | None]) -> Path:
    """A raw GPMF track of the demo ride, payload k's GPS5 stream labelled gpsa[k]."""
    tel = demo_telemetry()
    by_label = {label: w.encode(tel, len(gpsa), gpsa=label, imu=False) for label in set(gpsa)}
    path = tmp_path / "t.gpmd"
    path.write_bytes(w.raw_track(by_label[label][k] for k, label in enumerate(gpsa)))
    return path


def written_alt(n: int) -> np.ndarray:
    return w.gps5_rows(demo_telemetry(), n, round(18 * w.PAYLOAD_SECONDS))[:, :, 2].ravel()


def test_a_stream_that_says_mean_sea_level_is_left_alone(tmp_path):
    tel = load_parts(track(tmp_path, ["MSLV", "MSLV", "MSLV"]))[0]
    np.testing.assert_allclose(tel["gps"]["alt"], written_alt(3), atol=5e-4)  # the writer's mm rounding
    assert "altitude: already mean sea level (GPSA MSLV)" in tel.notes


def test_gpsa_holds_for_later_payloads_that_omit_it(tmp_path):
    tel = load_parts(track(tmp_path, ["MSLV", None, None]))[0]
    np.testing.assert_allclose(tel["gps"]["alt"], written_alt(3), atol=5e-4)


@needs_geoid_grid()
def test_a_stream_without_gpsa_is_corrected(tmp_path):
    tel = load_parts(track(tmp_path, [None, None]))[0]
    gps = tel["gps"]
    n = geoid_grid().undulation(gps["lat"], gps["lon"])
    assert 45 < n.mean() < 55  # Lausanne: the geoid is ~50 m above the ellipsoid
    np.testing.assert_allclose(gps["alt"], written_alt(2) - n, atol=5e-4)
    note, = [n for n in tel.notes if n.startswith("altitude:")]
    assert re.fullmatch(r"altitude: GPS heights above the WGS84 ellipsoid, corrected to mean sea level "
                        r"with EGM96 \(geoid \d\d\.\d m here\)", note), note


@needs_device_file("gopro/max-heromode.mp4")
def test_without_the_grid_heights_stay_and_the_note_says_how_to_get_it(monkeypatch, tmp_path):
    no_grid(monkeypatch, tmp_path)
    tel = load_gopro(MAX)
    assert tel["gps"]["alt"][0] == pytest.approx(-22.959)
    note, = [n for n in tel.notes if n.startswith("altitude:")]
    assert "not corrected" in note and f"not found (looked in {tmp_path})" in note
    assert "apt install proj-data" in note and "\n" not in note


# ---------------------------------------------------------------- commands

def info(capsys, *args) -> list[str]:
    args = build_parser().parse_args(["info", *map(str, args)])
    assert args.func(args) == 0
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("altitude")]


@needs_device_file("gopro/max-heromode.mp4", "gopro/hero9-rotation.gpmd")
@needs_geoid_grid()
def test_info_says_what_was_done(capsys):
    assert info(capsys, MAX) == ["altitude: GPS heights above the WGS84 ellipsoid, corrected to mean sea level "
                                 "with EGM96 (geoid -34.7 m here)"]
    assert info(capsys, MAX, "--altitude", "ellipsoid") == [
        "altitude: GPS heights kept above the WGS84 ellipsoid (--altitude ellipsoid)"]
    assert info(capsys, SHARED_DATA / "gopro" / "hero9-rotation.gpmd") == [
        "altitude: already mean sea level (GPSA MSLV)"]


@needs_device_file("gopro/max-heromode.mp4")
def test_info_and_export_without_the_grid(monkeypatch, tmp_path, capsys):
    no_grid(monkeypatch, tmp_path)
    line, = info(capsys, MAX)
    assert line.startswith("altitude: GPS heights above the WGS84 ellipsoid, not corrected: EGM96 grid")
    args = build_parser().parse_args(["export", str(MAX), "-o", str(tmp_path / "gps.csv")])
    assert args.func(args) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("overdash: warning: altitude:") and "apt install proj-data" in err[0]
    first = (tmp_path / "gps.csv").read_text().splitlines()[1].split(",")
    assert float(first[4]) == pytest.approx(-22.959, abs=1e-3)  # the alt column, as recorded


@needs_device_file("gopro/max-heromode.mp4")
def test_render_and_preview_take_the_option(monkeypatch, tmp_path):
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import config_from_args
    from pipeline.commands.sources import load_source

    args = build_parser().parse_args(["render", str(MAX), str(tmp_path / "o.mp4"), "--altitude", "ellipsoid"])
    assert config_from_args(args).altitude == "ellipsoid"
    assert build_parser().parse_args(["preview", str(MAX), "-o", "p.png"]).altitude == "msl"
    source = load_source(RenderConfig(MAX, tmp_path / "o.mp4", 1, altitude="ellipsoid"), say=lambda _: None)
    assert source.telemetry["gps"]["alt"][0] == pytest.approx(-22.959)
    no_grid(monkeypatch, tmp_path)
    said: list[str] = []
    source = load_source(RenderConfig(MAX, tmp_path / "o.mp4", 1), say=said.append)
    assert source.telemetry["gps"]["alt"][0] == pytest.approx(-22.959)
    assert len(said) == 1 and said[0].startswith("overdash: warning: altitude:") and "proj-data" in said[0]
