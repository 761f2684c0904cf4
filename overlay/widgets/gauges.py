"""What every gauge widget (asi, msi, msi2, cairo-gauge-*) shares: attributes, the DialWidget base, the readout.

A gauge is drawn as a static face (dial.face), plus per frame only what moves:
a needle or dot (dial.needle), a lit arc (dial.arcs), a digital readout
(ValueText here). Where a value falls is dial.scale's arithmetic. The widgets
themselves are in speed_dials.py and cairo_gauges.py.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
from PIL import Image

from overdash import InputError
from overlay.widgets.attrs import Attr, parse_colour, parse_int, parse_metric, parse_number, parse_text, positive
from overlay.widgets.base import Box, Drawable, SquareWidget, value_at
from overlay.widgets.dial.face import MARK, SHADOW, FaceDraw, Labels, paint_face
from overlay.widgets.dial.labels import Mark, fit
from overlay.widgets.textcache import TextRaster


def nonzero(parse: Callable[[str], float]) -> Callable[[str], float]:
    def parse_nonzero(text: str) -> float:
        value = parse(text)
        if value == 0:
            raise ValueError("must not be 0")
        return value
    return parse_nonzero


def scale_attrs(metric="speed", units=None, lo=0.0, hi=50.0, start=143.0, length=254.0, sectors=5):
    return (
        Attr("metric", parse_metric, metric),
        Attr("units", parse_text, units),
        Attr("min", parse_number, lo),
        Attr("max", parse_number, hi),
        Attr("start", parse_number, start),
        Attr("length", nonzero(parse_number), length),
        Attr("sectors", positive(parse_int), sectors),
    )


def colour(name: str, default) -> Attr:
    return Attr(name, parse_colour, default)


def input_error(node, problem: str) -> InputError:
    return InputError(f'{node.where}: <component type="{node.type}">: {problem}')


class ValueText(Drawable):
    """The value as text at a point (cached rasters), '-' when missing."""

    def __init__(self, raster: TextRaster, values: np.ndarray, fmt: Callable[[float], str], x: int, y: int,
                 box: Box):
        self.raster, self.values, self.fmt, self.x, self.y, self.box = raster, values, fmt, x, y, box

    def bbox(self) -> Box:
        return self.box

    def draw(self, frame, image, origin):
        v = value_at(self.values, frame)
        self.raster.draw(image, self.fmt(v) if v == v else "-", self.x - origin[0], self.y - origin[1])


class DialWidget(SquareWidget):
    """A gauge in the size x size square at (x, y) (8 px at least), showing its `metric`."""

    metric_attrs = ("metric",)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.size = max(8, self.size)
        self.k = self.size / self.a["size"]  # design px -> video px
        self.R = self.size / 2
        self.values = ctx.values(self.a.get("metric"), self.a.get("units"))

    def raster(self, px: float, fill=MARK, anchor: str = "mm", outline=SHADOW,
               outline_width: float | None = None) -> TextRaster:
        """Text of `px` pixels; its dark edge `outline_width` video pixels wide (None: in proportion)."""
        px = max(6, round(px))
        if outline_width is None:
            ow = max(1, round(px / 12)) if outline and outline[3] else 0
        else:
            ow = max(0, round(outline_width))
        return self.ctx.fonts.raster(px, tuple(fill), outline, ow, anchor)

    def numbers(self, labels: Labels, marks: list[Mark], raster: Callable[[int, float], TextRaster]):
        """Put a scale's numbers on the face, as many as fit without overlapping (dial.labels)."""
        for r, text, x, y in fit(marks, raster):
            labels.add(r, text, x, y)

    def face(self, paint: Callable[[FaceDraw], None], labels: Labels | None = None,
             under: Iterable[Image.Image] = ()) -> Image.Image:
        img = Image.new("RGBA", (self.size, self.size), (0, 0, 0, 0))
        for u in under:
            img.alpha_composite(u)
        img.alpha_composite(paint_face(self.size, paint))
        if labels is not None:
            labels.draw(img)
        return img
