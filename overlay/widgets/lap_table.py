"""lap-table: the last few completed laps, one row each (number, time, difference to the best), the
best lap so far on a highlighted row.

The table changes only when a lap is completed, so its picture is drawn once per lap count and
cached; the widget's key is that count. The lap times are read back from the frame table (at
the first frame of each new lap.n, lap.last is the lap just completed), which keeps the widget
on the same columns as any metric and free of telemetry.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from overdash.lru import LRU
from overlay.telemetry.laps_delta import format_lap_time
from overlay.widgets.attrs import (
    WHITE,
    Attr,
    non_negative,
    parse_colour,
    parse_int,
    parse_number,
    parse_optional_colour,
    positive,
)
from overlay.widgets.base import Box, Widget
from overlay.widgets.imaging import paste_over
from overlay.widgets.registry import component
from overlay.widgets.text import DELTA_COLOURS, format_delta

BEST = (150, 60, 230, 230)  # motorsport's purple for the best lap


def completed_laps(lap_n: np.ndarray, lap_last: np.ndarray) -> np.ndarray:
    """Times of the laps completed in the table (NaN for one the frames skipped over), in order."""
    n = np.nan_to_num(np.asarray(lap_n, np.float64), nan=0.0).astype(int)
    times = np.full(int(n.max()) if len(n) else 0, np.nan)
    for frame in np.flatnonzero(np.diff(n, prepend=0) > 0):
        times[n[frame] - 1] = lap_last[frame]
    return times


@component("lap-table", (
    Attr("x", parse_number, 0.0),
    Attr("y", parse_number, 0.0),
    Attr("width", non_negative(parse_number), 0.0,
         doc="Width in layout pixels; 0: 16 times the font size, room for the lap, its time and the difference."),
    Attr("size", positive(parse_number), 16.0, doc="Font size, in layout pixels; rows are 1.5 times this apart."),
    Attr("rows", positive(parse_int), 5, doc="How many laps to list: the most recent ones, the latest at the bottom."),
    Attr("rgb", parse_colour, WHITE, doc="Colour of the text."),
    Attr("best", parse_optional_colour, BEST, doc="Colour of the bar behind the best lap so far; none: no bar."),
    Attr("bg", parse_optional_colour, (0, 0, 0, 110), doc="Colour of the table's background; none: clear."),
    Attr("slower", parse_colour, DELTA_COLOURS[0], doc="Colour of each lap's difference to the best (never below it)."),
    Attr("outline_width", non_negative(parse_number), 0.0, doc="Width of the dark edge around the letters; 0: none."),
))
class LapTable(Widget):
    reads = ("lap.n", "lap.last")
    clips = True

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a, scaling = self.a, ctx.scaling
        self.font_px = scaling.length(a["size"])
        self.row_h = max(1, round(self.font_px * 1.5))
        self.w = scaling.length(a["width"] or 16 * a["size"])
        self.h = self.row_h * a["rows"]
        self.laps = completed_laps(ctx.values("lap.n"), ctx.values("lap.last"))
        self.count = np.nan_to_num(np.asarray(ctx.values("lap.n"), np.float64), nan=0.0).astype(int)
        edge = scaling.length(a["outline_width"])
        self.text = {k: ctx.fonts.raster(self.font_px, colour, (0, 0, 0, 255) if edge else None, edge, anchor)
                     for k, colour, anchor in (("num", a["rgb"], "lm"), ("time", a["rgb"], "rm"),
                                               ("delta", a["slower"], "rm"))}
        self.cache: LRU[Image.Image] = LRU(16)

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    def key(self, frame: int):
        return int(self.count[frame]) if 0 <= frame < len(self.count) else 0

    def draw(self, frame, image, origin):
        done = self.key(frame)
        picture = self.cache.get(done, lambda: self._table(done))
        paste_over(image, picture, self.x - origin[0], self.y - origin[1])

    def _table(self, done: int) -> Image.Image:
        """The table once `done` laps are complete."""
        a = self.a
        out = Image.new("RGBA", (self.w, self.h), a["bg"] or (0, 0, 0, 0))
        laps = self.laps[:done]
        if not len(laps) or not np.isfinite(laps).any():
            return out
        best = float(np.nanmin(laps))
        first = max(0, done - a["rows"])
        pad = max(2, self.font_px // 3)
        d = ImageDraw.Draw(out)
        for row, k in enumerate(range(first, done)):
            top, mid = row * self.row_h, row * self.row_h + self.row_h // 2
            is_best = laps[k] == best
            if is_best and a["best"]:
                d.rectangle((0, top, self.w - 1, top + self.row_h - 1), fill=a["best"])
            self.text["num"].draw(out, f"L{k + 1}", pad, mid)
            self.text["time"].draw(out, format_lap_time(laps[k]), round(self.w * 0.62), mid)
            if not is_best and math.isfinite(laps[k]):
                self.text["delta"].draw(out, format_delta(laps[k] - best, 2), self.w - pad, mid)
        return out
