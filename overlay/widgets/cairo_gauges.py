"""The `cairo-gauge-*` family: marker, round-annotated, arc-annotated, donut.

The names come from the layout vocabulary (gopro-dashboard-overlay drew them
with Cairo); here they are drawn with Pillow + numpy through gauges.py and overlay.widgets.dial:
static face layer, analytic anti-aliased needle, angle-masked arcs.
`start` is degrees clockwise from 3 o'clock, `length` the sweep (negative:
anticlockwise), `sectors` the number of major divisions.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

from overlay.widgets.attrs import Attr, choice, parse_colour, parse_metric, parse_number
from overlay.widgets.base import Drawable, StaticImage, square_attrs
from overlay.widgets.dial.arcs import ArcFill, ArcMask
from overlay.widgets.dial.face import (
    ACCENT,
    FACE_BG,
    MARK,
    MARK_DIM,
    SHADOW,
    FaceDraw,
    Labels,
    paint_face,
    radial_gradient,
)
from overlay.widgets.dial.labels import Mark
from overlay.widgets.dial.needle import Dot, Needle, NeedleShape
from overlay.widgets.dial.scale import Dial, label, minor_divisions
from overlay.widgets.gauges import DialWidget, colour, input_error, scale_attrs
from overlay.widgets.registry import component


class ScaleWidget(DialWidget):
    """A cairo-style dial: min/max/start/length/sectors, checked once."""

    metric_attrs = ("metric", "arc_metric_upper", "arc_metric_lower")

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a = self.a
        if not a["min"] < a["max"]:
            raise input_error(node, f"min={a['min']:g} must be below max={a['max']:g}")
        self.dial = Dial(self.R, self.R, a["start"], max(-360.0, min(360.0, a["length"])), a["min"], a["max"])


# --- cairo-gauge-marker -------------------------------------------------------------------------------

def _alpha(c, f: float) -> tuple:
    """Colour c with f x its opacity."""
    return tuple(c[:3]) + (round(c[3] * f),)


@component("cairo-gauge-marker", square_attrs() + scale_attrs(start=0.0, length=270.0, sectors=6) + (
    colour("tick_rgb", MARK),
    Attr("background_rgb", parse_colour, None),
    colour("gauge_rgb", ACCENT),
    Attr("dot_outer_rgb", parse_colour, None),
    Attr("dot_inner_rgb", parse_colour, None),
    Attr("cap", choice("round", "square", "butt"), "square"),
))
class GaugeMarker(ScaleWidget):
    """A disc; on it an arc filled from the start to the value, ticks across it at every sector
    (over the fill), and a dot at the value. As in gopro-dashboard-overlay, colours not given follow
    others: the disc is the tick colour at 20 % opacity, the dot's rim the tick colour at 70 %, its
    centre the gauge colour at 70 %."""

    def parts(self) -> list[Drawable]:
        a, d, R = self.a, self.dial, self.R
        tick = a["tick_rgb"]
        disc = a["background_rgb"] or _alpha(tick, 0.2)
        dot_outer = a["dot_outer_rgb"] or _alpha(tick, 0.7)
        dot_inner = a["dot_inner_rgb"] or _alpha(a["gauge_rgb"], 0.7)
        r_disc, r_mid, width = R * 0.9, R * 0.8, R * 0.1
        dot_r = R * 0.1
        a0, a1 = d.span()
        cap = a["cap"]

        def back(p: FaceDraw):
            p.disc(d.cx, d.cy, r_disc, disc)

        def ticks(p: FaceDraw):
            for f in d.ticks(a["sectors"]):
                p.tick(d.cx, d.cy, d.start + f * d.length, R * 0.7, r_disc, max(1.0, R * 0.04), tick)

        def lit(p: FaceDraw):
            p.band(d.cx, d.cy, r_mid + width / 2, width, a0, a1, a["gauge_rgb"], cap)

        def dot(p: FaceDraw):
            c = dot_r + 1
            p.disc(c, c, dot_r, dot_outer)
            p.disc(c, c, dot_r * 0.6, dot_inner)

        n = math.ceil(2 * dot_r + 2)
        return [StaticImage(self.face(back), self.x, self.y, trim=True),
                ArcFill(ArcMask(d, paint_face(self.size, lit)), self.values, self.x, self.y),
                StaticImage(self.face(ticks), self.x, self.y, trim=True),
                Dot(d, self.values, paint_face(n, dot), r_mid, self.x, self.y, self.size)]


# --- annotated dials -----------------------------------------------------------------------------------

ANNOTATED = square_attrs() + scale_attrs() + (
    colour("background_rgb", FACE_BG),
    colour("major_ann_rgb", MARK),
    colour("minor_ann_rgb", MARK_DIM),
    colour("major_tick_rgb", MARK),
    colour("minor_tick_rgb", MARK_DIM),
    colour("needle_rgb", ACCENT),
)
ARC = (
    colour("arc_inner_rgb", (255, 190, 40, 60)),
    colour("arc_outer_rgb", (255, 190, 40, 255)),
    Attr("arc_metric_upper", parse_metric, None),
    Attr("arc_metric_lower", parse_metric, None),
    Attr("arc_value_upper", parse_number, None),
    Attr("arc_value_lower", parse_number, None),
)


class Annotated(ScaleWidget):
    """Ticks and numbers along the scale with a needle; subclasses add the face and range arc."""

    tick_out = 0.93  # outer end of the ticks, fraction of R
    major_len, minor_len = 0.13, 0.065
    number_at = None  # radius of the numbers (fraction of R); None: just inside the major ticks
    needle = dict(tip=0.86, tail=0.16, base_half=0.038, tip_half=0.01, hub=0.075)

    def scale_marks(self, p: FaceDraw, labels: Labels):
        a, d, R = self.a, self.dial, self.R
        n = a["sectors"]
        r1 = R * self.tick_out
        sector_px = abs(d.length) / n * math.pi / 180 * r1
        minor = minor_divisions(sector_px, max(4.0, R * 0.045))
        major_w, minor_w = max(1.0, R * 0.022), max(0.8, R * 0.011)
        for i in range(n * minor + (0 if abs(d.length) >= 360 else 1)):
            deg = d.start + d.length * i / (n * minor)
            if i % minor == 0:
                p.tick(d.cx, d.cy, deg, r1 - R * self.major_len, r1, major_w, a["major_tick_rgb"])
            else:
                p.tick(d.cx, d.cy, deg, r1 - R * self.minor_len, r1, minor_w, a["minor_tick_rgb"])
        # A number at every sector boundary, alternating as in gopro-dashboard-overlay: the min and every
        # 2nd boundary from it in the minor style (smaller), the ones between in the major style.
        big, small = R * 0.15, R * 0.105
        rn = R * self.number_at if self.number_at else R * (self.tick_out - self.major_len) - big * 0.8
        styles = ((small, a["minor_ann_rgb"], rn + (big - small) * 0.3), (big, a["major_ann_rgb"], rn))
        marks = []
        for i, f in enumerate(d.ticks(n)):
            px, rgb, r = styles[i % 2]
            if rgb[3]:
                x, y = d.point(d.start + f * d.length, r)
                marks.append(Mark(label(d.lo + f * (d.hi - d.lo)), x, y, i % 2))
        self.numbers(labels, marks, lambda style, k: self.raster(styles[style][0] * k, styles[style][1]))

    def needle_part(self) -> Needle:
        a, R, nd = self.a, self.R, self.needle
        shape = NeedleShape(tip=R * nd["tip"], tail=R * nd["tail"], base_half=R * nd["base_half"],
                            tip_half=R * nd["tip_half"], hub=R * nd["hub"], fill=a["needle_rgb"],
                            outline=_shadow(a["needle_rgb"]), outline_width=max(1.0, R * 0.014))
        return Needle(self.dial, self.values, shape, self.x, self.y, self.size)

    # -- the range arc (arc-annotated, donut) --
    def range_arc(self, r_in: float, r_out: float) -> tuple[list[Drawable], Image.Image | None]:
        """(dynamic parts, static face-sized image) of the range arc between radii r_in and r_out,
        shaded from arc_inner_rgb at r_in to arc_outer_rgb at r_out; ([], None) without an upper bound."""
        a, d = self.a, self.dial
        if a.get("arc_metric_upper") is None and a.get("arc_value_upper") is None:
            return [], None

        def band(p: FaceDraw):
            a0, a1 = d.span()
            p.band(d.cx, d.cy, r_out, r_out - r_in, a0, a1, (255, 255, 255, 255))

        shape = paint_face(self.size, band).getchannel("A")
        lit = radial_gradient(self.size, d.cx, d.cy, r_in, r_out, a["arc_inner_rgb"], a["arc_outer_rgb"], shape)
        mask = ArcMask(d, lit)
        upper = self.ctx.values(a["arc_metric_upper"], a["units"]) if a["arc_metric_upper"] else None
        lower = self.ctx.values(a["arc_metric_lower"], a["units"]) if a["arc_metric_lower"] else None
        lo_fixed = a["arc_value_lower"] if a["arc_value_lower"] is not None else d.lo
        if upper is None and lower is None:  # fixed range: part of the face, where the mask's box is
            f0, f1 = sorted((d.frac(lo_fixed), d.frac(a["arc_value_upper"])))
            cut = mask.image(None if f0 <= 0 else f0, None if f1 >= 1 else f1)
            face = Image.new("RGBA", (self.size, self.size), (0, 0, 0, 0))
            if cut is not None and mask.box is not None:
                face.alpha_composite(cut, dest=mask.box[:2])
            return [], face
        if upper is None:
            upper = np.full(max(len(lower), 1), a["arc_value_upper"], dtype=np.float64)
        return [ArcFill(mask, upper, self.x, self.y, lower=lower,
                        lower_fixed=None if lower is not None else lo_fixed)], None


def _shadow(fill) -> tuple:
    """A dark edge for a coloured shape, as translucent as the shape."""
    return (0, 0, 0, round(SHADOW[3] * fill[3] / 255))


@component("cairo-gauge-round-annotated", ANNOTATED)
class GaugeRoundAnnotated(Annotated):
    """A car speedometer: disc, ticks, numbers, needle."""

    def background(self, p: FaceDraw):
        p.disc(self.R, self.R, self.R - 0.5, self.a["background_rgb"])

    def parts(self) -> list[Drawable]:
        labels = Labels()

        def paint(p: FaceDraw):
            self.background(p)
            self.scale_marks(p, labels)
        return [StaticImage(self.face(paint, labels), self.x, self.y, trim=True), self.needle_part()]


@component("cairo-gauge-arc-annotated", ANNOTATED + ARC)
class GaugeArcAnnotated(Annotated):
    """The speedometer plus a range arc (fixed values or other metrics): rim band + translucent sector."""

    tick_out = 0.86

    def parts(self) -> list[Drawable]:
        a, R = self.a, self.R
        dynamic, fixed = self.range_arc(R * 0.6, R - 0.5)
        labels = Labels()

        def bg(p: FaceDraw):
            p.disc(R, R, R - 0.5, a["background_rgb"])

        def marks(p: FaceDraw):
            self.scale_marks(p, labels)

        if dynamic:  # background, moving arc, then the marks over it
            back = StaticImage(self.face(bg), self.x, self.y, trim=True)
            front = StaticImage(self.face(marks, labels), self.x, self.y, trim=True)
            return [back, *dynamic, front, self.needle_part()]
        if fixed is None:
            face = self.face(lambda p: (bg(p), marks(p)), labels)
        else:  # background, range arc, marks
            face = self.face(bg)
            face.alpha_composite(fixed)
            face.alpha_composite(self.face(marks, labels))
        return [StaticImage(face, self.x, self.y, trim=True), self.needle_part()]


@component("cairo-gauge-donut", ANNOTATED + ARC + (
    colour("background_inner_rgb", (10, 12, 16, 210)),
    colour("background_outer_rgb", (60, 64, 74, 210)),
))
class GaugeDonut(Annotated):
    """A sector of a ring shaded inner -> outer; ticks across it, numbers inside, a bar marks the value."""

    tick_out = 0.955
    major_len, minor_len = 0.17, 0.08
    number_at = 0.5

    def parts(self) -> list[Drawable]:
        a, d, R = self.a, self.dial, self.R
        r_in, r_out = R * 0.62, R - 0.5
        pad = math.degrees(R * 0.03 / r_out)  # the ring reaches a little past the end ticks
        a0, a1 = d.span()
        inner, outer = a["background_inner_rgb"], a["background_outer_rgb"]
        if a["background_rgb"] != FACE_BG and inner == (10, 12, 16, 210) and outer == (60, 64, 74, 210):
            inner = outer = a["background_rgb"]  # a layout that sets only background-rgb

        def ring(p: FaceDraw):
            p.band(d.cx, d.cy, r_out, r_out - r_in, a0 - pad, a1 + pad, (255, 255, 255, 255))

        shape = paint_face(self.size, ring).getchannel("A")
        ring_img = radial_gradient(self.size, d.cx, d.cy, r_in, r_out, inner, outer, shape)

        dynamic, fixed = self.range_arc(r_in, r_out)
        labels = Labels()
        marks = self.face(lambda p: self.scale_marks(p, labels), labels)
        nw = max(1.5, R * 0.035)
        shape = NeedleShape(tip=R * 0.985, start=r_in - R * 0.06, base_half=nw, tip_half=nw, fill=a["needle_rgb"],
                            outline=_shadow(a["needle_rgb"]), outline_width=max(1.0, R * 0.014))
        needle = Needle(d, self.values, shape, self.x, self.y, self.size)
        if dynamic:
            return [StaticImage(ring_img, self.x, self.y, trim=True), *dynamic,
                    StaticImage(marks, self.x, self.y, trim=True), needle]
        face = ring_img.copy()
        if fixed is not None:
            face.alpha_composite(fixed)
        face.alpha_composite(marks)
        return [StaticImage(face, self.x, self.y, trim=True), needle]
