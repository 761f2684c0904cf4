"""compass-arrow: a fixed north-up dial with an arrow pointing along the course over ground (`cog`).

Static: disc, ring, ticks and N/E/S/W. Dynamic: the arrow, drawn per heading
rounded to 0.5 degrees as rotated polygons, 4x supersampled in a box just
around the arrow (~0.3 ms at 256 px, a fraction of an image rotation), and
cached. Without a course only the dial shows.
"""
from __future__ import annotations

import math

from PIL import Image, ImageDraw

from overdash.lru import LRU
from overlay.widgets.attrs import WHITE, Attr, parse_colour, parse_number, parse_optional_colour, positive
from overlay.widgets.base import Box, Drawable, StaticImage, square_attrs
from overlay.widgets.compass import CARDINALS, CompassWidget, polar
from overlay.widgets.imaging import SUPERSAMPLE, cache_size, paste_over, supersampled
from overlay.widgets.registry import component


# Defaults are gopro-dashboard-overlay's: 32 px letters, a black ring, a white arrow edged in black.
@component("compass-arrow", square_attrs() + (
    Attr("textsize", positive(parse_number), 32.0),
    Attr("arrow", parse_colour, (255, 255, 255, 255)),
    Attr("bg", parse_optional_colour, (0, 0, 0, 0)),
    Attr("text", parse_colour, WHITE),
    Attr("outline", parse_optional_colour, (0, 0, 0, 255)),
    Attr("arrow_outline", parse_optional_colour, (0, 0, 0, 255)),
))
class CompassArrow(CompassWidget):
    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a, s, text_px = self.a, self.size, self.text_px
        # letters 0.7 of the way out to the rim, pulled in when big letters would cross it
        self.letter_r = min(max(min(0.35 * s, self.letter_room() - self.stroke), self.letter_gap(turning=False)),
                            max(0.25 * s, self.letter_room()))
        # the arrow fits inside the letters, yet stays at least a quarter of the dial long
        self.arrow_len = max(s * 0.25 / 2, min(0.55 * s / 2, self.letter_r - text_px * 0.75))
        self.side = 2 * math.ceil(self.arrow_len + self.stroke + 2)
        self.outline_w = max(1, round(self.stroke * 0.9)) if a["arrow_outline"] else 0
        self.shapes = self._shapes()
        # a darker left half gives the arrow some relief
        self.shade = tuple(round(v * 0.72) for v in a["arrow"][:3]) + (a["arrow"][3],)
        self.cache = LRU(cache_size(self.side * self.side, 24 << 20, 720))

    def _dial(self) -> Image.Image:
        a, s, sw, R = self.a, self.size, self.stroke, self.radius

        def paint(big: Image.Image, k: int) -> None:
            d = ImageDraw.Draw(big)
            c, r = s * k / 2, R * k
            if a["bg"] and a["bg"][3] > 0:
                d.ellipse((c - r, c - r, c + r, c + r), fill=a["bg"])
            if a["outline"]:
                d.ellipse((c - r, c - r, c + r, c + r), outline=a["outline"], width=sw * k)
                for deg in range(0, 360, 30):
                    if deg % 90:
                        d.line([polar(c, r, deg), polar(c, r - s * 0.05 * k, deg)], fill=a["outline"],
                               width=max(1, round(sw * k)))
        im = supersampled((s, s), paint)
        c = s / 2
        for letter, bearing in CARDINALS:
            x, y = polar(c, self.letter_r, bearing)
            self.letters.draw(im, letter, round(x), round(y))
        return im

    def _shapes(self):
        """The arrow pointing up, around (0, 0): outlined body and its shaded left half."""
        L = self.arrow_len
        tip, right, notch, left = (0.0, -L), (0.36 * L, 0.62 * L), (0.0, 0.32 * L), (-0.36 * L, 0.62 * L)
        inset = self.outline_w
        half = [(0.0, -L + 2 * inset), (0.0, 0.32 * L - inset), (-0.36 * L + 1.6 * inset, 0.62 * L - inset)]
        return [tip, right, notch, left], half

    def arrow_at(self, heading: float) -> tuple[Image.Image, int, int]:
        """(image, dx, dy): the arrow turned `heading` degrees clockwise; paste at centre + (dx, dy)."""
        a = self.a
        k = SUPERSAMPLE if self.side <= 320 else 2  # big arrows (4K) need less supersampling
        t = math.radians(heading)
        co, si = math.cos(t), math.sin(t)

        def turn(pts):
            return [(x * co - y * si, x * si + y * co) for x, y in pts]
        body, half = (turn(p) for p in self.shapes)
        m = self.outline_w + 2
        x0, y0 = math.floor(min(x for x, _ in body)) - m, math.floor(min(y for _, y in body)) - m
        x1, y1 = math.ceil(max(x for x, _ in body)) + m, math.ceil(max(y for _, y in body)) + m
        big = Image.new("RGBA", ((x1 - x0) * k, (y1 - y0) * k), (0, 0, 0, 0))
        d = ImageDraw.Draw(big)

        def px(pts):
            return [((x - x0) * k, (y - y0) * k) for x, y in pts]
        d.polygon(px(body), fill=a["arrow"], outline=a["arrow_outline"] if self.outline_w else None,
                  width=self.outline_w * k)
        d.polygon(px(half), fill=self.shade)
        return big.resize((x1 - x0, y1 - y0), Image.Resampling.BOX), x0, y0

    def parts(self) -> list[Drawable]:
        return [StaticImage(self._dial(), self.x, self.y), self]

    def bbox(self) -> Box:
        c = self.size // 2
        x0, y0 = self.x + c - self.side // 2, self.y + c - self.side // 2
        return (x0, y0, x0 + self.side, y0 + self.side)

    def draw(self, frame, image, origin):
        key = self.heading(frame)
        if key is None:
            return
        im, dx, dy = self.cache.get(key, lambda: self.arrow_at(key))
        c = self.size // 2
        paste_over(image, im, self.x + c + dx - origin[0], self.y + c + dy - origin[1])
