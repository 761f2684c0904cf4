"""docs/layout-xml.md is generated from the code; these tests keep the two in step.

The committed page must equal what overlay.layout.vocabulary renders now, every
element and attribute must have a type and a meaning, and every metric must be on
the page. The drift tests show the checks bite: a component, attribute or parser
added without documentation changes the page or makes it refuse to render.
"""
from __future__ import annotations

import pytest

import overlay.widgets  # noqa: F401  (registers every component type)
from overlay.frametable import base_unit
from overlay.layout import metrics, vocabulary
from overlay.layout.parse import CONTAINERS, parse_layout
from overlay.layout.units import SETTING_OF, UnitSettings
from overlay.telemetry.timeseries import BASE_UNITS
from overlay.widgets import attrdocs, attrs, registry
from overlay.widgets.attrs import Attr, choice, describe, non_negative, parse_int, parse_metric, parse_number, positive
from overlay.widgets.registry import ComponentType


@pytest.fixture(scope="module")
def page() -> str:
    return vocabulary.render()


def _elements():
    return [(n, registry.lookup(n).attrs) for n in registry.known_types()] + list(CONTAINERS.items())


def test_committed_page_is_current(page):
    committed = vocabulary.DOC_PATH.read_text(encoding="utf-8") if vocabulary.DOC_PATH.is_file() else ""
    assert committed == page, "docs/layout-xml.md differs from the code's vocabulary: run `make docs`"


def test_every_attribute_has_a_type_and_a_meaning():
    for element, spec in _elements():
        for a in spec:
            assert describe(a.parse).strip(), f"{element}.{a.name}: no type"
            assert attrdocs.meaning(element, a).strip(), f"{element}.{a.name}: no meaning in attrdocs"
    assert vocabulary.problems() == []


def test_every_component_and_element_is_described(page):
    for name in registry.known_types():
        ct = registry.lookup(name)
        assert attrdocs.COMPONENTS.get(name, "").strip(), name
        assert f"### `{ct.spelling or name}`" in page
        if ct.body:
            assert attrdocs.BODIES.get(name, "").strip(), f"{name} reads its text: say what it means"
    for tag in CONTAINERS:
        assert f"### `<{tag}>`" in page
    assert not set(CONTAINERS) & set(registry.known_types()), "a container tag and a component type share a name"


def test_every_metric_alias_and_statistic_is_on_the_page(page):
    for m in metrics.METRIC_TABLE:
        assert f"| `{m.name}` |" in page, m.name
        assert m.doc.strip(), m.name
    for alias, target in metrics.ALIASES.items():
        assert f"`{alias}` = `{target}`" in page
    for stat in metrics.STATS:
        assert f"| `.{stat}` |" in page


def test_parser_accepts_exactly_the_table():
    assert attrs.METRICS == metrics.NAMES and attrs.METRIC_ALIASES == metrics.ALIASES
    for name in metrics.NAMES:
        assert parse_metric(name) == name
        for stat in metrics.STATS:
            assert parse_metric(f"{name}.{stat}") == f"{name}.{stat}"
    for alias, target in metrics.ALIASES.items():
        assert parse_metric(alias) == target and parse_metric(f"{alias}.max") == f"{target}.max"
    for wrong in ("gyro.x", "speed.median", "gps_lock", "Speed"):
        with pytest.raises(ValueError):
            parse_metric(wrong)


def test_metric_units_match_the_frame_table_and_telemetry():
    for m in metrics.METRIC_TABLE:
        assert base_unit(m.name) == m.unit, m.name
        if m.name in BASE_UNITS:
            assert BASE_UNITS[m.name] == m.unit, f"{m.name}: table and telemetry disagree on the unit"
    assert base_unit("speed.max") == base_unit("speed") and base_unit("gyro.x") == BASE_UNITS["gyro.x"]


def test_unit_settings_fit_their_metrics():
    from overlay.conversion import UnitConverter

    converter = UnitConverter(cache=False)
    defaults = UnitSettings()
    for m in metrics.METRIC_TABLE:
        if m.setting is None:
            continue
        assert m.setting in set(SETTING_OF.values()), m
        converter.convert([1.0], m.unit, getattr(defaults, m.setting))  # raises if the dimensions differ


def test_duration_formats_are_all_described(page):
    from overlay.widgets.text import DURATIONS

    assert set(attrdocs.FORMAT_DOCS) == set(attrs.DURATION_FORMATS) == set(DURATIONS)
    for f in attrs.DURATION_FORMATS:
        assert f"| `{f}` |" in page


def test_the_example_layout_is_valid():
    layout = parse_layout(vocabulary.EXAMPLE, "<example>")
    assert {c.type for c in layout.components()} == {"text", "metric", "metric_unit", "moving_map"}


def test_types_read_from_the_parsers():
    assert describe(parse_int) == "integer"
    assert describe(positive(parse_number)) == "number > 0"
    assert describe(non_negative(parse_int)) == "integer ≥ 0"
    assert describe(choice("ltr", "ttb")) == "one of ltr|ttb"
    assert "one of ltr\\|ttb" in vocabulary.cell("one of ltr|ttb")  # a pipe would split the table


# --- drift: the checks fail when the code changes without the docs -------------------------------------

def _fake(monkeypatch, *spec: Attr, body: bool = False) -> None:
    monkeypatch.setitem(registry._TYPES, "wobble", ComponentType("wobble", spec, object, body, "wobble"))


def test_a_new_component_changes_the_page(monkeypatch, page):
    _fake(monkeypatch, Attr("x", parse_number, 0.0), Attr("wibble", parse_int, 3, doc="How much it wobbles."))
    with pytest.raises(ValueError, match="component wobble: no description"):
        vocabulary.render()
    monkeypatch.setitem(attrdocs.COMPONENTS, "wobble", "A test component.")
    changed = vocabulary.render()
    assert changed != page
    assert "### `wobble`" in changed and "| `wibble` | integer | 3 |  | How much it wobbles. |" in changed


def test_an_attribute_without_meaning_is_caught(monkeypatch):
    _fake(monkeypatch, Attr("x", parse_number, 0.0), Attr("wibble", parse_number, 1.0))
    monkeypatch.setitem(attrdocs.COMPONENTS, "wobble", "A test component.")
    assert "wobble.wibble: no meaning (overlay/widgets/attrdocs.py)" in vocabulary.problems()
    with pytest.raises(ValueError, match="wobble.wibble"):
        vocabulary.render()


def test_a_parser_without_a_type_is_caught(monkeypatch):
    def parse_mystery(text: str) -> str:
        return text

    _fake(monkeypatch, Attr("x", parse_mystery, "", doc="Something."))
    monkeypatch.setitem(attrdocs.COMPONENTS, "wobble", "A test component.")
    with pytest.raises(LookupError, match="parse_mystery"):
        describe(parse_mystery)
    assert any("parse_mystery" in p for p in vocabulary.problems())


def test_a_body_without_meaning_and_stale_entries_are_caught(monkeypatch):
    _fake(monkeypatch, Attr("x", parse_number, 0.0), body=True)
    monkeypatch.setitem(attrdocs.COMPONENTS, "wobble", "A test component.")
    monkeypatch.setitem(attrdocs.SHARED, "no_such_attribute", "Nothing.")
    monkeypatch.setitem(attrdocs.PER_COMPONENT, ("text", "no_such_attribute"), "Nothing.")
    found = vocabulary.problems()
    assert any("component wobble: reads its text" in p for p in found)
    assert "attrdocs.SHARED['no_such_attribute']: names nothing that exists" in found
    assert "attrdocs.PER_COMPONENT[('text', 'no_such_attribute')]: names nothing that exists" in found


def test_check_reports_a_stale_page(monkeypatch, tmp_path, capsys, page):
    doc = tmp_path / "layout-xml.md"
    monkeypatch.setattr(vocabulary, "DOC_PATH", doc)
    doc.write_text(page, encoding="utf-8")
    assert vocabulary.main(["--check"]) == 0
    doc.write_text(page.replace("Lowest value so far.", "Smallest."), encoding="utf-8")
    assert vocabulary.main(["--check"]) == 1
    assert "run `make docs`" in capsys.readouterr().err
