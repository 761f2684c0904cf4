"""xmledit: each edit changes only what it must; the rest of the text stays byte for byte."""
import pytest

from overdash import InputError
from overlay.layout import Component, Frame, Group, parse_layout
from pipeline.commands.edit import xmledit

SOURCE = """<?xml version="1.0"?>
<!-- a user's layout: <component> in a comment is not an element -->
<layout width='1920' height="1080">
   <frame name="top" x='40'  y="40" width="300" height="120" bg="0,0,0,128">
        <component type="text" size='30'   x="10" y='20'>SPEED</component>
        <!-- the number -->
        <component y="90" type='metric' metric="speed" units="speed"/>
   </frame>
	<component type="datetime" format="%H:%M" x="600" y="50"/>
</layout>
"""


def _parse(text):
    return parse_layout(text, "test")


def test_document_numbers_elements_in_document_order_with_lines():
    doc = xmledit.Document(SOURCE)
    assert [(e.tag, e.line) for e in doc.elements] == [("frame", 4), ("component", 5), ("component", 7),
                                                       ("component", 9)]


def test_set_changes_one_value_keeping_quotes_and_order():
    out = xmledit.set_attrs(SOURCE, 1, {"size": "42", "x": "11"})
    assert out == SOURCE.replace("size='30'   x=\"10\"", "size='42'   x=\"11\"")
    assert _parse(out).children[0].children[0]["size"] == 42


def test_set_adds_at_the_end_of_the_tag_and_removes_with_its_space():
    out = xmledit.set_attrs(SOURCE, 2, {"dp": "1", "units": None})
    assert out == SOURCE.replace('metric="speed" units="speed"/>', 'metric="speed" dp="1"/>')
    _parse(out)
    out = xmledit.set_attrs(SOURCE, 1, {"rgb": "255,0,0"})  # last attribute single-quoted: so is the new one
    assert out == SOURCE.replace("y='20'>SPEED", "y='20' rgb='255,0,0'>SPEED")


def test_set_escapes_values():
    out = xmledit.set_attrs(SOURCE, 3, {"format": '%H "<b>" & co'})
    assert 'format="%H &quot;&lt;b>&quot; &amp; co"' in out
    assert _parse(out).children[1]["format"] == '%H "<b>" & co'


@pytest.mark.parametrize("scale", [1.0, 0.5, 2.0, 1.5])
@pytest.mark.parametrize("dx, dy", [(30, -7), (-3.4, 13.6), (0.4, 0.0)])
def test_move_changes_x_y_by_rounded_picture_delta_over_scale(scale, dx, dy):
    out = xmledit.move(SOURCE, 1, dx, dy, scale)
    node = _parse(out).children[0].children[0]
    assert (node["x"], node["y"]) == (10 + round(dx / scale), 20 + round(dy / scale))
    rest = out.replace(f"x=\"{10 + round(dx / scale)}\" y='{20 + round(dy / scale)}'", "x=\"10\" y='20'")
    assert rest == SOURCE


def test_move_adds_x_when_absent():
    out = xmledit.move(SOURCE, 2, 15, 4, 1.0)
    assert out == SOURCE.replace('units="speed"/>', 'units="speed" x="15"/>').replace('y="90"', 'y="94"')
    assert _parse(out).children[0].children[1]["x"] == 15


def test_delete_removes_whole_lines_only():
    out = xmledit.delete(SOURCE, 3)
    assert out == SOURCE.replace('\t<component type="datetime" format="%H:%M" x="600" y="50"/>\n', "")
    out = xmledit.delete(SOURCE, 0)  # a container goes with its contents
    assert "<frame" not in out and "SPEED" not in out and out.startswith(SOURCE[:SOURCE.index("   <frame")])
    assert len(_parse(out).children) == 1


def test_duplicate_inserts_an_offset_copy_after_it_with_the_same_indentation():
    out = xmledit.duplicate(SOURCE, 1)
    line = "        <component type=\"text\" size='30'   x=\"10\" y='20'>SPEED</component>"
    copy = "        <component type=\"text\" size='30'   x=\"30\" y='40'>SPEED</component>"
    assert out == SOURCE.replace(line, line + "\n" + copy)
    frame = _parse(out).children[0]
    assert [c.text for c in frame.children] == ["SPEED", "SPEED", ""]
    out = xmledit.duplicate(SOURCE, 0)  # a frame with its children: only the frame itself is offset
    top = _parse(out).children
    assert isinstance(top[1], Frame) and (top[1].x, top[1].y) == (60, 60) and len(top[1].children) == 2


def test_add_after_an_element_and_at_the_end():
    out = xmledit.add(SOURCE, "metric", 1)
    new = '        <component type="metric" x="100" y="100" metric="speed"/>'
    assert out == SOURCE.replace("SPEED</component>\n", "SPEED</component>\n" + new + "\n")
    out = xmledit.add(SOURCE, "text", None)
    assert out == SOURCE.replace("</layout>", '\t<component type="text" x="100" y="100">Text</component>\n</layout>')
    added = _parse(out).children[-1]
    assert isinstance(added, Component) and added.text == "Text" and (added["x"], added["y"]) == (100, 100)
    for name in ("datetime", "icon", "bar", "zone_bar", "circuit_map"):
        _parse(xmledit.add(SOURCE, name, None))
    with pytest.raises(InputError):
        xmledit.add(SOURCE, "nonsense", None)


def test_group_wraps_non_consecutive_siblings_reindenting_only_them():
    out = xmledit.group(SOURCE, [3, 0], "translate")
    layout = _parse(out)
    assert len(layout.children) == 1 and isinstance(layout.children[0], Group)
    assert [type(c).__name__ for c in layout.children[0].children] == ["Frame", "Component"]
    assert "<!-- the number -->" in out and out.startswith(SOURCE[:SOURCE.index("   <frame")])
    assert '   <translate x="0" y="0">\n      <frame' in out
    assert "\n           <component type=\"text\" size='30'" in out  # 3 more spaces than before
    out = xmledit.group(SOURCE, [1, 2], "frame", (250.4, 99.6))
    inner = _parse(out).children[0].children[0]
    assert isinstance(inner, Frame) and (inner.width, inner.height) == (250, 100) and len(inner.children) == 2
    with pytest.raises(InputError, match="same container"):
        xmledit.group(SOURCE, [1, 3], "translate")


@pytest.mark.parametrize("text", ["<layout><frame></layout>", "<layout>", "<other/>", "<layout><!-- </layout>"])
def test_broken_sources_say_which_line(text):
    with pytest.raises(InputError, match=r"^line \d+: "):
        xmledit.Document(text)


def test_unknown_index_is_refused():
    with pytest.raises(InputError, match="no element 9"):
        xmledit.set_attrs(SOURCE, 9, {"x": "1"})
