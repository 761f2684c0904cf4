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
    def __call__(self, frame: int, image: Image.Image) -> None: ...


# A picklable callable, run once in each worker, that returns the Painter.
PainterFactory = Callable[[], Painter]


@dataclass(frozen=True)
class WorkerArgs:
    index: int
    ring: RingSpec
    painter: PainterFactory


def slot_image(ring: Ring, slot: int) -> Image.Image:
    """An RGBA image whose pixels ARE the slot.

    frombuffer marks it read-only and the first draw would silently copy;
    clearing `readonly` makes ImageDraw/paste/alpha_composite write through
    (pinned by tests/test_ring.py).
    """
    spec = ring.spec
    im = Image.frombuffer("RGBA", (spec.width, spec.height), ring.buffer(slot), "raw", "RGBA", 0, 1)
    im.readonly = 0
    return im


def worker_main(args: WorkerArgs, tasks, drawn, events) -> None:
    child_setup()
    who = f"worker {args.index}"
    try:
        ring = Ring.attach(args.ring)
        images = [slot_image(ring, s) for s in range(args.ring.slots)]
        arrays = [ring.array(s) for s in range(args.ring.slots)]
        paint = args.painter()
        while True:
            msg = tasks.get()
            if msg is STOP:
                break
            arrays[msg.slot].fill(0)
            paint(msg.frame, images[msg.slot])
            drawn.put(Drawn(msg.frame, msg.slot, args.index))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach main
        events.put(Failed(who, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        raise SystemExit(1)
