"""Layout XML parsing: the tree, validation errors that name file/line/element/choices, units, selection."""
from __future__ import annotations

import pickle
import re

import numpy as np
import pytest

from overdash import InputError
from overlay.conversion import UnitConverter
from overlay.layout import (
    Component,
    Frame,
    Group,
    UnitSettings,
    bundled_layouts,
    load_layout,
    pace_aware,
    parse_layout,
    resolve_unit,
)
from overlay.widgets import known_types, lookup


def write(tmp_path, body: str, head: str = "<layout>") -> str:
    path = tmp_path / "my-layout.xml"
    path.write_text(f"{head}\n{body}\n</layout>\n")
    return str(path)


def error_of(tmp_path, body: str, head: str = "<layout>") -> str:
    path = write(tmp_path, body, head)
    with pytest.raises(InputError) as info:
        load_layout(path)
    return str(info.value)


# --- the tree -------------------------------------------------------------------------------------------

def test_parses_nesting_defaults_and_line_numbers(tmp_path):
    path = write(tmp_path, """<composite x="10" y="20" name="group">
  <translate x="5" y="5">
    <frame x="1" y="2" width="30" height="40" bg="0,0,0,128" cr="4" name="panel">
      <component type="text" x="3" size="20">Hi</component>
    </frame>
  </translate>
</composite>
<component type="metric" metric="speed" units="kph"/>""", '<layout width="1280" height="720">')
    layout = load_layout(path)
    assert (layout.width, layout.height) == (1280, 720)
    group, metric = layout.children
    assert isinstance(group, Group) and (group.x, group.y, group.name) == (10, 20, "group")
    frame = group.children[0].children[0]
    assert isinstance(frame, Frame) and frame.bg == (0, 0, 0, 128) and frame.cr == 4 and frame.opacity == 1
    text = frame.children[0]
    assert isinstance(text, Component) and text.type == "text" and text.text == "Hi"
    assert text["x"] == 3 and text["y"] == 0 and text["size"] == 20
    assert text["rgb"] == (255, 255, 255, 255) and text["outline"] == (0, 0, 0, 255) and text["outline_width"] == 2
    assert text["align"] == "la"
    assert text.where == f"{path}:5"
    assert metric.where == f"{path}:9" and metric["dp"] == 2
    assert pickle.loads(pickle.dumps(layout)) == layout


def test_a_layout_without_a_size_is_in_picture_pixels():
    layout = parse_layout(b"<layout/>")
    assert (layout.width, layout.height) == (None, None)
    assert layout.design_for((3840, 2160)) == (3840, 2160)  # drawn one to one, as the reference does
    assert layout.preferred_size == (1920, 1080)           # a preview without video
    sized = parse_layout(b'<layout width="1920" height="1080"/>')
    assert sized.design_for((3840, 2160)) == (1920, 1080) == sized.preferred_size


def test_dash_and_underscore_are_interchangeable():
    layout = parse_layout(b'<layout><component type="metric-unit" outline-width="3" metric="alt"/>'
                          b'<component type="circuit-map" outline_width="3"/></layout>')
    a, b = layout.children
    assert (a.type, a["outline_width"], b.type) == ("metric_unit", 3, "circuit_map")


def test_attribute_values_are_parsed():
    c = parse_layout(b'<layout><component type="metric" metric="cad" align="right" rgb="1, 2, 3" '
                     b'outline="none" format="pace" size="12.5"/></layout>').children[0]
    assert (c["metric"], c["align"], c["rgb"], c["outline"], c["format"], c["size"]) == \
        ("cadence", "ra", (1, 2, 3, 255), None, "pace", 12.5)


def test_bundled_layouts_load():
    assert {"default", "minimal"} <= set(bundled_layouts())
    for name in bundled_layouts():
        assert list(load_layout(name).components())
    assert load_layout("default.xml").source.endswith("default.xml")


def test_every_component_type_of_the_vocabulary_is_registered():
    vocabulary = {"text", "metric", "metric_unit", "datetime", "circuit_map", "icon", "moving_map", "journey_map",
                  "chart", "compass", "compass_arrow", "bar", "zone_bar", "asi", "msi", "msi2", "gps_lock_icon",
                  "cairo_circuit_map", "cairo_gauge_marker", "cairo_gauge_round_annotated",
                  "cairo_gauge_arc_annotated", "cairo_gauge_donut", "moving_journey_map", "gradient_chart"}
    assert {"text", "metric", "metric_unit", "datetime", "circuit_map"} <= set(known_types())
    assert vocabulary <= set(known_types())
    assert all(lookup(name).name == name for name in vocabulary)


# --- errors name file, line, element and the valid choices ----------------------------------------------

def test_unknown_component_type(tmp_path):
    msg = error_of(tmp_path, '\n<component type="speedo" x="1"/>')
    assert re.match(r".*my-layout\.xml:3: <component type=\"speedo\">: unknown component type 'speedo'; "
                    r"valid choices: " + re.escape(", ".join(known_types())) + "$", msg), msg
    assert "circuit_map, " in msg and ", text" in msg


def test_unknown_attribute(tmp_path):
    msg = error_of(tmp_path, '<component type="text" colour="1,2,3">x</component>')
    assert "my-layout.xml:2: <component type=\"text\">: unknown attribute 'colour'; valid choices: " in msg
    assert "valid choices: align, cache, direction, name, outline, outline_width, rgb, size, x, y" in msg


def test_unknown_frame_attribute(tmp_path):
    msg = error_of(tmp_path, '<frame width="1" height="1" radius="3"/>')
    assert "my-layout.xml:2: <frame>: unknown attribute 'radius'; valid choices: bg, cr, fade, fo, height" in msg


def test_bad_colour(tmp_path):
    msg = error_of(tmp_path, '<component type="text" rgb="255,0">x</component>')
    assert "my-layout.xml:2: <component type=\"text\">: rgb='255,0': colour must be 'r,g,b' or 'r,g,b,a'" in msg
    msg = error_of(tmp_path, '<frame width="1" height="1" bg="0,0,300"/>')
    assert "my-layout.xml:2: <frame>: bg='0,0,300': colour must be" in msg


def test_missing_required_attribute(tmp_path):
    msg = error_of(tmp_path, '<component type="metric" x="3"/>')
    assert "my-layout.xml:2: <component type=\"metric\">: missing required attribute 'metric'" in msg
    assert "valid choices: align, cache, dp, format, metric, name" in msg
    assert "missing required attribute 'format'" in error_of(tmp_path, '<component type="datetime"/>')
    assert "missing required attribute 'width'" in error_of(tmp_path, '<frame height="3"/>')
    assert "missing required attribute 'type'" in error_of(tmp_path, '<component x="1"/>')


@pytest.mark.parametrize("body, needle", [
    ('<component type="metric" metric="sped"/>', "metric='sped': unknown metric; valid choices: accel, accl.x"),
    ('<component type="text" align="middle">x</component>', "align='middle': must be one of left, right"),
    ('<component type="text" size="-3">x</component>', "size='-3': must be above 0"),
    ('<component type="metric" metric="hr" dp="1.5"/>', "dp='1.5': must be a whole number"),
    ('<component type="metric" metric="hr" format="%Q"/>', "format='%Q': must be a Python format spec"),
    ('<frame width="1" height="1" opacity="2"/>', "opacity='2': must be between 0 and 1"),
    ('<group/>', "<group>: unknown element; valid choices: component, composite, translate, frame"),
    ('<component type="metric" metric="hr">12</component>', "takes no text"),
    ('<component type="text"><text/></component>', "components cannot contain elements"),
])
def test_bad_values_name_the_line(tmp_path, body, needle):
    msg = error_of(tmp_path, body)
    assert "my-layout.xml:2: " in msg and needle in msg, msg


def test_broken_xml_and_wrong_root(tmp_path):
    assert "my-layout.xml:3: not well-formed XML" in error_of(tmp_path, '<component type="text">\n</componen>')
    path = tmp_path / "other.xml"
    path.write_text("<dashboard/>")
    with pytest.raises(InputError, match=r"other\.xml:1: root element is <dashboard>, expected <layout>"):
        load_layout(path)
    assert "give both width and height" in error_of(tmp_path, "", '<layout width="100">')


def test_entities_are_refused(tmp_path):
    path = tmp_path / "evil.xml"
    path.write_text('<!DOCTYPE layout [<!ENTITY x "boom">]><layout/>')
    with pytest.raises(InputError, match="evil.xml"):
        load_layout(path)


def test_missing_layout_lists_bundled_ones():
    with pytest.raises(InputError, match="no such file or bundled layout; "
                                         "bundled layouts: cycling, default, minimal, motor, vertical"):
        load_layout("nope")


# --- --include / --exclude ------------------------------------------------------------------------------

SELECT = ("""<frame name="speed" width="10" height="10"><component type="metric" metric="speed"/></frame>
<composite name="info"><component type="text" name="label">x</component>"""
          """<component type="metric" metric="alt"/></composite>
<component type="circuit_map" name="map"/>""")


def types(layout):
    return sorted(c.type for c in layout.components())


def test_include_keeps_named_parts_with_ancestors(tmp_path):
    path = write(tmp_path, SELECT)
    assert types(load_layout(path, include=["speed", "map"])) == ["circuit_map", "metric"]
    only_label = load_layout(path, include=["label"])
    assert types(only_label) == ["text"] and only_label.children[0].name == "info"


def test_exclude_drops_named_parts(tmp_path):
    path = write(tmp_path, SELECT)
    assert types(load_layout(path, exclude=["info"])) == ["circuit_map", "metric"]
    assert types(load_layout(path, include=["info"], exclude=["label"])) == ["metric"]


def test_unknown_selection_name_lists_names(tmp_path):
    path = write(tmp_path, SELECT)
    with pytest.raises(InputError, match=r"--include 'spd': no element has name='spd'; "
                                         r"valid choices: info, label, map, speed"):
        load_layout(path, include=["spd"])


# --- units ------------------------------------------------------------------------------------------------

def test_unit_requests_follow_settings():
    layout = load_layout("default")
    assert layout.unit_requests(UnitSettings()) == {
        ("speed", "kph"), ("alt", "meter"), ("timestamp", None), ("lat", None), ("lon", None)}
    imperial = UnitSettings(speed="mph", altitude="feet")
    assert {r for r in layout.unit_requests(imperial) if r[1]} == {("speed", "mph"), ("alt", "foot")}


@pytest.mark.parametrize("units, expected", [
    (None, None), ("none", None), ("kph", "kph"), ("mph", "mph"), ("knots", "knot"), ("feet", "foot"),
    ("metres", "meter"), ("miles", "mile"), ("nautical_miles", "nautical_mile"), ("pace", "minute / mile"),
    ("pace_km", "minute / kilometer"), ("spm", "spm"),
    ("speed", "knot"), ("alt", "foot"), ("altitude", "foot"), ("distance", "mile"), ("temp", "degF"),
    ("furlong / fortnight", "furlong / fortnight"),
])
def test_resolve_unit(units, expected):
    settings = UnitSettings(speed="knots", altitude="feet", distance="miles", temperature="degF")
    assert resolve_unit(units, settings) == expected


def test_resolve_units_writes_labels():
    layout = parse_layout(b'<layout><component type="metric_unit" metric="speed" units="speed">{:~P}</component>'
                          b'<component type="metric_unit" metric="alt">[{:~C}]</component>'
                          b'<component type="metric_unit" metric="speed" units="pace"/>'
                          b'<component type="metric-unit" metric="speed" units="kph">in {:~c}</component>'
                          b'<component type="metric-unit" metric="accl.x">{:~P}</component></layout>')
    labels = [c.derived["label"] for c in layout.resolve_units(UnitSettings(speed="mph")).components()]
    assert labels == ["mph", "[m]", "min/km", "in KPH", "m/s²"]


def test_unknown_or_mismatched_unit_fails_at_its_line(tmp_path):
    layout = load_layout(write(tmp_path, '<component type="metric" metric="speed" units="furlongz"/>'))
    with pytest.raises(InputError, match=r"my-layout\.xml:2: <component type=\"metric\">: unknown unit"):
        layout.resolve_units(UnitSettings(), UnitConverter())
    layout = load_layout(write(tmp_path, '<component type="metric_unit" metric="alt" units="kph"/>'))
    with pytest.raises(InputError, match=r"my-layout\.xml:2: <component type=\"metric_unit\">: cannot convert"):
        layout.resolve_units(UnitSettings(), UnitConverter())


def test_pace_conversion():
    convert = pace_aware(UnitConverter().convert)
    out = convert(np.array([5.0, 0.0, np.nan]), "meter / second", "second / kilometer")
    assert out[0] == pytest.approx(200.0) and np.isnan(out[1:]).all()
    assert convert(np.array([10.0]), "meter / second", "kph")[0] == pytest.approx(36.0)
