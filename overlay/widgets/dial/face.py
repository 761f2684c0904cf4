"""Painting a dial's face: the part drawn once and kept as a static layer.

Pillow's shapes have no anti-aliasing, so a face (disc, bands, ticks) is
painted at FACE_SS x through FaceDraw and shrunk with LANCZOS. Numbers are not
painted big and shrunk (hinted FreeType text drawn at 1x is crisper): Labels
collects them while the face is painted and draws them through the shared
TextRaster after the shrink.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

from overlay.widgets.textcache import TextRaster

FACE_SS = 4  # supersampling of dial faces

# The house look: dark translucent faces with light marks read on bright and dark footage alike.
FACE_BG = (16, 18, 22, 200)
MARK = (255, 255, 255, 255)
MARK_DIM = (255, 255, 255, 170)
ACCENT = (255, 86, 34, 255)
SHADOW = (0, 0, 0, 170)
GREEN = (64, 200, 90, 255)
YELLOW = (250, 200, 40, 255)
RED = (235, 55, 45, 255)


class FaceDraw:
    """Dial shapes (discs, rings, arc bands, radial ticks) drawn on a supersampled canvas.

    Callers give 1x coordinates and angles as in Dial; the k x scaling is done here, so a
    face reads the same at any supersampling.
    """

    def __init__(self, big: Image.Image, k: int):
        self.d = ImageDraw.Draw(big)
        self.k = k

    def _box(self, cx, cy, r):
        k = self.k
        return ((cx - r) * k, (cy - r) * k, (cx + r) * k - 1, (cy + r) * k - 1)

    def disc(self, cx, cy, r, fill):
        if r > 0 and fill[3]:
            self.d.ellipse(self._box(cx, cy, r), fill=fill)

    def ring(self, cx, cy, r_out, width, fill):
        if r_out > 0 and width > 0 and fill[3]:
            self.d.ellipse(self._box(cx, cy, r_out), outline=fill, width=max(1, round(width * self.k)))

    def band(self, cx, cy, r_out, width, a0, a1, fill, cap: str = "butt"):
        """An arc band between radius r_out - width and r_out, from a0 clockwise to a1."""
        if width <= 0 or not fill[3] or a1 <= a0:
            return
        if a1 - a0 >= 360:
            return self.ring(cx, cy, r_out, width, fill)
        r_mid = r_out - width / 2
        if cap == "square":
            ext = math.degrees(width / 2 / max(r_mid, 1e-6))
            a0, a1 = a0 - ext, a1 + ext
        self.d.arc(self._box(cx, cy, r_out), a0, a1, fill=fill, width=max(1, round(width * self.k)))
        if cap == "round":
            for a in (a0, a1):
                t = math.radians(a)
                self.disc(cx + r_mid * math.cos(t), cy + r_mid * math.sin(t), width / 2, fill)

    def tick(self, cx, cy, deg, r0, r1, width, fill):
        """A radial bar from radius r0 to r1, `width` wide."""
        if not fill[3] or width <= 0:
            return
        t = math.radians(deg)
        c, s = math.cos(t), math.sin(t)
        h = width / 2
        k = self.k
        pts = [(cx + r * c - q * s * h, cy + r * s + q * c * h) for r, q in ((r0, -1), (r1, -1), (r1, 1), (r0, 1))]
        self.d.polygon([(x * k, y * k) for x, y in pts], fill=fill)


def paint_face(size: int, paint: Callable[[FaceDraw], None], k: int = FACE_SS) -> Image.Image:
    """Shapes painted at k x and shrunk with LANCZOS (premultiplied by Pillow), clipped to 0..255."""
    big = Image.new("RGBA", (size * k, size * k), (0, 0, 0, 0))
    paint(FaceDraw(big, k))
    return big.resize((size, size), Image.Resampling.LANCZOS)


def radial_gradient(size: int, cx: float, cy: float, r0: float, r1: float, c0, c1, mask: Image.Image) -> Image.Image:
    """Colour c0 at radius r0 blending to c1 at r1, alpha scaled by `mask` (L)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    t = np.clip((np.hypot(xx - cx, yy - cy) - r0) / max(r1 - r0, 1e-6), 0, 1)[..., None]
    rgba = np.asarray(c0, np.float32) * (1 - t) + np.asarray(c1, np.float32) * t
    rgba[..., 3] *= np.asarray(mask, np.float32) / 255
    return Image.fromarray(np.round(rgba).astype(np.uint8), "RGBA")


class Labels:
    """Text put on a face at 1x after shrinking: (raster, text, x, y) in face pixels."""

    def __init__(self):
        self.items: list[tuple[TextRaster, str, int, int]] = []

    def add(self, raster: TextRaster, text: str, x: float, y: float):
        self.items.append((raster, text, round(x), round(y)))

    def draw(self, face: Image.Image):
        for raster, text, x, y in self.items:
            raster.draw(face, text, x, y)
