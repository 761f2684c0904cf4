"""compass: a dial turned so the course over ground (`cog`) is at the top, under a fixed index mark.

Static: the background disc and the index mark. Dynamic: the dial - ring and
ticks turned, the cardinal letters N, E, S, W kept upright halfway between the
centre and the rim (where gopro-dashboard-overlay puts them; no other labels) -
cached by the heading rounded to 0.5 degrees. The ticks repeat every 30 degrees, so the turned ring depends only
on the heading modulo 30: 60 drawings per worker at most (~2 ms each at
256 px), kept for good; composing a dial from one is cheap. Without a
course the dial rests north-up, faded.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from overdash.lru import LRU
from overlay.widgets.attrs import WHITE, Attr, parse_colour, parse_number, parse_optional_colour, positive
from overlay.widgets.base import Drawable, SquareWidget, StaticImage, square_attrs, value_at
from overlay.widgets.imaging import SUPERSAMPLE, cache_size, faded, paste_over, solid, supersampled
from overlay.widgets.registry import component

CARDINALS = (("N", 0.0), ("E", 90.0), ("S", 180.0), ("W", 270.0))
TEXT_OUTLINE = (0, 0, 0, 150)


def headings(ctx) -> np.ndarray:
    """Course over ground per frame, quantised to 0.5 degrees; NaN where missing."""
    v = ctx.values("cog")
    out = np.full(len(v), np.nan)
    ok = np.isfinite(v)
    out[ok] = np.round(np.mod(v[ok], 360.0) * 2) / 2 % 360.0
    return out


def quantise_heading(deg: float, step: float = 0.5) -> float:
    return (round(deg / step) * step) % 360.0


def disc(size: int, fill, outline=None, width: int = 0) -> Image.Image:
    def paint(big: Image.Image, k: int) -> None:
        ImageDraw.Draw(big).ellipse((0, 0, size * k - 1, size * k - 1), fill=fill,
                                    outline=outline if width else None, width=width * k)
    return supersampled((size, size), paint)


def polar(c: float, r: float, bearing: float) -> tuple[float, float]:
    """Point at `bearing` (degrees clockwise from up) and radius r around (c, c)."""
    t = math.radians(bearing)
    return c + r * math.sin(t), c - r * math.cos(t)


# What compass and compass-arrow both start with; `text` colours the N/E/S/W letters.
COMPASS_ATTRS = square_attrs() + (Attr("textsize", positive(parse_number), 16.0),)


class CompassWidget(SquareWidget):
    """What compass and compass-arrow share: a ring of `stroke` px at `radius`, upright letters,
    and the course per frame."""

    reads = ("cog",)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        s = self.size
        self.stroke = max(1, round(s / 96))
        self.radius = s / 2 - self.stroke / 2 - 1
        self.text_px = ctx.scaling.length(self.a["textsize"])
        self.text_outline = max(1, round(self.text_px / 32))  # thin: letters close together
        self.letters = ctx.fonts.raster(self.text_px, self.a["text"], TEXT_OUTLINE, self.text_outline, "mm")
        self.headings = headings(ctx)

    def letter_gap(self, turning: bool) -> float:
        """The least distance from the centre at which the upright letters clear each other.

        Neighbours (a quarter turn apart) are r·√2 apart. Held at N/E/S/W (compass-arrow) two
        letters clear when r reaches the smaller of their mean width and height; turning with the
        card (compass), also at the worst angle between, which needs r ≥ √((w² + h²) / 2).
        """
        sizes = []
        for letter, _ in CARDINALS:
            left, top, right, bottom = self.letters.bbox(letter)
            sizes.append((right - left, bottom - top))
        need = 0.0
        for (w0, h0), (w1, h1) in zip(sizes, sizes[1:] + sizes[:1]):
            w, h = (w0 + w1) / 2, (h0 + h1) / 2
            need = max(need, math.sqrt((w * w + h * h) / 2) if turning else min(w, h))
        return need + 1.0

    def letter_room(self) -> float:
        """The farthest from the centre a letter can sit and still lie wholly inside the dial."""
        half = max(max(-left, right, -top, bottom) for left, top, right, bottom
                   in (self.letters.bbox(c) for c, _ in CARDINALS))
        return self.size / 2 - half - 1

    def heading(self, frame: int) -> float | None:
        """The course at `frame` as drawn (0.5 degree steps); None where it is not known."""
        h = value_at(self.headings, frame)
        return None if h != h else quantise_heading(h)


@component("compass", COMPASS_ATTRS + (
    Attr("fg", parse_colour, WHITE),
    Attr("bg", parse_optional_colour, (0, 0, 0, 0)),
    Attr("text", parse_colour, WHITE),
))
class Compass(CompassWidget):
    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        s = self.size
        # a quarter of the size from the centre, farther out only as far as keeps big letters apart
        self.letter_r = min(max(s / 4, self.letter_gap(turning=True)), max(s / 4, self.letter_room()))
        self.rings: dict[float, Image.Image] = {}  # heading mod 30 (0.5 steps) -> turned ring
        self.cache = LRU(cache_size(s * s, 16 << 20, 64))

    def _ring(self, turn: float) -> Image.Image:
        """Ring and ticks (every 10 degrees, longer every 30) turned `turn` degrees anticlockwise.

        One colour, so drawn as a 4x coverage mask and shrunk with reduce(): exact at any angle
        and several times cheaper than rotating an RGBA image.
        """
        s, sw, R, k = self.size, self.stroke, self.radius, SUPERSAMPLE
        mask = Image.new("L", (s * k, s * k), 0)
        d = ImageDraw.Draw(mask)
        c, r = s * k / 2, R * k
        d.ellipse((c - r - sw * k / 2, c - r - sw * k / 2, c + r + sw * k / 2, c + r + sw * k / 2),
                  outline=255, width=sw * k)
        for deg in range(0, 360, 10):
            major = deg % 30 == 0
            length = s * (0.085 if major else 0.045) * k
            w = (sw * 1.4 if major else sw * 0.8) * k
            d.line([polar(c, r, deg - turn), polar(c, r - length, deg - turn)], fill=255, width=max(1, round(w)))
        return solid(self.a["fg"], mask.reduce(k))

    def dial(self, heading: float) -> Image.Image:
        """The dial for a heading (None: north-up, faded)."""
        h = 0.0 if heading is None else heading
        key = h % 30.0
        ring = self.rings.get(key)
        if ring is None:
            ring = self.rings[key] = self._ring(key)  # turned ccw by h, bearing h is at the top
        im = ring.copy()
        c = self.size / 2
        for letter, bearing in CARDINALS:
            x, y = polar(c, self.letter_r, bearing - h)
            self.letters.draw(im, letter, round(x), round(y))
        return faded(im, 0.45) if heading is None else im

    def parts(self) -> list[Drawable]:
        a, s = self.a, self.size
        parts: list[Drawable] = []
        if a["bg"] and a["bg"][3] > 0:
            parts.append(StaticImage(disc(s, a["bg"]), self.x, self.y))
        parts.append(self)
        parts.append(StaticImage(self._index(), self.x, self.y))
        return parts

    def _index(self) -> Image.Image:
        """The fixed mark at the top: a small downward triangle over the ring."""
        s, fg = self.size, self.a["fg"]

        def paint(big: Image.Image, k: int) -> None:
            c, half, depth = s * k / 2, s * 0.045 * k, s * 0.075 * k
            top = (s / 2 - self.radius - self.stroke) * k
            ImageDraw.Draw(big).polygon([(c - half, top), (c + half, top), (c, top + depth)],
                                        fill=(255, 90, 60, 255), outline=fg)
        return supersampled((s, s), paint)

    def draw(self, frame, image, origin):
        key = self.heading(frame)
        im = self.cache.get(key, lambda: self.dial(key))
        paste_over(image, im, self.x - origin[0], self.y - origin[1])
