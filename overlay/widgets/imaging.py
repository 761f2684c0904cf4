"""Pixel building blocks shared by the widgets: compositing, anti-aliasing, masks and gradients.

* `paste_over`: alpha_composite clipped to the target, since widgets draw into
  views of a region that may show only part of them.
* `supersampled` / `rounded_rect`: Pillow's shapes have no anti-aliasing, so
  shapes are drawn at SUPERSAMPLE x and shrunk (a rounded rectangle by nine-slice,
  at a fraction of the cost).
* `solid`: one colour through a coverage mask (masks drawn at 4x in 'L' and
  shrunk with reduce() are much cheaper than supersampled RGBA); `faded`, `masked`.
* `gradient` / `rounded_mask`: building blocks for bars.
* `cache_size`: how many entries an overdash.lru.LRU of a widget's per-value
  pictures may keep within a memory budget.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image, ImageDraw


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


def cache_size(image_pixels: int, budget_bytes: int = 48 << 20, cap: int = 720) -> int:
    """How many images of `image_pixels` RGBA pixels fit a per-widget memory budget."""
    return max(8, min(cap, budget_bytes // max(1, image_pixels * 4)))


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
