"""Widgets and the Renderer, with real rendering: where pixels land, what text shows, scaling."""
from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from overlay.frametable import FrameTable
from overlay.layout import UnitSettings, load_layout, parse_layout
from overlay.renderer import LayoutPainter, Renderer
from tests.support.paths import ROOT

W, H = 400, 300
T0 = 1707650000.0  # 2024-02-11 11:13:20 UTC


def synthetic_table(n: int = 90, *, speed=None) -> FrameTable:
    """A lap of a small loop in the Alps, 30 fps, speed in m/s (+ kph), altitude in m."""
    t = np.arange(n) / 30
    ang = np.linspace(0, 2 * np.pi, 200)
    lat = 46.5 + 0.01 * np.sin(ang)
    lon = 7.0 + 0.015 * np.cos(ang)
    idx = np.linspace(0, 199, n)
    speed = 10 + 5 * np.sin(t) if speed is None else np.asarray(speed, dtype=float)
    alt = 1650 + 30 * np.sin(t / 2)
    cols = {
        "lat": np.interp(idx, np.arange(200), lat), "lon": np.interp(idx, np.arange(200), lon),
        "speed": speed, "speed|kph": speed * 3.6, "alt": alt, "alt|meter": alt, "alt|foot": alt / 0.3048,
        "timestamp": T0 + t,
    }
    return FrameTable(count=n, fps_num=30, fps_den=1, columns=cols, track=np.column_stack([lat, lon]))


def layout_of(body: str, size=(W, H)):
    return parse_layout(f'<layout width="{size[0]}" height="{size[1]}">{body}</layout>', "test.xml")


def render(body_or_layout, frame: int = 0, *, table=None, size=(W, H), resolve=False) -> np.ndarray:
    """The full video-sized RGBA frame as a numpy array."""
    layout = layout_of(body_or_layout, size) if isinstance(body_or_layout, str) else body_or_layout
    if resolve:
        layout = layout.resolve_units(UnitSettings())
    r = Renderer(layout, table if table is not None else synthetic_table(), size)
    x0, y0, x1, y1 = r.bounds()
    im = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    r.draw(frame, im, (x0, y0))
    full = Image.new("RGBA", size, (0, 0, 0, 0))
    full.paste(im, (x0, y0))
    return np.asarray(full)


def drawn_box(arr: np.ndarray):
    ys, xs = np.nonzero(arr[..., 3])
    if not len(xs):
        return None
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def inside(box, outer) -> bool:
    return box[0] >= outer[0] and box[1] >= outer[1] and box[2] <= outer[2] and box[3] <= outer[3]


# --- every component type draws where it should ---------------------------------------------------

@pytest.mark.parametrize("element, expect", [
    # text boxes start 2 px before x, y: the default 2 px outline
    ('<component type="text" x="100" y="50" size="20">Hello</component>', (98, 48, 170, 80)),
    ('<component type="metric" metric="speed" units="speed" x="100" y="50" size="20"/>', (98, 48, 190, 80)),
    ('<component type="metric_unit" metric="speed" units="speed" x="100" y="50" size="20">{:~P}</component>',
     (98, 48, 150, 80)),
    ('<component type="datetime" format="%H:%M:%S" x="100" y="50" size="20"/>', (98, 48, 210, 80)),
    ('<component type="circuit-map" x="100" y="50" size="120"/>', (100, 50, 220, 170)),
])
def test_component_draws_inside_its_area_and_nowhere_else(element, expect):
    arr = render(element, resolve=True)
    box = drawn_box(arr)
    assert box is not None, "nothing drawn"
    assert inside(box, expect), f"drew at {box}, expected within {expect}"
    assert box[0] <= expect[0] + 12 and box[1] <= expect[1] + 12, "drawing not anchored at x, y"


def test_bounds_cover_every_frame_and_are_even():
    layout = load_layout("default")
    table = synthetic_table()
    r = Renderer(layout, table, (1280, 720))
    b = r.bounds()
    assert all(v % 2 == 0 for v in b) and 0 <= b[0] < b[2] <= 1280 and 0 <= b[1] < b[3] <= 720
    im = Image.new("RGBA", (1280, 720))
    for frame in range(0, table.count, 7):
        im.paste((0, 0, 0, 0), (0, 0, 1280, 720))
        r.draw(frame, im, (0, 0))
        assert inside(drawn_box(np.asarray(im)), b)


def test_metric_bounds_cover_the_widest_value():
    speed = np.array([0.5, 12.0, 99.9, np.nan, 101.0])
    table = synthetic_table(5, speed=speed)
    r = Renderer(layout_of('<component type="metric" metric="speed" x="200" y="100" size="30" align="rs" dp="1"/>'),
                 table, (W, H))
    b = r.bounds()
    for frame in range(5):
        im = Image.new("RGBA", (W, H))
        r.draw(frame, im)
        assert inside(drawn_box(np.asarray(im)), b)


# --- what text shows: compare against the same string drawn by a text widget -----------------------

def same_as_text(element: str, expected: str, *, table=None, frame=0, resolve=False):
    style = 'x="60" y="80" size="28" align="la"'
    shown = render(element.format(style=style), frame, table=table, resolve=resolve)
    wanted = render(f'<component type="text" {style}>{expected}</component>')
    assert drawn_box(shown) is not None
    np.testing.assert_array_equal(shown, wanted)


@pytest.mark.parametrize("value, attrs, expected", [
    (12.345, 'dp="1"', "12.3"),
    (12.345, "", "12.35"),
    (7.8, 'dp="0"', "8"),
    (-0.2, 'dp="0"', "0"),
    (3.14159, 'format=".3f"', "3.142"),
    (5 + 5 / 60, 'format="pace"', "5:05"),  # minutes (per km): m:ss
    (1.99783, 'format="pace"', "2:00"),  # 1:59.87 rounds up
    (float("nan"), 'dp="1"', "-"),
])
def test_metric_shows_the_right_string(value, attrs, expected):
    table = synthetic_table(3, speed=[value] * 3)
    same_as_text('<component type="metric" metric="speed" {style} ' + attrs + '/>', expected, table=table)


def test_metric_shows_converted_units_and_dash_past_the_end():
    table = synthetic_table(3, speed=[10.0] * 3)
    same_as_text('<component type="metric" metric="speed" units="kph" dp="0" {style}/>', "36", table=table)
    same_as_text('<component type="metric" metric="speed" units="speed" dp="0" {style}/>', "-", table=table, frame=99)
    same_as_text('<component type="metric" metric="hr" {style}/>', "-", table=table)  # no such column


def test_metric_unit_label_and_datetime():
    same_as_text('<component type="metric_unit" metric="speed" units="speed" {style}>{{:~P}}</component>',
                 "kph", resolve=True)
    same_as_text('<component type="metric_unit" metric="speed" units="mph" {style}>({{:~P}})</component>',
                 "(mph)", resolve=True)
    same_as_text('<component type="metric_unit" metric="alt" units="feet" {style}/>', "ft")  # pint-free fallback
    same_as_text('<component type="datetime" format="%H:%M:%S.%f" truncate="5" outline="0,0,0" {style}/>',
                 "11:13:20.0", frame=1)


def test_text_cache_rasterises_each_string_once():
    table = synthetic_table(60, speed=[1.0, 2.0, 3.0] * 20)
    r = Renderer(layout_of('<component type="metric" metric="speed" dp="0" x="10" y="10"/>'), table, (W, H))
    im = Image.new("RGBA", (W, H))
    for frame in range(60):
        r.draw(frame, im)
    (raster,) = r.ctx.fonts._rasters.values()
    assert raster._cache.misses == 3 and all(text in raster._cache for text in ("1", "2", "3"))


# --- frames, panels and layers -----------------------------------------------------------------------

def test_frame_clips_children_to_its_rounded_shape():
    body = ('<frame x="50" y="50" width="100" height="60" cr="20" bg="0,0,255,128">'
            '<component type="text" x="-30" y="-10" size="60">WWWWW</component></frame>')
    arr = render(body)
    assert inside(drawn_box(arr), (50, 50, 150, 110))
    assert arr[51, 51, 3] == 0, "the rounded corner is cut"
    assert arr[80, 100, 3] > 0


def test_frame_background_opacity_and_outline():
    arr = render('<frame x="20" y="20" width="100" height="50" cr="10" bg="0,0,255,255" opacity="0.5" '
                 'outline="255,0,0"/>')
    assert tuple(arr[45, 70]) == (0, 0, 255, 128)
    assert arr[20, 70, 0] > 200 and arr[20, 70, 2] < 60, "outline on the top edge"
    assert drawn_box(arr) == (20, 20, 120, 70)


def test_dynamic_text_in_a_frame_changes_static_parts_do_not():
    body = ('<frame x="10" y="10" width="200" height="100" cr="8" bg="20,20,20,150">'
            '<component type="text" x="10" y="10">label</component>'
            '<component type="metric" metric="speed" x="10" y="50" dp="1"/></frame>')
    table = synthetic_table(3, speed=[1.0, 2.0, 1.0])
    a, b, c = (render(body, f, table=table) for f in range(3))
    np.testing.assert_array_equal(a, c)
    assert (a != b).any(axis=-1)[55:80].any() and not (a != b).any(axis=-1)[:45].any()


def test_circuit_map_without_track_draws_nothing():
    table = FrameTable(count=3, fps_num=30, fps_den=1, columns={})
    r = Renderer(layout_of('<component type="circuit_map" x="10" y="10"/>'), table, (W, H))
    im = Image.new("RGBA", r.bounds()[2:])
    r.draw(0, im)
    assert drawn_box(np.asarray(im)) is None


def test_circuit_map_marker_follows_position():
    table = synthetic_table()
    body = '<component type="circuit_map" x="50" y="50" size="200" loc_fill="255,0,255" loc_outline="none"/>'
    red = [np.argwhere((render(body, f, table=table)[..., :3] == (255, 0, 255)).all(-1)).mean(0) for f in (0, 45)]
    assert np.hypot(*(red[0] - red[1])) > 50


# --- scaling ---------------------------------------------------------------------------------------------

def over_grey(arr: np.ndarray) -> np.ndarray:
    rgb, a = arr[..., :3].astype(float), arr[..., 3:].astype(float) / 255
    return rgb * a + 128 * (1 - a)


def test_default_layout_scales_the_same_to_720p_and_4k():
    layout = load_layout("default").resolve_units(UnitSettings())
    table = synthetic_table()
    small = render(layout, 30, table=table, size=(1280, 720))
    big = render(layout, 30, table=table, size=(3840, 2160))
    big = np.asarray(Image.fromarray(big).resize((1280, 720), Image.Resampling.LANCZOS))
    diff = np.abs(over_grey(small) - over_grey(big))
    assert diff.mean() < 1.5, diff.mean()  # 0.76 measured; a 3 px shift gives 2.2
    assert drawn_box(small) is not None


def test_default_layout_fits_the_848x480_test_video():
    layout = load_layout("default")
    r = Renderer(layout, synthetic_table(), (848, 480))
    x0, y0, x1, y1 = r.bounds()
    assert 0 <= x0 < x1 <= 848 and 0 <= y0 < y1 <= 480
    arr = render(layout, 10, size=(848, 480))
    assert drawn_box(arr)[2] > 700 and drawn_box(arr)[3] > 440, "panels reach the corners"


def test_default_layout_renders(tmp_path):
    layout = load_layout("default").resolve_units(UnitSettings())
    arr = render(layout, 45, size=(1920, 1080))
    box = drawn_box(arr)
    assert box is not None
    centre = arr[300:700, 600:1300, 3]
    assert not centre.any(), "the centre of the picture stays free"
    Image.fromarray(arr).save(tmp_path / "default.png")


def test_minimal_layout_renders():
    arr = render(load_layout("minimal").resolve_units(UnitSettings()), 5, size=(1920, 1080))
    assert drawn_box(arr) is not None


# --- the pipeline's contract ----------------------------------------------------------------------------

def test_draw_writes_into_a_frombuffer_image():
    """Workers hand draw() an image over shared memory; drawing must land in that buffer."""
    r = Renderer(load_layout("default"), synthetic_table(), (848, 480))
    x0, y0, x1, y1 = r.bounds()
    buf = bytearray((x1 - x0) * (y1 - y0) * 4)
    im = Image.frombuffer("RGBA", (x1 - x0, y1 - y0), buf, "raw", "RGBA", 0, 1)
    im.readonly = 0
    r.draw(3, im, (x0, y0))
    arr = np.frombuffer(buf, np.uint8)
    assert arr.any(), "nothing reached the buffer: draw replaced or copied the image"
    np.testing.assert_array_equal(arr.reshape(y1 - y0, x1 - x0, 4), np.asarray(im))


def test_layout_and_painter_pickle():
    layout = load_layout("default").resolve_units(UnitSettings())
    painter = LayoutPainter(layout, synthetic_table(), (848, 480))
    clone = pickle.loads(pickle.dumps(painter))
    paint = clone()
    r = Renderer(layout, synthetic_table(), (848, 480))
    x0, y0, x1, y1 = r.bounds()
    im = Image.new("RGBA", (x1 - x0, y1 - y0))
    paint(5, im)
    assert np.asarray(im)[..., 3].any()


def test_worker_side_imports_no_pint():
    code = ("import sys, overlay.renderer, overlay.widgets, overlay.layout; "
            "assert 'pint' not in sys.modules, 'pint imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(ROOT))


@pytest.mark.parametrize("size", [(7, 9), (33, 40), (120, 244), (781, 244), (360, 130)])
@pytest.mark.parametrize("radius", [0, 1, 8, 40])
@pytest.mark.parametrize("outline_width", [0, 1, 5, 12])
def test_rounded_rect_matches_a_full_size_supersample(size, radius, outline_width):
    """The nine-slice rounded rectangle (panels, bars) against drawing the whole thing at 4x:
    the same coverage everywhere, colour within 1 of 255 (Pillow's arcs round differently far
    from the origin)."""
    from PIL import ImageDraw

    from overlay.widgets.imaging import rounded_rect, supersampled

    w, h = size
    r = min(radius, min(size) // 2)
    fill, outline = (10, 20, 30, 128), ((250, 120, 0, 200) if outline_width else None)

    def paint(big, k):
        ImageDraw.Draw(big).rounded_rectangle((0, 0, w * k - 1, h * k - 1), r * k, fill=fill, outline=outline,
                                              width=outline_width * k)
    want = np.asarray(supersampled(size, paint)).astype(int)
    got = np.asarray(rounded_rect(size, r, fill, outline, outline_width)).astype(int)
    assert got.shape == want.shape
    assert np.array_equal(got[..., 3], want[..., 3])
    assert np.abs(got - want).max() <= 1
