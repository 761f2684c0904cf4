"""gopro-dashboard-overlay's older vocabulary (overlay/layout/legacy.py) draws what it meant.

Each older bundled component is drawn from a hand-written layout and compared, pixel for
pixel, with the picture its meaning calls for, written with plain `text` (the value as
the string it must show) and `icon` components at absolute positions. So a wrong metric,
unit, number of decimals, offset, alignment or size fails here, not only a crash.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from overdash import InputError
from overlay.frametable import FrameTable
from overlay.layout import Group, parse_layout
from overlay.layout.legacy import OLDER
from overlay.layout.vocabulary import render as render_page
from overlay.renderer import Renderer

W, H = 640, 360
T0 = 1707650000.0  # 2024-02-11 11:13:20 UTC


def table(n: int = 3, **values: float) -> FrameTable:
    cols = {name.replace("__", "|"): np.full(n, v, dtype=float) for name, v in values.items()}
    cols["timestamp"] = T0 + np.arange(n) / 30
    return FrameTable(count=n, fps_num=30, fps_den=1, columns=cols, track=np.zeros((0, 2)))


def layout_of(body: str):
    return parse_layout(f'<layout width="{W}" height="{H}">{body}</layout>', "legacy.xml")


def render(body: str, t: FrameTable, frame: int = 0) -> np.ndarray:
    im = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    Renderer(layout_of(body), t, (W, H)).draw(frame, im)
    return np.asarray(im).astype(int)


def assert_same_picture(older: str, meant: str, t: FrameTable) -> None:
    a, b = render(older, t), render(meant, t)
    assert a[..., 3].any(), "the older component drew nothing"
    diff = np.abs(a - b).max(axis=-1)
    assert (diff > 8).sum() <= 4, f"{(diff > 8).sum()} pixels differ"


def test_big_mph_draws_the_speed_in_whole_mph_under_its_title_at_the_given_sizes():
    t = table(speed=10.0, speed__mph=10.0 / 0.44704)  # 22.37 mph
    assert_same_picture(
        '<component type="big_mph" x="40" y="30" size_title="20" size_metric="120"/>',
        '<component type="text" x="40" y="30" size="20">MPH</component>'
        '<component type="text" x="40" y="30" size="120">22</component>', t)


def test_big_mph_defaults_are_16_and_160():
    t = table(speed__mph=7.6)
    assert_same_picture('<component type="big_mph" x="10" y="10"/>',
                        '<component type="text" x="10" y="10">MPH</component>'
                        '<component type="text" x="10" y="10" size="160">8</component>', t)


# left panels: icon at x, texts 70 px to its right; right panels: icon ends at x, texts end 70 px left
@pytest.mark.parametrize("older, column, value, title, icon, shown, left", [
    ("gradient", "gradient", 5.34, "SLOPE(%)", "slope-triangle.png", "5.3", True),
    ("altitude", "alt", 1650.27, "ALT(m)", "mountain.png", "1650.3", True),
    ("temperature", "temp", 21.4, "TEMP(C)", "thermometer.png", "21", False),
    ("cadence", "cadence", 87.2, "RPM", "gauge.png", "87", False),
    ("heartbeat", "hr", 123.4, "BPM", "heartbeat.png", "123", False),
])
def test_icon_panels_draw_title_icon_and_value_where_they_were(older, column, value, title, icon, shown, left):
    x, y = (100, 200) if left else (600, 200)
    tx, ix, align = (x + 70, x, "left") if left else (x - 70, x - 64, "right")
    meant = (f'<component type="text" x="{tx}" y="{y}" size="18" align="{align}">{title}</component>'
             f'<component type="icon" x="{ix}" y="{y}" file="{icon}" size="64"/>'
             f'<component type="text" x="{tx}" y="{y + 18}" size="36" align="{align}">{shown}</component>')
    assert_same_picture(f'<component type="{older}" x="{x}" y="{y}" size_title="18" size_metric="36"/>',
                        meant, table(**{column: value}))


def test_date_and_time_draws_the_date_and_the_time_to_tenths_right_aligned():
    # datetime has no outline by default (as in gopro-dashboard-overlay); text does
    assert_same_picture(
        '<component type="date_and_time" x="300" y="30" size_date="20" size_time="40"/>',
        '<component type="text" x="300" y="30" size="20" align="right" outline="none">2024/02/11</component>'
        '<component type="text" x="300" y="54" size="40" align="right" outline="none">11:13:20.0</component>', table())


def test_gps_info_draws_the_title_and_both_coordinates_to_six_places_ending_at_x():
    assert_same_picture(
        '<component type="gps_info" x="600" y="40" size="16"/>',
        '<component type="text" x="600" y="40" align="right">GPS INFO</component>'
        '<component type="text" x="324" y="64">Lat: </component>'
        '<component type="text" x="464" y="64" align="right">46.500000</component>'
        '<component type="text" x="474" y="64">Lon: </component>'
        '<component type="text" x="600" y="64" align="right">-7.250000</component>', table(lat=46.5, lon=-7.25))


def test_an_older_component_is_a_named_composite_of_todays_components():
    layout = layout_of('<component type="heartbeat" name="hr" x="5" y="6"/><component type="text">x</component>')
    group = layout.children[0]
    assert isinstance(group, Group) and (group.x, group.y, group.name) == (5.0, 6.0, "hr")
    assert [c.type for c in group.children] == ["text", "icon", "metric"]
    assert [c.type for c in layout.select(include=["hr"]).components()] == ["text", "icon", "metric"]


def test_gradient_bar_is_zone_bar_with_its_colours():
    colours = 'z0-color="52,122,235,200" z1-color="67,235,52" z2-color="240,232,19" z3-color="207,19,2"'
    bar = 'x="20" y="20" width="400" height="40" metric="hr" max="200" min="0" z1="100" z2="130" z3="160"'
    t = table(hr=180.0)
    assert_same_picture(f'<component type="gradient-bar" {bar} {colours}/>',
                        f'<component type="zone-bar" {bar} {colours.replace("-color", "-col")}/>', t)
    default = render(f'<component type="zone-bar" {bar}/>', t)
    assert np.abs(render(f'<component type="gradient-bar" {bar} {colours}/>', t) - default).max() > 50


@pytest.mark.parametrize("kind", ["moving_map", "journey_map"])
def test_map_roundedcorners_and_transparencylevel_are_corner_radius_and_opacity(kind):
    (rounded,) = layout_of(f'<component type="{kind}" roundedcorners="True" transparencylevel="0.9"/>').children
    assert (rounded["corner_radius"], rounded["opacity"]) == (35.0, 0.9)
    (square,) = layout_of(f'<component type="{kind}" roundedcorners="false"/>').children
    assert (square["corner_radius"], square["opacity"]) == (0.0, 0.7)


@pytest.mark.parametrize("body, words", [
    ('<component type="big_mph" size_metric="huge"/>', ["legacy.xml:1", "size_metric='huge'", "must be a number"]),
    ('<component type="gps_info" colour="1,2,3"/>', ["legacy.xml:1", "unknown attribute 'colour'", "size"]),
    ('<component type="cadence"><component type="text"/></component>', ["cannot contain elements"]),
    ('<component type="moving_map" transparencylevel="2"/>', ["transparencylevel='2'", "between 0 and 1"]),
    ('<component type="journey_map" roundedcorners="maybe"/>', ["roundedcorners='maybe'"]),
    ('<component type="moving_map" roundedcorners="true" corner_radius="9"/>', ["not both"]),
    ('<component type="gradient-bar" metric="hr" z9-color="1,2,3"/>', ["unknown attribute 'z9-color'"]),
])
def test_mistakes_in_older_components_name_the_line_and_the_attribute(body, words):
    with pytest.raises(InputError) as err:
        layout_of(body)
    for word in words:
        assert word in str(err.value)


def test_stray_text_in_a_container_is_ignored_as_the_reference_ignores_it():
    t = table()
    assert_same_picture('<translate x="30" y="40">cc\n<component type="text" size="24">Hi</component> dd</translate>',
                        '<component type="text" x="30" y="40" size="24">Hi</component>', t)


def test_every_older_name_is_on_the_generated_page():
    page = render_page()
    for name in OLDER:
        assert f"### `{name}`" in page
    for spelling in ("gradient-bar", "z0-color", "roundedcorners", "transparencylevel"):
        assert spelling in page
