"""What every widget shares: placement (design canvas -> video pixels), the
drawing context, the Drawable contract and clipped compositing.

A Drawable is either static (drawn once into a cached layer) or dynamic
(drawn every frame). All drawing goes INTO the image it is given - that
image is a view of shared memory - via alpha_composite / ImageDraw.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from PIL import Image, ImageDraw

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in video pixels, x1/y1 exclusive


@dataclass(frozen=True)
class Place:
    """Maps design-canvas coordinates to video pixels: uniform scale, canvas centred."""

    scale: float
    dx: float = 0.0
    dy: float = 0.0

    @classmethod
    def fit(cls, design: tuple[int, int], video: tuple[int, int]) -> "Place":
        s = min(video[0] / design[0], video[1] / design[1])
        return cls(s, (video[0] - design[0] * s) / 2, (video[1] - design[1] * s) / 2)

    def xy(self, x: float, y: float) -> tuple[int, int]:
        return round(x * self.scale + self.dx), round(y * self.scale + self.dy)

    def length(self, v: float) -> int:
        """A scaled size or line width; anything drawn at all stays at least 1 px."""
        return 0 if v <= 0 else max(1, round(v * self.scale))


class Context:
    """Per-worker drawing context handed to widget constructors."""

    def __init__(self, table, place: Place, fonts, column_key: Callable[[str, str | None], str],
                 unit_label: Callable[[str | None, str | None], str] = lambda metric, units: units or ""):
        self.table = table
        self.place = place
        self.fonts = fonts
        self.column_key = column_key
        self.unit_label = unit_label  # pint-free fallback when the layout has no resolved label

    def column(self, metric: str, units: str | None = None):
        """The FrameTable column (numpy array) for metric/units, or None when absent."""
        return self.table.columns.get(self.column_key(metric, units))


class Drawable:
    """Something that draws; `static` ones are drawn once (frame 0) into a cached layer."""

    static = False
    # draw() copes with any origin: into an image that shows only part of bbox() it draws
    # that part (paste_over and ImageDraw clip). Lets a small change repaint a small box.
    clips = False

    def bbox(self) -> Box | None:
        raise NotImplementedError

    def extent(self, frame: int) -> Box | None:
        """Where the pixels drawn at `frame` lie, within bbox() (None: none drawn).

        When the key changes between two frames, only the two extents need repainting.
        """
        return self.bbox()

    def draw(self, frame: int, image: Image.Image, origin: tuple[int, int]) -> None:
        raise NotImplementedError

    def key(self, frame: int):
        """What this drawable shows at `frame`: equal keys mean identical pixels.

        Lets a worker leave a region alone when nothing in it changed since the frame
        its slot last held. Static parts never change; anything that does not say
        otherwise changes every frame.
        """
        return None if self.static else frame


class StaticImage(Drawable):
    """A picture made once (a track outline, a map, a credit line) pasted at (x, y) every frame."""

    static = True
    clips = True

    def __init__(self, image: Image.Image, x: int, y: int):
        self.image, self.x, self.y = image, x, y

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.image.width, self.y + self.image.height)

    def draw(self, frame, image, origin):
        paste_over(image, self.image, self.x - origin[0], self.y - origin[1])


class Widget(Drawable):
    """A component built from its layout node. Subclasses register with @component."""

    TYPE = ""

    def __init__(self, node, offset: tuple[float, float], ctx: Context):
        self.node = node
        self.a: dict[str, Any] = node.attrs
        self.offset = offset
        self.ctx = ctx

    @classmethod
    def requests(cls, attrs: dict[str, Any]) -> set[tuple[str, str | None]]:
        """(metric, layout units) pairs this component reads; units resolved by the layout."""
        return set()

    def parts(self) -> list[Drawable]:
        """The drawables this widget contributes; split static and dynamic parts here."""
        return [self]

    def at(self, x: float = None, y: float = None) -> tuple[int, int]:
        """The widget's (x, y) attribute in video pixels."""
        x = self.a.get("x", 0.0) if x is None else x
        y = self.a.get("y", 0.0) if y is None else y
        return self.ctx.place.xy(self.offset[0] + x, self.offset[1] + y)


def union(boxes) -> Box | None:
    boxes = [b for b in boxes if b is not None and b[2] > b[0] and b[3] > b[1]]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def paste_over(image: Image.Image, src: Image.Image, x: int, y: int) -> None:
    """alpha_composite `src` onto `image` at (x, y), clipped to the image (Pillow refuses x<0)."""
    sx, sy = max(0, -x), max(0, -y)
    w = min(src.width, image.width - x) - sx
    h = min(src.height, image.height - y) - sy
    if w <= 0 or h <= 0:
        return
    if sx or sy or w != src.width or h != src.height:
        image.alpha_composite(src, dest=(x + sx, y + sy), source=(sx, sy, sx + w, sy + h))
    else:
        image.alpha_composite(src, dest=(x, y))


SUPERSAMPLE = 4


def supersampled(size: tuple[int, int], paint: Callable[[Image.Image, int], None]) -> Image.Image:
    """Draw shapes at SUPERSAMPLE x and shrink: Pillow's shapes have no anti-aliasing."""
    k = SUPERSAMPLE
    big = Image.new("RGBA", (max(1, size[0] * k), max(1, size[1] * k)), (0, 0, 0, 0))
    paint(big, k)
    return big.resize(size, Image.Resampling.BOX)  # Pillow premultiplies RGBA for resizing


def rounded_rect(size: tuple[int, int], radius: int, fill, outline=None, outline_width: int = 0) -> Image.Image:
    """An anti-aliased rounded rectangle filling `size` (see supersampled).

    Only a small one with the same corners is supersampled and then stretched (nine-slice):
    every row and column between the corners and outline bands is the same, so this is the
    picture a full-size supersample gives (tests compare them), at a fraction of the cost
    (a 780x244 panel: 0.35 ms instead of ~4 ms for 3 Mpx at 4x).
    """
    def paint(w: int, h: int):
        def draw(big, k):
            ImageDraw.Draw(big).rounded_rectangle((0, 0, w * k - 1, h * k - 1), radius * k, fill=fill,
                                                  outline=outline, width=outline_width * k)
        return supersampled((w, h), draw)

    w, h = size
    c = max(radius, outline_width) + 1  # first column (and row) past every corner and outline band
    m = 2 * c + 1
    if w <= m or h <= m:
        return paint(w, h)
    mini = paint(m, m)
    out = Image.new(mini.mode, size)

    def spans(n: int):
        """(source span, destination span) along an axis n long: head as is, middle line stretched, tail as is."""
        return (((0, c), (0, c)), ((c, c + 1), (c, n - c)), ((c + 1, m), (n - c, n)))

    for (sx0, sx1), (dx0, dx1) in spans(w):
        for (sy0, sy1), (dy0, dy1) in spans(h):
            piece = mini.crop((sx0, sy0, sx1, sy1))
            if piece.size != (dx1 - dx0, dy1 - dy0):
                piece = piece.resize((dx1 - dx0, dy1 - dy0), Image.Resampling.NEAREST)
            out.paste(piece, (dx0, dy0))
    return out


def ceil_even(v: float) -> int:
    return int(math.ceil(v / 2) * 2)


def floor_even(v: float) -> int:
    return int(math.floor(v / 2) * 2)
