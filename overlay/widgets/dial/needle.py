"""What points at the value on a dial: the needle, and the dot of a marker gauge.

A needle is not a rotated bitmap (Pillow's bicubic rotate of a 256 px square
costs ~3 ms): its coverage is computed analytically with numpy over the
needle's own bounding box - signed distance to a convex polygon plus a hub
disc, a 1 px linear ramp as anti-aliasing - in ~0.2 ms, and the result is
cached by the angle quantised to 1/ANGLE_STEPS degree (an LRU with a byte
budget). A dot is one small picture moved along the scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from overdash.lru import LRU, image_bytes
from overlay.widgets.base import Box, Drawable, value_at
from overlay.widgets.dial.face import ACCENT, SHADOW
from overlay.widgets.dial.scale import ANGLE_STEPS, CACHE_BYTES, Dial
from overlay.widgets.imaging import paste_over


@dataclass(frozen=True)
class NeedleShape:
    """A needle pointing along +x from the pivot: from -tail to tip, half-widths at both ends."""

    tip: float
    tail: float = 0.0
    base_half: float = 2.0
    tip_half: float = 0.5
    hub: float = 0.0  # radius of the pivot disc (0: none)
    start: float | None = None  # where the bar starts along +x instead of -tail (donut markers)
    fill: tuple = ACCENT
    outline: tuple | None = SHADOW
    outline_width: float = 1.0

    def reach(self) -> float:
        return max(self.tip, self.tail, self.hub) + self.outline_width + 2

    def polygon(self) -> np.ndarray:
        """The needle's outline (convex), pointing along +x from the pivot at (0, 0)."""
        if self.start is not None:  # a bar from `start` to the tip
            pts = [(self.start, -self.base_half), (self.tip, -self.tip_half), (self.tip, self.tip_half),
                   (self.start, self.base_half)]
        elif self.tail > 0:  # widest at the pivot, tapering both ways (convex: both ends narrower)
            th = min(self.base_half, self.tip_half * 0.5 + self.base_half * 0.5)
            pts = [(-self.tail, -th), (0, -self.base_half), (self.tip, -self.tip_half),
                   (self.tip, self.tip_half), (0, self.base_half), (-self.tail, th)]
        else:
            pts = [(0, -self.base_half), (self.tip, -self.tip_half), (self.tip, self.tip_half),
                   (0, self.base_half)]
        return np.array(pts, dtype=np.float64)


class Needle(Drawable):
    """A needle at the value's angle, drawn anti-aliased by coverage, cached by quantised angle."""

    def __init__(self, dial: Dial, values: np.ndarray, shape: NeedleShape, x: int, y: int, size: int):
        self.dial, self.values, self.shape = dial, values, shape
        self.x, self.y, self.size = x, y, size
        self.cache: LRU[tuple[Image.Image | None, int, int]] = LRU(
            budget=CACHE_BYTES, size_of=lambda hit: image_bytes(hit[0]))
        self.poly = shape.polygon()
        out = shape.outline
        self.fill = np.asarray(shape.fill, np.float32)
        self.out = None if out is None or out[3] == 0 or shape.outline_width <= 0 else np.asarray(out, np.float32)

    def bbox(self) -> Box:
        r = self.shape.reach()
        cx, cy = self.x + self.dial.cx, self.y + self.dial.cy
        return (max(self.x, math.floor(cx - r)), max(self.y, math.floor(cy - r)),
                min(self.x + self.size, math.ceil(cx + r)), min(self.y + self.size, math.ceil(cy + r)))

    def draw(self, frame, image, origin):
        v = value_at(self.values, frame)
        if v != v:
            return
        key = round(self.dial.angle(v) * ANGLE_STEPS)
        im, dx, dy = self.cache.get(key, lambda: self.rasterise(key / ANGLE_STEPS))
        if im is not None:
            paste_over(image, im, self.x + dx - origin[0], self.y + dy - origin[1])

    def rasterise(self, deg: float) -> tuple[Image.Image | None, int, int]:
        """(picture, x, y in the dial's square) of the needle turned to `deg`; None if it shows nothing."""
        s, d = self.shape, self.dial
        t = math.radians(deg)
        c, sn = math.cos(t), math.sin(t)
        rot = np.array([[c, -sn], [sn, c]])
        pts = self.poly @ rot.T + (d.cx, d.cy)
        ow = s.outline_width if self.out is not None else 0.0
        pad = ow + 1.5
        xs, ys = list(pts[:, 0]), list(pts[:, 1])
        if s.hub > 0:
            xs += [d.cx - s.hub, d.cx + s.hub]
            ys += [d.cy - s.hub, d.cy + s.hub]
        x0, y0 = max(0, math.floor(min(xs) - pad)), max(0, math.floor(min(ys) - pad))
        x1, y1 = min(self.size, math.ceil(max(xs) + pad)), min(self.size, math.ceil(max(ys) + pad))
        if x1 <= x0 or y1 <= y0:
            return (None, 0, 0)
        px = np.arange(x0, x1, dtype=np.float32) + 0.5
        py = (np.arange(y0, y1, dtype=np.float32) + 0.5)[:, None]
        flip = -1.0 if _inward(pts) else 1.0
        sd = None
        for i in range(len(pts)):  # convex polygon: signed distance = max over edges (outward normals)
            ax, ay = pts[i]
            bx, by = pts[(i + 1) % len(pts)]
            ex, ey = bx - ax, by - ay
            n = math.hypot(ex, ey)
            if n < 1e-9:
                continue
            nx, ny = flip * ey / n, -flip * ex / n
            e = (px * np.float32(nx) - np.float32(ax * nx + ay * ny)) + py * np.float32(ny)
            sd = e if sd is None else np.maximum(sd, e)
        if s.hub > 0:
            sd = np.minimum(sd, np.hypot(px - np.float32(d.cx), py - np.float32(d.cy)) - np.float32(s.hub))
        cf = np.clip(np.float32(0.5) - sd, 0, 1)
        if self.out is None:
            rgba = np.empty(cf.shape + (4,), np.float32)
            rgba[..., :3] = self.fill[:3]
            rgba[..., 3] = cf * self.fill[3]
        else:
            co = np.clip(np.float32(0.5 + ow) - sd, 0, 1)
            af, ao = cf * (self.fill[3] / 255), co * (self.out[3] / 255)
            a = af + ao * (1 - af)
            safe = np.where(a > 0, a, 1)[..., None]
            rgb = (self.fill[:3] * af[..., None] + self.out[:3] * (ao * (1 - af))[..., None]) / safe
            rgba = np.concatenate([rgb, (a * 255)[..., None]], axis=-1)
        return Image.fromarray(np.round(rgba).astype(np.uint8), "RGBA"), x0, y0


def _inward(pts) -> bool:
    """Whether the polygon winds so that (ey, -ex) points inwards (shoelace sign, y down)."""
    area = 0.0
    for i in range(len(pts)):
        ax, ay = pts[i]
        bx, by = pts[(i + 1) % len(pts)]
        area += ax * by - bx * ay
    return area < 0


class Dot(Drawable):
    """A pre-rendered marker moved along the scale at radius r."""

    def __init__(self, dial: Dial, values: np.ndarray, dot: Image.Image, r: float, x: int, y: int, size: int):
        self.dial, self.values, self.dot, self.r = dial, values, dot, r
        self.x, self.y, self.size = x, y, size

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.size, self.y + self.size)

    def draw(self, frame, image, origin):
        v = value_at(self.values, frame)
        if v != v:
            return
        px, py = self.dial.point(self.dial.angle(v), self.r)
        paste_over(image, self.dot, self.x + round(px - self.dot.width / 2) - origin[0],
                   self.y + round(py - self.dot.height / 2) - origin[1])
