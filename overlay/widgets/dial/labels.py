"""Scale numbers placed so that no two overlap.

A layout may ask for more numbers than its arc has room for (20 sectors over
90 degrees, two decimals each, or a motor dial with end=1000 numbered every
20). Rather than print them over each other, the numbers first shrink (down to
a floor), and when even that is too crowded only every 2nd, 3rd... number is
kept. A number that is shown always sits where its value is on the scale and
says exactly that value.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from overlay.widgets.textcache import TextRaster

SHRINK = (1.0, 0.9, 0.8, 0.7, 0.6)  # font sizes tried, as fractions of the asked size
GAP = 1  # pixels kept clear between two numbers


@dataclass(frozen=True)
class Mark:
    """One number of a scale: its text, its centre on the face, and its style (index into the rasters)."""

    text: str
    x: float
    y: float
    style: int = 0


Placed = tuple[TextRaster, str, float, float]


def fit(marks: list[Mark], raster: Callable[[int, float], TextRaster]) -> list[Placed]:
    """(raster, text, x, y) for the marks that are drawn: all of them at the largest size at which
    none overlaps, else every k-th one (from the first) at the smallest size, for the smallest k that fits.

    `raster(style, scale)` gives the raster of a style at `scale` x its own size.
    """
    if not marks:
        return []
    for scale in SHRINK:
        placed = _place(marks, raster, scale)
        if not _crowded(placed):
            return placed
    for k in range(2, len(marks) + 1):
        placed = _place(marks[::k], raster, SHRINK[-1])
        if not _crowded(placed):
            return placed
    return _place(marks[:1], raster, SHRINK[-1])


def _place(marks: list[Mark], raster: Callable[[int, float], TextRaster], scale: float) -> list[Placed]:
    rasters: dict[int, TextRaster] = {}
    out = []
    for m in marks:
        r = rasters.get(m.style) or rasters.setdefault(m.style, raster(m.style, scale))
        out.append((r, m.text, m.x, m.y))
    return out


def boxes(placed: list[Placed]) -> list[tuple[int, int, int, int]]:
    """Where each placed number's pixels are (outline included), on the face."""
    out = []
    for r, text, x, y in placed:
        l, t, rr, b = r.bbox(text)
        x, y = round(x), round(y)
        out.append((x + l, y + t, x + rr, y + b))
    return out


def _crowded(placed: list[Placed]) -> bool:
    bs = boxes(placed)
    for i, (l0, t0, r0, b0) in enumerate(bs):
        for l1, t1, r1, b1 in bs[i + 1:]:
            if l0 < r1 + GAP and l1 < r0 + GAP and t0 < b1 + GAP and t1 < b0 + GAP:
                return True
    return False
