"""chart (old name gradient_chart): a metric over a rolling window of `seconds` centred on now.

Per worker, the whole column is resampled once onto a grid of `seconds /
samples` steps; the window at a frame is `samples` consecutive grid points
starting at a precomputed index. The picture only changes when that index
does (every ~35 frames with the defaults at 30 fps), so rendered windows are
cached by their first grid index and a frame usually costs one paste.
The chart is `samples` layout pixels wide and `height` high.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from overdash.lru import LRU
from overlay.widgets.attrs import (
    Attr,
    parse_bool,
    parse_byte,
    parse_colour,
    parse_int,
    parse_metric,
    parse_number,
    parse_optional_colour,
    parse_text,
    positive,
)
from overlay.widgets.base import Box, Widget
from overlay.widgets.imaging import SUPERSAMPLE, paste_over, solid, supersampled
from overlay.widgets.registry import component


def resample(values: np.ndarray, frame_seconds: float, step: float, first: int, count: int) -> np.ndarray:
    """values (one per frame, NaN = missing) at times (first + i) * step, i < count; linear, NaN outside."""
    n = len(values)
    out = np.full(count, np.nan)
    if n == 0:
        return out
    fi = (np.arange(count, dtype=np.float64) + first) * step / frame_seconds
    ok = (fi >= 0) & (fi <= n - 1)
    f = fi[ok]
    i0 = np.floor(f).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    w = f - i0
    a, b = values[i0], values[i1]
    out[ok] = np.where(w == 0, a, np.where(w == 1, b, a * (1 - w) + b * w))
    return out


def label(v: float, span: float) -> str:
    if not math.isfinite(v):
        return "-"
    dp = 0 if span >= 20 or abs(v) >= 1000 else 1 if span >= 2 else 2
    s = f"{v:.{dp}f}"
    return s[1:] if s.startswith("-") and not any(c in s for c in "123456789") else s


CHART_ATTRS = (
    Attr("x", parse_number, 0.0),
    Attr("y", parse_number, 0.0),
    Attr("metric", parse_metric, "alt"),
    Attr("units", parse_text, None),  # None: the metric's base unit (metres for alt)
    Attr("seconds", positive(parse_number), 300.0),
    Attr("samples", positive(parse_int), 256),
    Attr("values", parse_bool, True),
    Attr("textsize", positive(parse_number), 16.0),
    Attr("filled", parse_bool, True),
    Attr("height", positive(parse_number), 64.0),
    # gopro-dashboard-overlay's colours: everything a little see-through
    Attr("bg", parse_optional_colour, (0, 0, 0, 170)),
    Attr("fill", parse_optional_colour, (91, 113, 146, 170)),
    Attr("line", parse_optional_colour, (255, 255, 255, 170)),
    Attr("text", parse_colour, (255, 255, 255, 170)),
    Attr("alpha", parse_byte, None),
)


def with_alpha(colour, alpha: int):
    return None if colour is None else tuple(colour[:3]) + (alpha,)


@component("chart", CHART_ATTRS)
class Chart(Widget):
    metric_attrs = ("metric",)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        if self.a["alpha"] is not None:  # one opacity for the line, the fill and the values
            self.a = {**self.a, **{k: with_alpha(self.a[k], self.a["alpha"]) for k in ("fill", "line", "text")}}
        a, scaling = self.a, ctx.scaling
        self.samples = max(2, int(a["samples"]))
        self.w, self.h = scaling.length(self.samples), scaling.length(a["height"])
        self.pad = max(1, scaling.length(3))
        self.line_w = max(1, scaling.length(2)) if a["line"] else 0
        self.radius = scaling.length(6)
        table = ctx.table
        frame_seconds = table.fps_den / table.fps_num
        step = float(a["seconds"]) / self.samples
        half = self.samples // 2
        # Grid index of "now" at each frame; the window is [g - half, g - half + samples).
        now = np.rint(np.arange(table.count) * frame_seconds / step).astype(np.int64)
        self.first = now - half
        lo = int(self.first.min()) if len(self.first) else 0
        hi = int(self.first.max()) + self.samples if len(self.first) else self.samples
        self.grid_lo = lo
        self.grid = resample(ctx.values(a["metric"], a["units"]), frame_seconds, step, lo, hi - lo)
        self.raster = ctx.fonts.raster(scaling.length(a["textsize"]), a["text"], (0, 0, 0, 160),
                                       max(1, scaling.length(1.5)), "la") if a["values"] else None
        self.cache = LRU(8)
        self.background = self._background()
        self.dot = self._dot()

    def _background(self) -> Image.Image:
        bg, w, h, r = self.a["bg"], self.w, self.h, self.radius
        if not bg:
            return Image.new("RGBA", (w, h), (0, 0, 0, 0))

        def paint(big: Image.Image, k: int) -> None:
            ImageDraw.Draw(big).rounded_rectangle((0, 0, w * k - 1, h * k - 1), r * k, fill=bg)
        return supersampled((w, h), paint)

    def _dot(self) -> Image.Image:
        """The marker at the current value, on the centre line."""
        colour = self.a["line"] or self.a["text"]
        r = self.line_w + 2
        n = 2 * r + 2

        def paint(big: Image.Image, k: int) -> None:
            c = n * k / 2
            ImageDraw.Draw(big).ellipse((c - r * k, c - r * k, c + r * k, c + r * k), fill=colour)
        return supersampled((n, n), paint)

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    def window(self, first: int) -> np.ndarray:
        i = first - self.grid_lo
        return self.grid[i:i + self.samples]

    def render(self, first: int) -> Image.Image:
        a = self.a
        w, h, pad = self.w, self.h, self.pad
        win = self.window(first)
        finite = win[np.isfinite(win)]
        now = float(win[self.samples // 2])
        if len(finite):
            vmin, vmax = float(finite.min()), float(finite.max())
        else:
            vmin = vmax = float("nan")
        span = vmax - vmin if len(finite) else 0.0
        margin = max(span * 0.08, 1e-9) if span > 0 else max(abs(vmin) * 0.01, 0.5) if len(finite) else 1.0
        lo, hi = (vmin - margin, vmax + margin) if len(finite) else (0.0, 1.0)
        top, bottom = pad + self.line_w, h - pad - self.line_w
        xs = pad + np.arange(self.samples) * (w - 2 * pad) / (self.samples - 1)
        ys = bottom - (win - lo) / (hi - lo) * (bottom - top)
        cx = pad + (self.samples // 2) * (w - 2 * pad) / (self.samples - 1)
        runs = []
        ok = np.isfinite(ys)
        i = 0
        while i < len(ys):
            if not ok[i]:
                i += 1
                continue
            j = i
            while j < len(ys) and ok[j]:
                j += 1
            runs.append((xs[i:j], ys[i:j]))
            i = j
        line_w, k = self.line_w, SUPERSAMPLE
        # Fill and line as 4x coverage masks ('L': a quarter of RGBA's bytes, no premultiplying),
        # each shrunk and used as the alpha of its solid colour over the cached background.
        fill_mask = Image.new("L", (w * k, h * k), 0) if a["filled"] and a["fill"] else None
        line_mask = Image.new("L", (w * k, h * k), 0) if a["line"] and line_w else None
        fd = ImageDraw.Draw(fill_mask) if fill_mask is not None else None
        ld = ImageDraw.Draw(line_mask) if line_mask is not None else None
        for rx, ry in runs:
            pts = [(float(px) * k, float(py) * k) for px, py in zip(rx, ry)]
            if fd is not None and len(pts) > 1:
                fd.polygon(pts + [(pts[-1][0], (h - pad) * k), (pts[0][0], (h - pad) * k)], fill=255)
            if ld is not None:
                if len(pts) > 1:
                    ld.line(pts, fill=255, width=line_w * k)  # dense points: no joints needed
                else:
                    x0, y0 = pts[0]
                    ld.ellipse((x0 - line_w * k, y0 - line_w * k, x0 + line_w * k, y0 + line_w * k), fill=255)
        im = self.background.copy()
        # "now": a faint vertical guide through the centre
        ImageDraw.Draw(im).line([(round(cx), pad), (round(cx), h - pad)], fill=tuple(a["text"][:3]) + (90,))
        for mask, colour in ((fill_mask, a["fill"]), (line_mask, a["line"])):
            if mask is not None:
                im.alpha_composite(solid(colour, mask.reduce(k)))  # = BOX resize, 3x faster
        if math.isfinite(now):
            dot_y = round(bottom - (now - lo) / (hi - lo) * (bottom - top))
            im.alpha_composite(self.dot, (round(cx) - self.dot.width // 2, dot_y - self.dot.height // 2))
        if self.raster is not None and len(finite):
            gap = pad + max(1, self.ctx.scaling.length(2))
            self.raster_at(im, label(vmax, span), gap, gap, "top")
            self.raster_at(im, label(vmin, span), gap, h - gap, "bottom")
        return im

    def raster_at(self, im: Image.Image, text: str, x: int, y: int, edge: str) -> None:
        l, t, r, b = self.raster.bbox(text)
        self.raster.draw(im, text, x, y - t if edge == "top" else y - b)

    def draw(self, frame, image, origin):
        if not 0 <= frame < len(self.first):
            return
        first = int(self.first[frame])
        im = self.cache.get(first, lambda: self.render(first))
        paste_over(image, im, self.x - origin[0], self.y - origin[1])


@component("gradient_chart", CHART_ATTRS)
class GradientChart(Chart):
    """The old name of `chart`."""
