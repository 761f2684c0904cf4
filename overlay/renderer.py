"""Renderer: a layout turned into widgets for one video size, drawing frames fast.

Built once per worker. The layout is scaled uniformly from its design canvas
to the video (canvas centred), static parts are pre-rendered into cached
layers, and `draw` only pastes layers and cached text rasters into the image
it is given - a view of a shared-memory slot, so it is never replaced.
Nothing here imports pint: columns arrive converted, unit labels resolved.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from overlay.frametable import FrameTable, base_unit, column_key
from overlay.layout.conditions import evaluate, visibility
from overlay.layout.nodes import Component, Frame, Group, Layout
from overlay.layout.units import UnitSettings, fallback_label, resolve_unit
from overlay.widgets import lookup
from overlay.widgets.base import Box, Context, Drawable, Scaling, ceil_even, floor_even, union
from overlay.widgets.imaging import paste_over
from overlay.widgets.layers import Panel, merge_static, panel_parts
from overlay.widgets.textcache import FontBook

EMPTY_BOUNDS: Box = (0, 0, 2, 2)  # what bounds() says when nothing is ever drawn


class Renderer:
    def __init__(self, layout: Layout, table: FrameTable, video_size: tuple[int, int],
                 unit_settings: UnitSettings = UnitSettings(), *, font: str | None = None):
        self.layout = layout
        self.video_size = (int(video_size[0]), int(video_size[1]))
        self.scaling = Scaling.fit(layout.design_for(self.video_size), self.video_size)
        self.settings = unit_settings
        self.ctx = Context(table, self.scaling, FontBook(font), self._column_key, self._unit_label)
        # each component's drawables by id(node) of self.layout: `overdash edit` outlines what each draws
        self.parts_of: dict[int, list[Drawable]] = {}
        self.ops: list[Drawable] = self._visible(merge_static(self._compile(layout.children, (0.0, 0.0))))
        self._bounds = self._measure()
        self._region_plan: dict[tuple[Box, ...], list[list[Drawable]]] = {}
        self._bbox = {id(op): op.bbox() for op in self.ops}  # computed once: text boxes measure glyphs

    def _column_key(self, metric: str, units: str | None) -> str:
        return column_key(metric, resolve_unit(units, self.settings))

    def _unit_label(self, metric: str | None, units: str | None) -> str:
        unit = resolve_unit(units, self.settings)
        if unit is None and metric:
            unit = base_unit(metric)
        return fallback_label(unit)

    def _compile(self, nodes, offset: tuple[float, float]) -> list[Drawable]:
        parts: list[Drawable] = []
        scaling = self.scaling
        for node in nodes:
            if isinstance(node, Component):
                made = self.parts_of[id(node)] = lookup(node.type).widget(node, offset, self.ctx).parts()
                parts += made
            elif isinstance(node, Group):
                parts += self._shown(node, self._compile(node.children, (offset[0] + node.x, offset[1] + node.y)))
            elif isinstance(node, Frame):
                o = (offset[0] + node.x, offset[1] + node.y)
                box = scaling.xy(*o) + scaling.xy(o[0] + node.width, o[1] + node.height)
                if box[2] <= box[0] or box[3] <= box[1]:
                    continue
                panel = Panel(box, node.bg, node.outline, scaling.length(node.cr), scaling.length(1), node.opacity,
                              fade=node.fo * scaling.scale)
                parts += self._shown(node, panel_parts(panel, self._compile(node.children, o)))
        return parts

    def _shown(self, node: Group | Frame, parts: list[Drawable]) -> list[Drawable]:
        """A container's parts as its show-when allows: as they are without one, none when it never
        holds, else inside a ShownPart that fades them per frame."""
        shown = node.shown
        if shown.when is None or not parts:
            return parts
        table = self.ctx.table
        on = evaluate(shown.when, self.ctx.values, table.count)
        alpha = visibility(on, table.fps_num / table.fps_den, shown.hold, shown.fade)
        levels = np.rint(alpha * 255).astype(np.uint8)
        if not levels.any():
            return []
        return parts if (levels == 255).all() else [ShownPart(parts, levels)]

    def _visible(self, ops: list[Drawable]) -> list[Drawable]:
        w, h = self.video_size
        return [op for op in ops if (b := op.bbox()) and b[0] < w and b[1] < h and b[2] > 0 and b[3] > 0]

    def _measure(self) -> Box:
        box = self._clamp(union(op.bbox() for op in self.ops))
        return box or EMPTY_BOUNDS

    def _clamp(self, box: Box | None) -> Box | None:
        """`box` inside the video, even-aligned outwards (4:2:0 chroma), or None if empty."""
        if box is None:
            return None
        w, h = self.video_size
        x0, y0 = floor_even(max(0, box[0])), floor_even(max(0, box[1]))
        x1, y1 = min(ceil_even(box[2]), floor_even(w)), min(ceil_even(box[3]), floor_even(h))
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def regions(self, gap: int = 16) -> tuple[Box, ...]:
        """Separate rectangles covering everything drawn: one per cluster of widgets.

        Only these cross the pipe and get composited, so a dashboard in three
        corners costs its panels' area, not the area of the box around them.
        Boxes nearer than `gap` pixels merge; if the regions would save little
        over the single bounding box, that box is used instead.
        """
        boxes = [b for op in self.ops if (b := self._clamp(op.bbox()))]
        merged = True
        while merged:
            merged = False
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    a, b = boxes[i], boxes[j]
                    if a[0] - gap < b[2] and b[0] - gap < a[2] and a[1] - gap < b[3] and b[1] - gap < a[3]:
                        boxes[i] = union((a, b))
                        del boxes[j]
                        merged = True
                        break
                if merged:
                    break
        if not boxes:
            return (EMPTY_BOUNDS,)
        area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes)
        whole = self._bounds
        if len(boxes) == 1 or area > 0.8 * (whole[2] - whole[0]) * (whole[3] - whole[1]):
            return (whole,)
        return tuple(sorted(boxes, key=lambda b: (b[1], b[0])))

    def _plan(self, regions: tuple[Box, ...]) -> list[list[Drawable]]:
        plan = self._region_plan.get(regions)
        if plan is None:
            plan = self._region_plan[regions] = [
                [op for op in self.ops if (b := self._bbox[id(op)]) and _overlap(b, r)] for r in regions]
        return plan

    def region_keys(self, frame: int, regions: tuple[Box, ...]) -> tuple:
        """One key per region: equal keys at two frames mean the region's pixels are identical."""
        return tuple(tuple(op.key(frame) for op in ops) for ops in self._plan(regions))

    def draw_region(self, frame: int, view: Image.Image, index: int, regions: tuple[Box, ...]) -> None:
        """Clear `view` and draw region `index` of `frame` into it (its pixels start at the view's 0,0)."""
        r = regions[index]
        view.paste((0, 0, 0, 0), (0, 0, view.width, view.height))
        for op in self._plan(regions)[index]:
            op.draw(frame, view, (r[0], r[1]))

    def damage(self, index: int, regions: tuple[Box, ...], old: int, old_keys: tuple, frame: int,
               keys: tuple) -> Box | None:
        """The box of region `index` (its own pixels, even-aligned) outside which its drawings of
        `old` and `frame` are identical; None if they are identical everywhere.

        Keys are region_keys()' entries for the two frames. A drawable whose key changed
        repaints its extents at both frames; a drawable that cannot draw just a part of
        itself (not `clips`) and overlaps that box is repainted whole, which may grow it.
        """
        ops = self._plan(regions)[index]
        box = union([b for op, a, k in zip(ops, old_keys, keys) if a != k
                     for b in (op.extent(old), op.extent(frame))])
        if box is None:
            return None
        grown = True
        while grown:
            grown = False
            for op in ops:
                b = self._bbox[id(op)]
                if not op.clips and b and _overlap(b, box) and union((b, box)) != box:
                    box, grown = union((b, box)), True
        r = regions[index]
        x0, y0 = floor_even(max(box[0], r[0]) - r[0]), floor_even(max(box[1], r[1]) - r[1])
        x1, y1 = min(ceil_even(box[2]), r[2]) - r[0], min(ceil_even(box[3]), r[3]) - r[1]
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def draw_box(self, frame: int, view: Image.Image, index: int, regions: tuple[Box, ...], box: Box) -> None:
        """Clear `view` and draw into it the part `box` (region pixels, see damage) of region `index`:
        view's 0,0 is the region's box[0], box[1]."""
        r = regions[index]
        x0, y0 = r[0] + box[0], r[1] + box[1]
        area = (x0, y0, x0 + box[2] - box[0], y0 + box[3] - box[1])
        view.paste((0, 0, 0, 0), (0, 0, view.width, view.height))
        for op in self._plan(regions)[index]:
            b = self._bbox[id(op)]
            if b and _overlap(b, area):
                op.draw(frame, view, (x0, y0))

    def draw_regions(self, frame: int, views, regions: tuple[Box, ...], previous: int | None = None) -> int:
        """Draw `frame` into one image per region (each region's pixels start at its view's 0,0).

        `previous`: the frame these very views last showed, if known. A region whose every
        drawable shows the same thing at both frames (Drawable.key) is left as it is —
        not cleared, not redrawn. Others are cleared and drawn. Returns how many were drawn.
        """
        drawn = 0
        for i, (ops, view) in enumerate(zip(self._plan(regions), views)):
            if previous is not None and all(op.key(frame) == op.key(previous) for op in ops):
                continue
            self.draw_region(frame, view, i, regions)
            drawn += 1
        return drawn

    def profile(self, frames, regions: tuple[Box, ...]) -> list[tuple[str, float]]:
        """(widget, ms per frame) for each drawing step over `frames`, slowest first (--profile-widgets)."""
        import time

        width = max(r[2] - r[0] for r in regions)
        views = [Image.new("RGBA", (width, r[3] - r[1])) for r in regions]
        self.draw_regions(frames[0], views, regions)  # warm caches as a worker would
        plan = self._plan(regions)
        spent: dict[int, float] = {}
        for frame in frames:
            for ops, view, r in zip(plan, views, regions):
                for op in ops:
                    start = time.perf_counter()
                    op.draw(frame, view, (r[0], r[1]))
                    spent[id(op)] = spent.get(id(op), 0.0) + time.perf_counter() - start
        rows = [(_describe(op), spent.get(id(op), 0.0) * 1000 / len(frames)) for op in self.ops]
        return sorted(rows, key=lambda row: -row[1])

    def bounds(self) -> Box:
        """(x0, y0, x1, y1): everything the layout can ever draw, in video pixels, even-aligned."""
        return self._bounds

    def draw(self, frame: int, image: Image.Image, origin: tuple[int, int] = (0, 0)) -> None:
        """Draw `frame` into `image` (cleared RGBA), shifted by -origin. Writes into `image` itself."""
        for op in self.ops:
            op.draw(frame, image, origin)


class ShownPart(Drawable):
    """A show-when part (overlay.layout.conditions): its drawables at an opacity set per frame.

    `levels` (uint8 per frame, 0 hidden, 255 fully shown) is in the key, with the children's
    keys, so a worker repaints when the part appears, fades or disappears, and leaves a
    region alone while the part stays hidden or shows the same thing. Its extent is where its
    children draw, none while hidden, so appearing and disappearing repaint just that.
    """

    def __init__(self, parts: list[Drawable], levels: np.ndarray):
        self.children = merge_static(parts)
        self.levels = levels
        self.clips = all(c.clips for c in self.children)
        self.box = union(c.bbox() for c in self.children)

    def level(self, frame: int) -> int:
        return int(self.levels[frame]) if 0 <= frame < len(self.levels) else 0

    def bbox(self) -> Box | None:
        return self.box

    def key(self, frame: int):
        level = self.level(frame)
        return (0,) if level == 0 else (level, tuple(c.key(frame) for c in self.children))

    def extent(self, frame: int) -> Box | None:
        return None if self.level(frame) == 0 else union(c.extent(frame) for c in self.children)

    def draw(self, frame, image, origin):
        level = self.level(frame)
        if level == 0 or self.box is None:
            return
        if level == 255:
            for c in self.children:
                c.draw(frame, image, origin)
            return
        x0, y0, x1, y1 = self.box
        scratch = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
        for c in self.children:
            c.draw(frame, scratch, (x0, y0))
        scratch.putalpha(scratch.getchannel("A").point([v * level // 255 for v in range(256)]))
        paste_over(image, scratch, x0 - origin[0], y0 - origin[1])


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _describe(op: Drawable) -> str:
    node = getattr(op, "node", None)
    if node is None:
        if getattr(op, "label", None):
            return op.label
        return {"CachedLayer": "static parts (drawn once)", "ClippedPanel": "frame with clipped contents"}.get(
            type(op).__name__, type(op).__name__)
    name = f" '{node.name}'" if getattr(node, "name", None) else ""
    return f"{node.type}{name} ({node.where})"


@dataclass(frozen=True)
class LayoutPainter:
    """Picklable painter factory for pipeline workers: builds the Renderer once per worker.

    The painter it returns draws a frame into one image per region (views of a
    shared-memory slot, see Renderer.regions); with `regions` None, into a
    single image the size of Renderer.bounds().
    """

    layout: Layout
    table: FrameTable
    video_size: tuple[int, int]
    unit_settings: UnitSettings = field(default_factory=UnitSettings)
    font: str | None = None
    regions: tuple[Box, ...] | None = None
    # The Renderer main already built (to find the regions): workers forked from main use it
    # as it is, compiled and with warm caches. It is not pickled: spawned workers build their own.
    prebuilt: Renderer | None = field(default=None, compare=False, repr=False)

    def __reduce__(self):
        return (type(self), (self.layout, self.table, self.video_size, self.unit_settings, self.font, self.regions))

    def __call__(self) -> "RegionPaint":
        renderer = self.prebuilt or Renderer(self.layout, self.table, self.video_size, self.unit_settings,
                                             font=self.font)
        return RegionPaint(renderer, self.regions or (renderer.bounds(),))


class RegionPaint:
    """A worker's painter: `paint(frame, views, previous)` draws a frame into one image per region.

    `keys` and `draw` let a worker that keeps its own canvases (pipeline.canvas)
    decide per region what to redraw, and what to reconvert or copy.
    """

    def __init__(self, renderer: Renderer, regions: tuple[Box, ...]):
        self.renderer = renderer
        self.regions = regions

    def __call__(self, frame: int, views, previous: int | None = None) -> None:
        if isinstance(views, Image.Image):
            views = (views,)
        self.renderer.draw_regions(frame, views, self.regions, previous)

    def keys(self, frame: int) -> tuple:
        return self.renderer.region_keys(frame, self.regions)

    def draw(self, frame: int, views, which) -> None:
        for i in which:
            self.renderer.draw_region(frame, views[i], i, self.regions)

    def damage(self, index: int, old: int, old_keys: tuple, frame: int, keys: tuple) -> Box | None:
        return self.renderer.damage(index, self.regions, old, old_keys, frame, keys)

    def draw_box(self, frame: int, view, index: int, box: Box) -> None:
        self.renderer.draw_box(frame, view, index, self.regions, box)
