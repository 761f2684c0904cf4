"""A progress line for long renders: frames done, frames/s, speed vs real time, ETA."""
from __future__ import annotations

import sys
import time
from typing import TextIO

_BAR = 24


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Redraws one line on a terminal (10×/s); prints a line every 10 s elsewhere (CI logs)."""

    def __init__(self, total: int, fps: float, *, label: str = "rendering", unit: str = "frames",
                 stream: TextIO | None = None, enabled: bool = True):
        self.total = max(1, total)
        self.fps = fps
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and self.stream.isatty()
        self.start = time.monotonic()
        self._last = 0.0 if self.tty else self.start  # logs: first line after 10 s, not a meaningless 0%
        self._done = 0

    def __call__(self, done: int) -> None:
        self._done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if done < self.total and now - self._last < (0.1 if self.tty else 10.0):
            return
        self._last = now
        line = self.line(done, now - self.start)
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def line(self, done: int, elapsed: float) -> str:
        frac = done / self.total
        filled = int(frac * _BAR)
        rate = done / elapsed if elapsed > 0 else 0.0
        realtime = rate / self.fps if self.fps else 0.0
        eta = (self.total - done) / rate if rate > 0 else 0.0
        bar = "█" * filled + "░" * (_BAR - filled)
        if self.unit != "frames":
            return f"{self.label} {frac:4.0%} |{bar}| {done}/{self.total} {self.unit}  ETA {_clock(eta)}"
        return (f"{self.label} {frac:4.0%} |{bar}| {done}/{self.total} frames  "
                f"{rate:6.1f} fps  {realtime:4.1f}× real time  ETA {_clock(eta)}")

    def tiles(self, done: int, total: int) -> None:
        """A (done, total) callback, e.g. for tile downloads whose total is known only at the start."""
        self.total = max(1, total)
        self(done)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
