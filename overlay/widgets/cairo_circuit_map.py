"""cairo-circuit-map: the track outline with a location dot, line sizes relative to the widget.

Like circuit_map, but with the vocabulary of the Cairo variant: `line-width`
and `loc-size` are fractions of `size` (1 = the whole width), `rotate` turns
the drawing clockwise (degrees). The track is a static layer; the dot moves.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import ImageDraw

from overlay.widgets.attrs import WHITE, Attr, non_negative, parse_colour, parse_number, parse_optional_colour, positive
from overlay.widgets.base import Box, Drawable, Widget, supersampled
from overlay.widgets.circuit_map import marker, track_runs
from overlay.widgets.gauges import ACCENT, Layer
from overlay.widgets.registry import component


def fit(track: np.ndarray, size: int, pad: float, rotate: float):
    """Track (n, 2 lat/lon) -> pixels in a size x size square, turned `rotate` degrees clockwise; and the projector."""
    lat0 = math.radians(float(np.mean(track[:, 0])))
    k = max(math.cos(lat0), 1e-6)
    t = math.radians(rotate)
    c, s = math.cos(t), math.sin(t)

    def turned(lat, lon):
        x, y = np.asarray(lon, np.float64) * k, -np.asarray(lat, np.float64)
        return x * c - y * s, x * s + y * c  # clockwise on screen (y down)

    x, y = turned(track[:, 0], track[:, 1])
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    span = max(x1 - x0, y1 - y0)
    scale = max(size - 2 * pad, 1.0) / span if span > 0 else 0.0
    ox, oy = (size - (x1 - x0) * scale) / 2, (size - (y1 - y0) * scale) / 2

    def to_px(lat, lon):
        tx, ty = turned(lat, lon)
        return (tx - x0) * scale + ox, (ty - y0) * scale + oy

    return np.column_stack(to_px(track[:, 0], track[:, 1])), to_px


@component("cairo-circuit-map", (
    Attr("x", parse_number, 0.0),
    Attr("y", parse_number, 0.0),
    Attr("size", positive(parse_number), 256.0),
    Attr("rotate", parse_number, 0.0),
    Attr("fill", parse_colour, WHITE),
    Attr("outline", parse_optional_colour, (0, 0, 0, 170)),
    Attr("line_width", non_negative(parse_number), 0.015),
    Attr("loc_fill", parse_colour, ACCENT),
    Attr("loc_outline", parse_optional_colour, WHITE),
    Attr("loc_size", non_negative(parse_number), 0.05),
))
class CairoCircuitMap(Widget):
    @classmethod
    def requests(cls, attrs):
        return {("lat", None), ("lon", None)}

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a = self.a
        self.x, self.y = self.at()
        self.size = ctx.place.length(a["size"])
        self.line = a["line_width"] * self.size
        self.edge = max(1.0, self.line * 0.35) if a["outline"] else 0.0
        self.loc = a["loc_size"] * self.size
        self.track, self.runs = track_runs(ctx.table.track)

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.size, self.y + self.size)

    def draw(self, frame, image, origin):  # drawing happens in parts()
        raise NotImplementedError

    def parts(self) -> list[Drawable]:
        if len(self.track) == 0 or self.size <= 0:
            return []
        ring = max(1.0, self.loc / 6) if self.a["loc_outline"] else 0.0
        pad = max(self.line / 2 + self.edge, self.loc / 2) + 1
        _, to_px = fit(self.track, self.size, pad, self.a["rotate"])
        runs = [np.column_stack(to_px(run[:, 0], run[:, 1])) for run in self.runs]
        parts: list[Drawable] = []
        if self.line > 0:
            parts.append(Layer(self._track(runs), self.x, self.y))
        if self.loc > 0:
            parts += marker(self.ctx, to_px, (self.x, self.y), lambda: self._dot(ring))
        return parts

    def _track(self, runs: list[np.ndarray]):
        """Each run of the track (circuit_map.track_runs) as its own line with round ends."""
        a = self.a

        def paint(big, k):
            d = ImageDraw.Draw(big)
            lines = [[(float(x) * k, float(y) * k) for x, y in pts] for pts in runs]
            for colour, width in ((a["outline"], self.line + 2 * self.edge), (a["fill"], self.line)):
                if colour is None or width <= 0 or colour[3] == 0:
                    continue
                w = max(1, round(width * k))
                for xy in lines:
                    if len(xy) > 1:
                        d.line(xy, fill=colour, width=w, joint="curve")
                    for x, y in {xy[0], xy[-1]}:  # round ends (a lone point: a dot)
                        d.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=colour)
        return supersampled((self.size, self.size), paint)

    def _dot(self, ring: float):
        a = self.a
        n = math.ceil(self.loc) + 2

        def paint(big, k):
            d = ImageDraw.Draw(big)
            c, r = n * k / 2, self.loc * k / 2
            if ring:
                d.ellipse((c - r, c - r, c + r, c + r), fill=a["loc_outline"])
                r -= ring * k
            d.ellipse((c - r, c - r, c + r, c + r), fill=a["loc_fill"])
        return supersampled((n, n), paint)
