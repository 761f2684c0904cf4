"""show-when in the picture: a part drawn only around a detected event, faded, and repainted
correctly by the renderer's damage machinery (what a worker does frame after frame)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from overlay.frametable import build_frame_table
from overlay.layout import parse_layout
from overlay.renderer import LayoutPainter, Renderer
from overlay.telemetry.events import EVENT_HOLD
from overlay.telemetry.timeseries import Telemetry
from tests.overlay.telemetry.test_events import riding_accl

SIZE = (320, 180)
FPS = 10
TAKE_OFF, FLIGHT = 2.0, 0.4  # the jump in the ACCL
LANDING = TAKE_OFF + FLIGHT
SECONDS = 12.0
RED, BLUE = (220, 30, 30, 255), (30, 30, 220, 255)


def layout(shown: str):
    """A blue square always shown and a red panel shown around airtime; the panel also says which event."""
    return parse_layout(f"""<layout width="{SIZE[0]}" height="{SIZE[1]}">
  <frame x="10" y="10" width="40" height="40" bg="30,30,220"/>
  <translate x="200" y="100" {shown}>
    <frame width="80" height="50" bg="220,30,30">
      <component type="metric" metric="event" x="4" y="4" size="14"/>
    </frame>
  </translate>
</layout>""", "jump.xml")


def table_for(lay):
    tel = Telemetry(streams={"accl": riding_accl(SECONDS, fall=(TAKE_OFF, FLIGHT))})
    return build_frame_table(tel, int(SECONDS * FPS), Fraction(FPS), lay.unit_requests(), keep=True)


def picture(renderer: Renderer, frame: int) -> np.ndarray:
    im = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    renderer.draw(frame, im, (0, 0))
    return np.asarray(im).astype(int)


def at(frame_seconds: float) -> int:
    return int(round(frame_seconds * FPS))


def test_part_shows_only_around_the_airtime():
    lay = layout("show-when=\"event == 'airtime'\" hold=\"1\"")
    renderer = Renderer(lay, table_for(lay), SIZE)
    gone = LANDING + EVENT_HOLD + 1.0  # the event metric's own hold, then the part's
    for seconds, shown in [(1.0, False), (TAKE_OFF - 0.2, False), (TAKE_OFF + 0.2, True), (LANDING + 3.0, True),
                           (gone - 0.2, True), (gone + 0.3, False), (11.5, False)]:
        px = picture(renderer, at(seconds))
        assert tuple(px[20, 20]) == pytest.approx(BLUE, abs=1)  # always there
        expected = RED if shown else (0, 0, 0, 0)
        assert tuple(px[145, 270]) == pytest.approx(expected, abs=1), f"at {seconds} s"
    # the text inside names the event: light pixels on the red panel only while shown
    during, before = picture(renderer, at(TAKE_OFF + 0.2)), picture(renderer, at(1.0))
    text = (slice(104, 120), slice(204, 250))
    assert (during[text][..., :3].min(axis=-1) > 150).sum() > 20
    assert before[text][..., 3].max() == 0
    widget = next(p for parts in renderer.parts_of.values() for p in parts if hasattr(p, "labels"))
    assert widget.text(at(TAKE_OFF + 0.2)) == "airtime" and widget.text(at(1.0)) == "-"


def test_fade_in_and_out():
    lay = layout("show-when=\"event == 'airtime' and event.age &lt; 1\" fade=\"0.5\"")
    renderer = Renderer(lay, table_for(lay), SIZE)
    first = at(TAKE_OFF) + (0 if at(TAKE_OFF) / FPS >= TAKE_OFF - 0.005 else 1)
    alphas = [picture(renderer, f)[145, 270, 3] for f in range(first - 1, first + 16)]
    # 5 frames in: 51, 102, 153, 204, 255 (of the red panel's 255); held to age 1 s; 5 frames out
    assert alphas[0] == 0
    assert alphas[1:6] == pytest.approx([51, 102, 153, 204, 255], abs=2)
    assert alphas[6:11] == [255] * 5
    assert alphas[11:16] == pytest.approx([204, 153, 102, 51, 0], abs=2)
    px = picture(renderer, first + 2)
    assert tuple(px[145, 270][:3]) == pytest.approx(RED[:3], abs=2)  # faded, not darkened


def test_repaint_by_damage_matches_a_fresh_draw():
    """A worker redraws only regions whose keys changed, only inside the damage box: the
    picture it keeps must equal a fresh drawing at every frame, and frames where the part
    stays hidden (or shown, unchanged) must be seen as unchanged."""
    lay = layout("show-when=\"event == 'airtime'\" hold=\"0.5\" fade=\"0.3\"")
    table = table_for(lay)
    paint = LayoutPainter(lay, table, SIZE)()
    regions = paint.regions
    canvases = [Image.new("RGBA", (r[2] - r[0], r[3] - r[1])) for r in regions]
    paint.draw(0, canvases, range(len(regions)))
    old, old_keys = 0, paint.keys(0)
    unchanged = redrawn = 0
    for frame in range(1, table.count):
        keys = paint.keys(frame)
        for i, r in enumerate(regions):
            if keys[i] == old_keys[i]:
                unchanged += 1
                continue
            box = paint.damage(i, old, old_keys[i], frame, keys[i])
            if box is None:
                continue
            patch = Image.new("RGBA", (box[2] - box[0], box[3] - box[1]))
            paint.draw_box(frame, patch, i, box)
            canvases[i].paste(patch, box[:2])
            redrawn += 1
        fresh = [Image.new("RGBA", c.size) for c in canvases]
        paint.draw(frame, fresh, range(len(regions)))
        for kept, new in zip(canvases, fresh):
            assert np.array_equal(np.asarray(kept), np.asarray(new)), f"frame {frame}"
        old, old_keys = frame, keys
    # hidden before take-off and after the hold, unchanged while the text stays: mostly untouched
    frames = table.count - 1
    assert unchanged + redrawn == frames * len(regions)
    assert 6 <= redrawn <= 12  # appear, fade in (3), fade out (3), disappear: the part's frames only


def test_a_part_never_shown_is_left_out():
    lay = layout("show-when=\"event == 'braking'\"")
    renderer = Renderer(lay, table_for(lay), SIZE)
    assert renderer.bounds()[2] <= 60  # only the blue square is ever drawn
    assert picture(renderer, at(TAKE_OFF + 0.2))[145, 270, 3] == 0
