"""Renderer: a layout turned into widgets for one video size, drawing frames fast.

Built once per worker. The layout is scaled uniformly from its design canvas
to the video (canvas centred), static parts are pre-rendered into cached
layers, and `draw` only pastes layers and cached text rasters into the image
it is given - a view of a shared-memory slot, so it is never replaced.
Nothing here imports pint: columns arrive converted, unit labels resolved.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from overlay.frametable import FrameTable, column_key
from overlay.layout.nodes import Component, Frame, Group, Layout
from overlay.layout.units import UnitSettings, fallback_label, resolve_unit
from overlay.telemetry.timeseries import BASE_UNITS
from overlay.widgets import lookup
from overlay.widgets.base import Box, Context, Drawable, Place, ceil_even, floor_even, union
from overlay.widgets.layers import Panel, merge_static, panel_parts
from overlay.widgets.textcache import FontBook

EMPTY_BOUNDS: Box = (0, 0, 2, 2)  # what bounds() says when nothing is ever drawn


class Renderer:
    def __init__(self, layout: Layout, table: FrameTable, video_size: tuple[int, int],
                 unit_settings: UnitSettings = UnitSettings(), *, font: str | None = None):
        self.layout = layout
        self.video_size = (int(video_size[0]), int(video_size[1]))
        self.place = Place.fit((layout.width, layout.height), self.video_size)
        self.settings = unit_settings
        self.ctx = Context(table, self.place, FontBook(font), self._column_key, self._unit_label)
        self.ops: list[Drawable] = self._visible(merge_static(self._compile(layout.children, (0.0, 0.0))))
        self._bounds = self._measure()

    def _column_key(self, metric: str, units: str | None) -> str:
        return column_key(metric, resolve_unit(units, self.settings))

    def _unit_label(self, metric: str | None, units: str | None) -> str:
        unit = resolve_unit(units, self.settings)
        if unit is None and metric:
            unit = BASE_UNITS.get(metric)
        return fallback_label(unit)

    def _compile(self, nodes, offset: tuple[float, float]) -> list[Drawable]:
        parts: list[Drawable] = []
        place = self.place
        for node in nodes:
            if isinstance(node, Component):
                parts += lookup(node.type).widget(node, offset, self.ctx).parts()
            elif isinstance(node, Group):
                parts += self._compile(node.children, (offset[0] + node.x, offset[1] + node.y))
            elif isinstance(node, Frame):
                o = (offset[0] + node.x, offset[1] + node.y)
                box = place.xy(*o) + place.xy(o[0] + node.width, o[1] + node.height)
                if box[2] <= box[0] or box[3] <= box[1]:
                    continue
                panel = Panel(box, node.bg, node.outline, place.length(node.cr), place.length(1), node.opacity)
                parts += panel_parts(panel, self._compile(node.children, o))
        return parts

    def _visible(self, ops: list[Drawable]) -> list[Drawable]:
        w, h = self.video_size
        return [op for op in ops if (b := op.bbox()) and b[0] < w and b[1] < h and b[2] > 0 and b[3] > 0]

    def _measure(self) -> Box:
        box = union(op.bbox() for op in self.ops)
        if box is None:
            return EMPTY_BOUNDS
        w, h = self.video_size
        x0, y0 = floor_even(max(0, box[0])), floor_even(max(0, box[1]))
        x1, y1 = min(ceil_even(box[2]), floor_even(w)), min(ceil_even(box[3]), floor_even(h))
        if x1 <= x0 or y1 <= y0:
            return EMPTY_BOUNDS
        return (x0, y0, x1, y1)

    def bounds(self) -> Box:
        """(x0, y0, x1, y1): everything the layout can ever draw, in video pixels, even-aligned."""
        return self._bounds

    def draw(self, frame: int, image: Image.Image, origin: tuple[int, int] = (0, 0)) -> None:
        """Draw `frame` into `image` (cleared RGBA), shifted by -origin. Writes into `image` itself."""
        for op in self.ops:
            op.draw(frame, image, origin)


@dataclass(frozen=True)
class LayoutPainter:
    """Picklable painter factory for pipeline workers: builds the Renderer once per worker.

    The slot images must be the size of `Renderer.bounds()`; draws are offset by its origin.
    """

    layout: Layout
    table: FrameTable
    video_size: tuple[int, int]
    unit_settings: UnitSettings = field(default_factory=UnitSettings)
    font: str | None = None

    def __call__(self):
        renderer = Renderer(self.layout, self.table, self.video_size, self.unit_settings, font=self.font)
        origin = renderer.bounds()[:2]

        def paint(frame: int, image: Image.Image) -> None:
            renderer.draw(frame, image, origin)
        return paint
