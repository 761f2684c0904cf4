"""Lit arcs: a value bar or a range along a dial's scale, cut per frame at the value's angle.

The arc is painted once, fully lit, like a face (dial.face.paint_face); ArcMask
then knows for each lit pixel its angle along the scale and its radius, so a
cut at any angle is anti-aliased in pixels, not degrees, without repainting.
ArcFill picks the cut per frame and caches the cut pictures (LRU, byte budget)
by the cut's angles, quantised a little finer than the needles'.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

from overdash.lru import LRU, image_bytes
from overlay.widgets.base import Box, Drawable, value_at
from overlay.widgets.dial.scale import ANGLE_STEPS, CACHE_BYTES, Dial
from overlay.widgets.imaging import paste_over


class ArcMask:
    """A lit layer shown only between two angles, cut anti-aliased at pixel precision."""

    def __init__(self, dial: Dial, lit: Image.Image):
        self.dial = dial
        arr = np.asarray(lit)
        box = lit.getbbox()
        self.box = box
        if box is None:
            return
        x0, y0, x1, y1 = box
        self.rgba = np.ascontiguousarray(arr[y0:y1, x0:x1])
        alpha = self.rgba[..., 3]
        self.idx = np.flatnonzero(alpha)
        ys, xs = np.divmod(self.idx, x1 - x0)
        dx, dy = xs + x0 + 0.5 - dial.cx, ys + y0 + 0.5 - dial.cy
        theta = np.degrees(np.arctan2(dy, dx))
        sign = 1.0 if dial.length > 0 else -1.0
        u = np.mod((theta - dial.start) * sign, 360.0)
        gap = 360.0 - min(abs(dial.length), 360.0)
        u[u > abs(dial.length) + gap / 2] -= 360.0  # the caps before the start read as negative angles
        self.u = u.astype(np.float32)
        self.px_per_deg = (np.hypot(dx, dy) * math.pi / 180).astype(np.float32)
        self.alpha = alpha.reshape(-1)[self.idx].astype(np.float32)

    def image(self, f0: float | None, f1: float | None) -> Image.Image | None:
        """The lit layer between fractions f0 and f1 of the scale; None = open end (caps included)."""
        if self.box is None:
            return None
        L = abs(self.dial.length)
        cov = np.ones_like(self.u)
        if f0 is not None:
            cov *= np.clip((self.u - np.float32(f0 * L)) * self.px_per_deg + 0.5, 0, 1)
        if f1 is not None:
            cov *= np.clip((np.float32(f1 * L) - self.u) * self.px_per_deg + 0.5, 0, 1)
        out = self.rgba.copy()
        flat = out.reshape(-1, 4)
        flat[self.idx, 3] = np.round(self.alpha * cov).astype(np.uint8)
        return Image.fromarray(out, "RGBA")


class ArcFill(Drawable):
    """Per frame: the lit layer from the scale's start (or a lower value) to the value."""

    def __init__(self, mask: ArcMask, upper: np.ndarray, x: int, y: int, *, lower: np.ndarray | None = None,
                 lower_fixed: float | None = None, upper_open_at_max: bool = True, quantum: float | None = None):
        self.mask, self.upper, self.lower, self.lower_fixed = mask, upper, lower, lower_fixed
        self.x, self.y = x, y
        self.open_at_max = upper_open_at_max
        self.quantum = quantum  # snap the fill to whole segments (fractions), e.g. 1/40
        self.cache: LRU[Image.Image] = LRU(budget=CACHE_BYTES, size_of=image_bytes)

    def bbox(self) -> Box | None:
        b = self.mask.box
        return None if b is None else (self.x + b[0], self.y + b[1], self.x + b[2], self.y + b[3])

    def fractions(self, frame: int) -> tuple[float | None, float | None] | None:
        """(f0, f1) of the scale lit at `frame` (None: an open end); None when nothing is known."""
        d = self.mask.dial
        hi = value_at(self.upper, frame)
        if hi != hi:
            return None
        lo = value_at(self.lower, frame) if self.lower is not None else self.lower_fixed
        if lo is not None and lo != lo:
            return None
        f1 = d.frac(hi)
        f0 = None if lo is None else d.frac(lo)
        if f0 is not None and f0 > f1:
            f0, f1 = f1, f0
        if self.quantum:
            f1 = math.ceil(f1 / self.quantum - 1e-6) * self.quantum
        if f0 is not None and f0 <= 0:
            f0 = None
        if f1 >= 1 and self.open_at_max:
            f1 = None
        return f0, f1

    def draw(self, frame, image, origin):
        fr = self.fractions(frame)
        if fr is None or self.mask.box is None:
            return
        q = 4 * ANGLE_STEPS / max(abs(self.mask.dial.length), 1e-9) * 360  # keys ~ 1/(4*STEPS) degree
        key = tuple(None if f is None else round(f * q) for f in fr)
        im = self.cache.get(key, lambda: self.mask.image(*(None if k is None else k / q for k in key)))
        paste_over(image, im, self.x + self.mask.box[0] - origin[0], self.y + self.mask.box[1] - origin[1])
