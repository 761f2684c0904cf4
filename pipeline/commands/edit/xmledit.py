"""Text-preserving edits of a layout's XML source, for `overdash edit`.

A user's layout is theirs: comments, attribute order, quoting and indentation
are kept byte for byte wherever an edit does not reach. So edits work on the
text itself, not on a parsed tree written back out: a small scanner finds each
element's start tag, attributes (with their spans) and end, and every operation
splices only the characters it changes. Validation is the layout parser's job
(overlay.layout.parse_layout); the scanner only needs the text to be well-formed
enough to find tags, and says where it is not.

Elements are numbered as the editor's contract says: document order (pre-order,
0-based) over every element inside <layout>, <layout> itself excluded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NoReturn

from overdash import InputError

_NAME = re.compile(r"[A-Za-z_][\w.\-:]*")
_ATTR = re.compile(r"""\s*([A-Za-z_][\w.\-:]*)\s*=\s*("[^"]*"|'[^']*')""")
_SKIP = (("<!--", "-->"), ("<?", "?>"), ("<![CDATA[", "]]>"), ("<!", ">"))
GROUP_KINDS = ("translate", "frame")
# What a new component needs to parse (its required attributes), by attribute name.
REQUIRED_VALUES = {"metric": "speed", "format": "%H:%M:%S", "file": "gauge-1.png"}
DUPLICATE_OFFSET = 20


@dataclass
class Attribute:
    name: str
    value: str          # as written, entities not decoded
    start: int          # where the whitespace before the name starts
    value_start: int    # first character inside the quotes
    value_end: int      # the closing quote
    quote: str


@dataclass
class Element:
    tag: str
    start: int                  # '<' of the start tag
    tag_end: int                # just after the start tag's '>'
    end: int = -1               # just after the end tag's '>' (or the empty tag's)
    empty: bool = False         # <x .../>
    attrs: list[Attribute] = field(default_factory=list)
    children: list["Element"] = field(default_factory=list)
    parent: "Element | None" = None
    line: int = 1

    def attr(self, name: str) -> Attribute | None:
        return next((a for a in self.attrs if a.name == name), None)


class Document:
    """The scanned source: the <layout> root and its elements in document order."""

    def __init__(self, source: str):
        self.source = source
        self.root = _scan(source)
        self.elements: list[Element] = []

        def visit(el: Element) -> None:
            for child in el.children:
                self.elements.append(child)
                visit(child)
        visit(self.root)

    def element(self, index) -> Element:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.elements):
            raise InputError(f"no element {index!r}: the layout has {len(self.elements)} elements")
        return self.elements[index]

    def indent_of(self, el: Element) -> str:
        """The whitespace before `el` on its line ('' when something else precedes it there)."""
        line_start = self.source.rfind("\n", 0, el.start) + 1
        lead = self.source[line_start:el.start]
        return lead if lead.strip() == "" else ""

    def indent_unit(self, el: Element) -> str:
        """How much deeper a child sits than `el`'s own line (two spaces when nothing shows it)."""
        mine = self.indent_of(el) if el.parent is not None else self._line_indent(el.start)
        for child in el.children:
            theirs = self.indent_of(child)
            if len(theirs) > len(mine) and theirs.startswith(mine):
                return theirs[len(mine):]
        return "  "

    def _line_indent(self, pos: int) -> str:
        line_start = self.source.rfind("\n", 0, pos) + 1
        line = self.source[line_start:self.source.find("\n", line_start) % (len(self.source) + 1)]
        return line[:len(line) - len(line.lstrip(" \t"))]


def _line(source: str, pos: int) -> int:
    return source.count("\n", 0, pos) + 1


def _fail(source: str, pos: int, message: str) -> NoReturn:
    raise InputError(f"line {_line(source, pos)}: {message}")


def _scan(source: str) -> Element:
    """Find every element's tag and attribute spans; the <layout> root element."""
    stack: list[Element] = []
    root: Element | None = None
    i = 0
    while True:
        i = source.find("<", i)
        if i < 0:
            break
        skipped = next(((a, b) for a, b in _SKIP if source.startswith(a, i)), None)
        if skipped:
            close = source.find(skipped[1], i + len(skipped[0]))
            if close < 0:
                _fail(source, i, f"{skipped[0]} is never closed")
            i = close + len(skipped[1])
            continue
        if source.startswith("</", i):
            m = _NAME.match(source, i + 2)
            close = source.find(">", i)
            if not m or close < 0:
                _fail(source, i, "broken end tag")
            if not stack or stack[-1].tag != m.group(0):
                _fail(source, i, f"</{m.group(0)}> does not close an open element")
            stack.pop().end = close + 1
            i = close + 1
            continue
        m = _NAME.match(source, i + 1)
        if not m:
            _fail(source, i, "'<' that starts no tag")
        el = Element(m.group(0), i, i, line=_line(source, i))
        j = m.end()
        while True:
            a = _ATTR.match(source, j)
            if not a:
                break
            el.attrs.append(Attribute(a.group(1), a.group(2)[1:-1], j, a.start(2) + 1, a.end(2) - 1, a.group(2)[0]))
            j = a.end()
        tail = re.compile(r"\s*(/?)>").match(source, j)
        if not tail:
            _fail(source, j, f"<{el.tag}>: cannot read its attributes here")
        el.empty = bool(tail.group(1))
        el.tag_end = tail.end()
        if stack:
            el.parent = stack[-1]
            stack[-1].children.append(el)
        elif root is None:
            root = el
        else:
            _fail(source, i, "more than one root element")
        if el.empty:
            el.end = el.tag_end
        else:
            stack.append(el)
        i = el.tag_end
    if stack:
        _fail(source, stack[-1].start, f"<{stack[-1].tag}> is never closed")
    if root is None or root.tag != "layout":
        raise InputError("line 1: the root element must be <layout>")
    return root


def _splice(source: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace each (start, end) span with its text; spans must not overlap."""
    for start, end, text in sorted(edits, key=lambda e: e[0], reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _escape(value: str, quote: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    return value.replace(quote, "&quot;" if quote == '"' else "&apos;")


def set_attrs(source: str, index: int, attrs: dict[str, str | None]) -> str:
    """Change, add (at the end of the tag) or remove (value None) attributes of element `index`."""
    doc = Document(source)
    el = doc.element(index)
    edits: list[tuple[int, int, str]] = []
    added = ""
    for name, value in attrs.items():
        if not _NAME.fullmatch(str(name)):
            raise InputError(f"{name!r} is not an attribute name")
        old = el.attr(name)
        if value is None:
            if old is not None:
                edits.append((old.start, old.value_end + 1, ""))
        elif old is not None:
            edits.append((old.value_start, old.value_end, _escape(str(value), old.quote)))
        else:
            quote = el.attrs[-1].quote if el.attrs else '"'
            added += f" {name}={quote}{_escape(str(value), quote)}{quote}"
    if added:
        at = el.attrs[-1].value_end + 1 if el.attrs else el.start + 1 + len(el.tag)
        edits.append((at, at, added))
    return _splice(source, edits)


def _number(text: str | None) -> float:
    if text is None:
        return 0.0
    try:
        return float(text.strip())
    except ValueError:
        raise InputError(f"{text!r} is not a number") from None


def _show(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def shift(source: str, index: int, dx: float, dy: float) -> str:
    """Add (dx, dy) layout px to element `index`'s x and y (absent: 0), as integers where whole."""
    el = Document(source).element(index)
    x, y = el.attr("x"), el.attr("y")
    changes: dict[str, str | None] = {}
    if dx:
        changes["x"] = _show(_number(x.value if x else None) + dx)
    if dy:
        changes["y"] = _show(_number(y.value if y else None) + dy)
    return set_attrs(source, index, changes) if changes else source


def move(source: str, index: int, dx: float, dy: float, scale: float) -> str:
    """Move by (dx, dy) picture px at `scale` picture px per layout px: x, y change by round(d / scale)."""
    if not scale > 0:
        raise InputError(f"scale {scale!r}: must be above 0")
    return shift(source, index, round(float(dx) / scale), round(float(dy) / scale))


def _whole_lines(source: str, start: int, end: int) -> tuple[int, int]:
    """Grow [start, end) to whole lines (with the newline) when nothing else shares them."""
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", end)
    line_end = len(source) if line_end < 0 else line_end + 1
    if source[line_start:start].strip() == "" and source[end:line_end].strip() == "":
        return line_start, line_end
    return start, end


def delete(source: str, index: int) -> str:
    el = Document(source).element(index)
    start, end = _whole_lines(source, el.start, el.end)
    return source[:start] + source[end:]


def duplicate(source: str, index: int) -> str:
    """A copy of element `index` (with its contents) right after it, offset by +20,+20 layout px."""
    doc = Document(source)
    el = doc.element(index)
    copy = source[el.start:el.end]
    copied = source[:el.end] + "\n" + doc.indent_of(el) + copy + source[el.end:]
    descendants = sum(1 for e in doc.elements if _inside(e, el))
    return shift(copied, index + descendants + 1, DUPLICATE_OFFSET, DUPLICATE_OFFSET)


def _inside(e: Element, ancestor: Element) -> bool:
    while e.parent is not None:
        if e.parent is ancestor:
            return True
        e = e.parent
    return False


def add(source: str, type_name: str, after: int | None) -> str:
    """A new component at x=100 y=100 with what it must be given, after element `after` (same
    container, same indentation) or, with None, last in <layout>."""
    from overlay.widgets import lookup

    ctype = lookup(str(type_name))
    if ctype is None:
        raise InputError(f"unknown component type {type_name!r}")
    parts = [f'type="{ctype.spelling or ctype.name}"', 'x="100"', 'y="100"']
    for a in ctype.attrs:
        if a.required and a.name not in ("x", "y"):
            parts.append(f'{a.name}="{_escape(REQUIRED_VALUES.get(a.name, ""), chr(34))}"')
    tag = "<component " + " ".join(parts)
    tag += ">Text</component>" if ctype.body else "/>"
    doc = Document(source)
    if after is not None:
        el = doc.element(after)
        return source[:el.end] + "\n" + doc.indent_of(el) + tag + source[el.end:]
    root = doc.root
    if root.empty:  # <layout/>: open it up
        inner = f">\n  {tag}\n</layout>"
        return source[:root.tag_end - 2].rstrip() + inner + source[root.tag_end:]
    indent = doc.indent_of(root.children[-1]) if root.children else doc.indent_unit(root)
    close = source.rfind("</", 0, root.end)
    line_start = source.rfind("\n", 0, close) + 1
    if source[line_start:close].strip() == "":  # </layout> on a line of its own: a new line above it
        return source[:line_start] + indent + tag + "\n" + source[line_start:]
    return source[:close] + "\n" + indent + tag + "\n" + source[close:]


def group(source: str, indices, kind: str, size: tuple[float, float] | None = None) -> str:
    """Wrap sibling elements in <translate x="0" y="0"> or <frame x="0" y="0" width=W height=H>
    (`size` = W, H: the caller measures what the elements draw). The group goes where the first
    of them was; only the moved lines are re-indented, by one level."""
    if kind not in GROUP_KINDS:
        raise InputError(f"group kind {kind!r}: use one of {', '.join(GROUP_KINDS)}")
    doc = Document(source)
    chosen = sorted({doc.element(i).start: doc.element(i) for i in indices}.values(), key=lambda e: e.start)
    if not chosen:
        raise InputError("group: no elements given")
    parent = chosen[0].parent
    if any(e.parent is not parent for e in chosen):
        raise InputError("group: the elements must be in the same container")
    indent = doc.indent_of(chosen[0])
    unit = doc.indent_unit(parent) if parent is not None else "  "
    bodies = []
    edits = []
    for e in chosen:
        start, end = _whole_lines(source, e.start, e.end)
        text = source[e.start:e.end]
        lines = text.split("\n")
        lines = [unit + indent + lines[0]] + [(unit + ln if ln.strip() else ln) for ln in lines[1:]]
        bodies.append("\n".join(lines))
        edits.append((start, end, ""))
    if kind == "frame":
        w, h = size if size else (100, 100)
        open_tag = f'<frame x="0" y="0" width="{_show(max(1, round(w)))}" height="{_show(max(1, round(h)))}">'
    else:
        open_tag = '<translate x="0" y="0">'
    block = indent + open_tag + "\n" + "\n".join(bodies) + "\n" + indent + f"</{kind}>"
    first_start, first_end = edits[0][0], edits[0][1]
    whole = first_start != chosen[0].start
    edits[0] = (first_start, first_end, block + ("\n" if whole else ""))
    if not whole:  # the first element shares its line: the block goes in its place, unindented start
        edits[0] = (first_start, first_end, block[len(indent):])
    return _splice(source, edits)
