"""Ring slots hold one frame per region, back to back; the canvases draw into them and say
which regions differ from the frame before (the writer sends only those), in both formats."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pipeline.canvas import ALL, image_over, make_canvas
from pipeline.ring import Ring

RGBA_SIZES = ((40, 10), (13, 7), (30, 21))  # RGBA regions may have odd sizes
SIZES = ((40, 10), (12, 6), (30, 20))


def test_rgba_parts_lie_back_to_back_each_as_ffmpeg_reads_it():
    ring = Ring.create(3, 40, 21, "rgba", RGBA_SIZES)
    try:
        spec = ring.spec
        assert [spec.region_span(i) for i in range(3)] == [(0, 1600), (1600, 364), (1964, 2520)]
        assert spec.frame_bytes == 4484 and spec.stride % 64 == 0 and spec.stride >= 4484
        for s in range(3):
            for i, (w, h) in enumerate(RGBA_SIZES):
                assert ring.array(s, i).shape == (h, w, 4) and len(ring.buffer(s, i)) == w * h * 4
                ring.array(s, i)[...] = 10 * s + i + 1
        for s in range(3):
            assert bytes(ring.buffer(s)) == b"".join(bytes([10 * s + i + 1]) * (w * h * 4)
                                                     for i, (w, h) in enumerate(RGBA_SIZES))
        # A view of a box in the last rows of the last region, right of x = 0, reaches past the
        # region's end: the spare row at the end of the mapping holds it; only the box is written.
        w, h = RGBA_SIZES[2]
        before = bytes(ring.buffer(2))
        view = image_over(ring.tail(2, 2, (h - 2) * w * 4 + 3 * 4), (5, 2), w * 4)
        view.paste((1, 2, 3, 4), (0, 0, 5, 2))
        del view
        region = ring.array(2, 2)
        assert (region[h - 2:, 3:8] == (1, 2, 3, 4)).all()
        region[h - 2:, 3:8] = 10 * 2 + 2 + 1
        assert bytes(ring.buffer(2)) == before
        del region
    finally:
        ring.close()


class Blocks:
    """A painter with keys: region i shows a solid block whose colour changes every period[i]
    frames (0: never), in a box of its own; records each draw as (frame, region, box)."""

    period = (4, 0, 2)

    def __init__(self, sizes, boxes=True):
        self.sizes = sizes
        self.drawn: list[tuple[int, int, tuple | None]] = []
        if not boxes:
            self.damage = self.draw_box = None

    def value(self, frame: int, i: int) -> int:
        return frame // self.period[i] if self.period[i] else 0

    def keys(self, frame: int) -> tuple:
        return tuple(self.value(frame, i) for i in range(len(self.sizes)))

    def block(self, i: int) -> tuple[int, int, int, int]:
        w, h = self.sizes[i]
        return (2, 2, w - 4, h - 2)

    def colour(self, frame: int, i: int) -> tuple[int, int, int, int]:
        return (50 + self.value(frame, i) % 200, 20 * i, 7, 255)

    def __call__(self, frame, views, previous=None):
        self.draw(frame, views, range(len(views)))

    def draw(self, frame, views, which):
        for i in which:
            self.drawn.append((frame, i, None))
            views[i].paste((0, 0, 0, 0), (0, 0, *views[i].size))
            views[i].paste(self.colour(frame, i), self.block(i))

    def damage(self, i, old, old_keys, frame, keys):
        return self.block(i)

    def draw_box(self, frame, view, i, box):
        """Clear `view` and draw the region `box` of region i into it (view's 0,0 is box's x0, y0)."""
        self.drawn.append((frame, i, box))
        (x0, y0, x1, y1), (bx0, by0, bx1, by1) = box, self.block(i)
        view.paste((0, 0, 0, 0), (0, 0, *view.size))
        view.paste(self.colour(frame, i), (max(bx0, x0) - x0, max(by0, y0) - y0, min(bx1, x1) - x0, min(by1, y1) - y0))


def fresh(frame: int) -> list[np.ndarray]:
    """Frame `frame` of each region, drawn from scratch."""
    views = tuple(Image.new("RGBA", size) for size in SIZES)
    Blocks(SIZES).draw(frame, views, range(len(views)))
    return [np.asarray(v) for v in views]


@pytest.mark.parametrize("pix_fmt", ["rgba", "yuva420p"])
@pytest.mark.parametrize("boxes", [True, False])
def test_a_region_that_did_not_change_is_neither_redrawn_nor_reported(pix_fmt, boxes):
    """paint() returns the regions whose keys differ from frame - 1 (all at frame 0): only those
    cross the pipe. A slot region is redrawn only where it differs from the frame it still holds
    (the block's box with damage/draw_box, else the whole region), and then equals a fresh drawing."""
    from overlay.yuva import YuvaFormat

    slots = 3
    ring = Ring.create(slots, 40, 20, pix_fmt, SIZES)
    painter = Blocks(SIZES, boxes)
    canvas = make_canvas(ring, painter, YuvaFormat() if pix_fmt == "yuva420p" else None)
    try:
        for frame in range(12):
            slot = frame % slots
            changed = canvas.paint(frame, slot)
            want = ALL if frame == 0 else sum(1 << i for i in range(3) if painter.keys(frame)[i]
                                                   != painter.keys(frame - 1)[i])
            assert changed == want, f"frame {frame}"
            if pix_fmt == "rgba":
                for i, expected in enumerate(fresh(frame)):
                    assert np.array_equal(ring.array(slot, i), expected), f"frame {frame}, region {i}"
        # Region 1 never changes: drawn whole once, when nothing is known yet (RGBA: into each
        # slot; yuva420p: into the worker's canvas, converted once, copied into each slot).
        redrawn = [(f, b) for f, i, b in painter.drawn if i == 1]
        whole = (0, 0, *SIZES[1]) if boxes else None
        assert redrawn == [(f, whole) for f in (range(slots) if pix_fmt == "rgba" else [0])]
        if boxes:  # once each slot holds a known frame, the changing regions repaint their block only
            assert {b for f, i, b in painter.drawn if f >= slots} == {painter.block(0), painter.block(2)}
    finally:
        canvas = None
        ring.close()


def test_a_painter_without_keys_is_drawn_whole_and_sent_whole():
    ring = Ring.create(2, 40, 20, "rgba", SIZES)
    calls = []

    def paint(frame, views, previous=None):
        calls.append((frame, previous))
        for view in views:
            view.paste((frame, 0, 0, 255), (0, 0, *view.size))

    canvas = make_canvas(ring, paint)
    try:
        assert [canvas.paint(f, f % 2) for f in range(4)] == [ALL] * 4
        assert calls == [(0, None), (1, None), (2, 0), (3, 1)], "told what the slot still shows"
        assert (ring.array(1, 2) == (3, 0, 0, 255)).all()
    finally:
        canvas = None
        ring.close()
