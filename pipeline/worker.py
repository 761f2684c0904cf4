"""Worker process: draw overlay frames into ring slots, in whatever order they come.

Pillow images are created once per slot over the shared memory itself, so a
draw writes straight into the slot and nothing is copied afterwards.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Callable, Protocol

from PIL import Image

from pipeline.messages import STOP, Drawn, Failed
from pipeline.procs import child_setup
from pipeline.ring import Ring, RingSpec


class Painter(Protocol):
    """Draws overlay frame `frame` into `views`: one image per band of the slot.

    `previous` is the frame the views still hold (None for a fresh slot): the painter may
    leave alone whatever did not change, and must clear whatever it redraws.
    """

    def __call__(self, frame: int, views: tuple[Image.Image, ...], previous: int | None) -> None: ...


# A picklable callable, run once in each worker, that returns the Painter.
PainterFactory = Callable[[], Painter]


@dataclass(frozen=True)
class WorkerArgs:
    index: int
    ring: RingSpec
    painter: PainterFactory
    bands: tuple[tuple[int, int], ...] = ()  # (first row, rows) of each region; () = whole slot


def slot_image(ring: Ring, slot: int, band: tuple[int, int] | None = None) -> Image.Image:
    """An RGBA image whose pixels ARE the slot (or rows band[0] … band[0]+band[1] of it).

    Rows are contiguous, so a band is a plain slice of the slot's memory.
    frombuffer marks the image read-only and the first draw would silently
    copy; clearing `readonly` makes ImageDraw/paste/alpha_composite write
    through (pinned by tests/test_pipeline.py).
    """
    spec = ring.spec
    first, rows = band or (0, spec.height)
    row_bytes = spec.width * spec.channels
    buf = ring.buffer(slot)[first * row_bytes:(first + rows) * row_bytes]
    im = Image.frombuffer("RGBA", (spec.width, rows), buf, "raw", "RGBA", 0, 1)
    im.readonly = 0
    return im


def worker_main(args: WorkerArgs, tasks, drawn, events) -> None:
    child_setup()
    who = f"worker {args.index}"
    try:
        ring = Ring.attach(args.ring)
        bands = args.bands or ((0, args.ring.height),)
        views = [tuple(slot_image(ring, s, b) for b in bands) for s in range(args.ring.slots)]
        # Only this worker draws into its slots (the scheduler sends it their frames), so it
        # knows what each still shows: unchanged parts need not be drawn again.
        held: dict[int, int] = {}
        paint = args.painter()
        while True:
            msg = tasks.get()
            if msg is STOP:
                break
            paint(msg.frame, views[msg.slot], held.get(msg.slot))
            held[msg.slot] = msg.frame
            drawn.put(Drawn(msg.frame, msg.slot, args.index))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach main
        events.put(Failed(who, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        raise SystemExit(1)
