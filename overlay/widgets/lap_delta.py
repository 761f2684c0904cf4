"""lap-delta: a bar centred at zero showing the live lap delta: green to the left while ahead of the
best lap, red to the right while behind.

The bar track, outline and fill crop are bar's (overlay.widgets.bar); what differs is the scale
(symmetric, ±range seconds, so zero is always in the middle), the metric it reads by default
(lap.delta), and the fill: one layer green left of zero and red right of it, cropped from zero
to the value, so a frame is one cached crop and one paste.
"""
from __future__ import annotations

from PIL import Image, ImageDraw

from overlay.widgets.attrs import WHITE, Attr, parse_colour, parse_metric, parse_number, parse_optional_colour, positive
from overlay.widgets.bar import BAR_ATTRS, BarTrack, BarWidget
from overlay.widgets.base import StaticImage, Widget
from overlay.widgets.registry import component
from overlay.widgets.text import DELTA_COLOURS

SLOWER, FASTER = DELTA_COLOURS


@component("lap-delta", tuple(a for a in BAR_ATTRS if a.name != "metric") + (
    Attr("metric", parse_metric, "lap.delta",
         doc="What to show, in seconds (see Metrics): lap.delta, or sector.delta; negative is faster."),
    Attr("range", positive(parse_number), 2.0,
         doc="Seconds at either end of the bar: a delta of ±range fills one half, beyond it stays there."),
    Attr("faster", parse_colour, FASTER, doc="Colour of the bar while ahead (delta below zero), left of the centre."),
    Attr("slower", parse_colour, SLOWER, doc="Colour of the bar while behind (delta above zero), right of the centre."),
    Attr("zero", parse_optional_colour, WHITE, doc="Colour of the line at zero, in the middle; none: no line."),
))
class LapDelta(BarWidget):
    def __init__(self, node, offset, ctx):
        Widget.__init__(self, node, offset, ctx)
        self.a = {**self.a, "min": -self.a["range"], "max": self.a["range"]}  # BarTrack's scale
        self.track = BarTrack(self)

    def fill_layer(self) -> tuple[Image.Image, int]:
        t = self.track
        zero = int(round(float(t.to_px(0.0))))
        layer = Image.new("RGBA", (t.iw, t.ih), self.a["slower"])
        ImageDraw.Draw(layer).rectangle((0, 0, zero - 1, t.ih), fill=self.a["faster"])
        return layer, zero

    def markers(self) -> list[StaticImage | None]:
        t = self.track
        return [t.marker(float(t.to_px(0.0)), max(1, self.ctx.scaling.length(2)), self.a["zero"])]
