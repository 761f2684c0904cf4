"""How a worker gets overlay frame n into its ring slot, in the slot's pixel format.

    RGBA slots       the painter draws straight into views of the slot; a region the
                     slot already shows unchanged is left alone (nothing copied)
    yuva420p slots   the painter draws each region into the worker's own RGBA canvas,
                     which is converted to yuva420p (overlay.yuva) once per change,
                     and the converted planes are copied into every slot that needs them
                     (a slot holds one frame per region: ring parts)

Why convert here: ffmpeg converts the overlay serially, in its one filtering thread,
for every frame; the workers convert in parallel, and only regions that changed.
Only this worker draws into its slots (the scheduler sends it their frames), so it
knows what each slot still shows: the keys of every region it last put there.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np
from PIL import Image

from pipeline.ring import Ring

# (atlas x, atlas y, width, height) of each region inside a slot (yuva420p: 0, 0, w, h,
# each region being a ring part of its own).
Place = tuple[int, int, int, int]
# What paint() returns: bit i set = region i may differ from the frame before.
ALL = -1


class Painter(Protocol):
    """Draws overlay frame `frame` into `views`: one image per region.

    `previous` is the frame the views still hold (None if unknown): the painter may
    leave alone whatever did not change, and must clear whatever it redraws.
    Painters that can also say what a region shows (`keys(frame)`, one hashable per
    region) and draw chosen regions (`draw(frame, views, indices)`) let yuva420p
    slots convert only the regions that changed; with `damage(index, old, old_keys,
    frame, keys)` (the box where two frames of a region differ) and `draw_box(frame,
    view, index, box)` only that box. Others are redrawn and converted whole.
    """

    def __call__(self, frame: int, views: tuple[Image.Image, ...], previous: int | None) -> None: ...


# A picklable callable, run once in each worker, that returns the Painter.
PainterFactory = Callable[[], Painter]


def image_over(buf, size: tuple[int, int], stride: int | None = None) -> Image.Image:
    """An RGBA Pillow image whose pixels ARE `buf` (rows `stride` bytes apart).

    frombuffer marks the image read-only and the first draw would silently copy;
    clearing `readonly` makes ImageDraw/paste/alpha_composite write through
    (pinned by tests/test_pipeline.py).
    """
    im = Image.frombuffer("RGBA", size, buf, "raw", "RGBA", stride or 0, 1)
    im.readonly = 0
    return im


class RgbaCanvas:
    """Regions are full-width bands of the slot, drawn in place."""

    def __init__(self, ring: Ring, places: tuple[Place, ...], paint: Painter):
        spec = ring.spec
        row = spec.width * 4
        if any(x != 0 for x, _, _, _ in places):
            raise ValueError("RGBA slots stack regions as full-width bands (atlas x must be 0)")
        self.paint_fn = paint
        self.views = [tuple(image_over(ring.buffer(s)[y * row:(y + h) * row], (spec.width, h))
                            for _, y, _, h in places) for s in range(spec.slots)]
        self.held: dict[int, int] = {}

    def paint(self, frame: int, slot: int) -> int:
        """Draw `frame` into `slot`; the regions that may differ from frame - 1 (RGBA: all)."""
        self.paint_fn(frame, self.views[slot], self.held.get(slot))
        self.held[slot] = frame
        return ALL


class YuvaCanvas:
    """Draw into private RGBA canvases, convert what changed, copy planes into slots.

    "What changed" is a box per region: painters that can say where two frames of a
    region differ (`damage`) and draw just a box of it (`draw_box`) get a moving map
    marker redrawn, converted and copied as a few hundred pixels, not the whole map.
    Each canvas and each slot part remembers the (frame, keys) it holds.
    """

    def __init__(self, ring: Ring, places: tuple[Place, ...], paint: Painter, fmt):
        from overlay.yuva import converter

        self.paint_fn = paint
        self.convert = converter(fmt)
        self.keys_of = getattr(paint, "keys", None)
        self.draw = getattr(paint, "draw", None)
        # Boxes need keys too: without them, what a canvas or slot holds is unknown.
        self.damage = getattr(paint, "damage", None) if self.keys_of else None
        self.draw_box = getattr(paint, "draw_box", None) if self.keys_of else None
        self.sizes = [(w, h) for _, _, w, h in places]
        # One spare row: a view of a box starting anywhere inside has the rows it needs below it.
        self.rgba = [np.zeros((h + 1, w, 4), np.uint8) for w, h in self.sizes]
        self.views = tuple(image_over(a, (w, h)) for a, (w, h) in zip(self.rgba, self.sizes))
        # The conversion of each canvas, kept to be copied into later slots.
        self.converted = [(np.empty((h, w), np.uint8), np.empty((h // 2, w // 2), np.uint8),
                           np.empty((h // 2, w // 2), np.uint8), np.empty((h, w), np.uint8))
                          for w, h in self.sizes]
        if ring.spec.part_sizes != tuple(self.sizes):
            raise ValueError(f"ring parts {ring.spec.part_sizes} are not the regions' sizes")
        self.targets = [[ring.planes(s, i) for i in range(len(places))] for s in range(ring.spec.slots)]
        unknown = (None, None)  # (frame, keys) held: nothing yet
        self.canvas_held = [unknown] * len(places)
        self.slot_held = {s: [unknown] * len(places) for s in range(ring.spec.slots)}
        self.last_keys: tuple[int, tuple] = (-2, ())  # (frame, its keys): the next frame compares with it

    def paint(self, frame: int, slot: int) -> int:
        """Put `frame` into `slot`; the regions that differ from frame - 1 (which this worker
        may not have drawn: the keys say, they are a function of the frame alone)."""
        n = len(self.rgba)
        if self.keys_of is None:
            keys = (object(),) * n  # unknown content: never equal to what anything holds
            self.paint_fn(frame, self.views, None)
            for i in range(n):
                self.convert(self.rgba[i][:-1], *self.converted[i])
                self.canvas_held[i] = (frame, keys[i])
            changed = ALL
        else:
            keys = self.keys_of(frame)
            before = self.last_keys[1] if self.last_keys[0] == frame - 1 else self.keys_of(frame - 1)
            changed = ALL if frame == 0 else sum(1 << i for i in range(n) if keys[i] != before[i])
            self.last_keys = (frame, keys)
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

    def _changed(self, i: int, held, frame: int, keys):
        """The box of region i that differs between what is held and `frame`, or None."""
        old, old_keys = held
        if old_keys is not None and old_keys == keys:
            return None
        w, h = self.sizes[i]
        if old is None or self.damage is None or self.draw_box is None:
            return (0, 0, w, h)
        return self.damage(i, old, old_keys, frame, keys)

    def _redraw(self, i: int, frame: int, box) -> None:
        x0, y0, x1, y1 = box
        rgba = self.rgba[i]
        if self.draw_box is None:
            self.draw(frame, self.views, [i])
        else:
            row = rgba.strides[0]
            at = memoryview(rgba.reshape(-1))[y0 * row + x0 * 4:]
            self.draw_box(frame, image_over(at, (x1 - x0, y1 - y0), row), i, box)
        y, u, v, a = self.converted[i]
        self.convert(rgba[y0:y1, x0:x1], y[y0:y1, x0:x1], u[y0 // 2:y1 // 2, x0 // 2:x1 // 2],
                     v[y0 // 2:y1 // 2, x0 // 2:x1 // 2], a[y0:y1, x0:x1])


def make_canvas(ring: Ring, places: tuple[Place, ...], paint: Painter, yuva=None):
    """The canvas for this ring's pixel format; `yuva` (overlay.yuva.YuvaFormat) for yuva420p slots."""
    if ring.spec.pix_fmt == "yuva420p":
        if yuva is None:
            raise ValueError("a yuva420p ring needs the YUV matrix and range to convert with")
        return YuvaCanvas(ring, places, paint, yuva)
    return RgbaCanvas(ring, places, paint)
