"""Gauges (asi, msi, msi2, cairo-gauge-*, cairo-circuit-map): placement, needle geometry, clamping, NaN,
attributes and errors. Real rendering through the Renderer, synthetic FrameTables."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from overdash import InputError
from overlay.frametable import FrameTable
from overlay.layout import parse_layout
from overlay.renderer import Renderer
from overlay.widgets import lookup
from overlay.widgets.dial.scale import Dial, label, nice_step
from tests.overlay.widgets.test_widgets import drawn_box, inside, layout_of, synthetic_table

W, H = 400, 300
KNOT, MPH, KPH = 1.943844, 2.236936, 3.6


def table_of(speed_ms, n=None) -> FrameTable:
    """synthetic_table with speed also in knots and mph (the units the gauges ask for here)."""
    speed = np.asarray(speed_ms, dtype=float)
    t = synthetic_table(len(speed), speed=speed)
    cols = dict(t.columns)
    cols.update({"speed|knot": speed * KNOT, "speed|mph": speed * MPH, "speed|kph": speed * KPH})
    return FrameTable(count=t.count, fps_num=30, fps_den=1, columns=cols, track=t.track)


def knots(*v):
    return table_of(np.asarray(v, dtype=float) / KNOT)


def kph(*v):
    return table_of(np.asarray(v, dtype=float) / KPH)


BOX = (100, 40, 300, 240)  # every gauge below sits in this 200 x 200 square
AT = 'x="100" y="40" size="200"'

GAUGES = {
    "asi": f'<component type="asi" {AT} vs0="10" vs="20" vfe="60" vno="80" vne="100"/>',
    "msi": f'<component type="msi" {AT} green="30" yellow="40" end="50"/>',
    "msi-no-needle": f'<component type="msi" {AT} needle="no" green="30" yellow="40" end="50"/>',
    "msi2": f'<component type="msi2" {AT} green="30" yellow="40" end="50"/>',
    "marker": f'<component type="cairo-gauge-marker" {AT} metric="speed" units="kph" max="100"/>',
    "round": f'<component type="cairo-gauge-round-annotated" {AT} metric="speed" units="kph" max="100"/>',
    "arc": f'<component type="cairo-gauge-arc-annotated" {AT} metric="speed" units="kph" max="100" '
           'arc-value-lower="40" arc-value-upper="70"/>',
    "arc-metric": f'<component type="cairo-gauge-arc-annotated" {AT} metric="speed" units="kph" max="100" '
                  'arc-metric-upper="speed"/>',
    "donut": f'<component type="cairo-gauge-donut" {AT} metric="speed" units="kph" max="100"/>',
    "circuit": f'<component type="cairo-circuit-map" {AT}/>',
}


def frames(body: str, table: FrameTable, which=None, size=(W, H), design=None) -> list[np.ndarray]:
    """Full video frames for each frame index of `table` (or `which`), one Renderer; layout canvas `design`."""
    layout = layout_of(body, design or size).resolve_units()
    r = Renderer(layout, table, size)
    out = []
    for f in (range(table.count) if which is None else which):
        im = Image.new("RGBA", size, (0, 0, 0, 0))
        r.draw(f, im)
        out.append(np.asarray(im))
    return out


# --- registration --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["asi", "msi", "msi2", "cairo-circuit-map", "cairo-gauge-marker",
                                  "cairo-gauge-round-annotated", "cairo-gauge-arc-annotated", "cairo-gauge-donut"])
def test_gauge_types_are_registered(name):
    assert lookup(name) is not None and lookup(name.replace("-", "_")) is not None
    assert lookup(name).name == name.replace("-", "_")


# --- placement -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(GAUGES))
def test_gauge_draws_inside_its_square_on_every_frame(kind):
    table = kph(0, 35, 70, 99, 140, float("nan"))
    layout = layout_of(GAUGES[kind]).resolve_units()
    r = Renderer(layout, table, (W, H))
    assert inside(r.bounds(), (BOX[0] - 1, BOX[1] - 1, BOX[2] + 1, BOX[3] + 1)), r.bounds()
    for arr in frames(GAUGES[kind], table):
        box = drawn_box(arr)
        assert box is not None, "nothing drawn"
        assert inside(box, BOX), f"drew at {box}, expected within {BOX}"
        assert box[0] <= BOX[0] + 30 and box[1] <= BOX[1] + 30 and box[2] >= BOX[2] - 30, box


def test_gauges_scale_with_the_video():
    body = GAUGES["round"] + GAUGES["msi"].replace('x="100"', 'x="10"')
    table = kph(55)
    small = frames(body, table, size=(400, 300))[0]
    big = frames(body, table, size=(1600, 1200), design=(400, 300))[0]
    # the layout is designed at 400 x 300 and drawn 4x; shrunk back, the pictures agree
    shrunk = np.asarray(Image.fromarray(big).resize((400, 300), Image.Resampling.LANCZOS)).astype(float)
    a = small.astype(float)
    grey = lambda x: x[..., :3] * x[..., 3:] / 255 + 128 * (1 - x[..., 3:] / 255)  # noqa: E731
    assert np.abs(grey(a) - grey(shrunk)).mean() < 3


# --- needle geometry ---------------------------------------------------------------------------------------

def tip_angle(with_needle: np.ndarray, without: np.ndarray, centre) -> float:
    """Direction (degrees clockwise from 3 o'clock) of the changed pixels farthest from the pivot."""
    changed = np.argwhere(np.abs(with_needle.astype(int) - without.astype(int)).max(-1) > 40)
    assert len(changed), "no needle drawn"
    dy, dx = changed[:, 0] + 0.5 - centre[1], changed[:, 1] + 0.5 - centre[0]
    dist = np.hypot(dx, dy)
    far = dist > dist.max() - 3
    return math.degrees(math.atan2(dy[far].mean(), dx[far].mean()))


def same_angle(a: float, b: float, tol: float = 2.0) -> bool:
    return abs((a - b + 180) % 360 - 180) <= tol


CENTRE = (200, 140)


@pytest.mark.parametrize("kind, attrs, table, values, geometry", [
    # cairo gauges: start / length attributes, min..max
    ("cairo-gauge-round-annotated", "", kph, (0, 25, 50), (143, 254, 0, 50)),  # defaults: min 0, max 50
    ("cairo-gauge-round-annotated", 'start="270" length="180" min="20" max="60"', kph, (20, 40, 60),
     (270, 180, 20, 60)),
    ("cairo-gauge-arc-annotated", 'length="-200" start="0" arc-value-upper="30"', kph, (0, 25, 50),
     (0, -200, 0, 50)),
    ("cairo-gauge-donut", 'start="90" length="300"', kph, (0, 20, 50), (90, 300, 0, 50)),
    # msi: 0..(end x 1.05 rounded up to 20) over 300 degrees, the gap centred `rotate` (default 180)
    # degrees clockwise from 12 o'clock
    ("msi", 'end="80"', knots, (0, 50, 100), (120, 300, 0, 100)),
    ("msi", 'end="80" rotate="45"', knots, (0, 50, 100), (-15, 300, 0, 100)),
    # asi: vs0 at 1 o'clock (rotate 0), 300 degrees clockwise to the top of the scale (vne 100 -> 0..120)
    ("asi", 'vs0="0" vne="100"', knots, (0, 60, 120), (-60, 300, 0, 120)),
    ("asi", 'vs0="0" vne="100" rotate="90"', knots, (0, 60, 120), (30, 300, 0, 120)),
])
def test_needle_points_where_start_and_length_say(kind, attrs, table, values, geometry):
    start, length, lo, hi = geometry
    units = ' metric="speed" units="kph"' if kind.startswith("cairo") else ""
    body = f'<component type="{kind}" x="100" y="40" size="200"{units} {attrs}/>'
    shots = frames(body, table(*values, float("nan")))
    for v, shot in zip(values, shots):
        want = start + (v - lo) / (hi - lo) * length
        got = tip_angle(shot, shots[-1], CENTRE)
        assert same_angle(got, want), f"{kind} value {v}: needle at {got:.1f}, expected {want:.1f}"


def test_marker_dot_follows_the_value():
    body = (f'<component type="cairo-gauge-marker" {AT} metric="speed" units="kph" min="0" max="100" '
            'start="90" length="180" dot-inner-rgb="0,0,255" dot-outer-rgb="0,255,0" gauge-rgb="255,0,0"/>')
    for v, want in ((0, 90), (50, 180), (100, 270), (150, 270), (-20, 90)):
        arr = frames(body, kph(v))[0]
        blue = np.argwhere((arr[..., 2] > 200) & (arr[..., 0] < 60) & (arr[..., 1] < 60) & (arr[..., 3] > 200))
        assert len(blue), v
        cy, cx = blue.mean(0) + 0.5
        got = math.degrees(math.atan2(cy - CENTRE[1], cx - CENTRE[0]))
        assert same_angle(got, want, 3), (v, got)


def test_filled_arcs_grow_with_the_value():
    for kind in ("marker", "msi-no-needle", "msi2"):
        tab = kph(10, 40, 80) if kind == "marker" else knots(5, 20, 45)
        lit = []
        for arr in frames(GAUGES[kind], tab):
            rgb = arr[..., :3].astype(int)
            lit.append(int(((arr[..., 3] > 200) & (rgb.max(-1) - rgb.min(-1) > 120)).sum()))  # saturated pixels
        assert lit[0] < lit[1] < lit[2], (kind, lit)


# --- clamping, NaN --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["asi", "msi", "msi-no-needle", "msi2", "marker", "round", "arc", "donut"])
def test_values_outside_the_scale_clamp(kind):
    knotted = kind in ("asi",) or kind.startswith("msi")
    in_knots = (0, 120, -30, 500) if kind == "asi" else (0, 60, -10, 90)  # msi end=50: scale 0..60
    lo, hi, below, above = in_knots if knotted else (0, 100, -50, 400)
    tab = (knots if knotted else kph)(lo, below, hi, above)
    at_lo, under, at_hi, over = frames(GAUGES[kind], tab)
    if kind.startswith("msi"):  # the digital readout shows the true value; only it may differ
        readout = (slice(110, 215), slice(130, 270))
        for a, b in ((under, at_lo), (over, at_hi)):
            a, b = a.copy(), b.copy()
            a[readout] = b[readout] = 0
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(under, at_lo)
        np.testing.assert_array_equal(over, at_hi)
    assert (at_lo != at_hi).any()


@pytest.mark.parametrize("kind", list(GAUGES))
def test_nan_draws_no_needle_and_no_crash(kind):
    tab = kph(float("nan"), float("nan"))
    tab = FrameTable(count=2, fps_num=30, fps_den=1, track=tab.track,
                     columns={k: np.full(2, np.nan) for k in tab.columns})  # no speed, no position
    shots = frames(GAUGES[kind], tab, which=[0, 1, 5, -1])  # past the end too
    face_only = frames(GAUGES[kind], FrameTable(count=2, fps_num=30, fps_den=1, columns={}, track=tab.track))[0]
    for shot in shots:
        np.testing.assert_array_equal(shot, face_only)


def test_missing_column_still_draws_the_face():
    arr = frames(GAUGES["round"], FrameTable(count=2, fps_num=30, fps_den=1, columns={}))[0]
    assert drawn_box(arr) is not None


def test_readout_shows_the_value():
    a, b = frames(GAUGES["msi2"], knots(12, 13))
    centre = (slice(110, 170), slice(160, 240))
    assert (a[centre] != b[centre]).any()
    c, d = frames(GAUGES["msi2"], knots(12.2, 11.9))  # both read "12"
    np.testing.assert_array_equal(c[centre], d[centre])


def test_range_arc_from_a_metric_moves():
    body = (f'<component type="cairo-gauge-arc-annotated" {AT} metric="speed" units="kph" max="100" '
            'arc-metric-upper="speed" arc-outer-rgb="0,0,255" needle-rgb="0,0,0,0"/>')
    counts = []
    for arr in frames(body, kph(20, 60, 95)):
        counts.append(int(((arr[..., 2] > 200) & (arr[..., 0] < 80) & (arr[..., 3] > 200)).sum()))
    assert counts[0] < counts[1] < counts[2], counts


def test_fixed_range_arc_is_static():
    a, b = frames(GAUGES["arc"].replace('/>', ' needle-rgb="0,0,0,0"/>'), kph(10, 90))
    np.testing.assert_array_equal(a, b)


def test_circuit_map_marker_moves_and_rotate_turns_the_track():
    tab = table_of(np.full(90, 10.0))
    body = f'<component type="cairo-circuit-map" {AT} loc-fill="255,0,0" loc-outline="none" loc-size="0.06"/>'
    red = [np.argwhere((arr[..., 0] > 220) & (arr[..., 1] < 40) & (arr[..., 3] > 220)).mean(0)
           for arr in frames(body, tab, which=[0, 45])]
    assert np.hypot(*(red[0] - red[1])) > 50
    # a wide track (lon span > lat span) turned 90 degrees becomes tall
    flat = np.column_stack([np.full(50, 46.5) + np.linspace(0, 0.001, 50), np.linspace(7.0, 7.05, 50)])
    wide = FrameTable(count=1, fps_num=30, fps_den=1, columns={}, track=flat)
    for rotate, tall in (("0", False), ("90", True)):
        arr = frames(f'<component type="cairo-circuit-map" {AT} rotate="{rotate}"/>', wide)[0]
        x0, y0, x1, y1 = drawn_box(arr)
        assert ((y1 - y0) > (x1 - x0)) == tall, (rotate, (x0, y0, x1, y1))


@pytest.mark.parametrize("kind", ["circuit_map", "cairo-circuit-map"])
def test_circuit_map_leaves_the_gap_a_privacy_zone_makes(kind):
    """A semicircle with its middle hidden (NaN, as --privacy leaves it): the two ends are
    drawn, the chord that would join them across the hidden part is not."""
    angle = np.linspace(0, np.pi, 181)
    track = np.column_stack([46.5 + 0.01 * np.sin(angle), 7.0 + 0.014 * np.cos(angle)])
    hidden = track.copy()
    hidden[60:121] = np.nan  # 60°..120° of the arc
    pixels = []
    for t in (track, hidden):
        table = FrameTable(count=1, fps_num=30, fps_den=1, columns={}, track=t)
        arr = frames(f'<component type="{kind}" {AT} loc-size="0"/>', table)[0]
        pixels.append(arr[..., 3] > 128)
    full, gapped = pixels
    ys, xs = np.nonzero(full)
    assert gapped.sum() < 0.8 * full.sum(), "the hidden third of the arc is not drawn"
    # the chord between the ends of the hidden part runs through the middle of the arc's span
    x_mid = int(round(xs.mean()))
    column = gapped[:, x_mid - 2:x_mid + 3].any(axis=1)
    assert not column.any(), f"something drawn across the gap at x={x_mid}: rows {np.nonzero(column)[0][:5]}"
    assert full[:, x_mid - 2:x_mid + 3].any(), "the full arc passes there"


def test_circuit_map_line_width_is_relative_to_size():
    tab = table_of(np.full(3, 10.0))
    thin, thick = (frames(f'<component type="cairo-circuit-map" {AT} loc-size="0" line-width="{w}"/>', tab)[0]
                   for w in ("0.01", "0.05"))
    assert (thick[..., 3] > 128).sum() > 3 * (thin[..., 3] > 128).sum()


# --- attributes and errors ----------------------------------------------------------------------------------

SCALE = 'metric="speed" units="mph" min="0" max="60" start="120" length="300" sectors="6" '
ANN = ('background-rgb="0,0,0,100" major-ann-rgb="255,255,0" minor-ann-rgb="255,255,0,128" major-tick-rgb="255,0,0" '
       'minor-tick-rgb="255,0,0,128" needle-rgb="0,255,255" ')
ARC = ('arc-inner-rgb="255,0,255,50" arc-outer-rgb="255,0,0,250" arc-metric-upper="speed" arc-metric-lower="cspeed" '
       'arc-value-upper="40" arc-value-lower="20" ')
EVERY_ATTRIBUTE = {
    "asi": 'x="1" y="2" size="128" metric="speed" units="mph" textsize="12" vs0="5" vs="10" vfe="30" vno="50" '
           'vne="70" rotate="10"',
    "msi": 'x="1" y="2" size="128" metric="speed" units="kph" textsize="12" needle="no" green="10" yellow="20" '
           'end="30" rotate="45" outline="4"',
    "msi2": 'x="1" y="2" size="128" metric="alt" units="feet" textsize="12" green="10" yellow="20" end="30" '
            'rotate="90" outline="0"',
    "cairo-circuit-map": 'x="1" y="2" size="128" rotate="45" fill="255,255,0" outline="255,0,255" line-width="0.05" '
                         'loc-fill="255,255,0" loc-outline="255,0,255" loc-size="0.05"',
    "cairo-gauge-marker": SCALE + 'x="1" y="2" size="128" tick-rgb="255,0,0" background-rgb="255,0,0,100" '
                                  'gauge-rgb="0,255,0" dot-outer-rgb="255,0,0" dot-inner-rgb="255,0,0,128" '
                                  'cap="square"',
    "cairo-gauge-round-annotated": SCALE + ANN + 'x="1" y="2" size="128"',
    "cairo-gauge-arc-annotated": SCALE + ANN + ARC + 'x="1" y="2" size="128"',
    "cairo-gauge-donut": SCALE + ANN + ARC + 'x="1" y="2" size="128" background-inner-rgb="255,0,0" '
                                             'background-outer-rgb="0,255,0"',
}


@pytest.mark.parametrize("kind", list(EVERY_ATTRIBUTE))
@pytest.mark.parametrize("spelling", ["-", "_"])
def test_every_listed_attribute_is_accepted(kind, spelling):
    attrs = EVERY_ATTRIBUTE[kind].replace("-", spelling)
    body = f'<component type="{kind}" {attrs}/>'
    table = table_of(np.linspace(0, 20, 5))
    cols = dict(table.columns)
    cols["cspeed"] = cols["speed"] * 0.9
    cols["cspeed|mph"] = cols["cspeed"] * MPH
    cols["alt|foot"] = cols["alt"] / 0.3048
    table = FrameTable(count=5, fps_num=30, fps_den=1, columns=cols, track=table.track)
    given = {a.split("=")[0].replace("-", "_") for a in attrs.split()}
    node = next(layout_of(body).components())
    assert given <= set(node.attrs), given - set(node.attrs)
    assert drawn_box(frames(body, table, which=[3])[0]) is not None


@pytest.mark.parametrize("kind, defaults", [
    ("cairo-gauge-round-annotated", {"start": 143, "length": 254, "sectors": 5}),
    ("cairo-gauge-arc-annotated", {"start": 143, "length": 254, "sectors": 5}),
    ("cairo-gauge-donut", {"start": 143, "length": 254, "sectors": 5}),
    ("cairo-gauge-marker", {"start": 0, "length": 270, "sectors": 6}),
    ("asi", {"metric": "speed", "units": "knots"}),
    ("msi", {"metric": "speed", "units": "knots", "needle": True}),
])
def test_documented_defaults(kind, defaults):
    node = next(layout_of(f'<component type="{kind}"/>').components())
    for k, v in defaults.items():
        assert node.attrs[k] == v, k


@pytest.mark.parametrize("element, says", [
    ('<component type="asi" vne="fast"/>', "vne='fast'"),
    ('<component type="msi" needle="maybe"/>', "needle='maybe'"),
    ('<component type="cairo-gauge-marker" cap="pointy"/>', "cap='pointy'"),
    ('<component type="cairo-gauge-round-annotated" needle-rgb="300,0,0"/>', "needle-rgb='300,0,0'"),
    ('<component type="cairo-gauge-donut" sectors="0"/>', "sectors='0'"),
    ('<component type="cairo-gauge-arc-annotated" length="0"/>', "length='0'"),
    ('<component type="cairo-gauge-arc-annotated" arc-metric-upper="sped"/>', "arc-metric-upper='sped'"),
    ('<component type="cairo-circuit-map" line-width="-1"/>', "line-width='-1'"),
    ('<component type="msi2" needle="no"/>', "unknown attribute 'needle'"),
])
def test_bad_attribute_is_an_input_error_naming_file_and_line(element, says):
    with pytest.raises(InputError) as err:
        parse_layout(f'<layout>\n\n  {element}\n</layout>', "dash.xml")
    msg = str(err.value)
    assert msg.startswith("dash.xml:3:") and says in msg, msg


@pytest.mark.parametrize("element, says", [
    ('<component type="cairo-gauge-round-annotated" min="10" max="10"/>', "min=10 must be below max=10"),
    ('<component type="asi" vs0="90" vne="80"/>', "vs0=90 must be below vne=80"),
])
def test_inconsistent_attributes_are_an_input_error_naming_file_and_line(element, says):
    layout = parse_layout(f'<layout>\n  {element}\n</layout>', "dash.xml")
    with pytest.raises(InputError) as err:
        Renderer(layout, kph(1), (640, 360))
    msg = str(err.value)
    assert msg.startswith("dash.xml:2:") and says in msg, msg


# --- helpers ---------------------------------------------------------------------------------------------------

def test_dial_geometry_helpers():
    d = Dial(0, 0, 143, 254, 0, 100)
    assert d.angle(-5) == 143 and d.angle(50) == 270 and d.angle(500) == 397
    assert Dial(0, 0, 0, -90, 0, 10).span() == (-90, 0)
    assert [label(v) for v in (0, 2.5, -0.0, 10.0, 1 / 3)] == ["0", "2.5", "0", "10", "0.33"]
    assert nice_step(110, 8) == 20 and nice_step(50, 10) == 5
