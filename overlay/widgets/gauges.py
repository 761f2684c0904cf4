"""Shared dial machinery for the gauge widgets (asi, msi, cairo-gauge-*).

Angles are degrees clockwise from 3 o'clock (screen coordinates, y down), the
convention of the layout vocabulary's `start`; a negative `length` runs the
scale anticlockwise.

What costs what:
* The face (disc, bands, ticks) is painted once at FACE_SS x and shrunk with
  LANCZOS; numbers are then drawn at 1x through the shared TextRaster (hinted
  FreeType, crisper than shrunk text). It becomes a static layer.
* A needle is not a rotated bitmap (Pillow's bicubic rotate of a 256 px
  square costs ~3 ms): its coverage is computed analytically with numpy over
  the needle's own bounding box (signed distance to a convex polygon plus a
  hub disc, 1 px linear ramp = anti-aliasing), ~0.2 ms, and the result is
  cached by angle quantised to 1/ANGLE_STEPS degree (LRU, byte budget).
* A filled arc (value bars, range arcs) is a pre-rendered "lit" layer
  masked per frame by angle: each lit pixel knows its angle along the scale
  and its radius, so the cut is anti-aliased in pixels, not degrees.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from PIL import Image, ImageDraw

from overdash import InputError
from overlay.widgets.attrs import Attr, parse_colour, parse_int, parse_metric, parse_number, parse_text, positive
from overlay.widgets.base import Box, Drawable, Widget, paste_over

FACE_SS = 4  # supersampling of dial faces
ANGLE_STEPS = 4  # needle cache: angles quantised to 0.25 degree
CACHE_BYTES = 16 << 20  # per needle / arc: the LRU keeps at most this much image data

# The house look: dark translucent faces with light marks read on bright and dark footage alike.
FACE_BG = (16, 18, 22, 200)
MARK = (255, 255, 255, 255)
MARK_DIM = (255, 255, 255, 170)
ACCENT = (255, 86, 34, 255)
SHADOW = (0, 0, 0, 170)
GREEN = (64, 200, 90, 255)
YELLOW = (250, 200, 40, 255)
RED = (235, 55, 45, 255)


def nonzero(parse: Callable[[str], float]) -> Callable[[str], float]:
    def parse_nonzero(text: str) -> float:
        value = parse(text)
        if value == 0:
            raise ValueError("must not be 0")
        return value
    return parse_nonzero


# Attributes every dial shares; x, y are the top-left corner of the size x size square.
PLACE = (
    Attr("x", parse_number, 0.0),
    Attr("y", parse_number, 0.0),
    Attr("size", positive(parse_number), 256.0),
)


def scale_attrs(metric="speed", units=None, lo=0.0, hi=50.0, start=143.0, length=254.0, sectors=5):
    return (
        Attr("metric", parse_metric, metric),
        Attr("units", parse_text, units),
        Attr("min", parse_number, lo),
        Attr("max", parse_number, hi),
        Attr("start", parse_number, start),
        Attr("length", nonzero(parse_number), length),
        Attr("sectors", positive(parse_int), sectors),
    )


def colour(name: str, default) -> Attr:
    return Attr(name, parse_colour, default)


def input_error(node, problem: str) -> InputError:
    return InputError(f'{node.where}: <component type="{node.type}">: {problem}')


# --- geometry -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dial:
    """A scale lo..hi laid along an arc from `start`, `length` degrees (signed), around (cx, cy)."""

    cx: float
    cy: float
    start: float
    length: float
    lo: float
    hi: float

    def frac(self, v: float) -> float:
        f = (v - self.lo) / (self.hi - self.lo)
        return 0.0 if f < 0 else 1.0 if f > 1 else f

    def angle(self, v: float) -> float:
        """Angle of value v (clamped into lo..hi)."""
        return self.start + self.frac(v) * self.length

    def point(self, deg: float, r: float) -> tuple[float, float]:
        t = math.radians(deg)
        return self.cx + r * math.cos(t), self.cy + r * math.sin(t)

    def span(self, f0: float = 0.0, f1: float = 1.0) -> tuple[float, float]:
        """Pillow arc angles (clockwise from the first to the second) covering fractions f0..f1."""
        a, b = self.start + f0 * self.length, self.start + f1 * self.length
        return (a, b) if a <= b else (b, a)

    def ticks(self, n: int) -> list[float]:
        """n equal divisions -> n+1 fractions (n on a closed 360 degree scale: the last is the first)."""
        full = abs(self.length) >= 360
        return [i / n for i in range(n if full else n + 1)]


def nice_step(span: float, target: int = 8) -> float:
    """A 1/2/5 x 10^k step giving about `target` divisions of `span`."""
    raw = span / max(1, target)
    k = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if m * k >= raw:
            return m * k
    return 10 * k


def nice_ceil(v: float, step: float) -> float:
    return math.ceil(v / step - 1e-9) * step


def label(v: float) -> str:
    """A scale number: no trailing zeros, no '-0'."""
    if abs(v - round(v)) < 1e-6 * max(1.0, abs(v)):
        s = str(int(round(v)))
    else:
        s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def minor_divisions(arc_px: float, min_gap: float) -> int:
    """How many minor divisions fit in one sector of `arc_px` pixels with gaps of at least min_gap."""
    for n in (10, 5, 4, 2):
        if arc_px / n >= min_gap:
            return n
    return 1


# --- painting faces ------------------------------------------------------------------------------------

class Painter:
    """ImageDraw on a supersampled canvas, in 1x coordinates; angles as in Dial."""

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

    def pie(self, cx, cy, r, a0, a1, fill):
        if r > 0 and fill[3] and a1 > a0:
            if a1 - a0 >= 360:
                return self.disc(cx, cy, r, fill)
            self.d.pieslice(self._box(cx, cy, r), a0, a1, fill=fill)

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


def paint_face(size: int, paint: Callable[[Painter], None], k: int = FACE_SS) -> Image.Image:
    """Shapes painted at k x and shrunk with LANCZOS (premultiplied by Pillow), clipped to 0..255."""
    big = Image.new("RGBA", (size * k, size * k), (0, 0, 0, 0))
    paint(Painter(big, k))
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
        self.items: list = []

    def add(self, raster, text: str, x: float, y: float):
        self.items.append((raster, text, round(x), round(y)))

    def draw(self, face: Image.Image):
        for raster, text, x, y in self.items:
            raster.draw(face, text, x, y)


# --- drawables -----------------------------------------------------------------------------------------

class Layer(Drawable):
    """A pre-rendered image at a fixed place."""

    static = True

    def __init__(self, image: Image.Image, x: int, y: int):
        self.image, self.x, self.y = image, x, y
        self.box = image.getbbox()

    def bbox(self) -> Box | None:
        if self.box is None:
            return None
        return (self.x + self.box[0], self.y + self.box[1], self.x + self.box[2], self.y + self.box[3])

    def draw(self, frame, image, origin):
        if self.box is not None:
            paste_over(image, self.image, self.x - origin[0], self.y - origin[1])


class LRU:
    """Images by key, least recently used dropped beyond a byte budget."""

    def __init__(self, budget: int = CACHE_BYTES):
        self.budget, self.used = budget, 0
        self.items: OrderedDict = OrderedDict()

    def get(self, key):
        hit = self.items.get(key)
        if hit is None:
            return None
        self.items.move_to_end(key)
        return hit[0]

    def put(self, key, value, nbytes: int):
        self.items[key] = (value, nbytes)
        self.used += nbytes
        while self.used > self.budget and len(self.items) > 1:
            _, (_, n) = self.items.popitem(last=False)
            self.used -= n


@dataclass(frozen=True)
class NeedleShape:
    """A needle pointing along +x from the pivot: from -tail to tip, half-widths at both ends."""

    tip: float
    tail: float = 0.0
    base_half: float = 2.0
    tip_half: float = 0.5
    hub: float = 0.0  # radius of the pivot disc (0: none)
    start: float = None  # where the bar starts along +x instead of -tail (donut markers)
    fill: tuple = ACCENT
    outline: tuple | None = SHADOW
    outline_width: float = 1.0

    def reach(self) -> float:
        return max(self.tip, self.tail, self.hub) + self.outline_width + 2


class Needle(Drawable):
    """A needle at the value's angle, drawn anti-aliased by coverage, cached by quantised angle."""

    def __init__(self, dial: Dial, values: np.ndarray, shape: NeedleShape, x: int, y: int, size: int):
        self.dial, self.values, self.shape = dial, values, shape
        self.x, self.y, self.size = x, y, size
        self.cache = LRU()
        s = shape
        if s.start is not None:  # a bar from `start` to the tip
            pts = [(s.start, -s.base_half), (s.tip, -s.tip_half), (s.tip, s.tip_half), (s.start, s.base_half)]
        elif s.tail > 0:  # widest at the pivot, tapering both ways (convex: both ends narrower)
            th = min(s.base_half, s.tip_half * 0.5 + s.base_half * 0.5)
            pts = [(-s.tail, -th), (0, -s.base_half), (s.tip, -s.tip_half),
                   (s.tip, s.tip_half), (0, s.base_half), (-s.tail, th)]
        else:
            pts = [(0, -s.base_half), (s.tip, -s.tip_half), (s.tip, s.tip_half), (0, s.base_half)]
        self.poly = np.array(pts, dtype=np.float64)
        fill, out = np.asarray(s.fill, np.float32), s.outline
        self.fill = fill
        self.out = None if out is None or out[3] == 0 or s.outline_width <= 0 else np.asarray(out, np.float32)

    def bbox(self) -> Box:
        r = self.shape.reach()
        cx, cy = self.x + self.dial.cx, self.y + self.dial.cy
        return (max(self.x, math.floor(cx - r)), max(self.y, math.floor(cy - r)),
                min(self.x + self.size, math.ceil(cx + r)), min(self.y + self.size, math.ceil(cy + r)))

    def value(self, frame: int) -> float:
        if not 0 <= frame < len(self.values):
            return math.nan
        return float(self.values[frame])

    def draw(self, frame, image, origin):
        v = self.value(frame)
        if v != v:
            return
        key = round(self.dial.angle(v) * ANGLE_STEPS)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.rasterise(key / ANGLE_STEPS)
            self.cache.put(key, hit, 64 if hit[0] is None else hit[0].width * hit[0].height * 4)
        im, dx, dy = hit
        if im is not None:
            paste_over(image, im, self.x + dx - origin[0], self.y + dy - origin[1])

    def rasterise(self, deg: float):
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
        flip = -1.0 if self._inward(pts) else 1.0
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

    @staticmethod
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
        if not 0 <= frame < len(self.values):
            return
        v = float(self.values[frame])
        if v != v:
            return
        px, py = self.dial.point(self.dial.angle(v), self.r)
        paste_over(image, self.dot, self.x + round(px - self.dot.width / 2) - origin[0],
                   self.y + round(py - self.dot.height / 2) - origin[1])


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
        self.cache = LRU()

    def bbox(self) -> Box | None:
        b = self.mask.box
        return None if b is None else (self.x + b[0], self.y + b[1], self.x + b[2], self.y + b[3])

    @staticmethod
    def _at(col, frame):
        if col is None or not 0 <= frame < len(col):
            return math.nan
        return float(col[frame])

    def fractions(self, frame: int):
        d = self.mask.dial
        hi = self._at(self.upper, frame)
        if hi != hi:
            return None
        lo = self._at(self.lower, frame) if self.lower is not None else self.lower_fixed
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
        im = self.cache.get(key)
        if im is None:
            im = self.mask.image(*(None if k is None else k / q for k in key))
            self.cache.put(key, im, im.width * im.height * 4)
        paste_over(image, im, self.x + self.mask.box[0] - origin[0], self.y + self.mask.box[1] - origin[1])


class ValueText(Drawable):
    """The value as text at a point (cached rasters), '-' when missing."""

    def __init__(self, raster, values: np.ndarray, fmt: Callable[[float], str], x: int, y: int, box: Box):
        self.raster, self.values, self.fmt, self.x, self.y, self.box = raster, values, fmt, x, y, box

    def bbox(self) -> Box:
        return self.box

    def draw(self, frame, image, origin):
        v = float(self.values[frame]) if 0 <= frame < len(self.values) else math.nan
        self.raster.draw(image, self.fmt(v) if v == v else "-", self.x - origin[0], self.y - origin[1])


# --- the widget base ---------------------------------------------------------------------------------

class DialWidget(Widget):
    """A gauge in the size x size square at (x, y): column lookup and scaling shared by all dials."""

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.x, self.y = self.at()
        self.size = max(8, ctx.place.length(self.a["size"]))
        self.k = self.size / self.a["size"]  # design px -> video px
        self.R = self.size / 2
        self.values = self.column(self.a.get("metric"), self.a.get("units"))

    def column(self, metric, units) -> np.ndarray:
        col = self.ctx.column(metric, units) if metric else None
        return np.zeros(0) if col is None else np.asarray(col, dtype=np.float64)

    def raster(self, px: float, fill=MARK, anchor: str = "mm", outline=SHADOW):
        px = max(6, round(px))
        ow = max(1, round(px / 12)) if outline and outline[3] else 0
        return self.ctx.fonts.raster(px, tuple(fill), outline, ow, anchor)

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.size, self.y + self.size)

    def draw(self, frame, image, origin):  # drawing happens in parts()
        raise NotImplementedError

    def face(self, paint: Callable[[Painter], None], labels: Labels | None = None,
             under: Iterable[Image.Image] = ()) -> Image.Image:
        img = Image.new("RGBA", (self.size, self.size), (0, 0, 0, 0))
        for u in under:
            img.alpha_composite(u)
        img.alpha_composite(paint_face(self.size, paint))
        if labels is not None:
            labels.draw(img)
        return img


def gauge_requests(attrs, *metric_keys: str) -> set[tuple[str, str | None]]:
    wanted = {(attrs["metric"], attrs["units"])}
    for key in metric_keys:
        if attrs.get(key):
            wanted.add((attrs[key], attrs["units"]))
    return wanted
