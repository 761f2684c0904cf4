"""circuit_map: the ride's whole track as an outline, with a dot at the current position.

The track is projected once (projector: equirectangular, longitudes shrunk by
cos(lat) so shapes are not stretched), drawn anti-aliased into a cached static
layer; only the marker is drawn per frame. TrackWidget is what this and
cairo-circuit-map share.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw

from overlay.widgets.attrs import WHITE, Attr, non_negative, parse_colour, parse_number, parse_optional_colour
from overlay.widgets.base import Box, Drawable, SquareWidget, StaticImage, square_attrs
from overlay.widgets.imaging import paste_over, supersampled
from overlay.widgets.registry import component


def track_runs(track) -> tuple[np.ndarray, list[np.ndarray]]:
    """(every known point, the runs of consecutive known points) of an (n, 2) lat/lon track.

    Unknown points (NaN: no fix, or hidden by --privacy) split the track: drawing each
    run on its own leaves the gap, where joining them would draw a straight line
    across exactly what a privacy zone hides.
    """
    track = np.asarray(track, dtype=np.float64).reshape(-1, 2)
    known = np.isfinite(track).all(axis=1)
    idx = np.flatnonzero(known)
    if len(idx) == 0:
        return track[:0], []
    breaks = np.flatnonzero(np.diff(idx) > 1) + 1
    return track[known], [track[run] for run in np.split(idx, breaks)]


def marker(ctx, to_px, at: tuple[int, int], draw_dot) -> list[Drawable]:
    """The moving dot at each frame's position (to_px: lat/lon → widget pixels, `at` the
    widget's corner); none when the table has no position. draw_dot() makes its picture."""
    lat, lon = ctx.values("lat"), ctx.values("lon")
    if len(lat) != len(lon):  # one of them missing: no position
        return []
    px, py = to_px(lat, lon)
    px, py = px + at[0], py + at[1]
    seen = np.isfinite(px) & np.isfinite(py)
    if not seen.any():
        return []
    dot = draw_dot()
    r = dot.width // 2
    box = (round(px[seen].min()) - r, round(py[seen].min()) - r,
           round(px[seen].max()) - r + dot.width, round(py[seen].max()) - r + dot.height)
    return [_Marker(dot, px, py, box)]


LINE_COLOURS = ((255, 255, 255, 255), (255, 210, 0, 255))  # start/finish, sector lines
LINE_EDGE = (0, 0, 0, 255)


def line_marks(lines: np.ndarray, to_px, size: int) -> Image.Image | None:
    """The start/finish line (white) and sector lines (yellow) where laps are timed on the track
    (FrameTable.lap_lines), each drawn across the track at least a tenth of the map long so it shows
    on a large circuit; None without lines."""
    lines = np.asarray(lines, np.float64).reshape(-1, 4)
    if not len(lines) or size <= 0:
        return None
    x1, y1 = to_px(lines[:, 0], lines[:, 1])
    x2, y2 = to_px(lines[:, 2], lines[:, 3])
    thick = max(2.0, size / 70)

    def paint(big: Image.Image, k: int) -> None:
        d = ImageDraw.Draw(big)
        for i in range(len(lines)):
            cx, cy, dx, dy = (x1[i] + x2[i]) / 2, (y1[i] + y2[i]) / 2, x2[i] - x1[i], y2[i] - y1[i]
            length = math.hypot(dx, dy)
            if not math.isfinite(length) or length == 0:
                continue
            half = max(length, size / 10) / 2
            ux, uy = dx / length * half, dy / length * half
            xy = [((cx - ux) * k, (cy - uy) * k), ((cx + ux) * k, (cy + uy) * k)]
            d.line(xy, fill=LINE_EDGE, width=round((thick + 2) * k))
            d.line(xy, fill=LINE_COLOURS[i > 0], width=round(thick * k))
    return supersampled((size, size), paint)


Projector = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def projector(track: np.ndarray, size: int, pad: float, rotate: float = 0.0) -> Projector:
    """lat/lon -> pixels that fit `track` (n, 2 lat/lon) into a size x size square, `pad` px from
    its edges, turned `rotate` degrees clockwise.

    Equirectangular: longitudes shrunk by cos(mean lat), so shapes are not stretched.
    """
    lat0 = math.radians(float(np.mean(track[:, 0])))
    k = max(math.cos(lat0), 1e-6)
    t = math.radians(rotate)
    c, s = math.cos(t), math.sin(t)

    def turned(lat, lon):
        x, y = np.asarray(lon, np.float64) * k, -np.asarray(lat, np.float64)
        return x * c - y * s, x * s + y * c  # clockwise on screen (y down)

    x, y = turned(track[:, 0], track[:, 1])
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    span = max(x1 - x0, y1 - y0)
    scale = max(size - 2 * pad, 1.0) / span if span > 0 else 0.0
    ox, oy = (size - (x1 - x0) * scale) / 2, (size - (y1 - y0) * scale) / 2

    def to_px(lat, lon):
        tx, ty = turned(lat, lon)
        return (tx - x0) * scale + ox, (ty - y0) * scale + oy

    return to_px


class _Marker(Drawable):
    label = "circuit_map position marker"
    clips = True

    def __init__(self, dot: Image.Image, px: np.ndarray, py: np.ndarray, box: Box):
        self.dot, self.px, self.py, self.box = dot, px, py, box
        self.r = dot.width // 2

    def bbox(self) -> Box:
        return self.box

    def key(self, frame: int):
        """The dot's pixel: a slow rider's dot stays put for many frames."""
        if not 0 <= frame < len(self.px) or self.px[frame] != self.px[frame] or self.py[frame] != self.py[frame]:
            return None
        return (round(self.px[frame]), round(self.py[frame]))

    def extent(self, frame: int) -> Box | None:
        at = self.key(frame)
        if at is None:
            return None
        x, y = at[0] - self.r, at[1] - self.r
        return (x, y, x + self.dot.width, y + self.dot.height)

    def draw(self, frame, image, origin):
        at = self.key(frame)
        if at is not None:  # None: no fix at this frame
            paste_over(image, self.dot, at[0] - self.r - origin[0], at[1] - self.r - origin[1])


class TrackWidget(SquareWidget):
    """What circuit_map and cairo-circuit-map share: the whole track fitted into the square as a
    static picture (track_parts()), and a dot (dot()) moving along it."""

    reads = ("lat", "lon")
    rotation = 0.0  # degrees clockwise
    loc = 0.0  # the dot's diameter in px (0: no dot)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.track, self.runs = track_runs(ctx.table.track)

    def pad(self) -> float:
        """How far the track's extremes stay from the square's edges (px), so lines and dot fit."""
        raise NotImplementedError

    def track_parts(self, runs: list[np.ndarray]) -> list[Drawable]:
        """The static parts drawing `runs`, the track's known stretches in widget pixels."""
        raise NotImplementedError

    def dot(self) -> Image.Image:
        raise NotImplementedError

    def parts(self) -> list[Drawable]:
        if len(self.track) == 0 or self.size <= 0:
            return []
        to_px = projector(self.track, self.size, self.pad(), self.rotation)
        runs = [np.column_stack(to_px(run[:, 0], run[:, 1])) for run in self.runs]
        parts = self.track_parts(runs)
        lines = line_marks(self.ctx.table.lap_lines, to_px, self.size)
        if lines is not None:
            parts.append(StaticImage(lines, self.x, self.y, trim=True))
        if self.loc > 0:
            parts += marker(self.ctx, to_px, (self.x, self.y), self.dot)
        return parts


@component("circuit_map", square_attrs() + (
    Attr("fill", parse_colour, (255, 0, 0, 255)),
    Attr("outline", parse_optional_colour, WHITE),
    Attr("fill_width", non_negative(parse_number), 4.0),
    Attr("outline_width", non_negative(parse_number), 0.0),
    Attr("loc_fill", parse_colour, (0, 0, 255, 255)),
    Attr("loc_outline", parse_optional_colour, (0, 0, 0, 255)),
    Attr("loc_size", non_negative(parse_number), 6.0),
))
class CircuitMap(TrackWidget):
    """gopro-dashboard-overlay's meanings (its defaults too): the line is fill_width wide and
    outline_width of it, half on each side, is its edge in the outline colour; loc_size is the
    dot's radius."""

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        a, scaling = self.a, ctx.scaling
        self.line_w = scaling.length(a["fill_width"])
        edge = scaling.length(a["outline_width"]) if a["outline"] else 0
        self.fill_w = max(0, self.line_w - edge) if edge else self.line_w
        self.outline_w = self.line_w if edge else 0
        self.loc = 2 * scaling.length(a["loc_size"])

    def pad(self) -> float:
        return max(self.line_w, self.loc) / 2 + 1

    def track_parts(self, runs: list[np.ndarray]) -> list[Drawable]:
        return [StaticImage(self._draw_track(runs), self.x, self.y)]

    def _draw_track(self, runs: list[np.ndarray]) -> Image.Image:
        """Each run of the track as its own line: the full-width line in the outline colour, the
        narrower fill over it (so the edge shows by outline_width / 2 on each side)."""
        a = self.a

        def paint(big: Image.Image, k: int) -> None:
            d = ImageDraw.Draw(big)
            lines = [[(float(x) * k, float(y) * k) for x, y in pts] for pts in runs]
            for colour, width in ((a["outline"], self.outline_w), (a["fill"], self.fill_w)):
                if colour is None or width <= 0:
                    continue
                for xy in lines:
                    if len(xy) == 1:
                        x, y = xy[0]
                        r = width * k / 2
                        d.ellipse((x - r, y - r, x + r, y + r), fill=colour)
                    else:
                        d.line(xy, fill=colour, width=width * k, joint="curve")
        return supersampled((self.size, self.size), paint)

    def dot(self) -> Image.Image:
        a, n = self.a, int(self.loc) + 2
        ring = max(1, round(self.loc / 12)) if a["loc_outline"] else 0

        def paint(big: Image.Image, k: int) -> None:
            d = ImageDraw.Draw(big)
            c = n * k / 2
            r = self.loc * k / 2
            if ring:
                d.ellipse((c - r, c - r, c + r, c + r), fill=a["loc_outline"])
                r -= ring * k
            d.ellipse((c - r, c - r, c + r, c + r), fill=a["loc_fill"])
        return supersampled((n, n), paint)
