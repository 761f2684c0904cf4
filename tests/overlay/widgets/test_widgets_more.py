"""icon, gps-lock-icon, bar, zone-bar, chart (gradient_chart), compass, compass-arrow: real rendering.

Where pixels land, that each reacts to its metric, missing values, every
vocabulary attribute (docs/layout-xml.md) accepted, bad values reported with file:line.
"""
from __future__ import annotations

import os
import pickle
import re

import numpy as np
import pytest
from PIL import Image

from overdash import InputError
from overlay.frametable import FrameTable
from overlay.layout import UnitSettings, parse_layout
from overlay.renderer import LayoutPainter, Renderer
from overlay.widgets import lookup
from tests.overlay.widgets.test_widgets import drawn_box, inside
from tests.support.paths import IMAGES, ROOT

W, H = 400, 300
ICONS = ROOT / "overlay" / "icons"


NAMES = {"gps_lock": "gps-lock", "accl_x": "accl.x", "speed__kph": "speed|kph", "alt__foot": "alt|foot"}


def table(n: int = 90, **cols) -> FrameTable:
    """30 fps; any column given as a list/array (short lists repeat to n)."""
    t = np.arange(n) / 30
    base = {
        "alt": 1650 + 30 * np.sin(t * 2), "speed": 10 + 5 * np.sin(t), "cog": (t * 40) % 360,
        "gps-lock": np.full(n, 3.0), "accl.x": 4 * np.sin(t * 3), "hr": 120 + 40 * np.sin(t),
        "timestamp": 1.7e9 + t,
    }
    base["speed|kph"] = base["speed"] * 3.6
    for k, v in cols.items():
        key = NAMES.get(k, k)
        v = np.asarray(v, dtype=float)
        base[key] = np.resize(v, n) if v.ndim else np.full(n, float(v))
    return FrameTable(count=n, fps_num=30, fps_den=1, columns=base)


def layout_of(body: str, size=(W, H)):
    return parse_layout(f'<layout width="{size[0]}" height="{size[1]}">{body}</layout>', "test.xml")


def renderer(body: str, tab=None, size=(W, H), video=None) -> Renderer:
    return Renderer(layout_of(body, size), tab if tab is not None else table(), video or size)


def render(body: str, frame: int = 0, tab=None, size=(W, H), video=None) -> np.ndarray:
    r = renderer(body, tab, size, video)
    vw, vh = video or size
    im = Image.new("RGBA", (vw, vh), (0, 0, 0, 0))
    r.draw(frame, im)
    return np.asarray(im)


def rgb(arr: np.ndarray, y: int, x: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in arr[y, x, :3])


def colour_mask(arr: np.ndarray, rgb, tol: int = 40, min_alpha: int = 128) -> np.ndarray:
    diff = np.abs(arr[..., :3].astype(int) - np.array(rgb)).max(axis=-1)
    return (diff <= tol) & (arr[..., 3] >= min_alpha)


# --- every type draws where it should, and only there ------------------------------------------------

PLACED = [
    ('<component type="icon" file="bicycle.png" x="100" y="50" size="64"/>', (100, 50, 164, 114)),
    ('<component type="gps-lock-icon" x="100" y="50" size="64"/>', (100, 50, 164, 114)),
    ('<component type="bar" metric="accl.x" x="100" y="50" width="200" height="24" min="-5" max="5"/>',
     (100, 50, 300, 74)),
    ('<component type="zone-bar" metric="hr" x="100" y="50" width="200" height="24" min="60" max="200"/>',
     (100, 50, 300, 74)),
    ('<component type="chart" x="100" y="50" samples="200" height="64"/>', (100, 50, 300, 114)),
    ('<component type="gradient_chart" x="100" y="50" samples="200" height="64"/>', (100, 50, 300, 114)),
    ('<component type="compass" x="100" y="50" size="120"/>', (100, 50, 220, 170)),
    ('<component type="compass-arrow" x="100" y="50" size="120"/>', (100, 50, 220, 170)),
]


@pytest.mark.parametrize("element, expect", PLACED)
def test_draws_inside_its_box_and_nowhere_else(element, expect):
    r = renderer(element)
    assert inside(r.bounds(), (expect[0] - 2, expect[1] - 2, expect[2] + 2, expect[3] + 2))
    for frame in (0, 40, 89):
        im = Image.new("RGBA", (W, H))
        r.draw(frame, im)
        box = drawn_box(np.asarray(im))
        assert box is not None, "nothing drawn"
        assert inside(box, expect), f"frame {frame}: drew at {box}, expected within {expect}"
    assert box[0] <= expect[0] + 24 and box[1] <= expect[1] + 24, "not anchored at x, y"


@pytest.mark.parametrize("element, expect", PLACED)
def test_scales_with_the_layout(element, expect):
    """Designed for 400x300, shown on 1200x900: three times the size, three times the offset."""
    arr = render(element, 30, video=(1200, 900))
    box = drawn_box(arr)
    big = tuple(3 * v for v in expect)
    assert inside(box, big), (box, big)
    small = drawn_box(render(element, 30))
    assert abs((box[2] - box[0]) - 3 * (small[2] - small[0])) <= 8


@pytest.mark.parametrize("name", ["gps_lock_icon", "gps-lock-icon", "zone_bar", "compass_arrow", "chart",
                                  "gradient-chart", "icon", "bar", "compass"])
def test_names_are_registered(name):
    assert lookup(name) is not None
    assert lookup(name).name == name.replace("-", "_")


# --- icon ---------------------------------------------------------------------------------------------

LISTED_ICONS = ("bicycle car gauge gauge-1 gps_lock_2d gps_lock_3d gps_lock_none gps_lock_unknown heartbeat "
                "mountain mountain-range power ruler slope slope-triangle speedometer-variant-tool-symbol "
                "thermometer thermometer-1 user").split()


def test_every_listed_icon_is_bundled_and_renders():
    for name in LISTED_ICONS:
        assert (ICONS / f"{name}.png").is_file(), name
        for file in (f"{name}.png", name):
            arr = render(f'<component type="icon" file="{file}" x="10" y="10" size="48"/>')
            assert drawn_box(arr) is not None and inside(drawn_box(arr), (10, 10, 58, 58)), name


def test_icons_script_reproduces_the_bundled_icons(tmp_path):
    from overlay.icons import make_icons
    make_icons.main(tmp_path)
    for name in LISTED_ICONS:
        made = np.asarray(Image.open(tmp_path / f"{name}.png"), dtype=int)
        kept = np.asarray(Image.open(ICONS / f"{name}.png"), dtype=int)
        assert np.abs(made - kept).max() <= 2, name


def test_icon_invert_and_size():
    white = render('<component type="icon" file="power" x="10" y="10" size="64"/>')
    black = render('<component type="icon" file="power" x="10" y="10" size="64" invert="false"/>')
    solid = white[..., 3] > 200
    assert solid.any() and (white[solid][:, :3] > 240).all()
    assert (black[black[..., 3] > 200][:, :3] < 15).all()
    big = drawn_box(render('<component type="icon" file="power" x="10" y="10" size="128"/>'))
    assert big[2] - big[0] > 1.8 * (drawn_box(white)[2] - drawn_box(white)[0])


def test_icon_from_a_user_file_at_its_own_size(tmp_path):
    path = tmp_path / "mine.png"
    Image.new("RGBA", (40, 20), (255, 0, 0, 255)).save(path)
    arr = render(f'<component type="icon" file="{path}" x="30" y="40" size="0" invert="false"/>')
    assert drawn_box(arr) == (30, 40, 70, 60)
    assert tuple(arr[50, 50]) == (255, 0, 0, 255)
    arr = render(f'<component type="icon" file="{path}" x="30" y="40" size="0"/>', video=(800, 600))
    assert drawn_box(arr) == (60, 80, 140, 120)
    assert tuple(arr[100, 100]) == (0, 255, 255, 255), "inverted by default"


# --- gps-lock-icon ------------------------------------------------------------------------------------

def test_gps_lock_icon_follows_the_lock():
    tab = table(5, gps_lock=[np.nan, 0, 2, 3, 1])
    body = '<component type="gps-lock-icon" x="10" y="10" size="64"/>'
    frames = [render(body, f, tab) for f in range(5)]
    for i in range(4):
        for j in range(i + 1, 4):
            assert (frames[i] != frames[j]).any(), (i, j)
    np.testing.assert_array_equal(frames[1], frames[4])  # 1 is not a fix either

    def mean_rgb(a):
        solid = a[..., 3] > 200
        return a[solid][:, :3].mean(axis=0)
    none, d2, d3 = mean_rgb(frames[1]), mean_rgb(frames[2]), mean_rgb(frames[3])
    assert none[0] > 200 and none[1] < 120, "no fix reads red"
    assert d3[1] > 180 and d3[0] < 150, "3D fix reads green"
    assert d2[0] > 200 and d2[2] < 120, "2D fix reads amber"


def test_gps_lock_icon_without_a_lock_column_shows_unknown():
    tab = table(3)
    cols = {k: v for k, v in tab.columns.items() if k != "gps-lock"}
    bare = FrameTable(count=3, fps_num=30, fps_den=1, columns=cols)
    body = '<component type="gps-lock-icon" x="10" y="10"/>'
    np.testing.assert_array_equal(render(body, 0, bare), render(body, 0, table(3, gps_lock=np.nan)))
    assert drawn_box(render(body, 99, bare)) is not None  # past the end: unknown, no crash


def test_gps_lock_icon_user_files(tmp_path):
    for i, name in enumerate(("n", "u", "2", "3")):
        Image.new("RGBA", (8, 8), (i * 60, 0, 0, 255)).save(tmp_path / f"{name}.png")
    body = (f'<component type="gps-lock-icon" x="0" y="0" size="16" lock_none="{tmp_path}/n.png" '
            f'lock_unknown="{tmp_path}/u.png" lock-2d="{tmp_path}/2.png" lock_3d="{tmp_path}/3.png"/>')
    tab = table(4, gps_lock=[0, np.nan, 2, 3])
    assert [int(render(body, f, tab)[8, 8, 0]) for f in range(4)] == [0, 60, 120, 180]


# --- bar and zone-bar ---------------------------------------------------------------------------------

BAR = ('<component type="bar" metric="accl.x" x="20" y="20" width="200" height="20" min="-10" max="10" '
       'bar="255,0,0" h-pos="255,0,0" h-neg="255,0,0" fill="none" outline="none" zero="none" cr="0"/>')


def bar_extent(arr, y=30):
    xs = np.nonzero(arr[y, :, 3] > 128)[0]
    return (int(xs.min()), int(xs.max()) + 1) if len(xs) else None


def test_bar_grows_with_the_value_and_clamps():
    tab = table(6, accl_x=[-10, -5, 0, 5, 10, 50])
    ext = [bar_extent(render(BAR, f, tab)) for f in range(6)]
    assert ext[0] == (20, 120) and ext[1] == (70, 120)
    assert ext[2] is None, "zero draws no bar"
    assert ext[3] == (120, 170) and ext[4] == (120, 220)
    assert ext[5] == ext[4], "values beyond max stop at the end"


def test_bar_missing_value_draws_only_the_track():
    body = '<component type="bar" metric="accl.x" x="20" y="20" width="200" height="20"/>'
    tab = table(3, accl_x=[np.nan, 5.0, np.nan])
    empty, full = render(body, 0, tab), render(body, 1, tab)
    assert drawn_box(empty) is not None, "track and zero marker still show"
    assert (empty != full).any()
    assert drawn_box(render(body, 0, table(3, accl_x=5.0))) is not None
    assert drawn_box(render('<component type="bar" metric="power" x="20" y="20"/>')) is not None  # no column


def test_bar_colours_highlight_the_ends():
    body = ('<component type="bar" metric="accl.x" x="0" y="0" width="200" height="20" min="-10" max="10" '
            'bar="255,255,255" h-pos="0,255,0" h-neg="0,0,255" fill="none" outline="none" cr="0"/>')
    tab = table(2, accl_x=[10, -10])
    pos, neg = render(body, 0, tab), render(body, 1, tab)
    assert rgb(pos, 10, 198) == pytest.approx((0, 255, 0), abs=8)
    assert rgb(neg, 10, 1) == pytest.approx((0, 0, 255), abs=8)
    assert pos[10, 100, 3] > 0 and (pos[10, 100, :3] > 200).all(), "zero marker in white"


def test_bar_caches_by_pixel_length():
    tab = table(60, accl_x=np.repeat([1.0, 1.001, 2.0], 20))
    r = renderer(BAR, tab)
    im = Image.new("RGBA", (W, H))
    for f in range(60):
        r.draw(f, im)
    (fill,) = [op for op in r.ops if not op.static]
    assert fill.cache.misses == 2


ZONE = ('<component type="zone-bar" metric="hr" x="0" y="0" width="400" height="20" min="0" max="400" '
        'z1="100" z2="200" z3="300" outline="none" cr="0" zone-divider="none" fill="none" '
        'z0-rgb="0,0,255" z1-rgb="0,255,0" z2-rgb="255,255,0" z3-rgb="255,0,0"/>')


def test_zone_bar_length_and_zone_colours():
    tab = table(3, hr=[50, 250, 400])
    low, mid, high = (render(ZONE, f, tab) for f in range(3))
    assert bar_extent(low, 10) == (0, 50)
    assert bar_extent(mid, 10) == (0, 250)
    assert bar_extent(high, 10) == (0, 400)
    # gopro-dashboard-overlay's stops: each zone's colour at its start, blending into the next;
    # zone 3's colour holds from z3 to max
    assert rgb(high, 10, 1) == pytest.approx((0, 0, 255), abs=10), "zone 0 colour at min"
    assert rgb(high, 10, 50) == pytest.approx((0, 128, 128), abs=10), "halfway from zone 0 to zone 1"
    assert rgb(high, 10, 100) == pytest.approx((0, 255, 0), abs=10), "zone 1 colour at z1"
    assert rgb(high, 10, 200) == pytest.approx((255, 255, 0), abs=10), "zone 2 colour at z2"
    assert rgb(high, 10, 350) == pytest.approx((255, 0, 0), abs=10), "zone 3 colour past z3"


def test_zone_bar_col_spelling_and_dividers():
    body = ZONE.replace('z3-rgb="255,0,0"', 'z3-rgb="255,0,0" z3-col="255,0,255"')
    arr = render(body, 0, table(1, hr=400))
    assert rgb(arr, 10, 350) == pytest.approx((255, 0, 255), abs=10)
    div = render(ZONE.replace('zone-divider="none"', 'zone-divider="255,255,255"'), 0, table(1, hr=np.nan))
    cols = np.nonzero(div[10, :, 3])[0]
    assert len(cols) and all(min(abs(c - z) for z in (100, 200, 300)) <= 2 for c in cols)
    assert all(any(abs(c - z) <= 1 for c in cols) for z in (100, 200, 300))


# --- chart --------------------------------------------------------------------------------------------

CHART = ('<component type="chart" metric="alt" x="10" y="10" samples="200" height="60" seconds="10" '
         'bg="none" fill="none" line="255,0,0" text="255,255,255" values="false"/>')


def test_chart_line_follows_the_metric():
    n = 300
    rising = table(n, alt=np.linspace(0, 100, n))
    falling = table(n, alt=np.linspace(100, 0, n))
    a, b = render(CHART, 150, rising), render(CHART, 150, falling)
    for arr, up in ((a, True), (b, False)):
        red = colour_mask(arr, (255, 0, 0))
        ys, xs = np.nonzero(red)
        left, right = ys[xs < 60].mean(), ys[xs > 150].mean()
        assert (left > right) == up, "the line rises left to right for a rising metric"


def test_chart_window_moves_and_is_cached():
    n = 600
    tab = table(n, alt=np.sin(np.arange(n) / 20))
    r = renderer(CHART, tab)
    im = Image.new("RGBA", (W, H))
    frames = []
    for f in range(0, 30):
        im.paste((0, 0, 0, 0), (0, 0, W, H))
        r.draw(f, im)
        frames.append(np.asarray(im).copy())
    (chart,) = [op for op in r.ops if not op.static]
    # 10 s over 200 samples: a new grid point every 0.05 s = 1.5 frames
    assert 15 <= chart.cache.misses <= 25
    assert any((frames[0] != f).any() for f in frames[1:])


def test_chart_missing_values():
    n = 120
    alt = np.linspace(0, 50, n)
    alt[40:80] = np.nan
    tab = table(n, alt=alt)
    arr = render(CHART, 60, tab)
    red = colour_mask(arr, (255, 0, 0))
    assert red.any(), "the parts with data still draw"
    # the window (10 s = 300 frames) shows frames -90..210: data at 0..39 and 80..119, a gap between
    xs = np.nonzero(red.any(axis=0))[0]
    gap = [x for x in range(xs.min(), xs.max()) if x not in set(xs.tolist())]
    assert len(gap) > 10, "missing values leave a gap in the line"
    all_nan = render(CHART, 10, table(n, alt=np.nan))
    assert not colour_mask(all_nan, (255, 0, 0)).any(), "no data: no line (the faint 'now' guide stays)"
    with_bg = render(CHART.replace('bg="none"', 'bg="0,0,0,128"').replace('values="false"', 'values="true"'),
                     10, table(n, alt=np.nan))
    assert drawn_box(with_bg) is not None
    assert drawn_box(render('<component type="chart" metric="hr" x="10" y="10"/>', 5, table(10, hr=np.nan)))


def test_chart_units_and_values_text():
    body = '<component type="chart" metric="speed" units="kph" x="10" y="10" samples="200" values="true"/>'
    layout = layout_of(body).resolve_units(UnitSettings())
    assert ("speed", "kph") in layout.unit_requests(UnitSettings())
    tab = table(90)
    r = Renderer(layout, tab, (W, H))
    im = Image.new("RGBA", (W, H))
    r.draw(45, im)
    assert drawn_box(np.asarray(im)) is not None
    plain = render(body.replace('values="true"', 'values="false"'), 45, tab)
    assert (np.asarray(im) != plain).any(), "min/max labels drawn"


# --- compass and compass-arrow ------------------------------------------------------------------------

def test_compass_rotates_with_course():
    body = ('<component type="compass" x="0" y="0" size="200" textsize="20" fg="0,0,255" '
            'bg="none" text="255,0,0"/>')
    tab = table(3, cog=[0, 45, 90])
    north, diag, east = (colour_mask(render(body, f, tab), (255, 0, 0), tol=60) for f in range(3))

    def letters_near(mask, bearing):
        r = 100 - 200 * 0.09 - 20 * 0.75 - 2
        x = 100 + r * np.sin(np.radians(bearing))
        y = 100 - r * np.cos(np.radians(bearing))
        return mask[int(y) - 8:int(y) + 9, int(x) - 8:int(x) + 9].sum()
    assert letters_near(north, 0) > 10 and letters_near(north, 45) == 0
    assert letters_near(diag, 0) == 0 and letters_near(diag, -45) > 10
    assert letters_near(east, 0) > 10 and letters_near(east, 45) == 0
    assert (north != east).any(), "the letter at the top changes"


def test_compass_without_course_is_faded_not_blank():
    body = '<component type="compass" x="0" y="0" size="200"/>'
    tab = table(2, cog=[np.nan, 0.0])
    faded, shown = render(body, 0, tab), render(body, 1, tab)
    assert drawn_box(faded) is not None
    assert faded[..., 3].sum() < 0.7 * shown[..., 3].sum()
    assert drawn_box(render(body, 500, tab)) is not None  # past the end


def test_compass_caches_rotations():
    tab = table(200, cog=np.linspace(0, 359, 200))
    r = renderer('<component type="compass" x="0" y="0" size="100"/>', tab)
    im = Image.new("RGBA", (W, H))
    for f in range(200):
        r.draw(f, im)
    (dial,) = [op for op in r.ops if not op.static]
    assert len(dial.rings) <= 60, "the ring is rotated by heading mod 30 only"


def test_compass_arrow_points_along_course():
    body = ('<component type="compass-arrow" x="0" y="0" size="200" arrow="255,0,0" '
            'arrow-outline="none" outline="0,0,255" text="0,255,0"/>')
    tab = table(5, cog=[0, 90, 180, 270, np.nan])
    centres = []  # the arrow's tip: its pixel farthest from the centre
    for f in range(4):
        ys, xs = np.nonzero(colour_mask(render(body, f, tab), (255, 0, 0), tol=120, min_alpha=200))
        far = np.argmax(np.hypot(xs - 100, ys - 100))
        centres.append((xs[far] - 100, ys[far] - 100))
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = centres
    assert y0 < -10 and abs(x0) < 5, "north: up"
    assert x1 > 10 and abs(y1) < 5, "east: right"
    assert y2 > 10 and abs(x2) < 5, "south: down"
    assert x3 < -10 and abs(y3) < 5, "west: left"
    none = render(body, 4, tab)
    assert not colour_mask(none, (255, 0, 0), tol=120, min_alpha=200).any(), "no course, no arrow"
    assert drawn_box(none) is not None, "the dial stays"


def test_compass_types_without_cog_column():
    bare = FrameTable(count=3, fps_num=30, fps_den=1, columns={"alt": np.zeros(3)})
    for t in ("compass", "compass-arrow"):
        arr = render(f'<component type="{t}" x="0" y="0" size="100"/>', 1, bare)
        assert drawn_box(arr) is not None


# --- the vocabulary: every listed attribute accepted; bad values named ----------------------------

EVERY_ATTRIBUTE = {
    "icon": 'x="1" y="2" file="bicycle.png" size="32" invert="false"',
    "gps-lock-icon": ('x="1" y="2" size="32" lock_none="gps_lock_none.png" lock_unknown="gps_lock_unknown.png" '
                      'lock_2d="gps_lock_2d.png" lock_3d="gps_lock_3d.png"'),
    "bar": ('x="1" y="2" width="100" height="20" metric="speed" units="kph" fill="0,0,0,100" zero="255,255,255" '
            'bar="255,0,0" outline="255,255,255" outline-width="2" h-neg="0,0,255" h-pos="0,255,0" max="50" '
            'min="-10" cr="4"'),
    "zone-bar": ('x="1" y="2" width="100" height="20" metric="hr" units="none" fill="0,0,0" zone-divider="1,2,3" '
                 'outline="9,9,9" outline-width="1" cr="3" max="200" min="50" z1="100" z2="140" z3="170" '
                 'z0-rgb="1,1,1" z1-rgb="2,2,2" z2-rgb="3,3,3" z3-rgb="4,4,4,200"'),
    "chart": ('x="1" y="2" metric="alt" units="metres" seconds="60" samples="128" values="true" textsize="12" '
              'filled="false" height="50" bg="0,0,0" fill="1,2,3" line="255,0,0" text="0,255,0"'),
    "gradient_chart": 'x="1" y="2" metric="alt" units="feet" seconds="30" samples="64" height="40"',
    "compass": 'x="1" y="2" size="100" textsize="12" fg="255,0,0" bg="0,0,0,128" text="0,255,0"',
    "compass-arrow": ('x="1" y="2" size="100" textsize="12" arrow="255,0,0" bg="0,0,0" text="1,1,1" '
                      'outline="2,2,2" arrow-outline="3,3,3"'),
}


@pytest.mark.parametrize("type_name", sorted(EVERY_ATTRIBUTE))
def test_every_listed_attribute_is_accepted(type_name):
    layout = layout_of(f'<component type="{type_name}" {EVERY_ATTRIBUTE[type_name]}/>').resolve_units(UnitSettings())
    r = Renderer(layout, table(30, speed__kph=20.0, alt__foot=5000.0), (W, H))
    im = Image.new("RGBA", (W, H))
    r.draw(10, im)
    assert drawn_box(np.asarray(im)) is not None
    # underscores and hyphens mean the same
    swapped = re.sub(r"[\w-]+(?==)", lambda m: m.group(0).replace("-", "_"), EVERY_ATTRIBUTE[type_name])
    layout_of(f'<component type="{type_name.replace("-", "_")}" {swapped}/>')


@pytest.mark.parametrize("element, words", [
    ('<component type="bar" metric="speed" max="fast"/>', ["max='fast'", "number"]),
    ('<component type="bar" metric="nope"/>', ["metric='nope'", "unknown metric"]),
    ('<component type="bar"/>', ["missing required attribute 'metric'"]),
    ('<component type="zone-bar" metric="hr" z1="x"/>', ["z1='x'"]),
    ('<component type="zone-bar" metric="hr" z0-rgb="1,2"/>', ["z0-rgb='1,2'", "colour"]),
    ('<component type="chart" samples="0"/>', ["samples='0'", "above 0"]),
    ('<component type="chart" samples="1.5"/>', ["samples='1.5'", "whole number"]),
    ('<component type="chart" filled="maybe"/>', ["filled='maybe'", "true or false"]),
    ('<component type="compass" fg="red"/>', ["fg='red'", "r,g,b"]),
    ('<component type="compass-arrow" size="-1"/>', ["size='-1'"]),
    ('<component type="icon" file="no-such-icon.png"/>', ["file='no-such-icon.png'", "bicycle.png"]),
    ('<component type="icon"/>', ["missing required attribute 'file'"]),
    ('<component type="icon" file="car" invert="nah"/>', ["invert='nah'"]),
    ('<component type="gps-lock-icon" lock_3d="missing.png"/>', ["lock_3d='missing.png'"]),
    ('<component type="compass" heading="3"/>', ["unknown attribute 'heading'", "textsize"]),
])
def test_bad_values_name_file_and_line(element, words):
    with pytest.raises(InputError) as err:
        parse_layout(f'<layout>\n\n{element}\n</layout>', "bad.xml")
    msg = str(err.value)
    assert "bad.xml:3" in msg, msg
    for w in words:
        assert w in msg, msg


def test_icon_file_that_is_not_an_image(tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_text("not a png")
    with pytest.raises(InputError, match=r"bad.xml:2: .*not an image"):
        parse_layout(f'<layout>\n<component type="icon" file="{junk}"/></layout>', "bad.xml")


@pytest.mark.parametrize("type_name", ["bar", "zone-bar"])
def test_bar_min_not_below_max(type_name):
    layout = parse_layout(f'<layout>\n<component type="{type_name}" metric="hr" min="10" max="10"/></layout>', "b.xml")
    with pytest.raises(InputError, match=r"b.xml:2: .*max \(10\) must be above min \(10\)"):
        Renderer(layout, table(3), (640, 360))


# --- all together: a worker-side painter, and a small approved picture -----------------------------------

ALL = """
<frame x="4" y="4" width="312" height="192" cr="12" bg="12,16,24,170">
  <component type="icon" file="heartbeat" x="8" y="8" size="24"/>
  <component type="zone-bar" metric="hr" x="40" y="10" width="160" height="18" min="60" max="200"/>
  <component type="gps-lock-icon" x="210" y="8" size="24"/>
  <component type="bar" metric="accl.x" x="8" y="40" width="192" height="16" min="-5" max="5"/>
  <component type="chart" metric="alt" x="8" y="64" samples="192" height="56" seconds="2" textsize="10"/>
  <component type="compass" x="8" y="124" size="64" textsize="10"/>
  <component type="compass-arrow" x="80" y="124" size="64" textsize="10"/>
  <component type="compass-arrow" x="208" y="40" size="96" textsize="12" arrow="255,190,70"/>
</frame>
"""


def test_all_widgets_through_a_pickled_painter():
    layout = layout_of(ALL, (320, 200))
    painter = pickle.loads(pickle.dumps(LayoutPainter(layout, table(90), (640, 400))))
    paint = painter()
    r = Renderer(layout, table(90), (640, 400))
    x0, y0, x1, y1 = r.bounds()
    buf = bytearray((x1 - x0) * (y1 - y0) * 4)
    im = Image.frombuffer("RGBA", (x1 - x0, y1 - y0), buf, "raw", "RGBA", 0, 1)
    im.readonly = 0
    paint(45, im)
    assert np.frombuffer(buf, np.uint8).any(), "drawn into the shared buffer"


def test_all_widgets_match_the_approved_picture():
    arr = render(ALL, 45, size=(320, 200))
    approved = IMAGES / "widgets-more.png"
    if os.environ.get("OVERDASH_APPROVE") or not approved.exists():
        if not os.environ.get("OVERDASH_APPROVE"):
            pytest.fail(f"{approved} missing; run with OVERDASH_APPROVE=1 to create it")
        Image.fromarray(arr).save(approved, optimize=True)
    want = np.asarray(Image.open(approved).convert("RGBA")).astype(int)
    got = arr.astype(int)
    diff = np.abs(got - want)
    assert diff.mean() < 1.0, diff.mean()
    assert (diff.max(axis=-1) > 64).mean() < 0.005, "more than a few pixels differ a lot"
