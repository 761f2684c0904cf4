"""Container drawables: cached static layers and rounded `frame` panels (with their fade-out).

Consecutive static drawables are merged into one pre-rendered layer, so a
frame costs one paste per static run plus the dynamic widgets. A panel whose
contents stay clear of its rounded corners (and is fully opaque) needs no
clipping: its background becomes a static layer and its children draw
straight into the target. Otherwise it draws its children into a scratch
image each frame and masks that (correct, a little slower).
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops

from overlay.widgets.base import Box, Drawable, union
from overlay.widgets.imaging import paste_over, rounded_rect


class CachedLayer(Drawable):
    """Static drawables rendered once into one image covering their union."""

    static = True
    clips = True

    def __init__(self, parts: list[Drawable]):
        self.box = union(p.bbox() for p in parts)
        self.layer = None
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            self.layer = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
            for p in parts:
                p.draw(0, self.layer, (x0, y0))

    def bbox(self) -> Box | None:
        return self.box

    def draw(self, frame, image, origin):
        if self.layer is not None:
            paste_over(image, self.layer, self.box[0] - origin[0], self.box[1] - origin[1])


def _area(box: Box | None) -> int:
    return 0 if box is None else max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def merge_static(parts: list[Drawable]) -> list[Drawable]:
    """Runs of static drawables -> CachedLayers; order (z-order) is kept.

    A run is split where merging would mostly paste empty pixels (far-apart panels),
    since every layer is composited on every frame.
    """
    out: list[Drawable] = []
    run: list[Drawable] = []

    def flush():
        if run:
            out.append(run[0] if len(run) == 1 and isinstance(run[0], CachedLayer) else CachedLayer(list(run)))
            run.clear()

    for p in parts:
        if not p.static:
            flush()
            out.append(p)
            continue
        if run:
            boxes = [q.bbox() for q in run] + [p.bbox()]
            if _area(union(boxes)) > 1.5 * sum(_area(b) for b in boxes) + 4096:
                flush()
        run.append(p)
    flush()
    return [p for p in out if p.bbox() is not None]


def fade_mask(size: tuple[int, int], radius: float, fade: float) -> np.ndarray:
    """How much of each pixel a frame's fade-out (`fo`) keeps: 0 at the rounded edge, rising in a
    straight line to 1 at `fade` px inside it (float32, height x width).

    The distance is to the rounded rectangle's outline (exact signed distance), so the fade
    follows the corners' curve instead of cutting across them.
    """
    w, h = size
    r = min(radius, min(w, h) / 2)
    # distance of each pixel centre from the centre, folded into one quadrant
    qx = np.abs(np.arange(w, dtype=np.float32) + 0.5 - w / 2)[None, :] - (w / 2 - r)
    qy = np.abs(np.arange(h, dtype=np.float32) + 0.5 - h / 2)[:, None] - (h / 2 - r)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0)) + np.minimum(np.maximum(qx, qy), 0) - r
    return np.clip(-outside / max(fade, 1e-6), 0.0, 1.0)


class Panel:
    """The look of a `frame`: background, outline, rounded shape, opacity and fade-out at the edge."""

    def __init__(self, box: Box, bg, outline, radius: int, outline_width: int, opacity: float,
                 fade: float = 0.0):
        self.box = box
        self.size = (box[2] - box[0], box[3] - box[1])
        self.radius = min(radius, min(self.size) // 2)
        self.opacity = opacity
        self.fade = fade
        self.background = rounded_rect(self.size, self.radius, bg, outline, outline_width if outline else 0)
        self.shape = rounded_rect(self.size, self.radius, (0, 0, 0, 255)).getchannel("A")  # its coverage
        self._opacity = None if opacity >= 1 else [round(v * opacity) for v in range(256)]
        self._fade = fade_mask(self.size, self.radius, fade) if fade > 0 else None

    def clip(self, image: Image.Image) -> None:
        """Scale `image` (panel-sized) alpha by opacity, cut it to the rounded shape and fade its
        edges (fo), in place."""
        alpha = image.getchannel("A")
        if self._opacity is not None:
            alpha = alpha.point(self._opacity)
        alpha = ImageChops.darker(alpha, self.shape)  # min(): edges are not attenuated twice
        if self._fade is not None:
            alpha = Image.fromarray(np.rint(np.asarray(alpha, dtype=np.float32) * self._fade).astype(np.uint8), "L")
        image.putalpha(alpha)

    def clear_of_corners(self, box: Box | None) -> bool:
        """Whether `box` lies inside the panel and misses what its rounded corners cut off."""
        if box is None:
            return True
        x0, y0, x1, y1 = self.box
        if box[0] < x0 or box[1] < y0 or box[2] > x1 or box[3] > y1:
            return False
        r = self.radius
        # Per corner: the box's own corner, when it enters the corner square, must lie within the arc.
        for px, py, cx, cy in ((box[0], box[1], x0 + r, y0 + r), (box[2], box[1], x1 - r, y0 + r),
                               (box[0], box[3], x0 + r, y1 - r), (box[2], box[3], x1 - r, y1 - r)):
            inside_x = px < cx if cx == x0 + r else px > cx
            inside_y = py < cy if cy == y0 + r else py > cy
            if inside_x and inside_y and ((px - cx) ** 2 + (py - cy) ** 2) ** 0.5 > r - 1:
                return False
        return True


class _Background(Drawable):
    static = True
    clips = True

    def __init__(self, panel: Panel):
        self.panel = panel

    def bbox(self) -> Box:
        return self.panel.box

    def draw(self, frame, image, origin):
        paste_over(image, self.panel.background, self.panel.box[0] - origin[0], self.panel.box[1] - origin[1])


class ClippedPanel(Drawable):
    """Children drawn into a scratch image over the background, then masked and composited."""

    clips = True  # the scratch is the whole panel; only its paste is clipped

    def __init__(self, panel: Panel, children: list[Drawable]):
        self.panel = panel
        lead = 0
        while lead < len(children) and children[lead].static:
            lead += 1
        self.base = panel.background.copy()  # background + leading static children, unclipped
        for c in children[:lead]:
            c.draw(0, self.base, panel.box[:2])
        self.children = merge_static(children[lead:])
        self.static = not self.children
        if self.static:
            panel.clip(self.base)

    def bbox(self) -> Box:
        return self.panel.box

    def key(self, frame: int):
        return None if self.static else tuple(c.key(frame) for c in self.children)

    def draw(self, frame, image, origin):
        box = self.panel.box
        if self.static:
            paste_over(image, self.base, box[0] - origin[0], box[1] - origin[1])
            return
        scratch = self.base.copy()
        for c in self.children:
            c.draw(frame, scratch, box[:2])
        self.panel.clip(scratch)
        paste_over(image, scratch, box[0] - origin[0], box[1] - origin[1])


def panel_parts(panel: Panel, children: list[Drawable]) -> list[Drawable]:
    """The drawables of a frame: unclipped fast path when nothing reaches the corners."""
    if panel.opacity >= 1 and not panel.fade and all(panel.clear_of_corners(c.bbox()) for c in children):
        return [_Background(panel)] + children
    return [ClippedPanel(panel, children)]
