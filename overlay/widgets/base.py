"""The contract between the renderer and the widgets: Scaling (design canvas -> video
pixels), the drawing Context, Drawable, and the Widget base classes with the defaults
most widgets share (what they read, where they sit, their square).

A Drawable is either static (drawn once into a cached layer) or dynamic
(drawn every frame). All drawing goes INTO the image it is given - that
image is a view of shared memory - via alpha_composite / ImageDraw (the
pixel helpers are in imaging.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PIL import Image

from overlay.widgets.attrs import Attr, parse_number, positive
from overlay.widgets.imaging import paste_over

if TYPE_CHECKING:
    from overlay.frametable import FrameTable
    from overlay.layout.nodes import Component
    from overlay.widgets.textcache import FontBook

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in video pixels, x1/y1 exclusive


@dataclass(frozen=True)
class Scaling:
    """Maps design-canvas coordinates to video pixels: uniform scale, canvas centred."""

    scale: float
    dx: float = 0.0
    dy: float = 0.0

    @classmethod
    def fit(cls, design: tuple[int, int], video: tuple[int, int]) -> Scaling:
        s = min(video[0] / design[0], video[1] / design[1])
        return cls(s, (video[0] - design[0] * s) / 2, (video[1] - design[1] * s) / 2)

    def xy(self, x: float, y: float) -> tuple[int, int]:
        return round(x * self.scale + self.dx), round(y * self.scale + self.dy)

    def length(self, v: float) -> int:
        """A scaled size or line width; anything drawn at all stays at least 1 px."""
        return 0 if v <= 0 else max(1, round(v * self.scale))


class Context:
    """Per-worker drawing context handed to widget constructors."""

    def __init__(self, table: FrameTable, scaling: Scaling, fonts: FontBook,
                 column_key: Callable[[str, str | None], str],
                 unit_label: Callable[[str | None, str | None], str] = lambda metric, units: units or ""):
        self.table = table
        self.scaling = scaling
        self.fonts = fonts
        self.column_key = column_key
        self.unit_label = unit_label  # pint-free fallback when the layout has no resolved label

    def column(self, metric: str, units: str | None = None) -> np.ndarray | None:
        """The FrameTable column (numpy array) for metric/units, or None when absent."""
        return self.table.columns.get(self.column_key(metric, units))

    def values(self, metric: str | None, units: str | None = None) -> np.ndarray:
        """The column for metric/units (float32 or float64, as the table keeps it: never a copy, so
        a forked worker shares it with main); empty when the table lacks it (or no metric is
        given), so a widget just finds no value at any frame and shows its '-' or nothing."""
        col = self.column(metric, units) if metric else None
        return np.zeros(0) if col is None else col if col.dtype.kind == "f" else np.asarray(col, dtype=np.float64)


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
    """A picture made once (a track outline, a map, a dial face) pasted at (x, y) every frame.

    `trim`: its box is only the part that is not transparent (None when none is), so
    a dial face or a track does not claim its empty corners as a region to send.
    """

    static = True
    clips = True

    def __init__(self, image: Image.Image, x: int, y: int, *, trim: bool = False):
        self.image, self.x, self.y = image, x, y
        self.box = image.getbbox() if trim else (0, 0, image.width, image.height)

    def bbox(self) -> Box | None:
        if self.box is None:
            return None
        return (self.x + self.box[0], self.y + self.box[1], self.x + self.box[2], self.y + self.box[3])

    def draw(self, frame, image, origin):
        if self.box is not None:
            paste_over(image, self.image, self.x - origin[0], self.y - origin[1])


class Widget(Drawable):
    """A component built from its layout node. Subclasses register with @component.

    What it reads is declared, not computed: `reads` names columns taken as they
    are, `metric_attrs` the attributes naming a metric read in the `units`
    attribute's unit. A widget draws through parts(); one that is not among its own
    parts needs no draw().
    """

    TYPE = ""
    reads: tuple[str, ...] = ()  # e.g. ("lat", "lon")
    metric_attrs: tuple[str, ...] = ()  # e.g. ("metric",)

    def __init__(self, node: Component, offset: tuple[float, float], ctx: Context):
        self.node = node
        self.a: dict[str, Any] = node.attrs
        self.offset = offset
        self.ctx = ctx
        self.x, self.y = self.at()

    @classmethod
    def requests(cls, attrs: dict[str, Any]) -> set[tuple[str, str | None]]:
        """(metric, layout units) pairs this component reads; units resolved by the layout."""
        wanted = {(name, None) for name in cls.reads}
        wanted |= {(attrs[key], attrs["units"]) for key in cls.metric_attrs if attrs.get(key)}
        return wanted

    def parts(self) -> list[Drawable]:
        """The drawables this widget contributes; split static and dynamic parts here."""
        return [self]

    def at(self, x: float | None = None, y: float | None = None) -> tuple[int, int]:
        """The widget's (x, y) attribute in video pixels."""
        x = self.a.get("x", 0.0) if x is None else x
        y = self.a.get("y", 0.0) if y is None else y
        return self.ctx.scaling.xy(self.offset[0] + x, self.offset[1] + y)


def square_attrs(size: float = 256.0) -> tuple[Attr, ...]:
    """The attributes of a SquareWidget: its top-left corner and its side."""
    return (Attr("x", parse_number, 0.0), Attr("y", parse_number, 0.0), Attr("size", positive(parse_number), size))


class SquareWidget(Widget):
    """A widget filling the size x size square (its `size`, scaled) at (x, y): dials, maps, compasses."""

    def __init__(self, node: Component, offset: tuple[float, float], ctx: Context):
        super().__init__(node, offset, ctx)
        self.size = ctx.scaling.length(self.a["size"])

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.size, self.y + self.size)


def value_at(values, frame: int) -> float:
    """A column's value at `frame` as a float; NaN past its end (and where it is missing)."""
    return float(values[frame]) if 0 <= frame < len(values) else math.nan


def union(boxes) -> Box | None:
    boxes = [b for b in boxes if b is not None and b[2] > b[0] and b[3] > b[1]]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def ceil_even(v: float) -> int:
    return int(math.ceil(v / 2) * 2)


def floor_even(v: float) -> int:
    return int(math.floor(v / 2) * 2)
