"""Worker process: draw overlay frames into ring slots, in whatever order they come.

A slot holds one frame per dashboard region. How a frame gets into a slot depends
on the slot's pixel format (pipeline.canvas): drawn in place for RGBA, drawn,
converted and copied for yuva420p; either way the worker tells the writer which
regions differ from the frame before, the only ones it sends.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass

from PIL import Image

from pipeline.canvas import Painter, PainterFactory, image_over, make_canvas
from pipeline.messages import STOP, Drawn, Failed
from pipeline.procs import child_setup
from pipeline.ring import Ring, RingSpec

__all__ = ["Painter", "PainterFactory", "WorkerArgs", "slot_image", "worker_main"]


@dataclass(frozen=True)
class WorkerArgs:
    index: int
    ring: RingSpec
    painter: PainterFactory         # the regions are the ring's regions (RingSpec.region_sizes)
    yuva: object = None             # overlay.yuva.YuvaFormat of a yuva420p ring


def slot_image(ring: Ring, slot: int, region: int = 0) -> Image.Image:
    """An RGBA image whose pixels ARE one region's frame in the slot."""
    return image_over(ring.buffer(slot, region), ring.spec.region_sizes[region])


def worker_main(args: WorkerArgs, tasks, drawn, events) -> None:
    child_setup(f"overdash-w{args.index}")
    who = f"worker {args.index}"
    ring = canvas = None
    try:
        ring = Ring.attach(args.ring)
        canvas = make_canvas(ring, args.painter(), args.yuva)
        while True:
            msg = tasks.get()
            if msg is STOP:
                break
            for task in msg:
                changed = canvas.paint(task.frame, task.slot)
                drawn.put(Drawn(task.frame, task.slot, args.index, changed))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach main
        events.put(Failed(who, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        raise SystemExit(1)
    finally:
        canvas = None  # its views of the slots first: a mapping with views alive cannot close
        if ring is not None:
            ring.close()
