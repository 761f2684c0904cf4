"""docs/layout-xml.md, generated from the code that reads layouts.

People write layout XML by hand, so the page describing it must be true: it is
rendered from the widget registry (components, attribute specs, parser types),
the container specs in overlay.layout.parse, the metric table and the unit
names, with meanings from overlay.widgets.attrdocs. A test compares the
committed page with this output, so a change to the vocabulary that is not
regenerated (and described) fails there, not in a user's render.

    python -m overlay.layout.vocabulary > docs/layout-xml.md     # make docs
    python -m overlay.layout.vocabulary --check                  # exit 1 if the page is stale
"""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from overlay.layout import metrics
from overlay.layout.units import LABELS, NAMED_UNITS, SETTING_OF, UnitSettings

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "layout-xml.md"

# A small layout shown at the top of the page (the test parses it, so it stays valid).
EXAMPLE = """\
<layout width="1920" height="1080">
  <frame name="speed" x="40" y="860" width="360" height="180" cr="20" bg="0,0,0,120">
    <component type="text" x="24" y="40" size="24" align="ls">SPEED</component>
    <component type="metric" metric="speed" units="speed" dp="0" x="250" y="150" size="96" align="rs"/>
    <component type="metric_unit" metric="speed" units="speed" x="260" y="150" size="28" align="ls">{:~P}</component>
  </frame>
  <component type="moving-map" name="map" x="1640" y="40" size="240" zoom="15" corner-radius="120"/>
</layout>"""

_NONE = "—"


def cell(text: Any) -> str:
    """Text made safe for one markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(header: tuple[str, ...], rows) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return out


def show_default(attr) -> str:
    """An attribute's default as a layout would write it."""
    from overlay.widgets.attrs import ALIGNMENTS, NOT_GIVEN, parse_align

    v = attr.default
    if v is None or v is NOT_GIVEN:
        return _NONE
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, tuple):
        return ",".join(str(c) for c in (v[:3] if len(v) == 4 and v[3] == 255 else v))
    if isinstance(v, str) and attr.parse is parse_align:
        return next((k for k, anchor in ALIGNMENTS.items() if anchor == v), v)
    if isinstance(v, str) and os.path.isabs(v):
        return Path(v).name  # a bundled file: its name, not this machine's path
    return str(v)


def _attr_rows(element: str, attrs) -> list[tuple[str, ...]]:
    from overlay.widgets.attrdocs import meaning
    from overlay.widgets.attrs import describe

    return [(f"`{a.name}`", describe(a.parse), show_default(a), "yes" if a.required else "", meaning(element, a))
            for a in attrs]


_ATTR_HEADER = ("attribute", "type", "default", "required", "meaning")


def problems() -> list[str]:
    """What the page cannot describe: undocumented components, attributes, bodies, stale entries."""
    from overlay.layout.parse import CONTAINERS
    from overlay.widgets import attrdocs, registry
    from overlay.widgets.attrs import describe

    out: list[str] = []
    elements = [(name, registry.lookup(name).attrs) for name in registry.known_types()]
    elements += list(CONTAINERS.items())
    for name, attrs in elements:
        for a in attrs:
            if not attrdocs.meaning(name, a).strip():
                out.append(f"{name}.{a.name}: no meaning (overlay/widgets/attrdocs.py)")
            try:
                describe(a.parse)
            except LookupError as exc:
                out.append(f"{name}.{a.name}: {exc}")
    types = set(registry.known_types())
    for name in sorted(types - set(attrdocs.COMPONENTS)):
        out.append(f"component {name}: no description in attrdocs.COMPONENTS")
    for name in sorted(set(CONTAINERS) - set(attrdocs.CONTAINERS)):
        out.append(f"element <{name}>: no description in attrdocs.CONTAINERS")
    for name in sorted(t for t in types if registry.lookup(t).body and t not in attrdocs.BODIES):
        out.append(f"component {name}: reads its text but attrdocs.BODIES does not say what it means")
    known = {name: {a.name for a in attrs} for name, attrs in elements}
    everywhere = set().union(*known.values())
    stale = [f"attrdocs.COMPONENTS[{n!r}]" for n in set(attrdocs.COMPONENTS) - types]
    stale += [f"attrdocs.BODIES[{n!r}]" for n in attrdocs.BODIES if n not in types or not registry.lookup(n).body]
    stale += [f"attrdocs.PER_COMPONENT[{k!r}]" for k in attrdocs.PER_COMPONENT if k[1] not in known.get(k[0], ())]
    stale += [f"attrdocs.SHARED[{n!r}]" for n in attrdocs.SHARED if n not in everywhere]
    out += [f"{s}: names nothing that exists" for s in sorted(stale)]
    from overlay.layout import legacy

    out += [f"{t.name}.{a.name}: no meaning (overlay/layout/legacy.py)" for t in legacy.OLDER.values()
            for a in t.attrs if not a.doc.strip()]
    return out


def render() -> str:
    """The whole page. Raises ValueError listing problems() when something is undocumented."""
    gaps = problems()
    if gaps:
        raise ValueError("layout vocabulary not fully documented:\n  " + "\n  ".join(gaps))
    lines = (_intro() + _elements() + _components() + _older() + _metrics() + _units() + _formats() + _colours())
    return "\n".join(lines).rstrip() + "\n"


def _intro() -> list[str]:
    from overlay.layout.nodes import DESIGN_SIZE

    w, h = DESIGN_SIZE
    return [
        "# Layout XML",
        "",
        "<!-- Generated by `python -m overlay.layout.vocabulary` (`make docs`) from the code. Do not edit. -->",
        "",
        "A layout says what the dashboard shows and where. It is an XML file: `--layout FILE`,",
        "or the name of a bundled layout (`--layout default`). This page lists every element,",
        "attribute, metric, unit and format the layout reader accepts.",
        "",
        "```xml", EXAMPLE, "```",
        "",
        "* The root is `<layout>`. Inside it, containers (`composite`, `translate`, `frame`) group and",
        "  place their children; `<component type=\"...\">` elements draw things and hold nothing but,",
        "  for some types, text.",
        "* Positions and sizes are pixels. With `<layout width=\"W\" height=\"H\">` they are pixels of",
        "  the W x H canvas the layout was designed for, and the whole layout is scaled by one factor",
        "  to fit the video and centred on it, so it keeps its shape on any video size (lines and text",
        "  scale with it; anything drawn at all is at least one pixel). Without `width`/`height` they",
        "  are pixels of the video itself, one to one from its top-left corner, as in",
        "  gopro-dashboard-overlay (whose layouts are made per video size); a preview without a video",
        f"  then draws on {w} x {h}.",
        "* Component type names and attribute names treat `-` and `_` alike: `zone-bar` is `zone_bar`,",
        "  `outline-width` is `outline_width`. Element names, metric names and unit names do not:",
        "  write those exactly as listed.",
        "* `name=\"...\"` may be given on any element inside `<layout>`; `--include NAME...` draws only",
        "  the named parts (with what contains them), `--exclude NAME...` leaves them out.",
        "* Metrics arrive in their own unit (see Metrics); `units=` converts them. The unit names",
        "  `speed`, `altitude`, `distance` and `temperature` follow the `--units-*` options, so one",
        "  layout serves riders who want km/h and riders who want mph.",
        "* Values are checked when the layout is read, before anything is rendered: an unknown",
        "  element, component type, attribute, metric or unit, or a value of the wrong type, stops with",
        "  the file, the line and the valid choices.",
        "* Attribute types: a number is written like `12` or `-3.5`; an integer is a whole number;",
        "  true or false also takes `yes`/`no`, `on`/`off`, `1`/`0`; colours are described under Colours.",
        "",
    ]


def _elements() -> list[str]:
    from overlay.layout.parse import CONTAINERS
    from overlay.widgets.attrdocs import CONTAINERS as DOCS

    out = ["## Elements", ""]
    for tag in ("layout", "composite", "translate", "frame"):  # outermost first
        out += [f"### `<{tag}>`", "", DOCS[tag], ""]
        out += table(_ATTR_HEADER, _attr_rows(tag, CONTAINERS[tag])) + [""]
    out += ["### `<component>`", "",
            "Draws one thing: `type` (required) says what, from the list below; the other attributes",
            "depend on the type. Components cannot contain other elements.", ""]
    return out


def _components() -> list[str]:
    from overlay.widgets import registry
    from overlay.widgets.attrdocs import BODIES, COMPONENTS

    names = registry.known_types()
    out = ["## Components", "", "By `type`:", ""]
    out += [", ".join(f"[`{registry.lookup(n).spelling or n}`](#{_anchor(registry.lookup(n).spelling or n)})"
                      for n in names), ""]
    for name in names:
        ct = registry.lookup(name)
        shown = ct.spelling or name
        out += [f"### `{shown}`", "", COMPONENTS[name]]
        if shown != name:
            out += ["", f"Also written `{name}`."]
        if ct.body:
            out += ["", f"Text inside the element: {BODIES[name]}"]
        else:
            out += ["", "Takes no text inside the element."]
        out += [""] + table(_ATTR_HEADER, _attr_rows(name, ct.attrs)) + [""]
        out += _extra(name)
    return out


def _older() -> list[str]:
    """gopro-dashboard-overlay's older names, still read: overlay.layout.legacy."""
    from overlay.layout import legacy
    from overlay.widgets.attrs import describe

    out = ["## Older names", "",
           "Layouts written for older releases of gopro-dashboard-overlay still load. Its old \"bundled",
           "components\" are read as the composite of the components above that draws the same thing",
           "(`--include`/`--exclude` treat that composite as the element), and a few older spellings are",
           "read as today's.", ""]
    for t in legacy.OLDER.values():
        out += [f"### `{t.name}`", "", t.doc, ""]
        out += table(_ATTR_HEADER, [(f"`{a.name}`", describe(a.parse), show_default(a), "", a.doc)
                                    for a in t.attrs]) + [""]
    out += ["### Older spellings", ""]
    out += table(("written", "read as"), [(f"`{k}`", v) for k, v in legacy.RENAMED_DOCS.items()]) + [""]
    return out


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading that is just `name` in backticks."""
    return "".join(c for c in heading.lower() if c.isalnum() or c in "-_")


def _extra(name: str) -> list[str]:
    """Facts a component's table cannot hold."""
    if name == "icon":
        from overlay.widgets.icon import bundled_icons

        icons = ", ".join(f"`{Path(i).stem}`" for i in bundled_icons())
        return [f"Bundled icons: {icons}.", ""]
    return []


def _metrics() -> list[str]:
    rows = []
    for m in sorted(metrics.METRIC_TABLE, key=lambda m: m.name):
        unit = f"`{m.unit}`" if m.unit and m.unit != "dimensionless" else _NONE
        setting = f"`units=\"{m.setting}\"`" if m.setting else _NONE
        rows.append((f"`{m.name}`", unit, setting, m.doc))
    aliases = ", ".join(f"`{a}` = `{t}`" for a, t in sorted(metrics.ALIASES.items()))
    out = ["## Metrics", "",
           "What `metric=` (and `arc-metric-upper` / `arc-metric-lower`) can name. A metric with no",
           "data at a frame is missing there: text shows `-`, and other components show no value. The",
           "unit is the one the value has before `units=` converts it; \"converted by\" names the",
           "`units=` value that follows the matching `--units-*` option.", ""]
    out += table(("metric", "unit", "converted by", "meaning"), rows) + [""]
    out += [f"Other names: {aliases}.", "",
            "### Running statistics", "",
            "Any metric (or other name) followed by one of these suffixes: `speed.max`, `hr.avg`,",
            "`alt.min`. Counted from the first frame of the render to the current one, missing values",
            "skipped; the unit is the metric's own.", ""]
    out += table(("suffix", "meaning"), [(f"`.{s}`", d) for s, d in metrics.STAT_DOCS.items()]) + [""]
    return out


def _units() -> list[str]:
    by_unit: dict[str | None, list[str]] = {}
    for name, unit in NAMED_UNITS.items():
        by_unit.setdefault(unit, []).append(name)
    rows = []
    for unit, names in sorted(by_unit.items(), key=lambda kv: kv[1][0].lower()):
        shown = "the metric's own unit" if unit is None else f"`{unit}`"
        if unit in LABELS:
            shown += f", written {LABELS[unit]}"
        rows.append((", ".join(f"`{n}`" for n in names), shown))
    settings = {f.name: f.default for f in dataclasses.fields(UnitSettings)}
    follow: dict[str, list[str]] = {}
    for name, field in SETTING_OF.items():
        follow.setdefault(field, []).append(name)
    set_rows = [(", ".join(f"`{n}`" for n in follow[f]), f"`--units-{f}`", f"`{d}`")
                for f, d in settings.items() if f in follow]
    out = ["## Units", "",
           "`units=` takes a unit name from the first table, a name from the second (which follows a",
           "command-line option), or any other unit pint understands (`foot / minute`, `m/s`). The",
           "conversion is checked when the layout is read: `units=\"kph\"` on `alt` is an error.",
           "Pace units turn a speed into time per distance; write them with `format=\"pace\"`.", ""]
    out += table(("units=", "pint unit"), rows) + [""]
    out += table(("units=", "follows", "default"), set_rows) + [""]
    return out


def _formats() -> list[str]:
    from overlay.widgets.attrdocs import FORMAT_DOCS
    from overlay.widgets.attrs import DURATION_FORMATS

    out = ["## Formats", "",
           "### Numbers: `format=` of `metric`", "",
           "Without `format`, the value is written with `dp` decimal places. With it, one of:", ""]
    out += table(("format", "writes seconds as"), [(f"`{f}`", FORMAT_DOCS[f]) for f in DURATION_FORMATS])
    out += ["",
            "or a Python format spec, checked when the layout is read: `.1f` (one decimal), `05.1f`",
            "(padded with zeros to 5 characters), `,.0f` (thousands separated), `+.0f` (always signed);",
            "an integer type such as `d` rounds the value to a whole number first. A value that rounds",
            "to zero never shows a minus sign.", "",
            "### Dates and times: `format=` of `datetime`", "",
            "A strftime format: `%H:%M:%S` (14:05:09), `%d %B %Y` (07 June 2024), `%a %H:%M`, `%f`",
            "(microseconds; `truncate=\"3\"` keeps milliseconds). The time is the local time where the",
            "ride happened when that is known (`--tz` chooses one), else UTC.", "",
            "### Unit names: the text of `metric_unit`", "",
            "Text with `{:spec}` fields for the unit (no field names); default `{:~P}`. With `~` the",
            "unit's symbol (`km`), without it the full name (`kilometer`); then `P` (pretty), `C`",
            "(compact) or `D` (default). A lower-case `p`, `c` or `d` writes the result in capitals",
            "(`{:~p}` gives KM). Pace units read min/km, min/mi, min/nmi; `spm` reads spm and `G` G.", ""]
    return out


def _colours() -> list[str]:
    return ["## Colours", "",
            "`r,g,b` or `r,g,b,a`, each a whole number from 0 to 255 (`255,190,70`); `a` is the",
            "opacity, 0 clear to 255 solid (the default). Where the type says \"or none\", `none`",
            "(or an empty value) draws nothing.", ""]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--check"]):
        print("usage: python -m overlay.layout.vocabulary [--check]", file=sys.stderr)
        return 2
    try:
        text = render()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    if not args:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))  # UTF-8 whatever the locale: the page has °, ≥, —
        return 0
    current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.is_file() else ""
    if current != text:
        print("docs/layout-xml.md is out of date with the code: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
