"""The lap widgets drawn from the generated circuit (tests/overlay/telemetry/test_laps.py), as preview
draws them: lap-table with the best lap highlighted, lap-delta green while ahead and red while behind,
a metric in format="delta" style="delta", and the circuit map marking the start/finish line."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from overlay.layout import UnitSettings
from overlay.telemetry.laps import LapSpec, apply_laps
from overlay.widgets.text import DELTA_COLOURS, delta_side, format_delta
from pipeline.commands.dashboard import build_dashboard, compose
from tests.overlay.telemetry.test_laps import LINE, circuit, true_starts

FPS = Fraction(10)
SIZE = (640, 480)
GREY = (90, 90, 90)
PURPLE = (200, 0, 200)
ROWS, FONT = 5, 20
LAYOUT = f"""<layout width="{SIZE[0]}" height="{SIZE[1]}">
  <component type="lap-table" x="20" y="20" width="260" size="{FONT}" rows="{ROWS}" best="{','.join(map(str, PURPLE))}"
             bg="none"/>
  <component type="lap-delta" x="20" y="240" width="300" height="30" range="2"/>
  <component type="metric" metric="lap.delta" format="delta" style="delta" x="20" y="300" size="40"/>
  <component type="circuit_map" x="360" y="200" size="256" fill="255,0,0" outline="none"/>
</layout>"""


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    path = tmp_path_factory.mktemp("laps") / "laps.xml"
    path.write_text(LAYOUT)
    tel = apply_laps(circuit(), LapSpec(line=LINE))
    count = int(tel["gps"].t[-1] * FPS)
    return build_dashboard(str(path), tel, count, FPS, SIZE, UnitSettings())


def picture(dashboard, seconds: float) -> np.ndarray:
    frame = int(round(seconds * FPS))
    return np.asarray(compose(dashboard, frame, Image.new("RGB", SIZE, GREY)).convert("RGB")).astype(int)


def near(arr: np.ndarray, colour, tol: int = 40) -> np.ndarray:
    return (np.abs(arr - np.array(colour[:3])) <= tol).all(axis=-1)


def test_lap_table_highlights_the_best_lap_row(dashboard):
    starts = true_starts()
    during_lap5 = picture(dashboard, starts[4] + 20)  # laps 1-4 done; lap 4 (45.45 s) is the best
    table = during_lap5[20:20 + ROWS * 30, 20:280]
    rows = np.flatnonzero(near(table, PURPLE, 10).sum(axis=1) > 200)  # lines the purple bar fills
    assert len(rows) > 20
    assert 3 * 30 <= rows.min() and rows.max() < 4 * 30  # the fourth row: lap 4
    during_lap3 = picture(dashboard, starts[2] + 20)  # laps 1-2 done: lap 2 is the best, second row
    rows = np.flatnonzero(near(during_lap3[20:20 + ROWS * 30, 20:280], PURPLE, 10).sum(axis=1) > 200)
    assert 30 <= rows.min() and rows.max() < 60
    before = picture(dashboard, starts[0] + 10)  # no lap done: an empty table
    assert not near(before[20:20 + ROWS * 30, 20:280], PURPLE, 10).any()


def test_lap_delta_bar_and_text_green_when_ahead_red_when_behind(dashboard):
    starts = true_starts()
    bar = (slice(240, 270), slice(20, 320))
    centre = 170
    ahead = picture(dashboard, starts[3] + 25)  # lap 4 (22 m/s mean) against lap 2 (21.5): ahead
    green, red = near(ahead[bar], DELTA_COLOURS[1]), near(ahead[bar], DELTA_COLOURS[0])
    assert green.sum() > 100 and red.sum() == 0
    assert np.flatnonzero(green.any(axis=0)).max() + 20 <= centre + 1  # left of the centre only
    assert near(ahead[300:360, 20:250], DELTA_COLOURS[1]).sum() > 50  # the text too
    behind = picture(dashboard, starts[4] + 25)  # lap 5 (20.5) against lap 4 (22): behind
    green, red = near(behind[bar], DELTA_COLOURS[1]), near(behind[bar], DELTA_COLOURS[0])
    assert red.sum() > 100 and green.sum() == 0
    assert np.flatnonzero(red.any(axis=0)).min() + 20 >= centre - 1
    assert near(behind[300:360, 20:250], DELTA_COLOURS[0]).sum() > 50


def test_circuit_map_marks_the_start_finish_line(dashboard):
    arr = picture(dashboard, true_starts()[1])
    white = near(arr[200:456, 360:616], (255, 255, 255), 30)
    ys, xs = np.nonzero(white)
    assert len(xs) > 15
    # the line is at the bottom of the circle, in the middle, across the track (upright on the map)
    assert abs(xs.mean() - 128) < 8 and ys.mean() > 200
    assert ys.max() - ys.min() > xs.max() - xs.min()


def test_delta_format_and_sign():
    assert format_delta(0.4249) == "+0.42"
    assert format_delta(-1.07) == "\u22121.07"
    assert format_delta(-0.001) == "0.00" and format_delta(0.004, 3) == "+0.004"
    assert [delta_side(t) for t in ("+0.42", "\u22121.07", "-3", "0.00", "-")] == [1, -1, -1, 0, 0]
