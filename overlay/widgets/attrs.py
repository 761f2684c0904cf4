"""Attribute specs and value parsers for layout XML elements.

Every element type declares its attributes as a tuple of `Attr`; the layout
parser validates against them and stores parsed values, so widgets never see
raw strings and every mistake is reported once, with file and line, before
any rendering starts. Parsers raise ValueError with a short reason.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from overlay.layout.metrics import ALIASES, NAMES, STATS

Colour = tuple[int, int, int, int]

WHITE: Colour = (255, 255, 255, 255)
BLACK: Colour = (0, 0, 0, 255)

# Metric names of the layout vocabulary: the table in overlay.layout.metrics is the source.
METRICS: tuple[str, ...] = NAMES
METRIC_ALIASES: dict[str, str] = dict(ALIASES)

ALIGNMENTS = {"left": "la", "right": "ra", "centre": "ma", "center": "ma"}
_ANCHOR = re.compile(r"^[lmrs][atmsbd]$")


@dataclass(frozen=True)
class Attr:
    """One attribute of an element: how to parse it, its default, whether it must be given, what it means."""

    name: str
    parse: Callable[[str], Any]
    default: Any = None
    required: bool = False
    doc: str = ""  # what it means here; empty: overlay.widgets.attrdocs has it (shared or per component)


def canonical(name: str) -> str:
    """Attribute and type names treat '-' and '_' alike ('outline-width' = 'outline_width')."""
    return name.strip().replace("-", "_")


# --- readable types ------------------------------------------------------------------------------
# Every parser says, in a few words, what values it takes: docs/layout-xml.md shows it as the
# attribute's type. A parser nobody described makes describe() fail, and with it the docs test,
# so a new parser cannot slip into the vocabulary undocumented. A "{}" in a kind stands for the
# kind of the parser it wraps (positive(parse_number) -> "number > 0").

def kind(text: str) -> Callable[[Callable], Callable]:
    """Decorator: mark a parser with the readable type of the values it takes."""
    def mark(parse: Callable) -> Callable:
        parse.kind = text
        return parse
    return mark


# Parsers defined in widget modules, described here by function name (they can carry @kind
# themselves instead; a mark on the function wins over this table).
KINDS_ELSEWHERE = {
    "parse_zoom": "integer 1–19",  # overlay.widgets.maps
    "parse_icon_file": "icon name or image file",  # overlay.widgets.icon
    "parse_nonzero": "{}, not 0",  # overlay.widgets.gauges.nonzero
}


def describe(parse: Callable) -> str:
    """The readable type of a parser's values ('integer', 'colour r,g,b[,a]', 'one of ltr|ttb')."""
    text = getattr(parse, "kind", None) or KINDS_ELSEWHERE.get(getattr(parse, "__name__", ""))
    if not text:
        raise LookupError(f"parser {getattr(parse, '__qualname__', parse)!r} has no readable type: "
                          f"mark it with @kind(...) or add it to KINDS_ELSEWHERE in overlay/widgets/attrs.py")
    if "{}" in text:
        inner = getattr(parse, "wraps", None) or inspect.getclosurevars(parse).nonlocals.get("parse")
        if inner is None:
            raise LookupError(f"parser {parse.__qualname__!r}: kind {text!r} wraps a parser it does not name")
        text = text.format(describe(inner))
    return text


@kind("integer")
def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if value != int(value):
            raise ValueError("must be a whole number") from None
        return int(value)


@kind("number")
def parse_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("must be a finite number")
    return value


def non_negative(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_non_negative(text: str):
        value = parse(text)
        if value < 0:
            raise ValueError("must not be negative")
        return value
    parse_non_negative.kind, parse_non_negative.wraps = "{} ≥ 0", parse
    return parse_non_negative


def positive(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_positive(text: str):
        value = parse(text)
        if value <= 0:
            raise ValueError("must be above 0")
        return value
    parse_positive.kind, parse_positive.wraps = "{} > 0", parse
    return parse_positive


@kind("number 0–1")
def parse_fraction(text: str) -> float:
    value = parse_number(text)
    if not 0 <= value <= 1:
        raise ValueError("must be between 0 and 1")
    return value


class _NotGiven:
    """The default of an attribute whose `none` is a value of its own, so None cannot mean "not given"."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self):  # one instance across pickling to the workers
        return "NOT_GIVEN"


NOT_GIVEN = _NotGiven()


@kind("integer 0–255")
def parse_byte(text: str) -> int:
    value = parse_int(text)
    if not 0 <= value <= 255:
        raise ValueError("must be between 0 and 255")
    return value


@kind("true or false")
def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "yes", "1", "on"):
        return True
    if low in ("false", "no", "0", "off"):
        return False
    raise ValueError("must be true or false")


@kind("colour r,g,b[,a]")
def parse_colour(text: str) -> Colour:
    """'r,g,b' or 'r,g,b,a', each 0-255; returned with alpha always present."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (3, 4) or not all(0 <= v <= 255 for v in values):
        raise ValueError("colour must be 'r,g,b' or 'r,g,b,a' with each 0-255")
    return tuple(values + [255] * (4 - len(values)))  # type: ignore[return-value]


@kind("colour r,g,b[,a] or none")
def parse_optional_colour(text: str) -> Colour | None:
    """A colour, or 'none' for nothing drawn."""
    if text.strip().lower() in ("none", ""):
        return None
    return parse_colour(text)


@kind("left, right, centre or an anchor")
def parse_align(text: str) -> str:
    """left / right / centre, or a Pillow anchor like 'ls' (left, baseline); returns the anchor."""
    low = text.strip().lower()
    if low in ALIGNMENTS:
        return ALIGNMENTS[low]
    if _ANCHOR.match(low):
        return low
    raise ValueError(f"must be one of {', '.join(ALIGNMENTS)} or a Pillow anchor like 'la', 'rs', 'mm'")


# STATS (running statistics: metric="speed.max") come from overlay.layout.metrics.


@kind("metric name")
def parse_metric(text: str) -> str:
    name = text.strip()
    name = METRIC_ALIASES.get(name, name)
    if name in METRICS:
        return name
    base, _, stat = name.rpartition(".")
    base = METRIC_ALIASES.get(base, base)
    if stat in STATS and base in METRICS:
        return f"{base}.{stat}"
    raise ValueError(f"unknown metric; valid choices: {', '.join(sorted(METRICS))}, "
                     f"or any of them with .min, .max or .avg")


@kind("text")
def parse_text(text: str) -> str:
    return text


# Formats of durations in seconds (overlay.widgets.text): pace m:ss, time h:mm:ss, mm:ss, delta +0.42.
DURATION_FORMATS = ("pace", "time", "mm:ss", "delta")


@kind("number format")
def parse_format_spec(text: str) -> str:
    """A Python format spec ('.1f', '03.0f'), 'pace' (m:ss), 'time' (h:mm:ss) or 'mm:ss'; checked now,
    not mid-render."""
    spec = text.strip()
    if spec in DURATION_FORMATS:
        return spec
    try:
        format(1.5, spec)
    except (ValueError, TypeError):
        try:
            format(1, spec)
        except (ValueError, TypeError):
            raise ValueError("must be a Python format spec like '.1f', or 'pace', 'time', 'mm:ss' or 'delta'") from None
    return spec


@kind("strftime format")
def parse_strftime(text: str) -> str:
    try:
        datetime(2024, 1, 1, tzinfo=timezone.utc).strftime(text)
    except ValueError as exc:
        raise ValueError(f"bad strftime format: {exc}") from None
    return text


def choice(*options: str) -> Callable[[str], str]:
    def parse_choice(text: str) -> str:
        low = text.strip().lower()
        if low not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return low
    parse_choice.kind = "one of " + "|".join(options)
    return parse_choice


# Attributes shared by every text-like component.
TEXT_STYLE = (
    Attr("x", parse_number, 0.0),
    Attr("y", parse_number, 0.0),
    Attr("size", positive(parse_number), 16.0),
    Attr("align", parse_align, "la"),
    Attr("rgb", parse_colour, WHITE),
    Attr("outline", parse_optional_colour, BLACK),
    Attr("outline_width", non_negative(parse_number), 2.0),
    Attr("cache", parse_bool, True),  # accepted for compatibility; text is always cached
)
