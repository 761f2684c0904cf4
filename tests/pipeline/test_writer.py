"""How often the processes wake each other: the writer (run in this process, with a real ring
and a real pipe standing in for ffmpeg's stdin) gives slots back half a ring at a time, and every
slot still comes back."""
from __future__ import annotations

import os
import threading
from multiprocessing.connection import Connection

import pytest

from encoders import nut
from pipeline import writer
from pipeline.messages import Drawn, Finished, Written
from pipeline.ring import Ring
from pipeline.writer import WriterArgs, report_batch, writer_main

W, H = 8, 4


class _Drawn:
    """The workers' queue: `ready` frames are waiting each time the writer looks."""

    def __init__(self, frames: list[Drawn], ready: bool):
        self._frames, self._ready = list(frames), ready

    def get(self):
        return self._frames.pop(0)

    def empty(self) -> bool:
        return not (self._ready and self._frames)


class _Events(list):
    put = list.append


@pytest.fixture(autouse=True)
def _as_a_plain_function(monkeypatch):
    """Not the child's set-up (signals ignored, process renamed) in the test process."""
    monkeypatch.setattr(writer, "child_setup", lambda name="": None)


def _run(count: int, slots: int, ready: bool) -> list:
    ring = Ring.create(slots, W, H, inherited=True)
    read_end, write_end = os.pipe()
    sink = threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(read_end, 1 << 16), b"")])
    sink.start()
    events = _Events()
    try:
        drawn = _Drawn([Drawn(f, f % slots, 0) for f in range(count)], ready)
        args = WriterArgs(ring.spec, Connection(write_end, readable=False), count,
                          nut.header([(W, H)], 30, 1, "rgba"))
        writer_main(args, drawn, events)
    finally:
        sink.join(10)
        os.close(read_end)
        ring.close()
    return events


@pytest.mark.parametrize("ready", [True, False])
def test_every_slot_comes_back_once_in_order(ready):
    events = _run(count=10, slots=6, ready=ready)
    assert isinstance(events[-1], Finished) and events[-1].frames == 10
    written = [e for e in events if isinstance(e, Written)]
    assert [s for e in written for s in e.slots] == [f % 6 for f in range(10)]
    assert written[-1].frame == 9
    frames = [e.frame for e in written]
    assert frames == sorted(frames) and len(set(frames)) == len(frames)


def test_slots_come_back_half_a_ring_at_a_time_while_frames_wait():
    """Frames already drawn: main is woken once per half ring of frames, not once a frame."""
    assert report_batch(6) == 3
    events = _run(count=10, slots=6, ready=True)
    sizes = [len(e.slots) for e in events if isinstance(e, Written)]
    assert sizes == [3, 3, 3, 1]


def test_a_writer_about_to_wait_gives_every_slot_back():
    """No frame waiting: the slots go back at once, since a worker may need them to draw the next."""
    events = _run(count=5, slots=6, ready=False)
    assert [len(e.slots) for e in events if isinstance(e, Written)] == [1] * 5


def test_a_small_ring_gets_its_slots_back_sooner():
    events = _run(count=8, slots=4, ready=True)
    assert {len(e.slots) for e in events if isinstance(e, Written)} == {2}
    assert report_batch(2) == 1 and report_batch(1) == 1

