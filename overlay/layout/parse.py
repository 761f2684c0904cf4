"""Layout XML -> validated `Layout` tree, with errors naming file, line and element.

defusedxml guards against entity tricks in user-supplied files; a custom
tree builder records expat's line number for every element so that each
error reads "file:line: <element>: problem; valid choices: ...".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from overdash import InputError
from overlay.layout import legacy
from overlay.layout.conditions import parse_condition
from overlay.layout.nodes import SHOWN_ALWAYS, Component, Frame, Group, Layout, Node, Shown
from overlay.widgets import registry
from overlay.widgets.attrs import (
    Attr,
    canonical,
    non_negative,
    parse_fraction,
    parse_number,
    parse_optional_colour,
    positive,
)

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "layouts"

_XY = (Attr("x", parse_number, 0.0), Attr("y", parse_number, 0.0))
# Any container can be shown only at some moments (overlay.layout.conditions).
_SHOWN = (
    Attr("show_when", parse_condition, None,
         doc="Show this part only while the condition holds (also written show-when), e.g. "
             "`event == 'airtime'` or `speed > 10 and not gps-lock < 3`: metrics compared with numbers "
             "(in the metric's own unit) or quoted names, joined by and, or, not and parentheses. "
             "A missing value makes a comparison false. Without it the part always shows."),
    Attr("hold", non_negative(parse_number), 0.0,
         doc="With show-when: seconds the part stays after the condition stops holding."),
    Attr("fade", non_negative(parse_number), 0.0,
         doc="With show-when: seconds the part takes to fade in when the condition begins to hold, "
             "and to fade out after the hold (a time fade; fo on a frame fades its edges)."),
)
# Container elements and their attributes (components are in the widget registry).
CONTAINERS: dict[str, tuple[Attr, ...]] = {
    "layout": (Attr("width", positive(parse_number)), Attr("height", positive(parse_number))),
    "composite": _XY + _SHOWN,
    "translate": _XY + _SHOWN,
    "frame": _XY + _SHOWN + (
        Attr("width", positive(parse_number), required=True),
        Attr("height", positive(parse_number), required=True),
        Attr("bg", parse_optional_colour, None),
        Attr("outline", parse_optional_colour, None),
        Attr("cr", non_negative(parse_number), 0.0),
        Attr("opacity", parse_fraction, 1.0),
        Attr("fo", non_negative(parse_number), 0.0),
    ),
}
ELEMENTS = ("component",) + tuple(CONTAINERS)


@dataclass
class _Element:
    tag: str
    attrib: dict[str, str]
    line: int
    children: list["_Element"] = field(default_factory=list)
    text: str = ""


class _LineBuilder:
    """ElementTree parser target that keeps expat's line number of each start tag."""

    def __init__(self):
        self.parser = None
        self.root: _Element | None = None
        self._stack: list[_Element] = []

    def start(self, tag, attrib):
        el = _Element(tag, dict(attrib), self.parser.parser.CurrentLineNumber)
        if self._stack:
            self._stack[-1].children.append(el)
        else:
            self.root = el
        self._stack.append(el)

    def end(self, tag):
        self._stack.pop()

    def data(self, text):
        if self._stack:
            self._stack[-1].text += text

    def close(self):
        return self.root


def bundled_layouts() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in BUNDLED_DIR.glob("*.xml")))


def resolve_path(path_or_name: str | Path) -> Path:
    """A file path, or the name of a bundled layout ('default' -> overlay/layouts/default.xml)."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    name = path.name[:-4] if path.name.endswith(".xml") else path.name
    if str(path) in (path.name, f"{name}.xml") and (BUNDLED_DIR / f"{name}.xml").is_file():
        return BUNDLED_DIR / f"{name}.xml"
    if path.exists():
        raise InputError(f"{path}: is not a file")
    raise InputError(f"layout {str(path_or_name)!r}: no such file or bundled layout; "
                     f"bundled layouts: {', '.join(bundled_layouts())}")


def load_layout(path_or_name: str | Path, *, include=(), exclude=()) -> Layout:
    path = resolve_path(path_or_name)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_layout(data, str(path)).select(include, exclude)


def parse_layout(data: bytes | str, source: str = "<layout>") -> Layout:
    builder = _LineBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else "?"
        raise InputError(f"{source}:{line}: not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise InputError(f"{source}: XML feature not allowed in layouts: {exc}") from None
    except (LookupError, ValueError) as exc:  # <?xml encoding="..."?>: unknown, or one expat cannot read
        raise InputError(f"{source}:1: not well-formed XML: {exc}") from None
    if root is None or root.tag != "layout":
        tag = root.tag if root is not None else "nothing"
        raise InputError(f"{source}:{root.line if root else 1}: root element is <{tag}>, expected <layout>")
    attrs = _attributes(root, CONTAINERS["layout"], source, "<layout>")
    if (attrs["width"] is None) != (attrs["height"] is None):
        raise InputError(f"{source}:{root.line}: <layout>: give both width and height, or neither")
    children = tuple(_node(c, source) for c in root.children)
    if attrs["width"] is None:
        return Layout(children=children, source=source)
    return Layout(children=children, width=int(round(attrs["width"])), height=int(round(attrs["height"])),
                  source=source)


def _node(el: _Element, source: str) -> Node:
    where = f"{source}:{el.line}"
    name = el.attrib.pop("name", None)
    if el.tag == "component":
        return _component(el, source, where, name)
    if el.tag not in CONTAINERS or el.tag == "layout":
        choices = ", ".join(t for t in ELEMENTS if t != "layout")
        raise InputError(f"{where}: <{el.tag}>: unknown element; valid choices: {choices}")
    # stray text between a container's children is ignored, as gopro-dashboard-overlay ignores it
    a = _attributes(el, CONTAINERS[el.tag], source, f"<{el.tag}>")
    children = tuple(_node(c, source) for c in el.children)
    if a["show_when"] is None and (a["hold"] or a["fade"]):
        raise InputError(f"{where}: <{el.tag}>: hold and fade need show-when (when to show the part)")
    shown = Shown(a["show_when"], a["hold"], a["fade"]) if a["show_when"] is not None else SHOWN_ALWAYS
    if el.tag == "frame":
        return Frame(x=a["x"], y=a["y"], width=a["width"], height=a["height"], children=children,
                     bg=a["bg"], outline=a["outline"], cr=a["cr"], opacity=a["opacity"], fo=a["fo"],
                     name=name, where=where, shown=shown)
    return Group(kind=el.tag, x=a["x"], y=a["y"], children=children, name=name, where=where, shown=shown)


def _component(el: _Element, source: str, where: str, name: str | None) -> Node:
    type_name = el.attrib.pop("type", None)
    if type_name is None:
        raise InputError(f"{where}: <component>: missing required attribute 'type'; "
                         f"valid choices: {', '.join(registry.known_types())}")
    desc = f'<component type="{type_name}">'
    if el.children:
        raise InputError(f"{where}: {desc}: components cannot contain elements (found <{el.children[0].tag}>)")
    older = legacy.lookup(type_name)
    if older is not None:  # an older bundled component: the composite of today's components that draws it
        a = _attributes(el, older.attrs, source, desc)
        parts = tuple(_component(_Element("component", {"type": t, **attrs}, el.line, text=text), source, where, None)
                      for t, attrs, text in older.parts(a))
        return Group(kind="composite", x=a["x"], y=a["y"], children=parts, name=name, where=where)
    ctype = registry.lookup(legacy.renamed(type_name, el.attrib, where))
    if ctype is None:
        raise InputError(f"{where}: {desc}: unknown component type {type_name!r}; "
                         f"valid choices: {', '.join(registry.known_types())}")
    text = el.text.strip()
    if text and not ctype.body:
        raise InputError(f"{where}: {desc}: takes no text, found {text[:30]!r}")
    attrs = _attributes(el, ctype.attrs, source, desc)
    return Component(type=ctype.name, attrs=attrs, text=text, name=name, where=where)


def _attributes(el: _Element, spec: tuple[Attr, ...], source: str, desc: str) -> dict[str, Any]:
    """Parse `el`'s attributes against `spec`: unknown, duplicate, bad or missing -> InputError."""
    where = f"{source}:{el.line}"
    by_name = {a.name: a for a in spec}
    choices = ", ".join(sorted(set(by_name) | ({"name"} if desc != "<layout>" else set())))
    values: dict[str, Any] = {}
    for raw, text in el.attrib.items():
        key = canonical(raw)
        attr = by_name.get(key)
        if attr is None:
            raise InputError(f"{where}: {desc}: unknown attribute {raw!r}; valid choices: {choices}")
        if key in values:
            raise InputError(f"{where}: {desc}: attribute {raw!r} given twice")
        try:
            values[key] = attr.parse(text)
        except ValueError as exc:
            raise InputError(f"{where}: {desc}: {raw}={text!r}: {exc}") from None
    missing = [a.name for a in spec if a.required and a.name not in values]
    if missing:
        required = ", ".join(a.name for a in spec if a.required)
        raise InputError(f"{where}: {desc}: missing required attribute {missing[0]!r}; "
                         f"required: {required}; valid choices: {choices}")
    for a in spec:
        values.setdefault(a.name, a.default)
    return values
