"""Tile maps: moving_map, journey_map, moving_journey_map (docs/layout-xml.md).

The tiles were fetched into the cache by overlay.maps.prepare_maps in the
main process; `MapAssets.bind(layout)` put the cache folder, style and
privacy zones into each map component's `derived["maps"]`. Here, once per
worker, each widget plans its geometry (the same function the main process
used to pick tiles), builds a Mosaic over the cached tiles with the track
drawn in, and caches its rounded/circular mask (opacity included) and marker.
Per frame: moving maps read a window of the mosaic (rotated with the smoothed
heading when rotate=true), mask it, composite it and paste the marker;
journey_map is a static layer plus the marker. Missing tiles are the plain
background; without positions nothing is drawn. Never any network here.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from overlay.maps.geometry import centres, hold, plan
from overlay.maps.heading import smooth_heading
from overlay.maps.mosaic import Mosaic, holes_for
from overlay.maps.prepare import MapAssets
from overlay.maps.privacy import mask_points, mask_track
from overlay.widgets.attrs import Attr, non_negative, parse_bool, parse_fraction, parse_int, parse_number
from overlay.widgets.base import Box, Drawable, SquareWidget, StaticImage, square_attrs
from overlay.widgets.imaging import paste_over, supersampled
from overlay.widgets.registry import component

MARKER_FILL = (255, 72, 40, 255)
MARKER_RING = (255, 255, 255, 255)


def parse_zoom(text: str) -> int:
    z = parse_int(text)
    if not 1 <= z <= 19:
        raise ValueError("must be a whole number from 1 to 19")
    return z


def _look(opacity: float) -> tuple[Attr, ...]:
    """corner_radius and opacity; opacity's default is gopro-dashboard-overlay's for that map type
    (0.7 for moving_map and journey_map, solid for moving_journey_map, which it never fades)."""
    return (Attr("corner_radius", non_negative(parse_number), 0.0), Attr("opacity", parse_fraction, opacity))


def _mask(size: int, radius: int, opacity: float) -> Image.Image:
    """Coverage of the (rounded) square times opacity, as an L image; a circle when radius >= size/2."""
    r = min(radius, size / 2)

    def paint(big, k):
        d = ImageDraw.Draw(big)
        if r <= 0:
            d.rectangle((0, 0, size * k, size * k), fill=(0, 0, 0, 255))
        elif r >= size / 2:
            d.ellipse((0, 0, size * k - 1, size * k - 1), fill=(0, 0, 0, 255))
        else:
            d.rounded_rectangle((0, 0, size * k - 1, size * k - 1), r * k, fill=(0, 0, 0, 255))
    alpha = supersampled((size, size), paint).getchannel("A")
    if opacity < 1:
        alpha = alpha.point([round(v * opacity) for v in range(256)])
    return alpha


def _dot(diameter: int) -> Image.Image:
    n = diameter + 2
    ring = max(1, round(diameter / 6))

    def paint(big, k):
        d = ImageDraw.Draw(big)
        c, r = n * k / 2, diameter * k / 2
        d.ellipse((c - r, c - r, c + r, c + r), fill=MARKER_RING)
        r -= ring * k
        d.ellipse((c - r, c - r, c + r, c + r), fill=MARKER_FILL)
    return supersampled((n, n), paint)


def _path(x: np.ndarray, y: np.ndarray, min_step: float = 1.0) -> np.ndarray:
    """Per-frame view-pixel positions thinned to points >= min_step apart; NaN rows keep gaps."""
    pts = np.column_stack([x, y])
    ok = np.isfinite(pts).all(axis=1)
    if not ok.any():
        return np.zeros((0, 2))
    step = np.hypot(*np.diff(np.where(ok[:, None], pts, 0.0), axis=0).T)
    step = np.where(ok[1:] & ok[:-1], step, 0.0)
    bucket = np.floor(np.concatenate([[0.0], np.cumsum(step)]) / min_step)
    edge = ok & ~np.roll(ok, 1) | ok & ~np.roll(ok, -1)  # first/last of each run
    keep = ok & (np.concatenate([[True], bucket[1:] != bucket[:-1]]) | edge)
    keep |= ~ok & np.roll(ok, 1)  # one NaN row after each run: a break
    return pts[keep]


class _MapWidget(SquareWidget):
    reads = ("lat", "lon", "cog", "speed")

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a, scaling = self.a, ctx.scaling
        self.assets: MapAssets = node.derived.get("maps") or MapAssets.default()
        zones = self.assets.zones
        self.radius = scaling.length(a.get("corner_radius", 0.0))
        self.opacity = a.get("opacity", 0.7)
        lat, lon = self._columns()
        self.lat, self.lon = mask_points(lat, lon, zones) if lat is not None else (None, None)
        self.track = mask_track(ctx.table.track, zones)
        self.g = None
        if self.size > 0:
            self.g = plan(self.TYPE, a, scaling.scale, self.size, self.assets.style, self.track, self.lat, self.lon)

    def _columns(self):
        lat, lon = self.ctx.column("lat"), self.ctx.column("lon")
        return (lat, lon) if lat is not None and lon is not None else (None, None)

    def _mosaic(self, lines) -> Mosaic:
        width = max(2, round(self.size / 64))
        return Mosaic(self.g, self.assets.style, self.assets.cache(), lines, holes_for(self.g, self.assets.zones),
                      width)

    def _track_line(self) -> np.ndarray:
        x, y = self.g.project(self.track[:, 0], self.track[:, 1])
        return _path(x, y, 1.0)

    def _marker_size(self) -> int:
        return max(6, round(self.size * 0.055))

    def credit(self) -> list[Drawable]:
        """The tile provider's attribution, small, inside the map's lower right corner.

        Tile usage policies (OpenStreetMap's among them) ask for it wherever their tiles show.
        """
        text = self.assets.style.attribution
        if not text or self.assets.report.missing >= self.assets.report.needed or self.size < 96:
            return []  # no tile of theirs shows: nothing to credit
        font = self.ctx.fonts.font(max(7, round(self.size / 30)))
        left, top, right, bottom = font.getbbox(text)
        pad = max(1, round(self.size / 160))
        w, h = int(min(right - left + 2 * pad, self.size)), int(bottom - top + 2 * pad)
        im = Image.new("RGBA", (w, h), (255, 255, 255, 150))
        ImageDraw.Draw(im).text((pad - left, pad - top), text, font=font, fill=(40, 40, 40, 255))
        inset = max(self.radius // 3, pad)
        return [StaticImage(im, self.x + self.size - w - inset, self.y + self.size - h - inset)]


class _Marker(Drawable):
    label = "map position marker"

    def __init__(self, dot: Image.Image, px: np.ndarray, py: np.ndarray, box: Box):
        self.dot, self.px, self.py, self.box = dot, px, py, box
        self.half = dot.width / 2

    def bbox(self) -> Box:
        return self.box

    def draw(self, frame, image, origin):
        if not 0 <= frame < len(self.px):
            return
        x, y = self.px[frame], self.py[frame]
        if x != x or y != y:  # no fix, or inside a privacy zone
            return
        paste_over(image, self.dot, round(x - self.half) - origin[0], round(y - self.half) - origin[1])


@component("journey_map", square_attrs() + _look(0.7))
class JourneyMap(_MapWidget):
    """The whole ride, zoomed to fit, with the current position."""

    def parts(self) -> list[Drawable]:
        if self.g is None:
            return []
        ox, oy = self.g.origin
        mosaic = self._mosaic([self._track_line()])
        im = mosaic.window(ox, oy, self.size, self.size)
        im.putalpha(_mask(self.size, self.radius, self.opacity))
        parts: list[Drawable] = [StaticImage(im, self.x, self.y)]
        if self.lat is not None:
            px, py = self.g.project(self.lat, self.lon)
            px, py = px - ox + self.x, py - oy + self.y
            parts.append(_Marker(_dot(self._marker_size()), px, py, self.bbox()))
        return parts + self.credit()


class _Moving(Drawable):
    """A window of the mosaic around the position, per frame (optionally rotated)."""

    def __init__(self, w: "_MovingBase", mosaic: Mosaic, cx, cy, px, py, heading):
        self.node = w.node
        self.x, self.y, self.size = w.x, w.y, w.size
        self.g = w.g
        self.mosaic = mosaic
        self.cx, self.cy, self.px, self.py = cx, cy, px, py
        self.heading = heading
        self.mask = _mask(w.size, w.radius, w.opacity)
        self.dot = _dot(w._marker_size())
        self.half = self.dot.width / 2
        self._key = None
        self._image = None

    def bbox(self) -> Box:
        return (self.x, self.y, self.x + self.size, self.y + self.size)

    def draw(self, frame, image, origin):
        n = len(self.cx)
        if n == 0:
            return
        f = min(max(frame, 0), n - 1)
        cx, cy = float(self.cx[f]), float(self.cy[f])
        if cx != cx or cy != cy:
            return
        s = self.size
        if self.heading is None:
            ox, oy = round(cx - s / 2), round(cy - s / 2)
            if self._key != (ox, oy):  # the map moves by whole pixels: reuse the last window
                im = self.mosaic.window(ox, oy, s, s)
                im.putalpha(self.mask)
                self._key, self._image = (ox, oy), im
            im = self._image
        else:
            d = self.g.window
            ox, oy = math.floor(cx) - d // 2, math.floor(cy) - d // 2
            if self._key != (ox, oy):  # the window only changes when the position crosses a pixel
                # Kept at 2x (bilinear, once per window): a NEAREST affine from it per frame looks
                # like bilinear sampling at a tenth of the cost of Pillow's BILINEAR transform.
                win = self.mosaic.window(ox, oy, d, d)
                self._key, self._image = (ox, oy), win.resize((2 * d, 2 * d), Image.Resampling.BILINEAR)
            win = self._image
            lx, ly = 2 * (cx - ox), 2 * (cy - oy)
            h = math.radians(float(self.heading[f]))
            c, sn = 2 * math.cos(h), 2 * math.sin(h)
            # output (u, v) -> 2x window: centre + 2 R(heading) (u - s/2, v - s/2); heading points up
            data = (c, -sn, lx - c * s / 2 + sn * s / 2, sn, c, ly - sn * s / 2 - c * s / 2)
            im = win.transform((s, s), Image.Transform.AFFINE, data, Image.Resampling.NEAREST)
            im.putalpha(self.mask)
        paste_over(image, im, self.x - origin[0], self.y - origin[1])
        x, y = float(self.px[f]), float(self.py[f])
        if x != x or y != y:  # hidden (privacy zone) or no fix: the map holds, no marker
            return
        if self.heading is None:
            mx, my = x - ox, y - oy
        else:
            mx, my = s / 2, s / 2
        paste_over(image, self.dot, self.x + round(mx - self.half) - origin[0],
                   self.y + round(my - self.half) - origin[1])


class _MovingBase(_MapWidget):
    def parts(self) -> list[Drawable]:
        if self.g is None:
            return []
        if self.lat is not None and np.isfinite(self.lat).any():
            lat, lon = self.lat, self.lon
        else:  # no per-frame positions: sit at the start of the track
            ok = np.isfinite(self.track).all(axis=1)
            lat, lon = np.full(max(1, self.ctx.table.count), self.track[ok][0, 0]), \
                np.full(max(1, self.ctx.table.count), self.track[ok][0, 1])
        cx, cy = centres(self.g, lat, lon)
        px, py = self.g.project(lat, lon) if self.lat is not None else (cx * np.nan, cy * np.nan)
        mosaic = self._mosaic(self._lines(px, py))
        heading = None
        if self.g.rotate:
            cog = self.ctx.column("cog")
            fps = float(self.ctx.table.fps) if self.ctx.table.fps_den else 30.0
            heading = smooth_heading(cog, fps, self.ctx.column("speed"), lat=hold(lat), lon=hold(lon))
            if len(heading) != len(cx):
                heading = np.zeros(len(cx))
        return [_Moving(self, mosaic, cx, cy, px, py, heading)] + self.credit()

    def _lines(self, px, py):
        return [self._track_line()]


@component("moving_map", square_attrs() + (Attr("zoom", parse_zoom, 16),) + _look(0.7)
           + (Attr("rotate", parse_bool, True),))
class MovingMap(_MovingBase):
    """The map around the current position; with rotate=true the direction of travel is up."""

    def _lines(self, px, py):
        path = _path(px, py, 1.0)  # the ride as the video shows it, at frame resolution
        return [path] if np.isfinite(path).all(axis=1).sum() >= 2 else [self._track_line()]


@component("moving_journey_map", square_attrs() + (Attr("zoom", parse_zoom, 16),) + _look(1.0))
class MovingJourneyMap(_MovingBase):
    """The whole ride at `zoom`, a window of it centred on the position (north up)."""
