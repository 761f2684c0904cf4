"""Draw overdash's bundled icons: `python -m overlay.icons.make_icons` writes overlay/icons/NAME.png.

Our own drawings (no third-party artwork): each icon is a coverage mask
painted with Pillow shapes on a 100 x 100 grid at 4x supersampling, shrunk
to ICON_SIZE and stored as black with that alpha - the convention layouts
expect (the `icon` component inverts to white by default). The names are the
ones layouts written for gopro-dashboard-overlay refer to.
"""
from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

ICON_SIZE = 256
K = 4  # supersampling
OUT = Path(__file__).resolve().parent
ON, OFF = 255, 0


class Pen:
    """Shapes on a 100 x 100 grid over a (ICON_SIZE * K)^2 coverage mask."""

    def __init__(self):
        self.n = ICON_SIZE * K
        self.mask = Image.new("L", (self.n, self.n), 0)
        self.d = ImageDraw.Draw(self.mask)

    def s(self, v: float) -> float:
        return v * self.n / 100

    def p(self, pts):
        return [(self.s(x), self.s(y)) for x, y in pts]

    def circle(self, cx, cy, r, fill=ON):
        self.d.ellipse((self.s(cx - r), self.s(cy - r), self.s(cx + r), self.s(cy + r)), fill=fill)

    def ring(self, cx, cy, r, w, fill=ON):
        self.d.ellipse((self.s(cx - r), self.s(cy - r), self.s(cx + r), self.s(cy + r)),
                       outline=fill, width=round(self.s(w)))

    def line(self, pts, w, fill=ON, caps=True):
        xy = self.p(pts)
        self.d.line(xy, fill=fill, width=round(self.s(w)), joint="curve")
        if caps:
            for x, y in pts:
                self.circle(x, y, w / 2, fill)

    def poly(self, pts, fill=ON):
        self.d.polygon(self.p(pts), fill=fill)

    def rrect(self, x0, y0, x1, y1, r, fill=ON):
        self.d.rounded_rectangle((self.s(x0), self.s(y0), self.s(x1), self.s(y1)), round(self.s(r)), fill=fill)

    def arc(self, cx, cy, r, start, end, w, fill=ON):
        """Arc of radius r (centre of the stroke), angles in degrees clockwise from 3 o'clock."""
        box = (self.s(cx - r - w / 2), self.s(cy - r - w / 2), self.s(cx + r + w / 2), self.s(cy + r + w / 2))
        self.d.arc(box, start, end, fill=fill, width=round(self.s(w)))
        for a in (start, end):
            self.circle(cx + r * math.cos(math.radians(a)), cy + r * math.sin(math.radians(a)), w / 2, fill)

    def pie(self, cx, cy, r, start, end, fill=ON):
        self.d.pieslice((self.s(cx - r), self.s(cy - r), self.s(cx + r), self.s(cy + r)), start, end, fill=fill)

    def image(self) -> Image.Image:
        alpha = self.mask.resize((ICON_SIZE, ICON_SIZE), Image.Resampling.BOX)
        out = Image.new("RGBA", (ICON_SIZE, ICON_SIZE), (0, 0, 0, 0))
        out.putalpha(alpha)
        return out


def polar(cx, cy, r, deg):
    return cx + r * math.cos(math.radians(deg)), cy + r * math.sin(math.radians(deg))


# --- the icons -----------------------------------------------------------------------------------

def bicycle(p: Pen):
    p.ring(24, 64, 17, 6)
    p.ring(76, 64, 17, 6)
    p.line([(24, 64), (42, 38), (70, 38), (50, 64), (24, 64)], 6)
    p.line([(50, 64), (38, 28)], 6)
    p.line([(31, 27), (45, 27)], 6)
    p.line([(76, 64), (66, 24), (58, 22)], 6)
    p.circle(50, 64, 5)


def car(p: Pen):
    p.poly([(28, 44), (36, 26), (66, 26), (78, 44)])
    p.rrect(8, 42, 92, 68, 9)
    p.poly([(36, 43), (41, 31), (50, 31), (50, 43)], OFF)
    p.poly([(55, 43), (55, 31), (63, 31), (70, 43)], OFF)
    for cx in (28, 72):
        p.circle(cx, 70, 13, OFF)
        p.circle(cx, 70, 10)
        p.circle(cx, 70, 3.5, OFF)
    p.rrect(84, 48, 92, 53, 2, OFF)


def _dial_ticks(p: Pen, cx, cy, r0, r1, start, end, n, w):
    for i in range(n + 1):
        a = start + (end - start) * i / n
        p.line([polar(cx, cy, r0, a), polar(cx, cy, r1, a)], w)


def gauge(p: Pen):
    p.arc(50, 55, 38, 135, 405, 7)
    _dial_ticks(p, 50, 55, 22, 27, 135, 405, 6, 4)
    p.line([(50, 55), polar(50, 55, 30, 300)], 6)
    p.circle(50, 55, 8)


def gauge_1(p: Pen):
    p.pie(50, 64, 44, 180, 360)
    p.pie(50, 64, 30, 178, 362, OFF)
    for a in (216, 252, 288, 324):
        p.line([polar(50, 64, 28, a), polar(50, 64, 46, a)], 3, OFF, caps=False)
    p.line([(50, 64), polar(50, 64, 38, 235)], 6)
    p.circle(50, 64, 9)
    p.rrect(6, 72, 94, 78, 3)


def _target(p: Pen):
    p.ring(50, 50, 30, 7)
    for a in (0, 90, 180, 270):
        p.line([polar(50, 50, 36, a), polar(50, 50, 46, a)], 7)


def gps_lock_none(p: Pen):
    _target(p)
    p.line([(20, 80), (80, 20)], 13, OFF)
    p.line([(22, 78), (78, 22)], 7)


def gps_lock_unknown(p: Pen):
    _target(p)
    p.arc(50, 42, 9, 180, 405, 6)
    p.line([polar(50, 42, 9, 45), (50, 55)], 6)
    p.circle(50, 64, 4)


def gps_lock_2d(p: Pen):
    _target(p)
    p.ring(50, 50, 12, 6)


def gps_lock_3d(p: Pen):
    _target(p)
    p.circle(50, 50, 15)


def heartbeat(p: Pen):
    p.circle(31, 35, 21)
    p.circle(69, 35, 21)
    p.poly([(11.5, 42), (50, 88), (88.5, 42), (50, 30)])
    p.line([(14, 52), (33, 52), (40, 40), (50, 66), (59, 34), (66, 52), (86, 52)], 6, OFF)


def mountain(p: Pen):
    p.poly([(4, 86), (48, 16), (96, 86)])
    p.line([(33, 41), (40, 47), (48, 39), (56, 47), (63, 41)], 5, OFF)


def mountain_range(p: Pen):
    p.poly([(2, 86), (34, 28), (58, 70), (70, 44), (98, 86)])
    p.line([(24, 47), (29, 51), (34, 45), (39, 51), (44, 47)], 4, OFF)


def power(p: Pen):
    p.poly([(58, 4), (20, 56), (46, 56), (38, 96), (80, 40), (54, 40)])


def ruler(p: Pen):
    pen = Pen()
    pen.rrect(4, 34, 96, 66, 4)
    for i in range(1, 12):
        x = 4 + i * 92 / 12
        pen.rrect(x - 1.5, 34, x + 1.5, 34 + (18 if i % 3 == 0 else 10), 1, OFF)
    rotated = pen.mask.rotate(35, resample=Image.Resampling.BICUBIC)
    p.mask.paste(rotated)


def slope(p: Pen):
    p.line([(8, 82), (92, 82)], 6)
    p.line([(10, 76), (88, 30)], 9)
    p.poly([(92, 26), (66, 26), (84, 48)])
    p.ring(28, 34, 7, 4)
    p.ring(48, 18, 7, 4)  # a hint of "%" above the incline
    p.line([(24, 20), (52, 32)], 4)


def slope_triangle(p: Pen):
    p.poly([(6, 86), (94, 86), (94, 22)])
    p.circle(67, 62, 5, OFF)
    p.circle(83, 76, 5, OFF)
    p.line([(66, 78), (85, 58)], 4, OFF)


def speedometer(p: Pen):
    p.pie(50, 62, 46, 180, 360)
    p.rrect(4, 58, 96, 70, 6)
    p.pie(50, 62, 38, 178, 362, OFF)
    _dial_ticks(p, 50, 62, 30, 36, 180, 360, 8, 3)
    p.line([(50, 62), polar(50, 62, 30, 310)], 6)
    p.circle(50, 62, 8)
    p.rrect(24, 78, 76, 86, 4)


def thermometer(p: Pen):
    p.rrect(38, 8, 62, 70, 12)
    p.circle(50, 76, 18)
    p.rrect(44, 14, 56, 70, 6, OFF)
    p.circle(50, 76, 12, OFF)
    p.circle(50, 76, 8)
    p.rrect(47, 40, 53, 76, 3)
    for y in (20, 30, 40, 50):
        p.line([(66, y), (76, y)], 4)


def thermometer_1(p: Pen):
    p.rrect(40, 6, 60, 68, 10)
    p.circle(50, 76, 18)
    p.rrect(45, 11, 55, 66, 5, OFF)
    p.rrect(45, 36, 55, 70, 1)
    for y in (18, 28, 38):
        p.line([(26, y), (34, y)], 4)
    p.line([(24, 48), (34, 48)], 4)


def user(p: Pen):
    p.circle(50, 30, 19)
    p.pie(50, 94, 40, 180, 360)
    p.rrect(10, 88, 90, 94, 1)


ICONS = {
    "bicycle": bicycle, "car": car, "gauge": gauge, "gauge-1": gauge_1,
    "gps_lock_2d": gps_lock_2d, "gps_lock_3d": gps_lock_3d, "gps_lock_none": gps_lock_none,
    "gps_lock_unknown": gps_lock_unknown, "heartbeat": heartbeat, "mountain": mountain,
    "mountain-range": mountain_range, "power": power, "ruler": ruler, "slope": slope,
    "slope-triangle": slope_triangle, "speedometer-variant-tool-symbol": speedometer,
    "thermometer": thermometer, "thermometer-1": thermometer_1, "user": user,
}


def draw(name: str) -> Image.Image:
    pen = Pen()
    ICONS[name](pen)
    return pen.image()


def main(out: Path = OUT) -> None:
    for name in ICONS:
        draw(name).save(out / f"{name}.png", optimize=True)


if __name__ == "__main__":
    main()
