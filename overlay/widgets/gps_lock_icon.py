"""gps-lock-icon: which GPS fix the camera has (none, 2D, 3D; unknown when the value is missing).

The four pictures are prepared once; per frame the state is a lookup in a
precomputed array and one paste. Our bundled gps_lock_* shapes are tinted
by state (red, amber, green, grey) so the fix reads at a glance; a user's own
files are shown as they are.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from overlay.widgets.attrs import Attr
from overlay.widgets.base import SquareWidget, square_attrs
from overlay.widgets.icon import bundled, is_bundled, load_icon, parse_icon_file
from overlay.widgets.imaging import paste_over
from overlay.widgets.registry import component

STATES = ("lock_unknown", "lock_none", "lock_2d", "lock_3d")  # index = state code below
TINTS = {
    "lock_unknown": (176, 180, 188, 255),
    "lock_none": (240, 74, 62, 255),
    "lock_2d": (255, 186, 60, 255),
    "lock_3d": (92, 220, 120, 255),
}


def lock_states(values) -> np.ndarray:
    """GPS fix values (GPMF GPSF: 0 none, 2 = 2D, 3 = 3D) -> indexes into STATES (NaN: unknown)."""
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros(len(v), dtype=np.int8)
    ok = np.isfinite(v)
    out[ok & (v < 1.5)] = 1
    out[ok & (v >= 1.5) & (v < 2.5)] = 2
    out[ok & (v >= 2.5)] = 3
    return out


def tinted(icon: Image.Image, colour) -> Image.Image:
    out = Image.new("RGBA", icon.size, tuple(colour[:3]) + (0,))
    out.putalpha(icon.getchannel("A"))
    return out


@component("gps-lock-icon", square_attrs(64.0) + (
    Attr("lock_none", parse_icon_file, bundled("gps_lock_none.png")),
    Attr("lock_unknown", parse_icon_file, bundled("gps_lock_unknown.png")),
    Attr("lock_2d", parse_icon_file, bundled("gps_lock_2d.png")),
    Attr("lock_3d", parse_icon_file, bundled("gps_lock_3d.png")),
))
class GpsLockIcon(SquareWidget):
    reads = ("gps-lock",)

    def __init__(self, node, offset, ctx):
        super().__init__(node, offset, ctx)
        self.images = []
        for state in STATES:
            path = self.a[state]
            if is_bundled(path):
                self.images.append(tinted(load_icon(path, self.size, False), TINTS[state]))
            else:
                self.images.append(load_icon(path, self.size, False))
        self.states = lock_states(ctx.values("gps-lock"))

    def draw(self, frame, image, origin):
        state = int(self.states[frame]) if 0 <= frame < len(self.states) else 0
        paste_over(image, self.images[state], self.x - origin[0], self.y - origin[1])
