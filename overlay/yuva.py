"""Straight-alpha RGBA overlay frames to ffmpeg's yuva420p planes.

ffmpeg converting the RGBA overlay to YUV, serially on every frame, was most of
the cost of compositing. The drawing workers convert instead: in parallel, and
only the regions that changed. The planes go to `overlay=format=yuv420`, which
blends luma with each pixel's alpha and chroma with the mean alpha of its 2x2
block, so:

* Y is the matrix luma of each pixel, A its alpha;
* U, V of a block are the chroma of the alpha-weighted mean colour of its four
  pixels (anti-aliased edges of coloured text keep their colour instead of
  fading towards the chroma of transparent black); 128 when all four are
  transparent.

Luma and opaque chroma agree with swscale's `scale=out_range=...:out_color_matrix=...`
to within 1. The work is done by the C extension overlay._yuva when it is built
(setup.py); `convert_numpy` is the fallback and the reference, with the same
integer math, bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # numpy only for the numpy path: render asks native_available() before loading numpy
    import numpy as np

__all__ = ["YuvaFormat", "converter", "convert_numpy", "native_available", "MATRICES"]

# (Kr, Kb) of each matrix; Kg = 1 - Kr - Kb.
MATRICES = {"bt709": (0.2126, 0.0722), "bt601": (0.299, 0.114), "bt2020": (0.2627, 0.0593)}

# The fixed-point math, shared with _yuva.c (which states it in full). Luma
# coefficients are 16-bit, used through 16-bit multiply-highs; chroma ones are
# 12-bit, which keeps the alpha-weighted block sums within int32.
MATH_VERSION = 2
CHROMA_SHIFT = 12
CHROMA_OFFSET = (128 << CHROMA_SHIFT) + (1 << (CHROMA_SHIFT - 1))  # 128, plus a half to round

Convert = Callable[["np.ndarray", "np.ndarray", "np.ndarray", "np.ndarray", "np.ndarray"], None]


@dataclass(frozen=True)
class YuvaFormat:
    """The YUV matrix and range of the video the overlay is blended onto (picklable: sent to workers)."""

    matrix: str = "bt709"
    full_range: bool = False

    def __post_init__(self):
        if self.matrix not in MATRICES:
            raise ValueError(f"unknown YUV matrix {self.matrix!r}: one of {', '.join(MATRICES)}")

    def coeffs(self) -> tuple[int, ...]:
        """(yr, yg, yb, yoff, ymin, ymax, ur, ub, vr, vb, cmin, cmax): the integers _yuva.convert takes.

        The luma coefficients sum to the luma scale (white is exactly white) and
        the green chroma coefficients are implied as minus the other two (greys
        have exactly neutral chroma).
        """
        kr, kb = MATRICES[self.matrix]
        ys, cs = (1.0, 1.0) if self.full_range else (219 / 255, 224 / 255)
        one, cone = 1 << 16, 1 << CHROMA_SHIFT
        yr, yb = round(kr * ys * one), round(kb * ys * one)
        yg = round(ys * one) - yr - yb
        yoff = ((0 if self.full_range else 16) << 8) + (1 << 7)  # in 1/256 steps, plus a half to round
        ub = vr = round(0.5 * cs * cone)
        ur = round(-kr / (2 * (1 - kb)) * cs * cone)
        vb = round(-kb / (2 * (1 - kr)) * cs * cone)
        ylo, yhi, clo, chi = (0, 255, 0, 255) if self.full_range else (16, 235, 16, 240)
        return (yr, yg, yb, yoff, ylo, yhi, ur, ub, vr, vb, clo, chi)


def _native():
    """overlay._yuva when it is built and of this version of the math, else None."""
    try:
        from overlay import _yuva
    except ImportError:
        return None
    if (_yuva.MATH_VERSION, _yuva.CHROMA_SHIFT, _yuva.CHROMA_OFFSET) != (MATH_VERSION, CHROMA_SHIFT, CHROMA_OFFSET):
        return None  # a stale build: its planes would not match the numpy reference
    return _yuva


def native_available() -> bool:
    """Whether the C converter is built: numpy alone is slower than letting ffmpeg convert."""
    return _native() is not None


def converter(fmt: YuvaFormat) -> Convert:
    """`convert(src, y, u, v, a)` for this format: the C one when built, else numpy.

    src: (h, w, 4) uint8 straight-alpha RGBA, h and w even, each row's pixels
    contiguous (a C-contiguous array is; rows may be strided). y, a: (h, w);
    u, v: (h/2, w/2); uint8, writable, rows may be strided (views into a larger
    plane), overlapping neither src nor each other. Wrong types raise TypeError,
    wrong shapes or strides ValueError. The C one releases the GIL.
    """
    native = _native()
    if native is None:
        return partial(convert_numpy, fmt)
    c_convert, coeffs = native.convert, fmt.coeffs()

    def convert(src: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, a: np.ndarray) -> None:
        c_convert(src, y, u, v, a, coeffs)

    return convert


def _check(src, y, u, v, a) -> None:
    """The C converter's argument checks, with the same exceptions, so both accept the same calls."""
    import numpy as np

    if not isinstance(src, np.ndarray) or src.dtype != np.uint8 or src.ndim != 3 or src.shape[2] != 4:
        raise TypeError("src: expected an (h, w, 4) uint8 array")
    h, w = src.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"src: width and height must be even, not {w} x {h}")
    if src.size and (src.strides[2] != 1 or (w > 1 and src.strides[1] != 4)):  # empty: any strides
        raise ValueError("src: pixels of a row must be contiguous RGBA")
    for name, plane, shape in (("y", y, (h, w)), ("u", u, (h // 2, w // 2)), ("v", v, (h // 2, w // 2)),
                               ("a", a, (h, w))):
        if not isinstance(plane, np.ndarray) or plane.dtype != np.uint8 or plane.ndim != 2:
            raise TypeError(f"{name}: expected a 2-D uint8 array")
        if plane.shape != shape:
            raise ValueError(f"{name}: shape {plane.shape}, expected {shape}")
        if plane.size and shape[1] > 1 and plane.strides[1] != 1:
            raise ValueError(f"{name}: rows must be contiguous (column stride 1)")
        if not plane.flags.writeable:
            raise ValueError(f"{name}: read-only")


def convert_numpy(fmt: YuvaFormat, src: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray,
                  a: np.ndarray) -> None:
    """The reference: the integer math of _yuva.c, in numpy (see that file for the formulas)."""
    import numpy as np

    _check(src, y, u, v, a)
    yr, yg, yb, yoff, _, _, ur, ub, vr, vb, clo, chi = fmt.coeffs()
    h, w = src.shape[:2]
    r, g, b, alpha = (src[..., i].astype(np.int32) for i in range(4))
    lum = ((r * yr) >> 8) + ((g * yg) >> 8) + ((b * yb) >> 8) + yoff
    y[...] = lum >> 8  # within ylo…yhi: black and white are, and luma is monotonic in R, G, B
    a[...] = src[..., 3]

    def block_sum(x):
        return x.reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3), dtype=np.int32)

    sg = block_sum(alpha * g)
    dr, db = block_sum(alpha * r) - sg, block_sum(alpha * b) - sg
    sa = np.maximum(block_sum(alpha), 1)  # a transparent block: sums 0, chroma 128
    off = CHROMA_OFFSET * sa
    for plane, kr, kb in ((u, ur, ub), (v, vr, vb)):
        plane[...] = np.clip(((kr * dr + kb * db + off) >> CHROMA_SHIFT) // sa, clo, chi)
