"""bar: a horizontal bar from zero (or the nearer end of min..max) to the current value.

Static: the rounded track (fill, outline) and the zero marker. Dynamic: a crop
of pre-rendered, already rounded layers, cached by its pixel length, so a frame
is a dictionary lookup and one paste. As in gopro-dashboard-overlay, the bar is
the `bar` colour with its end - the last twentieth of its length - highlighted
in `h-pos` (value above zero) or `h-neg` (below); its defaults are that
project's too: a clear track in a 3 px white outline, red and green ends.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from overdash import InputError
from overdash.lru import LRU
from overlay.widgets.attrs import (
    WHITE,
    Attr,
    non_negative,
    parse_colour,
    parse_metric,
    parse_number,
    parse_optional_colour,
    parse_text,
    positive,
)
from overlay.widgets.base import Box, Drawable, StaticImage, Widget
from overlay.widgets.imaging import masked, paste_over, rounded_mask, supersampled
from overlay.widgets.registry import component

TRACK_FILL = (255, 255, 255, 0)
TRACK_OUTLINE = (255, 255, 255, 255)
TIP = 0.05  # the highlighted end of a bar, as a fraction of its length


def visible(colour) -> bool:
    return colour is not None and colour[3] > 0


class BarTrack:
    """Geometry shared by bar and zone-bar: outer box, outline, inner (bar) box, value -> pixel."""

    def __init__(self, widget: Widget):
        a, scaling = widget.a, widget.ctx.scaling
        if not a["max"] > a["min"]:
            raise InputError(f"{widget.node.where}: <component type=\"{widget.TYPE.replace('_', '-')}\">: "
                             f"max ({a['max']:g}) must be above min ({a['min']:g})")
        self.widget = widget
        self.x, self.y = widget.x, widget.y
        self.w, self.h = scaling.length(a["width"]), scaling.length(a["height"])
        self.ow = scaling.length(a["outline_width"]) if visible(a["outline"]) else 0
        self.ow = min(self.ow, (min(self.w, self.h) - 1) // 2)
        self.r = min(scaling.length(a["cr"]), min(self.w, self.h) // 2)
        self.ix, self.iy = self.x + self.ow, self.y + self.ow
        self.iw, self.ih = max(0, self.w - 2 * self.ow), max(0, self.h - 2 * self.ow)
        self.ir = max(0, self.r - self.ow)
        self.lo, self.hi = float(a["min"]), float(a["max"])

    def box(self) -> Box:
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    def to_px(self, v):
        """Value(s) -> pixel offset(s) inside the inner box (float, clamped)."""
        v = np.clip(np.asarray(v, dtype=np.float64), self.lo, self.hi)
        return (v - self.lo) / (self.hi - self.lo) * self.iw

    def background(self, fill, outline) -> StaticImage | None:
        if not visible(fill) and not self.ow:
            return None
        w, h, r, ow = self.w, self.h, self.r, self.ow

        def paint(big: Image.Image, k: int) -> None:
            ImageDraw.Draw(big).rounded_rectangle((0, 0, w * k - 1, h * k - 1), r * k,
                                                  fill=fill if visible(fill) else None,
                                                  outline=outline if ow else None, width=ow * k)
        return StaticImage(supersampled((w, h), paint), self.x, self.y)

    def rounded(self, layer: Image.Image) -> Image.Image:
        return masked(layer, rounded_mask(self.iw, self.ih, self.ir))

    def marker(self, at_px: float, width: float, colour) -> StaticImage | None:
        """A vertical line across the inner box at `at_px`, anti-aliased, clipped to the rounded shape."""
        if not visible(colour) or self.iw <= 0 or self.ih <= 0:
            return None
        iw, ih = self.iw, self.ih

        def paint(big: Image.Image, k: int) -> None:
            x = at_px * k
            ImageDraw.Draw(big).rectangle((x - width * k / 2, 0, x + width * k / 2 - 1, ih * k), fill=colour)
        line = self.rounded(supersampled((iw, ih), paint))
        box = line.getbbox()
        if box is None:
            return None
        return StaticImage(line.crop(box), self.ix + box[0], self.iy + box[1])


class BarFill(Drawable):
    """The dynamic part: the layer's columns between the anchor and the value, cached by pixel span."""

    def __init__(self, track: BarTrack, layer: Image.Image, anchor_px: int, px: np.ndarray):
        self.track, self.layer, self.anchor = track, layer, anchor_px
        self.node = track.widget.node  # names the bar in --profile-widgets
        self.px = px  # per frame: pixel end of the bar, -1 when the value is missing
        self.cache: LRU[tuple[Image.Image, int] | None] = LRU(512)

    def bbox(self) -> Box:
        t = self.track
        return (t.ix, t.iy, t.ix + t.iw, t.iy + t.ih)

    def _piece(self, end: int):
        x0, x1 = min(self.anchor, end), max(self.anchor, end)
        if x1 <= x0:
            return None
        return (self.layer.crop((x0, 0, x1, self.layer.height)), x0)

    def draw(self, frame, image, origin):
        if not 0 <= frame < len(self.px):
            return
        end = int(self.px[frame])
        if end < 0:
            return
        piece = self.cache.get(end, lambda: self._piece(end))
        if piece is not None:
            paste_over(image, piece[0], self.track.ix + piece[1] - origin[0], self.track.iy - origin[1])


class TippedFill(BarFill):
    """A bar whose end is highlighted: `tips` are the layers of the end above and below zero."""

    def __init__(self, track: BarTrack, layer: Image.Image, tips: tuple[Image.Image, Image.Image],
                 anchor_px: int, px: np.ndarray):
        super().__init__(track, layer, anchor_px, px)
        self.tips = tips  # (below zero, above zero)

    def _piece(self, end: int):
        piece = super()._piece(end)
        if piece is None:
            return None
        image, x0 = piece
        length = abs(end - self.anchor)
        tip = max(1, round(length * TIP))
        t0 = end - tip if end > self.anchor else end
        image = image.copy()
        image.paste(self.tips[end > self.anchor].crop((t0, 0, t0 + tip, image.height)), (t0 - x0, 0))
        return (image, x0)


def pixel_ends(track: BarTrack, values) -> np.ndarray:
    """Per-frame bar end in whole pixels; -1 where the value is missing."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    out = np.full(len(v), -1, dtype=np.int32)
    out[ok] = np.rint(track.to_px(v[ok])).astype(np.int32)
    return out


BAR_ATTRS = (
    Attr("x", parse_number, 0.0),
    Attr("y", parse_number, 0.0),
    Attr("width", positive(parse_number), 400.0),
    Attr("height", positive(parse_number), 30.0),
    Attr("metric", parse_metric, required=True),
    Attr("units", parse_text, None),
    Attr("fill", parse_optional_colour, TRACK_FILL),
    Attr("outline", parse_optional_colour, TRACK_OUTLINE),
    Attr("outline_width", non_negative(parse_number), 3.0),
    Attr("cr", non_negative(parse_number), 5.0),
)


class BarWidget(Widget):
    """What bar and zone-bar share: the track, and their parts - the background, the fill (a
    gradient layer cropped per frame to the metric's value) and the marker lines over it."""

    metric_attrs = ("metric",)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.track = BarTrack(self)

    def bbox(self) -> Box:
        return self.track.box()

    def fill_layer(self) -> tuple[Image.Image, int]:
        """The gradient across the inner box (before rounding), and the pixel the fill starts from."""
        raise NotImplementedError

    def markers(self) -> list[StaticImage | None]:
        """The lines drawn over the fill (None: a line that shows nothing)."""
        raise NotImplementedError

    def parts(self) -> list[Drawable]:
        a, t = self.a, self.track
        parts: list[Drawable] = []
        bg = t.background(a["fill"], a["outline"])
        if bg is not None:
            parts.append(bg)
        if t.iw <= 0 or t.ih <= 0:
            return parts
        layer, anchor = self.fill_layer()
        px = pixel_ends(t, self.ctx.values(a["metric"], a["units"]))
        parts.append(self.fill(t.rounded(layer), anchor, px))
        return parts + [m for m in self.markers() if m is not None]

    def fill(self, layer: Image.Image, anchor: int, px: np.ndarray) -> BarFill:
        """The dynamic part: `layer` (rounded) cropped from `anchor` to each frame's end `px`."""
        return BarFill(self.track, layer, anchor, px)


@component("bar", BAR_ATTRS + (
    Attr("zero", parse_optional_colour, WHITE),
    Attr("bar", parse_colour, WHITE),
    Attr("h_neg", parse_colour, (255, 0, 0, 255)),
    Attr("h_pos", parse_colour, (0, 255, 0, 255)),
    Attr("max", parse_number, 20.0),
    Attr("min", parse_number, -20.0),
))
class Bar(BarWidget):
    def fill_layer(self) -> tuple[Image.Image, int]:
        t = self.track
        return Image.new("RGBA", (t.iw, t.ih), self.a["bar"]), int(round(float(t.to_px(0.0))))

    def fill(self, layer: Image.Image, anchor: int, px: np.ndarray) -> BarFill:
        t = self.track
        tips = tuple(t.rounded(Image.new("RGBA", (t.iw, t.ih), self.a[k])) for k in ("h_neg", "h_pos"))
        return TippedFill(t, layer, (tips[0], tips[1]), anchor, px)

    def markers(self) -> list[StaticImage | None]:
        t = self.track
        if not t.lo < 0 < t.hi:
            return []
        return [t.marker(float(t.to_px(0.0)), max(1, self.ctx.scaling.length(2)), self.a["zero"])]
