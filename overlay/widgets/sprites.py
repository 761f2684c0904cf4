"""Small pieces shared by the image-based widgets (icon, bars, chart, compasses).

* `Sprite`: a pre-rendered image at a fixed place (a static part).
* `LRU`: a bounded cache for dynamic images keyed by their displayed value
  (a bar's pixel length, a compass heading rounded to 0.5 degrees).
* `solid`: one colour through a coverage mask (masks drawn at 4x in 'L' and
  shrunk with reduce() are much cheaper than supersampled RGBA).
* `gradient` / `rounded_mask`: building blocks for bars.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Hashable

import numpy as np
from PIL import Image

from overlay.widgets.base import Box, Drawable, paste_over, rounded_rect


class Sprite(Drawable):
    """An image drawn at (x, y) in video pixels; static unless told otherwise."""

    def __init__(self, image: Image.Image, x: int, y: int, static: bool = True):
        self.image, self.x, self.y, self.static = image, x, y, static

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.image.width, self.y + self.image.height)

    def draw(self, frame, image, origin):
        paste_over(image, self.image, self.x - origin[0], self.y - origin[1])


class LRU:
    """Least-recently-used cache: `get(key, make)` builds a value once per key while it stays cached."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._items: OrderedDict = OrderedDict()
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], object]):
        hit = self._items.get(key)
        if hit is not None or key in self._items:
            self._items.move_to_end(key)
            return hit
        self.misses += 1
        value = self._items[key] = make()
        if len(self._items) > self.maxsize:
            self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


def cache_size(image_pixels: int, budget_bytes: int = 48 << 20, cap: int = 720) -> int:
    """How many images of `image_pixels` RGBA pixels fit a per-widget memory budget."""
    return max(8, min(cap, budget_bytes // max(1, image_pixels * 4)))


def quantise_heading(deg: float, step: float = 0.5) -> float:
    return (round(deg / step) * step) % 360.0


def solid(colour, coverage: Image.Image) -> Image.Image:
    """`colour` with alpha = coverage x the colour's own alpha."""
    if colour[3] < 255:
        coverage = coverage.point(lambda v, a=colour[3]: v * a // 255)
    out = Image.new("RGBA", coverage.size, tuple(colour[:3]) + (0,))
    out.putalpha(coverage)
    return out


def faded(image: Image.Image, factor: float) -> Image.Image:
    out = image.copy()
    out.putalpha(image.getchannel("A").point(lambda v: round(v * factor)))
    return out


def gradient(width: int, height: int, stops: list[tuple[float, tuple]]) -> Image.Image:
    """Horizontal RGBA gradient through (x position in px, colour) stops; flat beyond the ends."""
    xs = np.arange(width, dtype=np.float64) + 0.5
    pos = np.array([s[0] for s in stops], dtype=np.float64)
    cols = np.array([s[1] for s in stops], dtype=np.float64)
    row = np.stack([np.interp(xs, pos, cols[:, c]) for c in range(4)], axis=-1)
    arr = np.repeat(np.rint(row)[None, :, :], max(1, height), axis=0).astype(np.uint8)
    return Image.fromarray(arr, "RGBA")


def rounded_mask(width: int, height: int, radius: int) -> Image.Image:
    """Anti-aliased coverage ('L') of a rounded rectangle filling width x height."""
    r = max(0, min(radius, min(width, height) // 2))
    return rounded_rect((max(1, width), max(1, height)), r, (0, 0, 0, 255)).getchannel("A")


def masked(image: Image.Image, mask: Image.Image) -> Image.Image:
    """`image` with its alpha multiplied by `mask`."""
    out = image.copy()
    alpha = Image.fromarray((np.asarray(image.getchannel("A"), dtype=np.uint16)
                             * np.asarray(mask, dtype=np.uint16) // 255).astype(np.uint8), "L")
    out.putalpha(alpha)
    return out
