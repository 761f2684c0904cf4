"""Painters used by pipeline tests; a module of its own so spawned workers can import them."""
from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass


def stamp(views, frame: int) -> None:
    """Write the frame number into the pixels: R = frame % 256, G = frame // 256, B = band, A = 255."""
    for band, image in enumerate(views):
        image.paste((frame % 256, frame // 256, 77 + band, 255), (0, 0, image.width, image.height))


@dataclass(frozen=True)
class Stamp:
    """Stamps each frame; random small delays make workers finish out of order."""

    jitter: float = 0.0

    def __call__(self):
        rng = random.Random(os.getpid())

        def paint(frame, image, previous=None):
            if self.jitter:
                time.sleep(rng.random() * self.jitter)
            stamp(image, frame)
        return paint


@dataclass(frozen=True)
class RaiseAt:
    frame: int

    def __call__(self):
        def paint(frame, image, previous=None):
            if frame == self.frame:
                raise ValueError(f"widget exploded at frame {frame}")
            stamp(image, frame)
        return paint


@dataclass(frozen=True)
class KillAt:
    """SIGKILLs its own worker: the OOM killer's way of failing."""

    frame: int

    def __call__(self):
        def paint(frame, image, previous=None):
            if frame == self.frame:
                os.kill(os.getpid(), signal.SIGKILL)
            stamp(image, frame)
        return paint


@dataclass(frozen=True)
class Slow:
    delay: float

    def __call__(self):
        def paint(frame, image, previous=None):
            time.sleep(self.delay)
            stamp(image, frame)
        return paint
