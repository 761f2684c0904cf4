"""Text-like components: text, metric, metric_unit, datetime.

Each shows one string per frame through a shared TextRaster, so drawing is a
column lookup, a string format and one cached paste. Bounding boxes are
measured over every string the widget can show for this FrameTable (the
column's min/max with the widest digit), so the pipeline can send only the
region that can ever change.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone

import numpy as np

from overlay.layout.metrics import lookup as lookup_metric
from overlay.widgets.attrs import (
    TEXT_STYLE,
    Attr,
    choice,
    non_negative,
    parse_format_spec,
    parse_int,
    parse_metric,
    parse_optional_colour,
    parse_strftime,
    parse_text,
)
from overlay.widgets.base import Box, Widget, union, value_at
from overlay.widgets.registry import component

DIGITS = "0123456789"
_DIGIT = re.compile(r"\d")


class TextWidget(Widget):
    """One string per frame in one style: font size, colours and outline scaled to the video."""

    clips = True  # a cached raster, pasted with paste_over

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a, scaling = self.a, ctx.scaling
        self.raster = ctx.fonts.raster(scaling.length(a["size"]), a["rgb"], a["outline"],
                                       scaling.length(a["outline_width"]) if a["outline"] else 0, a["align"])

    def box_of(self, texts) -> Box | None:
        boxes = []
        for t in texts:
            l, top, r, b = self.raster.bbox(t)
            boxes.append((self.x + l, self.y + top, self.x + r, self.y + b))
        return union(boxes)

    def widened(self, texts) -> Box | None:
        """Box of `texts` with every digit as the widest digit, plus a small margin."""
        font = self.raster.font
        wide = max(DIGITS, key=lambda d: font.getlength(d))
        box = self.box_of({_DIGIT.sub(wide, t) for t in texts} | set(texts))
        if box is None:
            return None
        # min/max with the widest digit already bound every value; a quarter digit more, on the
        # side the text grows to, absorbs rounding in glyph placement.
        m = math.ceil(font.getlength(wide) / 4)
        side = self.raster.anchor[0]
        left = m if side == "r" else (m + 1) // 2 if side == "m" else 0
        right = m if side in "ls" else (m + 1) // 2 if side == "m" else 0
        return (box[0] - left, box[1], box[2] + right, box[3])

    def raster_box(self, text: str) -> Box | None:
        """Exactly where raster.draw puts `text`: the box of its cached raster."""
        im, dx, dy = self.raster.render(text)
        if im is None:
            return None
        return (self.x + dx, self.y + dy, self.x + dx + im.width, self.y + dy + im.height)

    def text(self, frame: int) -> str:
        """The string shown at `frame`."""
        raise NotImplementedError

    def draw(self, frame, image, origin):
        self.raster.draw(image, self.text(frame), self.x - origin[0], self.y - origin[1])


class FixedText(TextWidget):
    """The same string on every frame (set `string`): drawn once, into a static layer."""

    static = True
    string = ""

    def text(self, frame: int) -> str:
        return self.string

    def bbox(self) -> Box | None:
        return self.box_of([self.string])


class LiveText(TextWidget):
    """A column's value per frame (set `values`) as text, '-' where it is missing.

    The string is the key (it is all that changes) and its cached raster the extent,
    so a worker repaints only when, and only where, the text changes.
    """

    values: np.ndarray

    def show(self, v: float) -> str:
        """The text of a known value."""
        raise NotImplementedError

    def text(self, frame: int) -> str:
        v = value_at(self.values, frame)
        return self.show(v) if math.isfinite(v) else "-"

    def key(self, frame: int):
        return self.text(frame)

    def extent(self, frame: int) -> Box | None:
        return self.raster_box(self.text(frame))

    def extremes(self) -> list[float]:
        """The column's least and greatest known values ([] when none is known): bbox measures these."""
        finite = self.values[np.isfinite(self.values)]
        return [float(finite.min()), float(finite.max())] if len(finite) else []


@component("text", TEXT_STYLE + (Attr("direction", choice("ltr", "ttb"), "ltr"),), body=True)
class Text(FixedText):
    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        text = node.text
        self.string = "\n".join(text) if self.a["direction"] == "ttb" else text


@component("metric", TEXT_STYLE + (
    Attr("metric", parse_metric, required=True),
    Attr("units", parse_text, None),
    Attr("dp", non_negative(parse_int), 2),
    Attr("format", parse_format_spec, None),
    Attr("style", choice("plain", "delta"), "plain",
         doc="delta: the text in green when the value is negative (faster, as lap.delta), red when "
             "positive, rgb when it shows zero; plain: always rgb."),
))
class Metric(LiveText):
    """A number from the FrameTable; '-' when missing."""

    metric_attrs = ("metric",)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.values = ctx.values(self.a["metric"], self.a["units"])
        spec, dp = self.a["format"], self.a["dp"]
        self.format = DURATIONS.get(spec) or (lambda v: format_number(v, spec, dp))
        if spec == "delta":
            self.format = lambda v: format_delta(v, dp)
        self.signed = None
        if self.a["style"] == "delta":  # same size and outline, the colour by sign
            scaling, a = ctx.scaling, self.a
            self.signed = tuple(ctx.fonts.raster(scaling.length(a["size"]), colour, a["outline"],
                                                 scaling.length(a["outline_width"]) if a["outline"] else 0,
                                                 a["align"]) for colour in DELTA_COLOURS)
        entry = lookup_metric(self.a["metric"])
        self.labels = entry.labels if entry is not None else ()
        if self.labels:  # a metric that is a name (event): its column holds the name's 1-based place
            self.format = lambda v: self.labels[int(v) - 1] if 1 <= v <= len(self.labels) else "-"

    def show(self, v: float) -> str:
        return self.format(v)

    def draw(self, frame, image, origin):
        text = self.text(frame)
        side = delta_side(text) if self.signed else 0
        raster = self.raster if side == 0 else self.signed[side < 0]  # type: ignore[index]
        raster.draw(image, text, self.x - origin[0], self.y - origin[1])

    def bbox(self) -> Box | None:
        extremes = self.extremes()
        return self.widened({"-", *self.labels} | {self.show(v) for v in extremes + ([0.0] if extremes else [])})


def format_number(v: float, spec: str | None, dp: int) -> str:
    if spec is None:
        s = f"{v:.{dp}f}"
    else:
        try:
            s = format(v, spec)
        except ValueError:  # integer presentation types ('d', 'x') want an int
            s = format(int(round(v)), spec)
    if s.startswith("-") and not any(c in s for c in "123456789"):
        s = s[1:]  # "-0.0" reads as a glitch
    return s


MINUS = "\u2212"  # the minus sign: as wide as '+', so a delta's digits stay put as its sign flips
# style="delta": (slower, faster) - red when behind, green when ahead; lap-delta and lap-table use them too
DELTA_COLOURS = ((230, 40, 40, 255), (40, 200, 70, 255))


def format_delta(v: float, dp: int = 2) -> str:
    """A signed difference: '+0.42', '\u22121.07' (a true minus sign); '0.00' when it rounds to zero."""
    s = f"{abs(v):.{dp}f}"
    if not any(c in s for c in "123456789"):
        return s
    return ("+" if v > 0 else MINUS) + s


def delta_side(text: str) -> int:
    """-1 for a shown value below zero (text starting with a minus), 1 above, 0 for zero or no value."""
    if not any(c in text for c in "123456789"):
        return 0
    return -1 if text.lstrip().startswith(("-", MINUS)) else 1


def format_pace(v: float) -> str:
    """Minutes (per km, mile...: the pace units) as m:ss, the seconds rounded up as
    gopro-dashboard-overlay writes them (1e-6 s of float noise is not a second more)."""
    m, s = divmod(math.ceil(60.0 * v - 1e-6), 60)
    return f"{m}:{s:02d}"


def _whole_seconds(v: float) -> tuple[str, int]:
    """Sign and whole seconds of a duration, truncated as a stopwatch does (59.9 s shows 0:59)."""
    return ("-" if v <= -1 else ""), int(math.floor(abs(v) + 1e-6))


def format_time(v: float) -> str:
    """Seconds as h:mm:ss ('0:05:07', '12:00:00'): format="time"."""
    sign, s = _whole_seconds(v)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}"


def format_minutes(v: float) -> str:
    """Seconds as mm:ss, minutes past 59 going on ('05:07', '75:03'): format="mm:ss"."""
    sign, s = _whole_seconds(v)
    m, s = divmod(s, 60)
    return f"{sign}{m:02d}:{s:02d}"


DURATIONS = {"pace": format_pace, "time": format_time, "mm:ss": format_minutes, "delta": format_delta}


@component("metric_unit", TEXT_STYLE + (
    Attr("metric", parse_metric, None),
    Attr("units", parse_text, None),
), body=True)
class MetricUnit(FixedText):
    """The unit symbol; its label is resolved in the main process (pint) into the layout tree."""

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.string = node.derived.get("label") or ctx.unit_label(self.a["metric"], self.a["units"])


# Dates that exercise the widest month and weekday names for bounding boxes.
_SAMPLE_TIMES = [datetime(2000 + (m % 3), m, 20 + m % 7, 23, 59, 59, 999999, tzinfo=timezone.utc)
                 for m in range(1, 13)]


# gopro-dashboard-overlay draws dates and times without an outline unless one is asked for.
DATETIME_STYLE = tuple(Attr("outline", parse_optional_colour, None) if a.name == "outline" else a for a in TEXT_STYLE)


@component("datetime", DATETIME_STYLE + (
    Attr("format", parse_strftime, required=True),
    Attr("truncate", non_negative(parse_int), 0),
))
class DateTime(LiveText):
    """strftime of the frame's time: wall-clock where the ride happened (FrameTable 'utc-offset'), else UTC."""

    reads = ("timestamp",)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.values = ctx.values("timestamp")
        shift = ctx.values("utc-offset")
        if len(shift) == len(self.values):
            self.values = self.values + np.nan_to_num(shift)
        self.fmt, self.truncate = self.a["format"], self.a["truncate"]

    def strftime(self, when: datetime) -> str:
        s = when.strftime(self.fmt)
        return s[:-self.truncate] if self.truncate else s

    def show(self, v: float) -> str:
        return self.strftime(datetime.fromtimestamp(v, timezone.utc))

    def bbox(self) -> Box | None:
        shown = {"-"} | {self.strftime(t) for t in _SAMPLE_TIMES} | {self.show(v) for v in self.extremes()}
        return self.widened(shown)
