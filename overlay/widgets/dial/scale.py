"""Where a value falls on a dial, and which numbers its scale shows.

Angles are degrees clockwise from 3 o'clock (screen coordinates, y down), the
convention of the layout vocabulary's `start`; a negative `length` runs the
scale anticlockwise. Everything here is plain arithmetic, shared by the face
painting (ticks, numbers), the needles and the lit arcs, so that all three
agree on where a value is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

# The per-frame parts (needle, lit arc) cache their pictures by angle, quantised to
# 1/ANGLE_STEPS degree: finer than a pixel at any dial size, coarse enough to hit.
ANGLE_STEPS = 4
CACHE_BYTES = 16 << 20  # per needle / arc: the LRU keeps at most this much image data


@dataclass(frozen=True)
class Dial:
    """A scale lo..hi laid along an arc from `start`, `length` degrees (signed), around (cx, cy)."""

    cx: float
    cy: float
    start: float
    length: float
    lo: float
    hi: float

    def frac(self, v: float) -> float:
        f = (v - self.lo) / (self.hi - self.lo)
        return 0.0 if f < 0 else 1.0 if f > 1 else f

    def angle(self, v: float) -> float:
        """Angle of value v (clamped into lo..hi)."""
        return self.start + self.frac(v) * self.length

    def point(self, deg: float, r: float) -> tuple[float, float]:
        t = math.radians(deg)
        return self.cx + r * math.cos(t), self.cy + r * math.sin(t)

    def span(self, f0: float = 0.0, f1: float = 1.0) -> tuple[float, float]:
        """Pillow arc angles (clockwise from the first to the second) covering fractions f0..f1."""
        a, b = self.start + f0 * self.length, self.start + f1 * self.length
        return (a, b) if a <= b else (b, a)

    def free_angle(self, v: float) -> float:
        """Angle of value v, not clamped: off-scale values lie past the ends (in the dial's gap)."""
        return self.start + (v - self.lo) / (self.hi - self.lo) * self.length

    def sweep(self, v0: float, v1: float) -> tuple[float, float]:
        """(a0, a1), a0 <= a1, of the arc drawn clockwise from value v0 to v1 as the speed dials of
        gopro-dashboard-overlay draw their zones (layouts were tuned on them): angles not clamped to
        the scale, and when v1 lies before v0 the arc runs clockwise the long way round."""
        a0, a1 = self.free_angle(v0), self.free_angle(v1)
        if a1 - a0 >= 360:
            return a0, a0 + 360.0
        return a0, a0 + (a1 - a0) % 360.0

    def ticks(self, n: int) -> list[float]:
        """n equal divisions -> n+1 fractions (n on a closed 360 degree scale: the last is the first)."""
        full = abs(self.length) >= 360
        return [i / n for i in range(n if full else n + 1)]


def nice_step(span: float, target: int = 8) -> float:
    """A 1/2/5 x 10^k step giving about `target` divisions of `span`."""
    raw = span / max(1, target)
    k = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if m * k >= raw:
            return m * k
    return 10 * k


def round_up(v: float, step: float) -> float:
    """v rounded up to a whole number of steps (how the speed dials find the top of their scale)."""
    return math.ceil(v / step) * step


def nice_ceil(v: float, step: float) -> float:
    return math.ceil(v / step - 1e-9) * step


def label(v: float) -> str:
    """A scale number: no trailing zeros, no '-0'."""
    if abs(v - round(v)) < 1e-6 * max(1.0, abs(v)):
        s = str(int(round(v)))
    else:
        s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def minor_divisions(arc_px: float, min_gap: float) -> int:
    """How many minor divisions fit in one sector of `arc_px` pixels with gaps of at least min_gap."""
    for n in (10, 5, 4, 2):
        if arc_px / n >= min_gap:
            return n
    return 1
