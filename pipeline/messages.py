"""Every message that crosses a process boundary. Tiny and frozen: pixels never travel
in messages, they live in the shared-memory ring; a message only names a slot.

    main --(Draw, …)--> workers --Drawn--> writer --Written--> main
    any child --Failed--> main        writer --Finished/Stopped--> main
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Draw:
    """Main → worker: draw overlay frame `frame` into ring slot `slot`. A worker's queue
    carries tuples of them: the frames main hands that worker at once."""

    frame: int
    slot: int


@dataclass(frozen=True)
class Drawn:
    """Worker → writer: `slot` now holds frame `frame`; `changed`: the regions (bit i = region i)
    that differ from frame - 1, -1 for all."""

    frame: int
    slot: int
    worker: int
    changed: int = -1


@dataclass(frozen=True)
class Written:
    """Writer → main: frames up to `frame` went to ffmpeg, and `slots` (theirs, not yet
    reported) may be reused. Several frames a message: each message wakes main."""

    frame: int
    slots: tuple[int, ...]


@dataclass(frozen=True)
class Finished:
    """Writer → main: all `frames` went to ffmpeg and its stdin is closed; main waits for ffmpeg."""

    frames: int


@dataclass(frozen=True)
class Stopped:
    """Writer → main: ffmpeg stopped reading before overlay frame `frame`. Its exit status says
    whether it needed no more (0) or failed; main owns ffmpeg and asks."""

    frame: int


@dataclass(frozen=True)
class Failed:
    """Any child → main: the first error of a child, with its traceback for --debug."""

    who: str
    error: str
    traceback: str = ""


STOP = None  # on a work queue: no more messages, exit cleanly
