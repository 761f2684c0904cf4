"""How a worker gets overlay frame n into its ring slot, in the slot's pixel format.

A slot holds one frame per dashboard region (its slices in the ring), and each region
crosses to ffmpeg as a NUT stream of its own, sent only when it differs from the
frame before: paint() says which regions do.

    RGBA slots       the painter draws each region straight into a view of its slice of
                     the slot; what the slice already shows unchanged is left alone
    yuva420p slots   the painter draws each region into the worker's own RGBA canvas,
                     which is converted to yuva420p (overlay.yuva) once per change,
                     and the converted planes are copied into every slot that needs them

Why convert here: ffmpeg converts the overlay serially, in its one filtering thread,
for every frame it gets; the workers convert in parallel, and only regions that changed.
Only this worker draws into its slots (the scheduler sends it their frames), so it
knows what each slot still shows: the keys of every region it last put there.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np
from PIL import Image

from pipeline.ring import Ring

# What paint() returns: bit i set = region i may differ from the frame before.
ALL = -1


class Painter(Protocol):
    """Draws overlay frame `frame` into `views`: one image per region.

    `previous` is the frame the views still hold (None if unknown): the painter may
    leave alone whatever did not change, and must clear whatever it redraws.
    Painters that can also say what a region shows (`keys(frame)`, one hashable per
    region) and draw chosen regions (`draw(frame, views, indices)`) let the canvases
    redraw, convert and send only the regions that changed; with `damage(index, old,
    old_keys, frame, keys)` (the box where two frames of a region differ) and
    `draw_box(frame, view, index, box)` only that box. Others are redrawn whole, and
    every region of every frame is sent.
    """

    def __call__(self, frame: int, views: tuple[Image.Image, ...], previous: int | None) -> None: ...


# A picklable callable, run once in each worker, that returns the Painter.
PainterFactory = Callable[[], Painter]


def image_over(buf, size: tuple[int, int], stride: int | None = None) -> Image.Image:
    """An RGBA Pillow image whose pixels ARE `buf` (rows `stride` bytes apart).

    frombuffer marks the image read-only and the first draw would silently copy;
    clearing `readonly` makes ImageDraw/paste/alpha_composite write through
    (pinned by tests/pipeline/test_pipeline.py).
    """
    im = Image.frombuffer("RGBA", size, buf, "raw", "RGBA", stride or 0, 1)
    im.readonly = 0
    return im


Box = tuple[int, int, int, int]  # (x0, y0, x1, y1) inside a region
Held = tuple[object, object]     # (frame, its key) that a canvas or a slot's region holds; (None, None): unknown


class _Regions:
    """What both canvases ask the painter: one key per region, and the box where two frames differ."""

    def __init__(self, ring: Ring, paint: Painter):
        self.paint_fn = paint
        self.sizes = list(ring.spec.region_sizes)
        # The painter's optional methods (RegionPaint has them all), None where it lacks one;
        # each is called only where the one it depends on is there.
        self.draw: Any = getattr(paint, "draw", None)
        self.keys_of: Any = getattr(paint, "keys", None) if self.draw else None
        # Boxes need keys too: without them, what a canvas or slot holds is unknown.
        self.damage: Any = getattr(paint, "damage", None) if self.keys_of else None
        self.draw_box: Any = getattr(paint, "draw_box", None) if self.keys_of else None
        self.last_keys: tuple[int, tuple] = (-2, ())  # (frame, its keys): the next frame compares with it

    def keys(self, frame: int) -> tuple[tuple, int]:
        """(keys of `frame`, the regions that differ from frame - 1 as paint() says them). This worker
        may not have drawn frame - 1: the keys say, they are a function of the frame alone."""
        keys = self.keys_of(frame)
        if frame == 0:
            changed = ALL
        else:
            before = self.last_keys[1] if self.last_keys[0] == frame - 1 else self.keys_of(frame - 1)
            changed = sum(1 << i for i in range(len(keys)) if keys[i] != before[i])
        self.last_keys = (frame, keys)
        return keys, changed

    def _changed(self, i: int, held: Held, frame: int, keys) -> Box | None:
        """The box of region i that differs between what is held and `frame`, or None."""
        old, old_keys = held
        if old_keys is not None and old_keys == keys:
            return None
        w, h = self.sizes[i]
        if old is None or self.damage is None or self.draw_box is None:
            return (0, 0, w, h)
        return self.damage(i, old, old_keys, frame, keys)


class RgbaCanvas(_Regions):
    """Draw in place: each region into a view of its slice of the slot.

    A region is cleared and redrawn only where it differs from the frame it still holds:
    with `damage` and `draw_box` a moving map marker repaints the few pixels around it,
    not the whole map. Each region of a slot remembers the (frame, keys) it holds.
    """

    def __init__(self, ring: Ring, paint: Painter):
        super().__init__(ring, paint)
        self.ring = ring
        slots = range(ring.spec.slots)
        self.views = [tuple(image_over(ring.buffer(s, i), size) for i, size in enumerate(self.sizes))
                      for s in slots]
        self.held: dict[int, int] = {}  # painters without keys: the frame each slot holds
        unknown: Held = (None, None)
        self.slot_held = {s: [unknown] * len(self.sizes) for s in slots}

    def paint(self, frame: int, slot: int) -> int:
        """Draw `frame` into `slot`; the regions that differ from frame - 1."""
        if self.keys_of is None:
            self.paint_fn(frame, self.views[slot], self.held.get(slot))
            self.held[slot] = frame
            return ALL
        keys, changed = self.keys(frame)
        held = self.slot_held[slot]
        for i in range(len(self.sizes)):
            box = self._changed(i, held[i], frame, keys[i])
            if box is not None:
                self._redraw(slot, i, frame, box)
            held[i] = (frame, keys[i])
        return changed

    def _redraw(self, slot: int, i: int, frame: int, box: Box) -> None:
        if self.draw_box is None:
            self.draw(frame, self.views[slot], [i])
            return
        x0, y0, x1, y1 = box
        row = self.sizes[i][0] * 4
        # Rows a region's width apart: the view reaches past the box's last row (Ring.tail).
        at = self.ring.tail(slot, i, y0 * row + x0 * 4)
        self.draw_box(frame, image_over(at, (x1 - x0, y1 - y0), row), i, box)


class YuvaCanvas(_Regions):
    """Draw into private RGBA canvases, convert what changed, copy planes into slots.

    "What changed" is a box per region: painters that can say where two frames of a
    region differ (`damage`) and draw just a box of it (`draw_box`) get a moving map
    marker redrawn, converted and copied as a few hundred pixels, not the whole map.
    Each canvas and each region of a slot remembers the (frame, keys) it holds.
    """

    def __init__(self, ring: Ring, paint: Painter, fmt):
        from overlay.yuva import converter

        super().__init__(ring, paint)
        self.convert = converter(fmt)
        n = len(self.sizes)
        # One spare row: a view of a box starting anywhere inside has the rows it needs below it.
        self.rgba = [np.zeros((h + 1, w, 4), np.uint8) for w, h in self.sizes]
        self.views = tuple(image_over(a, (w, h)) for a, (w, h) in zip(self.rgba, self.sizes))
        # The conversion of each canvas, kept to be copied into later slots.
        self.converted = [(np.empty((h, w), np.uint8), np.empty((h // 2, w // 2), np.uint8),
                           np.empty((h // 2, w // 2), np.uint8), np.empty((h, w), np.uint8))
                          for w, h in self.sizes]
        self.targets = [[ring.planes(s, i) for i in range(n)] for s in range(ring.spec.slots)]
        unknown: Held = (None, None)
        self.canvas_held = [unknown] * n
        self.slot_held = {s: [unknown] * n for s in range(ring.spec.slots)}

    def paint(self, frame: int, slot: int) -> int:
        """Put `frame` into `slot`; the regions that differ from frame - 1."""
        n = len(self.rgba)
        if self.keys_of is None:
            keys = (object(),) * n  # unknown content: never equal to what anything holds
            self.paint_fn(frame, self.views, None)
            for i in range(n):
                self.convert(self.rgba[i][:-1], *self.converted[i])
                self.canvas_held[i] = (frame, keys[i])
            changed = ALL
        else:
            keys, changed = self.keys(frame)
            for i in range(n):
                box = self._changed(i, self.canvas_held[i], frame, keys[i])
                if box is not None:
                    self._redraw(i, frame, box)
                self.canvas_held[i] = (frame, keys[i])
        held = self.slot_held[slot]
        for i in range(n):
            box = self._changed(i, held[i], frame, keys[i])
            if box is not None:
                x0, y0, x1, y1 = box
                for dst, src, k in zip(self.targets[slot][i], self.converted[i], (1, 2, 2, 1)):
                    dst[y0 // k:y1 // k, x0 // k:x1 // k] = src[y0 // k:y1 // k, x0 // k:x1 // k]
            held[i] = (frame, keys[i])
        return changed

    def _redraw(self, i: int, frame: int, box: Box) -> None:
        x0, y0, x1, y1 = box
        rgba = self.rgba[i]
        if self.draw_box is None:
            self.draw(frame, self.views, [i])
        else:
            row = rgba.strides[0]
            at = rgba.reshape(-1).data[y0 * row + x0 * 4:]  # ndarray.data: its memoryview
            self.draw_box(frame, image_over(at, (x1 - x0, y1 - y0), row), i, box)
        y, u, v, a = self.converted[i]
        self.convert(rgba[y0:y1, x0:x1], y[y0:y1, x0:x1], u[y0 // 2:y1 // 2, x0 // 2:x1 // 2],
                     v[y0 // 2:y1 // 2, x0 // 2:x1 // 2], a[y0:y1, x0:x1])


def make_canvas(ring: Ring, paint: Painter, yuva=None) -> RgbaCanvas | YuvaCanvas:
    """The canvas for this ring's pixel format; `yuva` (overlay.yuva.YuvaFormat) for yuva420p slots."""
    if ring.spec.pix_fmt == "yuva420p":
        if yuva is None:
            raise ValueError("a yuva420p ring needs the YUV matrix and range to convert with")
        return YuvaCanvas(ring, paint, yuva)
    return RgbaCanvas(ring, paint)
