"""gopro-dashboard-overlay's older layout vocabulary, turned into today's at parse time.

Its early releases had "bundled components": one `<component type="big_mph">` drew a
title, a number and sometimes an icon, with fixed texts and offsets. Layouts written
then (and some it still ships) use them, along with a few older spellings. Rather than
keep widgets for them, each older type expands, while the layout is read, into the
`text` / `metric` / `icon` / `datetime` components that draw the same thing, inside a
composite at its x, y; so the renderer, `--include`/`--exclude` and the docs know
nothing new.

The facts each expansion encodes (texts, metrics, units, decimal places, icons, offsets
from x, y, alignment, default sizes) are those of gopro-dashboard-overlay's own
components of that time; the offsets are layout pixels and do not grow with the sizes,
as there.

Older spellings of current things are renamed instead of expanded:
`gradient-bar` is `zone-bar` (its `z0-color`..`z3-color` are `z0-col`..`z3-col`), and on
`moving_map` / `journey_map`, `roundedcorners="true"` is `corner_radius="35"` (the radius
it drew) and `transparencylevel` is `opacity` (it was the map's opacity, 0.7 unless given).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from overdash import InputError
from overlay.widgets.attrs import Attr, canonical, parse_bool, parse_fraction, parse_number, positive

# (component type, attributes as a layout would write them, text inside the element)
Part = tuple[str, dict[str, str], str]


@dataclass(frozen=True)
class OlderType:
    """A bundled component of old: its attributes, what it draws (for the docs) and its expansion."""

    name: str
    attrs: tuple[Attr, ...]
    doc: str
    parts: Callable[[dict[str, Any]], list[Part]]


def _n(v: float) -> str:
    return repr(float(v))


def _xy(doc: str) -> tuple[Attr, ...]:
    return (Attr("x", parse_number, 0.0, doc=f"{doc}, in layout pixels."),
            Attr("y", parse_number, 0.0, doc="Top of the first line, in layout pixels."))


def _size(name: str, default: float, what: str) -> Attr:
    return Attr(name, positive(parse_number), default, doc=f"Font size of {what}, in layout pixels.")


_PANEL_SIZES = (_size("size_title", 16.0, "the title"), _size("size_metric", 32.0, "the value"))


def _panel(title: str, icon: str, metric: str, dp: int, side: str) -> Callable[[dict[str, Any]], list[Part]]:
    """A 64 px icon with a title and, 18 px below the title's top, the value. side="left": the icon's
    left edge at x, texts from 70 px right of it; side="right": the icon ends at x, texts end 70 px
    left of it (right-aligned)."""
    def parts(a: dict[str, Any]) -> list[Part]:
        tx, ix, align = (70.0, 0.0, "left") if side == "left" else (-70.0, -64.0, "right")
        return [
            ("text", {"x": _n(tx), "y": "0", "size": _n(a["size_title"]), "align": align}, title),
            ("icon", {"x": _n(ix), "y": "0", "file": icon, "size": "64"}, ""),
            ("metric", {"x": _n(tx), "y": "18", "metric": metric, "dp": str(dp), "size": _n(a["size_metric"]),
                        "align": align}, ""),
        ]
    return parts


def _panel_type(name: str, title: str, icon: str, metric: str, dp: int, side: str, what: str) -> OlderType:
    edge = "Left edge of the icon" if side == "left" else "Right edge of the icon"
    doc = (f"{what} with `{icon}` and the title {title}: the same as an `icon` (size 64), a `text` and a "
           f"`metric` (metric=\"{metric}\", dp=\"{dp}\") placed as gopro-dashboard-overlay's bundled "
           f"component of that name placed them; texts to the {'right' if side == 'left' else 'left'} "
           "of the icon.")
    return OlderType(name, _xy(edge) + _PANEL_SIZES, doc, _panel(title, icon, metric, dp, side))


def _big_mph(a: dict[str, Any]) -> list[Part]:
    size = _n(a["size_metric"])
    return [("text", {"x": "0", "y": "0", "size": _n(a["size_title"])}, "MPH"),
            ("metric", {"x": "0", "y": "0", "metric": "speed", "units": "mph", "dp": "0", "size": size}, "")]


def _date_and_time(a: dict[str, Any]) -> list[Part]:
    return [("datetime", {"x": "0", "y": "0", "format": "%Y/%m/%d", "size": _n(a["size_date"]),
                          "align": "right"}, ""),
            ("datetime", {"x": "0", "y": "24", "format": "%H:%M:%S.%f", "truncate": "5",
                          "size": _n(a["size_time"]), "align": "right"}, "")]


def _gps_info(a: dict[str, Any]) -> list[Part]:
    """"Lat: …" and "Lon: …" were one string each, right-aligned at x - 130 and x. A metric cannot
    carry a label, so the labels are texts of their own, left-aligned where they begin when the
    numbers take their usual 9 or 10 characters of the default font at size 16 (the latitude ends
    6 px further left than it did, to keep 10 px from the longitude's label)."""
    size = _n(a["size"])
    return [("text", {"x": "0", "y": "0", "size": size, "align": "right"}, "GPS INFO"),
            ("text", {"x": "-276", "y": "24", "size": size, "align": "left"}, "Lat: "),
            ("metric", {"x": "-136", "y": "24", "metric": "lat", "dp": "6", "size": size, "align": "right"}, ""),
            ("text", {"x": "-126", "y": "24", "size": size, "align": "left"}, "Lon: "),
            ("metric", {"x": "0", "y": "24", "metric": "lon", "dp": "6", "size": size, "align": "right"}, "")]


OLDER: dict[str, OlderType] = {t.name: t for t in (
    OlderType("big_mph", _xy("Left edge of the title and the number") + (
        _size("size_title", 16.0, "the title MPH"), _size("size_metric", 160.0, "the speed")),
        "The speed in mph with no decimals, large, with the title MPH at its top left: a `text` and a "
        "`metric` (metric=\"speed\" units=\"mph\" dp=\"0\") at the same x, y.", _big_mph),
    OlderType("date_and_time", _xy("Right edge of both lines") + (
        _size("size_date", 16.0, "the date"), _size("size_time", 32.0, "the time")),
        "The date (%Y/%m/%d) and, 24 px below it, the time to tenths of a second (%H:%M:%S.%f less its "
        "last 5 digits), both right-aligned at x: two `datetime` components.", _date_and_time),
    OlderType("gps_info", _xy("Right edge of the block") + (_size("size", 16.0, "every line"),),
              "The title GPS INFO and, 24 px below it, the latitude and longitude with 6 decimals, each "
              "after its label (Lat:, Lon:), the block ending at x: `text` and `metric` components.", _gps_info),
    _panel_type("gradient", "SLOPE(%)", "slope-triangle.png", "gradient", 1, "left", "The gradient in percent"),
    _panel_type("altitude", "ALT(m)", "mountain.png", "alt", 1, "left", "The altitude in metres"),
    _panel_type("temperature", "TEMP(C)", "thermometer.png", "temp", 0, "right", "The temperature in °C"),
    _panel_type("cadence", "RPM", "gauge.png", "cadence", 0, "right", "The cadence"),
    _panel_type("heartbeat", "BPM", "heartbeat.png", "hr", 0, "right", "The heart rate"),
)}

# Older spellings: type -> today's type; attribute (per type) -> today's attribute.
RENAMED_TYPES = {"gradient_bar": "zone_bar"}
RENAMED_ATTRS = {
    "gradient_bar": {f"z{i}_color": f"z{i}_col" for i in range(4)},
    "moving_map": {"roundedcorners": "corner_radius", "transparencylevel": "opacity"},
    "journey_map": {"roundedcorners": "corner_radius", "transparencylevel": "opacity"},
}
ROUNDED_RADIUS = 35  # roundedcorners="true": the corner radius, in layout pixels, that it drew
RENAMED_DOCS = {  # for docs/layout-xml.md
    "gradient-bar": "The older name of `zone-bar`; its `z0-color`, `z1-color`, `z2-color` and `z3-color` "
                    "are `z0-col` .. `z3-col` (the zone colours).",
    "roundedcorners": f"On `moving_map` and `journey_map`: true/false. true is `corner_radius=\"{ROUNDED_RADIUS}\"` "
                      "(the radius it drew), false is square corners.",
    "transparencylevel": "On `moving_map` and `journey_map`: the older name of `opacity` (0 clear to 1 solid).",
}


def lookup(type_name: str) -> OlderType | None:
    """The older bundled component called `type_name` ('-' and '_' alike), or None."""
    return OLDER.get(canonical(type_name))


def renamed(type_name: str, attrib: dict[str, str], where: str) -> str:
    """Today's name for `type_name`; its older attribute spellings in `attrib` rewritten in place.

    A value is checked here, under the name the layout wrote, so an error names that attribute.
    """
    key = canonical(type_name)
    names = RENAMED_ATTRS.get(key)
    if names:
        desc = f'<component type="{type_name}">'
        for raw in [r for r in attrib if canonical(r) in names]:
            new, text = names[canonical(raw)], attrib.pop(raw)
            if any(canonical(r) == new for r in attrib):
                raise InputError(f"{where}: {desc}: give {raw!r} or {new!r}, not both ({raw} is the older name)")
            try:
                if new == "corner_radius":
                    text = str(ROUNDED_RADIUS if parse_bool(text) else 0)
                elif new == "opacity":
                    parse_fraction(text)
            except ValueError as exc:
                raise InputError(f"{where}: {desc}: {raw}={text!r}: {exc}") from None
            attrib[new] = text
    return RENAMED_TYPES.get(key, type_name)
