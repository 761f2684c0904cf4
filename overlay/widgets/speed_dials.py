"""Speed dials: `asi` (airspeed indicator) and `msi` / `msi2` (motor speed indicators).

All three read `metric` (speed) in `units` (knots) and sit in a size x size
square at (x, y); `rotate` turns the whole dial clockwise (numbers stay
upright). Faces are static layers; the needle, lit zones and the digital
readout are the only per-frame work (see gauges.py and overlay.widgets.dial).
"""
from __future__ import annotations

import numpy as np

from overlay.widgets.attrs import (
    Attr,
    non_negative,
    parse_bool,
    parse_metric,
    parse_number,
    parse_optional_colour,
    parse_text,
    positive,
)
from overlay.widgets.base import Drawable, StaticImage, square_attrs, union
from overlay.widgets.dial.arcs import ArcFill, ArcMask
from overlay.widgets.dial.face import ACCENT, GREEN, MARK, MARK_DIM, RED, SHADOW, YELLOW, FaceDraw, Labels, paint_face
from overlay.widgets.dial.needle import Needle, NeedleShape
from overlay.widgets.dial.scale import Dial, label, nice_ceil, nice_step
from overlay.widgets.gauges import DialWidget, ValueText, input_error
from overlay.widgets.registry import component

DIAL_BG = (18, 20, 24, 220)
BEZEL = (205, 208, 214, 255)
WHITE_ARC = (245, 245, 245, 255)


def speed_attrs():
    return square_attrs() + (
        Attr("metric", parse_metric, "speed"),
        Attr("units", parse_text, "knots"),
        Attr("textsize", positive(parse_number), 16.0),
        Attr("rotate", parse_number, 0.0),
    )


def unit_caption(text: str) -> str:
    return {"kn": "KNOTS", "kt": "KNOTS", "kph": "KM/H", "km/h": "KM/H"}.get(text, text.upper())


class SpeedDial(DialWidget):
    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.text_px = self.k * self.a["textsize"]
        self.caption = unit_caption(ctx.unit_label(self.a["metric"], self.a["units"]))

    def scale(self, p: FaceDraw, labels: Labels, d: Dial, step: float, *, r_out: float, numbers: bool = True,
              minor: int = 2):
        """Ticks every step/minor (majors every step) inward from r_out, numbers inside them."""
        R = self.R
        n = round((d.hi - d.lo) / step)
        raster = self.raster(self.text_px)
        for i in range(n * minor + 1):
            deg = d.angle(d.lo + i * step / minor)
            if abs(d.length) >= 360 and i == n * minor:
                break
            if i % minor == 0:
                p.tick(d.cx, d.cy, deg, r_out - R * 0.13, r_out, max(1.0, R * 0.022), MARK)
            else:
                p.tick(d.cx, d.cy, deg, r_out - R * 0.065, r_out, max(0.8, R * 0.011), MARK_DIM)
        if numbers:
            rn = r_out - R * 0.13 - self.text_px * 0.85
            for i in range(n + 1):
                v = d.lo + i * step
                if abs(d.length) >= 360 and i == n:
                    break
                labels.add(raster, label(v), *d.point(d.angle(v), rn))

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


# --- asi ----------------------------------------------------------------------------------------------

@component("asi", speed_attrs() + (
    Attr("vs0", non_negative(parse_number), 40.0),
    Attr("vs", non_negative(parse_number), 46.0),
    Attr("vfe", non_negative(parse_number), 85.0),
    Attr("vno", non_negative(parse_number), 128.0),
    Attr("vne", positive(parse_number), 158.0),
))
class AirSpeedIndicator(SpeedDial):
    """Aircraft-style ASI: white arc vs0-vfe, green vs-vno, yellow vno-vne, red line at vne."""

    def parts(self) -> list[Drawable]:
        a, R = self.a, self.R
        top_raw = a["vne"] * 1.1  # the scale ends a little past never-exceed
        step = nice_step(top_raw, 8)
        top = nice_ceil(top_raw, step)
        d = Dial(R, R, -90 + a["rotate"], 320.0, 0.0, top)
        labels = Labels()

        def span(v0, v1):
            v0, v1 = sorted((v0, v1))
            return d.span(d.frac(v0), d.frac(v1))

        def paint(p: FaceDraw):
            p.disc(R, R, R - 0.5, DIAL_BG)
            p.ring(R, R, R - 0.5, R * 0.045, BEZEL)
            r_arc = R * 0.90
            p.band(R, R, r_arc, R * 0.075, *span(a["vs"], a["vno"]), GREEN)
            p.band(R, R, r_arc, R * 0.075, *span(a["vno"], a["vne"]), YELLOW)
            p.band(R, R, r_arc - R * 0.075, R * 0.05, *span(a["vs0"], a["vfe"]), WHITE_ARC)
            self.scale(p, labels, d, step, r_out=R * 0.92)
            p.tick(R, R, d.angle(a["vne"]), R * 0.70, R * 0.92, max(1.5, R * 0.03), RED)

        small = self.raster(self.text_px * 0.62, MARK_DIM)
        labels.add(small, "AIRSPEED", R, R - R * 0.32)
        labels.add(self.raster(self.text_px * 0.75), self.caption, R, R + R * 0.34)
        face = StaticImage(self.face(paint, labels), self.x, self.y, trim=True)
        return [face, self.needle(d, fill=(246, 246, 246, 255))]


# --- msi, msi2 --------------------------------------------------------------------------------------------

def zone_attrs():
    return speed_attrs() + (
        Attr("green", non_negative(parse_number), 60.0),
        Attr("yellow", non_negative(parse_number), 80.0),
        Attr("end", positive(parse_number), 100.0),
        Attr("outline", parse_optional_colour, BEZEL),
    )


class MotorSpeed(SpeedDial):
    """Dial 0..end with green / yellow / red zones, clockwise from bottom left."""

    sweep = 270.0

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a = self.a
        if a["green"] > a["end"] or a["yellow"] > a["end"]:
            raise input_error(node, f"green={a['green']:g} and yellow={a['yellow']:g} must not exceed end={a['end']:g}")
        self.dial = Dial(self.R, self.R, 90 + (360 - self.sweep) / 2 + a["rotate"], self.sweep, 0.0, a["end"])

    def zones(self, p: FaceDraw, r_out: float, width: float, alpha: float = 1.0, gap: float = 0.0, segments: int = 0):
        a, d = self.a, self.dial
        g = min(a["green"], a["end"])
        y = min(max(a["yellow"], g), a["end"])
        for v0, v1, c in ((0.0, g, GREEN), (g, y, YELLOW), (y, a["end"], RED)):
            if v1 <= v0:
                continue
            c = c[:3] + (round(c[3] * alpha),)
            if not segments:
                p.band(d.cx, d.cy, r_out, width, *d.span(d.frac(v0), d.frac(v1)), c)
                continue
            for i in range(segments):  # whole segments, coloured by the zone their middle falls in
                f0, f1 = i / segments, (i + 1) / segments
                mid = (f0 + f1) / 2 * a["end"]
                if v0 <= mid < v1 or (v1 == a["end"] and mid >= v1):
                    a0, a1 = d.span(f0, f1)
                    p.band(d.cx, d.cy, r_out, width, a0 + gap / 2, a1 - gap / 2, c)

    def rim(self, p: FaceDraw):
        R = self.R
        p.disc(R, R, R - 0.5, DIAL_BG)
        if self.a["outline"] is not None:
            p.ring(R, R, R - 0.5, R * 0.03, self.a["outline"])


@component("msi", zone_attrs() + (Attr("needle", parse_bool, True),))
class MotorSpeedIndicator(MotorSpeed):
    """With needle: thin zone band, ticks, numbers, needle and a digital readout.
    needle="no": the zone band lights up to the value, a big readout in the middle."""

    def parts(self) -> list[Drawable]:
        a, d, R = self.a, self.dial, self.R
        step = nice_step(a["end"], 10)
        labels = Labels()
        needle = a["needle"]
        band_w = R * (0.06 if needle else 0.11)
        r_band = R * 0.93

        def paint(p: FaceDraw):
            self.rim(p)
            self.zones(p, r_band, band_w, 1.0 if needle else 0.28)
            self.scale(p, labels, d, step, r_out=r_band - band_w - R * 0.02, minor=2)

        labels.add(self.raster(self.text_px * 0.7, MARK_DIM), self.caption, R, R + R * (0.72 if needle else 0.36))
        face = StaticImage(self.face(paint, labels), self.x, self.y, trim=True)
        if needle:
            return [face, self.readout(self.text_px * 1.5, R, R + R * 0.5), self.needle(d)]
        lit = ArcMask(d, paint_face(self.size, lambda p: self.zones(p, r_band, band_w)))
        return [face, ArcFill(lit, self.values, self.x, self.y), self.readout(self.text_px * 2.6, R, R)]


@component("msi2", zone_attrs())
class MotorSpeedIndicator2(MotorSpeed):
    """Needle-less variant: a ring of segments lighting up in zone colours, big readout in the middle."""

    segments = 30

    def parts(self) -> list[Drawable]:
        a, d, R = self.a, self.dial, self.R
        r_band, band_w, gap = R * 0.92, R * 0.17, 2.2
        labels = Labels()

        def paint(p: FaceDraw):
            self.rim(p)
            self.zones(p, r_band, band_w, 0.22, gap, self.segments)

        num = self.raster(self.text_px * 0.8, MARK_DIM)
        for v in (0.0, a["end"]):
            labels.add(num, label(v), *d.point(d.angle(v), r_band - band_w - self.text_px * 0.9))
        labels.add(self.raster(self.text_px * 0.75, MARK_DIM), self.caption, R, R + R * 0.42)
        lit = ArcMask(d, paint_face(self.size, lambda p: self.zones(p, r_band, band_w, 1.0, gap, self.segments)))
        fill = ArcFill(lit, self.values, self.x, self.y, quantum=1 / self.segments)
        face = StaticImage(self.face(paint, labels), self.x, self.y, trim=True)
        return [face, fill, self.readout(self.text_px * 2.8, R, R)]
