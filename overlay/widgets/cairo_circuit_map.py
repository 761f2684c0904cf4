"""cairo-circuit-map: the track outline with a location dot, line sizes relative to the widget.

Like circuit_map, but with the vocabulary of the Cairo variant: `line-width`
and `loc-size` are fractions of `size` (1 = the whole width), `rotate` turns
the drawing clockwise (degrees). The track is a static layer; the dot moves.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from overlay.widgets.attrs import WHITE, Attr, non_negative, parse_colour, parse_number, parse_optional_colour
from overlay.widgets.base import Drawable, StaticImage, square_attrs
from overlay.widgets.circuit_map import TrackWidget
from overlay.widgets.dial.face import ACCENT
from overlay.widgets.imaging import supersampled
from overlay.widgets.registry import component


@component("cairo-circuit-map", square_attrs() + (
    Attr("rotate", parse_number, 0.0),
    Attr("fill", parse_colour, WHITE),
    Attr("outline", parse_optional_colour, (0, 0, 0, 170)),
    Attr("line_width", non_negative(parse_number), 0.015),
    Attr("loc_fill", parse_colour, ACCENT),
    Attr("loc_outline", parse_optional_colour, WHITE),
    Attr("loc_size", non_negative(parse_number), 0.05),
))
class CairoCircuitMap(TrackWidget):
    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a = self.a
        self.rotation = a["rotate"]
        self.line = a["line_width"] * self.size
        self.edge = max(1.0, self.line * 0.35) if a["outline"] else 0.0
        self.loc = a["loc_size"] * self.size

    def pad(self) -> float:
        return max(self.line / 2 + self.edge, self.loc / 2) + 1

    def track_parts(self, runs: list[np.ndarray]) -> list[Drawable]:
        return [StaticImage(self._track(runs), self.x, self.y, trim=True)] if self.line > 0 else []

    def _track(self, runs: list[np.ndarray]) -> Image.Image:
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

    def dot(self) -> Image.Image:
        a = self.a
        n = math.ceil(self.loc) + 2
        ring = max(1.0, self.loc / 6) if a["loc_outline"] else 0.0

        def paint(big, k):
            d = ImageDraw.Draw(big)
            c, r = n * k / 2, self.loc * k / 2
            if ring:
                d.ellipse((c - r, c - r, c + r, c + r), fill=a["loc_outline"])
                r -= ring * k
            d.ellipse((c - r, c - r, c + r, c + r), fill=a["loc_fill"])
        return supersampled((n, n), paint)
