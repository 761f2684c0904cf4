"""Attribute specs and value parsers for layout XML elements.

Every element type declares its attributes as a tuple of `Attr`; the layout
parser validates against them and stores parsed values, so widgets never see
raw strings and every mistake is reported once, with file and line, before
any rendering starts. Parsers raise ValueError with a short reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

Colour = tuple[int, int, int, int]

WHITE: Colour = (255, 255, 255, 255)
BLACK: Colour = (0, 0, 0, 255)

# Metric names of the layout vocabulary (LAYOUT-XML.md), plus our own speed3d.
METRICS = (
    "hr", "cadence", "power", "speed", "cspeed", "speed3d", "accel", "temp", "cgrad", "alt",
    "codo", "dist", "azi", "cog", "gps-dop", "gps-lock", "timestamp", "lat", "lon",
    "accl.x", "accl.y", "accl.z", "grav.x", "grav.y", "grav.z",
    "ori.pitch", "ori.roll", "ori.yaw",
    "lean", "vspeed",  # our own: lean angle (degrees, from gravity/orientation), vertical speed
    # our own, in seconds (lap: a number): elapsed and moving time, lap number, time into the
    # current lap, the previous lap's time (rules: overlay.frametable.TIME_METRICS)
    "elapsed", "moving", "lap", "lap.time", "lap.last",
)
METRIC_ALIASES = {"gradient": "cgrad", "odo": "codo"}

ALIGNMENTS = {"left": "la", "right": "ra", "centre": "ma", "center": "ma"}
_ANCHOR = re.compile(r"^[lmrs][atmsbd]$")


@dataclass(frozen=True)
class Attr:
    """One attribute of an element: how to parse it, its default, whether it must be given."""

    name: str
    parse: Callable[[str], Any]
    default: Any = None
    required: bool = False


def canonical(name: str) -> str:
    """Attribute and type names treat '-' and '_' alike ('outline-width' = 'outline_width')."""
    return name.strip().replace("-", "_")


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
    return parse_non_negative


def positive(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse_positive(text: str):
        value = parse(text)
        if value <= 0:
            raise ValueError("must be above 0")
        return value
    return parse_positive


def parse_fraction(text: str) -> float:
    value = parse_number(text)
    if not 0 <= value <= 1:
        raise ValueError("must be between 0 and 1")
    return value


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "yes", "1", "on"):
        return True
    if low in ("false", "no", "0", "off"):
        return False
    raise ValueError("must be true or false")


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


def parse_optional_colour(text: str) -> Colour | None:
    """A colour, or 'none' for nothing drawn."""
    if text.strip().lower() in ("none", ""):
        return None
    return parse_colour(text)


def parse_align(text: str) -> str:
    """left / right / centre, or a Pillow anchor like 'ls' (left, baseline); returns the anchor."""
    low = text.strip().lower()
    if low in ALIGNMENTS:
        return ALIGNMENTS[low]
    if _ANCHOR.match(low):
        return low
    raise ValueError(f"must be one of {', '.join(ALIGNMENTS)} or a Pillow anchor like 'la', 'rs', 'mm'")


STATS = ("min", "max", "avg")  # running statistics: metric="speed.max"


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


def parse_text(text: str) -> str:
    return text


# Formats of durations in seconds (overlay.widgets.text): pace m:ss, time h:mm:ss, mm:ss.
DURATION_FORMATS = ("pace", "time", "mm:ss")


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
            raise ValueError("must be a Python format spec like '.1f', or 'pace', 'time' or 'mm:ss'") from None
    return spec


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
