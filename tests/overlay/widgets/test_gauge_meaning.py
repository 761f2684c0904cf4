"""Each gauge attribute draws what gopro-dashboard-overlay's documentation (and, for the speed
dials' zones, its drawing) says it means: colours sampled on the rim at the angles the scale
gives, needles measured, numbers located. Hand-written layouts, real rendering.

One gauge per picture: a 200 x 200 video, the gauge filling it, so the dial's centre is
(100, 100) and its radius R = 100 px. Angles are degrees clockwise from 3 o'clock.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from overdash import InputError
from overlay.layout import parse_layout
from overlay.widgets.dial import labels as dial_labels
from overlay.widgets.dial.face import Labels
from overlay.widgets.dial.scale import label
from overlay.widgets.textcache import FontBook
from tests.overlay.widgets.test_gauges import frames, knots, kph, same_angle, tip_angle
from tests.overlay.widgets.test_widgets import drawn_box, inside, layout_of

SIZE = (200, 200)
C, R = 100.0, 100.0
AT = 'x="0" y="0" size="200"'


def shot(body: str, table) -> np.ndarray:
    return frames(body, table, size=SIZE)[0]


def at(arr: np.ndarray, deg: float, r: float) -> np.ndarray:
    """The RGBA pixel at angle deg, radius r (px) from the centre."""
    t = math.radians(deg)
    return arr[int(math.floor(C + r * math.sin(t))), int(math.floor(C + r * math.cos(t)))].astype(int)


def is_green(p) -> bool:
    return p[3] > 200 and p[1] > p[0] + 60 and p[1] > p[2] + 60


def is_yellow(p) -> bool:
    return p[3] > 200 and p[0] > 180 and p[1] > 150 and p[2] < 110


def is_white(p) -> bool:
    return p[3] > 200 and min(p[:3]) > 200


def is_red(p) -> bool:
    return p[3] > 150 and p[0] > 180 and p[1] < 90 and p[2] < 90


def is_blue(p) -> bool:
    return p[3] > 150 and p[2] > 180 and p[0] < 90 and p[1] < 90


def msi_angle(v: float, top: float, rotate: float = 180) -> float:
    """Where gopro-dashboard-overlay's motor dial puts v: 300 degrees from 30 past `rotate`
    (clockwise from 12 o'clock), here measured from 3 o'clock."""
    return rotate + 30 + v / top * 300 - 90


# --- msi / msi2: zones, scale, rotate, outline ----------------------------------------------------------------

def test_msi_zones_run_from_green_to_yellow_and_yellow_to_end():
    """green=30 yellow=60 end=100: the scale is 0..120; green covers 30-60, yellow 60-100, nothing else.
    Sampled on the zone band between the ticks (ticks every 5)."""
    arr = shot(f'<component type="msi" {AT} green="30" yellow="60" end="100"/>', knots(float("nan")))
    r = 0.9 * R
    for v, want in ((27.5, None), (28.5, None), (31.5, "green"), (57.5, "green"), (62.5, "yellow"),
                    (97.5, "yellow"), (101.5, None), (112.5, None)):
        p = at(arr, msi_angle(v, 120), r)
        got = "green" if is_green(p) else "yellow" if is_yellow(p) else None
        assert got == want, f"value {v}: {got}, expected {want} ({p})"


def test_msi_default_zones_wrap_as_the_original_draws_them():
    """The documented `end="100"` with the defaults green=0, yellow=130: the yellow zone runs from
    130 clockwise round to 100 (over 0..100), the green one shows from 100 on, into the gap."""
    arr = shot(f'<component type="msi" {AT} end="100"/>', knots(float("nan")))
    r = 0.9 * R
    for v in (2.5, 47.5, 97.5, 135, 140):  # 135, 140: in the gap, on yellow's way round from 130
        assert is_yellow(at(arr, msi_angle(v, 120), r)), v
    for v in (102.5, 117.5, 125):  # 125: past the scale's end, in the gap
        assert is_green(at(arr, msi_angle(v, 120), r)), v


def test_msi2_zone_band_has_the_same_meaning():
    arr = shot(f'<component type="msi2" {AT} green="40" yellow="46" end="200"/>', knots(float("nan")))
    r = 0.925 * R  # the thin zone band on the rim; scale 0..220
    assert is_green(at(arr, msi_angle(43, 220), r))
    assert is_yellow(at(arr, msi_angle(120, 220), r)) and is_yellow(at(arr, msi_angle(198, 220), r))
    for v in (20, 37, 205):
        p = at(arr, msi_angle(v, 220), r)
        assert not is_green(p) and not is_yellow(p), v


@pytest.mark.parametrize("attrs, rotate, top", [
    ('end="80"', 180, 100),  # default rotate: the gap at the bottom, 0 at 7 o'clock
    ('end="80" rotate="180"', 180, 100),  # the same, said explicitly: absolute, not added
    ('end="80" rotate="90"', 90, 100),
    ('end="100" rotate="0"', 0, 120),
])
def test_msi_needle_points_where_the_scale_says(attrs, rotate, top):
    body = f'<component type="msi" {AT} {attrs}/>'
    values = (0, top / 4, top / 2, top)
    shots = frames(body, knots(*values, float("nan")), size=SIZE)
    for v, arr in zip(values, shots):
        got = tip_angle(arr, shots[-1], (C, C))
        assert same_angle(got, msi_angle(v, top, rotate)), (attrs, v, got)


def test_msi_numbers_every_20_at_their_values():
    """end=100: numbers 0, 20 ... 120, each centred on its value's angle."""
    placed = numbers_of(f'<component type="msi" {AT} end="100"/>')
    placed = [p for p in placed if p[1].isdigit()]  # not the unit caption
    assert [t for _, t, _, _ in placed] == [str(v) for v in range(0, 121, 20)]
    for _, text, x, y in placed:
        deg = math.degrees(math.atan2(y - C, x - C))
        assert same_angle(deg, msi_angle(float(text), 120), 2.5), (text, deg)


def test_msi_outline_is_the_width_of_the_numbers_edge():
    node = next(layout_of(f'<component type="msi" {AT} outline="4"/>').components())
    assert node.attrs["outline"] == 4
    dark = []
    for w in ("0", "2", "4"):
        arr = shot(f'<component type="msi" {AT} end="100" outline="{w}"/>', knots(float("nan")))
        ring = ring_mask(0.45 * R, 0.62 * R)  # where the numbers are
        px = arr[ring].astype(int)
        dark.append(int(((px[:, 3] > 200) & (px[:, :3].max(-1) < 8)).sum()))  # black, not the dial's grey
    assert dark[0] < dark[1] < dark[2], dark


def test_msi_outline_must_be_a_whole_number():
    with pytest.raises(InputError) as err:
        parse_layout('<layout>\n  <component type="msi" outline="255,0,0"/>\n</layout>', "dash.xml")
    msg = str(err.value)
    assert msg.startswith("dash.xml:2:") and "outline='255,0,0'" in msg and "whole number" in msg, msg


def ring_mask(r0: float, r1: float) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE[1], 0:SIZE[0]] + 0.5
    r = np.hypot(xx - C, yy - C)
    return (r >= r0) & (r <= r1)


def test_msi_needle_no_lights_from_zero_to_the_value():
    body = f'<component type="msi" {AT} needle="no" green="30" yellow="60" end="100"/>'
    arr = shot(body, knots(50))
    r = 0.85 * R  # the lit band inside the zone band; ticks every 5: sample between them
    for v in (2.5, 27.5, 47.5):
        assert is_lit(at(arr, msi_angle(v, 120), r)), v
    for v in (52.5, 77.5):
        assert not is_lit(at(arr, msi_angle(v, 120), r)), v


def is_lit(p) -> bool:
    return p[3] > 200 and p[2] > 200 and p[0] < 80


# --- asi -----------------------------------------------------------------------------------------------------

def asi_angle(v: float, lo: float, top: float, rotate: float = 0) -> float:
    return rotate + 30 + (v - lo) / (top - lo) * 300 - 90


def test_asi_defaults_are_the_documented_ones():
    node = next(layout_of('<component type="asi"/>').components())
    want = {"vs0": 40, "vs": 46, "vfe": 103, "vno": 126, "vne": 180, "rotate": 0, "units": "knots",
            "metric": "speed", "textsize": 16, "size": 256}
    assert {k: node.attrs[k] for k in want} == want


def test_asi_scale_starts_at_vs0_at_one_oclock():
    """Defaults: scale 40..200 (vne 180 + 5 % of 140, rounded up to 20), 40 at 1 o'clock."""
    body = f'<component type="asi" {AT}/>'
    values = (40, 120, 200)
    shots = frames(body, knots(*values, float("nan")), size=SIZE)
    for v, arr in zip(values, shots):
        got = tip_angle(arr, shots[-1], (C, C))
        assert same_angle(got, asi_angle(v, 40, 200)), (v, got)
    assert same_angle(asi_angle(40, 40, 200), -60)


def test_asi_arcs_and_red_line_at_their_values():
    """vs0=0 vs=30 vfe=33 vno=90 vne=100 (the documented example): scale 0..120. White arc 0-33 on the
    rim; green 30-90 and yellow 90-100 inside it; a red line at 100. Ticks every 5: sampled between."""
    arr = shot(f'<component type="asi" {AT} vs0="0" vs="30" vfe="33" vno="90" vne="100"/>', knots(float("nan")))
    ang = lambda v: asi_angle(v, 0, 120)  # noqa: E731
    outer, inner = 0.89 * R, 0.81 * R
    assert is_white(at(arr, ang(2.5), outer)) and is_white(at(arr, ang(32.2), outer))
    assert not is_white(at(arr, ang(33.8), outer)) and not is_white(at(arr, ang(62.5), outer))
    assert not is_green(at(arr, ang(27.5), inner)) and is_green(at(arr, ang(32.5), inner))
    assert is_green(at(arr, ang(87.5), inner)) and is_yellow(at(arr, ang(92.5), inner))
    assert is_yellow(at(arr, ang(97.5), inner)) and not is_yellow(at(arr, ang(102.5), inner))
    assert is_red(at(arr, ang(100), 0.8 * R))


def test_asi_rotate_is_absolute():
    body = f'<component type="asi" {AT} vs0="0" vne="100" rotate="90"/>'
    shots = frames(body, knots(0, 120, float("nan")), size=SIZE)
    for v, arr in zip((0, 120), shots):
        assert same_angle(tip_angle(arr, shots[-1], (C, C)), asi_angle(v, 0, 120, 90)), v


# --- cairo gauges: range arc, annotations, marker ---------------------------------------------------------------

CLEAR = {  # no face behind the range arc, so that only the arc is coloured
    "cairo-gauge-arc-annotated": 'background-rgb="0,0,0,0"',
    "cairo-gauge-donut": 'background-inner-rgb="0,0,0,0" background-outer-rgb="0,0,0,0"',
}


@pytest.mark.parametrize("kind", ["cairo-gauge-arc-annotated", "cairo-gauge-donut"])
@pytest.mark.parametrize("start, length", [(143, 254), (143, 90), (143, -90), (0, -200)])
def test_fixed_range_arc_lies_on_the_rim_between_its_values(kind, start, length):
    body = (f'<component type="{kind}" {AT} metric="speed" units="kph" start="{start}" length="{length}" '
            'arc-value-lower="15" arc-value-upper="25" arc-inner-rgb="255,0,0" arc-outer-rgb="255,0,0" '
            f'needle-rgb="0,0,0,0" {CLEAR[kind]}/>')
    arr = shot(body, kph(float("nan")))
    ang = lambda v: start + v / 50 * length  # noqa: E731  default min 0, max 50
    red = np.argwhere((arr[..., 0] > 200) & (arr[..., 1] < 60) & (arr[..., 3] > 200))
    assert len(red) > 100
    dy, dx = red[:, 0] + 0.5 - C, red[:, 1] + 0.5 - C
    r = np.hypot(dx, dy)
    assert r.min() > 0.55 * R and r.max() < R + 1, (r.min(), r.max())
    a0, a1 = sorted((ang(15), ang(25)))
    off = (np.degrees(np.arctan2(dy, dx)) - a0) % 360  # 0..(a1 - a0) inside the arc
    slack = np.degrees(1.5 / r)  # anti-aliasing: a pixel and a half
    assert ((off <= a1 - a0 + slack) | (off >= 360 - slack)).all()
    for v in (16, 20, 24):
        assert is_red(at(arr, ang(v), 0.97 * R)), v
    for v in (13, 27):
        assert not is_red(at(arr, ang(v), 0.97 * R)), v


@pytest.mark.parametrize("kind, inner_r", [("cairo-gauge-arc-annotated", 0.63), ("cairo-gauge-donut", 0.66)])
def test_range_arc_shades_from_inner_to_outer_colour(kind, inner_r):
    body = (f'<component type="{kind}" {AT} metric="speed" units="kph" arc-value-upper="50" '
            f'arc-inner-rgb="0,0,255" arc-outer-rgb="255,0,0" needle-rgb="0,0,0,0" {CLEAR[kind]}/>')
    arr = shot(body, kph(float("nan")))
    for v in (5, 25, 45):
        outer, inner = at(arr, 143 + v / 50 * 254, 0.975 * R), at(arr, 143 + v / 50 * 254, inner_r * R)
        assert outer[0] > 200 and outer[2] < 60, (v, outer)  # the outer colour on the outer edge
        assert inner[2] > 150 and inner[0] < 100, (v, inner)


def numbers_of(body: str) -> list[tuple]:
    """The (raster, text, x, y) a gauge puts on its face, recorded as the face is made."""
    seen: list[tuple] = []
    add = Labels.add

    def record(self, raster, text, x, y):
        seen.append((raster, text, x, y))
        add(self, raster, text, x, y)
    Labels.add = record
    try:
        shot(body, kph(float("nan")))
    finally:
        Labels.add = add
    return seen


def test_annotations_alternate_minor_and_major_colours():
    """0..50 in 5 sectors: 0, 20, 40 in minor-ann-rgb (smaller), 10, 30, 50 in major-ann-rgb."""
    body = (f'<component type="cairo-gauge-round-annotated" {AT} metric="speed" units="kph" '
            'major-ann-rgb="255,0,0" minor-ann-rgb="0,0,255"/>')
    placed = numbers_of(body)
    colours = {text: raster.fill[:3] for raster, text, _, _ in placed}
    assert colours == {"0": (0, 0, 255), "10": (255, 0, 0), "20": (0, 0, 255), "30": (255, 0, 0),
                       "40": (0, 0, 255), "50": (255, 0, 0)}
    sizes = {text: raster.font.size for raster, text, _, _ in placed}
    assert sizes["10"] > sizes["0"]
    arr = shot(body.replace("/>", ' needle-rgb="0,0,0,0"/>'), kph(float("nan")))
    for _, text, x, y in placed:
        box = arr[round(y) - 8:round(y) + 8, round(x) - 12:round(x) + 12]
        reds, blues = sum(is_red(p) for p in box.reshape(-1, 4)), sum(is_blue(p) for p in box.reshape(-1, 4))
        assert (reds > blues) == (int(text) % 20 == 10), (text, reds, blues)


def test_transparent_annotation_colour_hides_those_numbers():
    body = f'<component type="cairo-gauge-round-annotated" {AT} metric="speed" units="kph" minor-ann-rgb="0,0,0,0"/>'
    assert [t for _, t, _, _ in numbers_of(body)] == ["10", "30", "50"]


@pytest.mark.parametrize("attrs", [
    'max="1" length="90" sectors="20"',
    'max="1" length="180" sectors="6"',
    'min="0.05" max="0.97" length="90" sectors="20"',
    'max="1" sectors="6" size="120"',
])
@pytest.mark.parametrize("kind", ["cairo-gauge-round-annotated", "cairo-gauge-arc-annotated", "cairo-gauge-donut"])
def test_numbers_never_overlap_and_say_their_value(kind, attrs):
    size = "" if "size=" in attrs else 'size="200" '
    body = f'<component type="{kind}" x="0" y="0" {size}metric="speed" units="kph" {attrs}/>'
    node = next(layout_of(body).components())
    lo, hi, start, length, n = (node.attrs[k] for k in ("min", "max", "start", "length", "sectors"))
    c = node.attrs["size"] / 2
    placed = numbers_of(body)
    assert len(placed) >= 3
    boxes = dial_labels.boxes(placed)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    steps = {label(lo + i * (hi - lo) / n): start + i * length / n for i in range(n + 1)}
    for _, text, x, y in placed:
        assert text in steps, text
        assert same_angle(math.degrees(math.atan2(y - c, x - c)), steps[text], 3), text


def test_fit_shrinks_before_it_leaves_numbers_out():
    fonts = FontBook()
    make = lambda style, k: fonts.raster(max(6, round(20 * k)), (255, 255, 255, 255), None, 0, "mm")  # noqa: E731
    roomy = [dial_labels.Mark(str(v), 30.0 * i, 0.0) for i, v in enumerate((10, 20, 30))]
    assert [p[0].font.size for p in dial_labels.fit(roomy, make)] == [20, 20, 20]
    tight = [dial_labels.Mark(str(v), 20.0 * i, 0.0) for i, v in enumerate((10, 20, 30))]
    shrunk = dial_labels.fit(tight, make)
    assert len(shrunk) == 3 and shrunk[0][0].font.size < 20
    crowded = [dial_labels.Mark(f"{v:.2f}", 8.0 * i, 0.0) for i, v in enumerate(np.linspace(0, 1, 9))]
    kept = dial_labels.fit(crowded, make)
    assert any([p[1] for p in kept] == [m.text for m in crowded[::k]] for k in range(2, 9)), [p[1] for p in kept]
    assert all(p[0].font.size == 12 for p in kept)  # at the smallest size tried
    assert all((p[2], p[3]) == (m.x, m.y) for p in kept for m in crowded if m.text == p[1])


def test_marker_background_fills_the_disc_and_ticks_lie_over_the_fill():
    body = (f'<component type="cairo-gauge-marker" {AT} metric="speed" units="kph" max="60" sectors="6" '
            'background-rgb="0,0,255" tick-rgb="255,255,255" gauge-rgb="255,0,0" dot-outer-rgb="0,0,0,0" '
            'dot-inner-rgb="0,0,0,0"/>')
    arr = shot(body, kph(60))  # full: filled from 0 to 270 degrees
    assert is_blue(at(arr, 0, 0)) and is_blue(at(arr, 315, 0.5 * R)) and is_blue(at(arr, 315, 0.85 * R))
    for k in range(7):  # a tick at every sector boundary, visible over the fill
        assert is_white(at(arr, k * 45, 0.8 * R)), k
    for k in range(6):
        assert is_red(at(arr, k * 45 + 22.5, 0.8 * R)), k
    half = shot(body, kph(30))
    assert is_red(at(half, 112.5, 0.8 * R)) and not is_red(at(half, 157.5, 0.8 * R))


def test_marker_colours_not_given_follow_the_tick_and_gauge_colours():
    body = f'<component type="cairo-gauge-marker" {AT} metric="speed" units="kph" tick-rgb="255,0,0"/>'
    p = at(shot(body, kph(float("nan"))), 0, 0)  # the centre of the disc: tick colour at 20 %
    assert p[0] > 200 and p[1] < 30 and 40 <= p[3] <= 62, p


# --- the documented forms load and draw -------------------------------------------------------------------

DOCUMENTED = [
    '<component type="msi" end="100"/>', '<component type="msi" green="30" yellow="60" end="100"/>',
    '<component type="msi" units="mph" end="100"/>', '<component type="msi" metric="alt" units="feet"/>',
    '<component type="msi" size="128"/>', '<component type="msi" rotate="45"/>',
    '<component type="msi" needle="no" rotate="45"/>', '<component type="msi2"/>',
    '<component type="msi" textsize="24"/>', '<component type="msi" outline="3"/>',
    '<component type="msi2" outline="0" rotate="90"/>',
    '<component type="asi" vs0="10"/>', '<component type="asi" vs0="0" vs="30" vfe="33" vno="90" vne="100"/>',
    '<component type="asi" units="mph" vs0="10"/>', '<component type="asi" metric="alt" units="feet"/>',
    '<component type="asi" size="128"/>', '<component type="asi" textsize="24" rotate="30"/>',
    '<component type="cairo-gauge-marker" metric="speed" units="mph" max="3" start="90" length="180" '
    'sectors="3" tick-rgb="255,0,0" background-rgb="255,0,0,100" gauge-rgb="255,0,0" dot-outer-rgb="255,0,0" '
    'dot-inner-rgb="255,0,0,128" cap="round"/>',
    '<component type="cairo-gauge-round-annotated" metric="speed" units="mph" length="90" sectors="20" '
    'background-rgb="255,0,0" major-ann-rgb="255,0,0" minor-ann-rgb="255,0,0,0" needle-rgb="255,0,255,40" '
    'major-tick-rgb="255,0,0" minor-tick-rgb="255,0,0,0"/>',
    '<component type="cairo-gauge-arc-annotated" metric="speed" units="mph" max="30" arc-value-upper="12"/>',
    '<component type="cairo-gauge-arc-annotated" metric="speed" units="mph" start="270" length="180" sectors="6" '
    'arc-value-upper="25" arc-inner-rgb="255,0,255,50" arc-outer-rgb="255,0,0,250"/>',
    '<component type="cairo-gauge-donut" metric="speed" units="mph" length="-180" sectors="6" max="60" '
    'arc-value-upper="60" arc-value-lower="50" arc-inner-rgb="255,0,255,50" arc-outer-rgb="255,0,0,250" '
    'background-inner-rgb="255,0,0" background-outer-rgb="0,255,0"/>',
]


@pytest.mark.parametrize("element", DOCUMENTED)
def test_documented_forms_load_and_draw_inside_their_square(element):
    size = float(element.split('size="')[1].split('"')[0]) if ' size="' in element else 256
    body = element.replace("<component ", '<component x="10" y="10" ')
    arr = frames(body, knots(12), size=(300, 300))[0]
    box = drawn_box(arr)
    assert box is not None and inside(box, (10, 10, 10 + size, 10 + size)), box
