"""How a worker gets overlay frame n into its ring slot, in the slot's pixel format.

    RGBA slots       the painter draws straight into views of the slot; a region the
                     slot already shows unchanged is left alone (nothing copied)
    yuva420p slots   the painter draws each region into the worker's own RGBA canvas,
                     which is converted to yuva420p (overlay.yuva) once per change,
                     and the converted planes are copied into every slot that needs them

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

# (atlas x, atlas y, width, height) of each region inside a slot.
Place = tuple[int, int, int, int]


class Painter(Protocol):
    """Draws overlay frame `frame` into `views`: one image per region.

    `previous` is the frame the views still hold (None if unknown): the painter may
    leave alone whatever did not change, and must clear whatever it redraws.
    Painters that can also say what a region shows (`keys(frame)`, one hashable per
    region) and draw chosen regions (`draw(frame, views, indices)`) let yuva420p
    slots convert only what changed; others are redrawn and converted whole.
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

    def paint(self, frame: int, slot: int) -> bool:
        """Draw `frame` into `slot`; True: it may differ from frame - 1 (RGBA: always said)."""
        self.paint_fn(frame, self.views[slot], self.held.get(slot))
        self.held[slot] = frame
        return True


class YuvaCanvas:
    """Draw into private RGBA canvases, convert what changed, copy planes into slots."""

    def __init__(self, ring: Ring, places: tuple[Place, ...], paint: Painter, fmt):
        from overlay.yuva import converter

        self.paint_fn = paint
        self.convert = converter(fmt)
        self.keys_of = getattr(paint, "keys", None)
        self.draw = getattr(paint, "draw", None)
        self.rgba = [np.zeros((h, w, 4), np.uint8) for _, _, w, h in places]
        self.views = tuple(image_over(a, (a.shape[1], a.shape[0])) for a in self.rgba)
        # The conversion of each canvas, kept to be copied into later slots.
        self.converted = [(np.empty((h, w), np.uint8), np.empty((h // 2, w // 2), np.uint8),
                           np.empty((h // 2, w // 2), np.uint8), np.empty((h, w), np.uint8))
                          for _, _, w, h in places]
        self.targets = [[_region_planes(ring.planes(s), p) for p in places] for s in range(ring.spec.slots)]
        self.canvas_keys: list = [None] * len(places)
        self.slot_keys = {s: [None] * len(places) for s in range(ring.spec.slots)}
        self.last_keys: tuple[int, tuple] = (-2, ())  # (frame, its keys): the next frame compares with it

    def paint(self, frame: int, slot: int) -> bool:
        """Put `frame` into `slot`; True when it differs from frame - 1 (which this worker
        may not have drawn: the keys say, they are a function of the frame alone)."""
        n = len(self.rgba)
        if self.keys_of is None:
            keys = (object(),) * n  # unknown content: never equal to what anything holds
            self.paint_fn(frame, self.views, None)
            redraw = range(n)
            changed = True
        else:
            keys = self.keys_of(frame)
            before = self.last_keys[1] if self.last_keys[0] == frame - 1 else self.keys_of(frame - 1)
            changed = frame == 0 or keys != before
            self.last_keys = (frame, keys)
            redraw = [i for i in range(n) if keys[i] != self.canvas_keys[i]]
            if redraw:
                self.draw(frame, self.views, redraw)
        for i in redraw:
            self.convert(self.rgba[i], *self.converted[i])
            self.canvas_keys[i] = keys[i]
        held = self.slot_keys[slot]
        for i in range(n):
            if held[i] != keys[i]:
                for dst, src in zip(self.targets[slot][i], self.converted[i]):
                    dst[...] = src
                held[i] = keys[i]
        return changed


def _region_planes(planes, place: Place):
    y, u, v, a = planes
    x0, y0, w, h = place
    return (y[y0:y0 + h, x0:x0 + w], u[y0 // 2:(y0 + h) // 2, x0 // 2:(x0 + w) // 2],
            v[y0 // 2:(y0 + h) // 2, x0 // 2:(x0 + w) // 2], a[y0:y0 + h, x0:x0 + w])


def make_canvas(ring: Ring, places: tuple[Place, ...], paint: Painter, yuva=None):
    """The canvas for this ring's pixel format; `yuva` (overlay.yuva.YuvaFormat) for yuva420p slots."""
    if ring.spec.pix_fmt == "yuva420p":
        if yuva is None:
            raise ValueError("a yuva420p ring needs the YUV matrix and range to convert with")
        return YuvaCanvas(ring, places, paint, yuva)
    return RgbaCanvas(ring, places, paint)
