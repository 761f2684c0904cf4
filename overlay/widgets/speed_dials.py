"""Speed dials: `asi` (airspeed indicator) and `msi` / `msi2` (motor speed indicators).

All three read `metric` (speed) in `units` (knots) and sit in a size x size
square at (x, y). Their scales are laid out as gopro-dashboard-overlay lays
them out, because layouts were tuned on its pictures: 300 degrees clockwise,
the 60 degree gap centred on `rotate` (absolute, degrees clockwise from 12
o'clock: 0 puts the gap at the top, 180 at the bottom), numbered every 20 and
ticked every 5 from the scale's start (fewer where they would not fit), up to
a top a little past the last marked speed. Faces are static layers; the
needle, lit arcs and the digital readout are the only per-frame work (see
gauges.py and overlay.widgets.dial).
"""
from __future__ import annotations

import math

import numpy as np

from overlay.widgets.attrs import (
    Attr,
    non_negative,
    parse_bool,
    parse_int,
    parse_metric,
    parse_number,
    parse_text,
    positive,
)
from overlay.widgets.base import Drawable, StaticImage, square_attrs, union
from overlay.widgets.dial.arcs import ArcFill, ArcMask
from overlay.widgets.dial.face import ACCENT, GREEN, MARK, MARK_DIM, RED, SHADOW, YELLOW, FaceDraw, Labels, paint_face
from overlay.widgets.dial.labels import Mark
from overlay.widgets.dial.needle import Needle, NeedleShape
from overlay.widgets.dial.scale import Dial, label, round_up
from overlay.widgets.gauges import DialWidget, ValueText, input_error
from overlay.widgets.registry import component

DIAL_BG = (18, 20, 24, 220)
BEZEL = (205, 208, 214, 255)
WHITE_ARC = (245, 245, 245, 255)
LIT = (0, 191, 255, 255)  # the lit arc of the needle-less dials
BLACK = (0, 0, 0, 255)

SWEEP = 300.0  # degrees of scale; the other 60 are the gap, centred on `rotate`
LABEL_EVERY, TICK_EVERY = 20.0, 5.0


def speed_dial(rotate: float, lo: float, hi: float, R: float) -> Dial:
    """The scale lo..hi with its gap centred `rotate` degrees clockwise from 12 o'clock."""
    return Dial(R, R, rotate - 90.0 + (360.0 - SWEEP) / 2, SWEEP, lo, hi)


def speed_attrs(rotate: float):
    return square_attrs() + (
        Attr("metric", parse_metric, "speed"),
        Attr("units", parse_text, "knots"),
        Attr("textsize", positive(parse_number), 16.0),
        Attr("rotate", parse_number, rotate),
    )


def unit_caption(text: str) -> str:
    return {"kn": "KNOTS", "kt": "KNOTS", "kph": "KM/H", "km/h": "KM/H"}.get(text, text.upper())


class SpeedDial(DialWidget):
    number_outline: float | None = None  # width of the numbers' dark edge, video px (None: in proportion)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.text_px = self.k * self.a["textsize"]
        self.caption = unit_caption(ctx.unit_label(self.a["metric"], self.a["units"]))

    def ticks(self, p: FaceDraw, d: Dial, r_out: float, major: float, minor: float):
        """Ticks inward from r_out every 5 from the scale's start, longer (`major`) on multiples of 10;
        every 10, 20, 40... instead where ticks 5 apart would run together."""
        R = self.R
        px_per_unit = abs(d.length) / (d.hi - d.lo) * math.pi / 180 * r_out
        step = TICK_EVERY
        while step * px_per_unit < max(3.0, R * 0.035):
            step *= 2
        for i in range(int(math.floor((d.hi - d.lo) / step + 1e-9)) + 1):
            v = d.lo + i * step
            if abs(v / 10 - round(v / 10)) < 1e-9:
                p.tick(d.cx, d.cy, d.angle(v), r_out - major, r_out, max(1.0, R * 0.022), MARK)
            else:
                p.tick(d.cx, d.cy, d.angle(v), r_out - minor, r_out, max(0.8, R * 0.011), MARK_DIM)

    def scale_numbers(self, labels: Labels, d: Dial, r: float):
        """The numbers every 20 from the scale's start, centred at radius r, as many as fit."""
        n = int(math.floor((d.hi - d.lo) / LABEL_EVERY + 1e-9))
        marks = []
        for v in (d.lo + i * LABEL_EVERY for i in range(n + 1)):
            x, y = d.point(d.angle(v), r)
            marks.append(Mark(label(v), x, y))
        outline = BLACK if self.number_outline is None or self.number_outline > 0 else None
        self.numbers(labels, marks, lambda style, s: self.raster(self.text_px * s, MARK, outline=outline,
                                                                 outline_width=self.number_outline))

    def needle(self, d: Dial, fill=ACCENT, tip=0.84) -> Needle:
        R = self.R
        shape = NeedleShape(tip=R * tip, tail=R * 0.18, base_half=R * 0.042, tip_half=R * 0.011, hub=R * 0.075,
                            fill=fill, outline=SHADOW, outline_width=max(1.0, R * 0.014))
        return Needle(d, self.values, shape, self.x, self.y, self.size)

    def readout(self, px: float, cx: float, cy: float, fmt=lambda v: f"{v:.0f}") -> ValueText:
        raster = self.raster(px)
        x, y = self.x + round(cx), self.y + round(cy)
        finite = self.values[np.isfinite(self.values)]
        shown = {"-"} | ({fmt(float(finite.min())), fmt(float(finite.max()))} if len(finite) else set())
        boxes = [self.bbox()]
        for t in shown:
            l, t_, r, b = raster.bbox(t)
            boxes.append((x + l - 2, y + t_, x + r + 2, y + b))
        return ValueText(raster, self.values, fmt, x, y, union(boxes))

    def rim(self, p: FaceDraw):
        R = self.R
        p.disc(R, R, R - 0.5, DIAL_BG)
        p.ring(R, R, R - 0.5, R * 0.03, BEZEL)


# --- asi ----------------------------------------------------------------------------------------------

@component("asi", speed_attrs(0.0) + (
    Attr("vs0", non_negative(parse_number), 40.0),
    Attr("vs", non_negative(parse_number), 46.0),
    Attr("vfe", non_negative(parse_number), 103.0),
    Attr("vno", non_negative(parse_number), 126.0),
    Attr("vne", positive(parse_number), 180.0),
))
class AirSpeedIndicator(SpeedDial):
    """Aircraft-style ASI: scale from vs0; white arc vs0-vfe on the rim, green vs-vno and yellow
    vno-vne inside it, red line at vne."""

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a = self.a
        if a["vs0"] >= a["vne"]:
            raise input_error(node, f"vs0={a['vs0']:g} must be below vne={a['vne']:g}")
        top = round_up((a["vne"] - a["vs0"]) * 0.05 + a["vne"], LABEL_EVERY)
        self.dial = speed_dial(a["rotate"], a["vs0"], top, self.R)

    def parts(self) -> list[Drawable]:
        a, d, R = self.a, self.dial, self.R
        labels = Labels()
        r_rim, w = R * 0.93, R * 0.08

        def paint(p: FaceDraw):
            self.rim(p)
            for r, (v0, v1), c in ((r_rim, ("vs0", "vfe"), WHITE_ARC), (r_rim - w, ("vs", "vno"), GREEN),
                                   (r_rim - w, ("vno", "vne"), YELLOW)):
                a0, a1 = d.sweep(a[v0], a[v1])
                p.band(R, R, r, w, a0, a1, c)
            self.ticks(p, d, r_rim, R * 0.22, R * 0.15)
            p.tick(R, R, d.angle(a["vne"]), r_rim - R * 0.27, r_rim, max(1.5, R * 0.035), RED)

        self.scale_numbers(labels, d, r_rim - R * 0.22 - self.text_px * 0.85)
        small = self.raster(self.text_px * 0.62, MARK_DIM)
        labels.add(small, "AIRSPEED", R, R - R * 0.3)
        labels.add(self.raster(self.text_px * 0.75), self.caption, R, R + R * 0.32)
        face = StaticImage(self.face(paint, labels), self.x, self.y, trim=True)
        return [face, self.needle(d, fill=(246, 246, 246, 255))]


# --- msi, msi2 --------------------------------------------------------------------------------------------

def zone_attrs():
    return speed_attrs(180.0) + (
        Attr("green", non_negative(parse_number), 0.0),
        Attr("yellow", non_negative(parse_number), 130.0),
        Attr("end", positive(parse_number), 180.0),
        Attr("outline", non_negative(parse_int), 2),
    )


class MotorSpeed(SpeedDial):
    """Scale 0..a little past `end`; a green zone from `green` to `yellow`, a yellow one from
    `yellow` to `end` (the later drawn over the earlier), exactly where gopro-dashboard-overlay
    puts them: not clamped, and a zone whose end comes before its start runs the long way round."""

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a = self.a
        self.number_outline = self.k * a["outline"]
        self.dial = speed_dial(a["rotate"], 0.0, round_up(a["end"] * 1.05, LABEL_EVERY), self.R)
        d = self.dial
        self.spans = [(d.sweep(a["green"], a["yellow"]), GREEN), (d.sweep(a["yellow"], a["end"]), YELLOW)]

    def zones(self, p: FaceDraw, r_out: float, width: float):
        for (a0, a1), c in self.spans:
            p.band(self.dial.cx, self.dial.cy, r_out, width, a0, a1, c)

    def lit_track(self, r_out: float, width: float, alpha: float, segments: int = 0, gap: float = 0.0):
        """How to paint the lit band from the scale's start to its end (whole, or as segments)."""
        d = self.dial
        c = LIT[:3] + (round(255 * alpha),)

        def paint(p: FaceDraw):
            if not segments:
                a0, a1 = d.span()
                p.band(d.cx, d.cy, r_out, width, a0, a1, c)
                return
            for i in range(segments):
                a0, a1 = d.span(i / segments, (i + 1) / segments)
                p.band(d.cx, d.cy, r_out, width, a0 + gap / 2, a1 - gap / 2, c)
        return paint


@component("msi", zone_attrs() + (Attr("needle", parse_bool, True),))
class MotorSpeedIndicator(MotorSpeed):
    """With needle: zone band on the rim, ticks over it, numbers, needle and a digital readout.
    needle="no": a lit band from 0 to the value inside a thin zone band, a big readout in the middle."""

    def parts(self) -> list[Drawable]:
        a, d, R = self.a, self.dial, self.R
        labels = Labels()
        r_rim = R * 0.95
        if a["needle"]:
            def paint(p: FaceDraw):
                self.rim(p)
                self.zones(p, r_rim, R * 0.11)
                self.ticks(p, d, r_rim, R * 0.17, R * 0.08)

            self.scale_numbers(labels, d, r_rim - R * 0.17 - self.text_px * 0.85)
            labels.add(self.raster(self.text_px * 0.7, MARK_DIM), self.caption, R, R + R * 0.72)
            face = StaticImage(self.face(paint, labels), self.x, self.y, trim=True)
            return [face, self.readout(self.text_px * 1.5, R, R + R * 0.5), self.needle(d)]

        zone_w, lit_w = R * 0.045, R * 0.11
        r_lit = r_rim - zone_w - R * 0.01

        def back(p: FaceDraw):
            self.rim(p)
            self.zones(p, r_rim, zone_w)
            self.lit_track(r_lit, lit_w, 0.16)(p)

        self.scale_numbers(labels, d, r_lit - lit_w - R * 0.06 - self.text_px * 0.7)
        labels.add(self.raster(self.text_px * 0.7, MARK_DIM), self.caption, R, R + R * 0.36)
        lit = ArcMask(d, paint_face(self.size, self.lit_track(r_lit, lit_w, 1.0)))
        front = self.face(lambda p: self.ticks(p, d, r_rim, R * 0.2, R * 0.1), labels)
        return [StaticImage(self.face(back), self.x, self.y, trim=True), ArcFill(lit, self.values, self.x, self.y),
                StaticImage(front, self.x, self.y, trim=True), self.readout(self.text_px * 2.6, R, R)]


@component("msi2", zone_attrs())
class MotorSpeedIndicator2(MotorSpeed):
    """Needle-less variant: a thin zone band on the rim, inside it a ring of segments lighting up
    from 0 to the value, numbers, a big readout in the middle."""

    segments = 30

    def parts(self) -> list[Drawable]:
        d, R = self.dial, self.R
        r_rim, zone_w, seg_w, gap = R * 0.95, R * 0.05, R * 0.15, 2.2
        r_seg = r_rim - zone_w - R * 0.02
        labels = Labels()

        def paint(p: FaceDraw):
            self.rim(p)
            self.zones(p, r_rim, zone_w)
            self.lit_track(r_seg, seg_w, 0.2, self.segments, gap)(p)

        self.scale_numbers(labels, d, r_seg - seg_w - self.text_px * 0.8)
        labels.add(self.raster(self.text_px * 0.75, MARK_DIM), self.caption, R, R + R * 0.42)
        lit = ArcMask(d, paint_face(self.size, self.lit_track(r_seg, seg_w, 1.0, self.segments, gap)))
        fill = ArcFill(lit, self.values, self.x, self.y, quantum=1 / self.segments)
        face = StaticImage(self.face(paint, labels), self.x, self.y, trim=True)
        return [face, fill, self.readout(self.text_px * 2.8, R, R)]
