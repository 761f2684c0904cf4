"""zone-bar: a bar from `min` to the value over four zones (min..z1..z2..z3..max), e.g. heart rate.

As in gopro-dashboard-overlay, the colours are a linear gradient with a stop at
each zone's start: z0's colour at min shading into z1's at z1, then z2's at z2
and z3's at z3, which holds from there to max; dividers mark z1, z2 and z3. Its
defaults too: zones at 120, 160 and 200 of 0..400, white into green, yellow, red. Drawing
shares bar.py's machinery: a pre-rendered rounded layer, cropped per pixel
length and cached.
"""
from __future__ import annotations

from PIL import Image

from overlay.widgets.attrs import NOT_GIVEN, Attr, parse_colour, parse_number, parse_optional_colour
from overlay.widgets.bar import BAR_ATTRS, BarWidget
from overlay.widgets.base import StaticImage
from overlay.widgets.imaging import gradient
from overlay.widgets.registry import component

ZONE_COLOURS = ((255, 255, 255, 255), (67, 235, 52, 255), (240, 232, 19, 255), (207, 19, 2, 255))


def _colour_attrs():
    out = []
    for i, c in enumerate(ZONE_COLOURS):
        out.append(Attr(f"z{i}_rgb", parse_colour, c))
    for i in range(4):  # the spelling gopro-dashboard-overlay's documentation uses; wins when given
        out.append(Attr(f"z{i}_col", parse_colour, None))
    return tuple(out)


@component("zone-bar", BAR_ATTRS + (
    Attr("zone_divider", parse_optional_colour, (255, 255, 255, 255)),
    # gopro-dashboard-overlay's documentation also writes `divider` and `marker`; they win when given
    Attr("divider", parse_optional_colour, NOT_GIVEN),
    Attr("marker", parse_optional_colour, NOT_GIVEN),
    Attr("max", parse_number, 400.0),
    Attr("min", parse_number, 0.0),
    Attr("z1", parse_number, 120.0),
    Attr("z2", parse_number, 160.0),
    Attr("z3", parse_number, 200.0),
) + _colour_attrs())
class ZoneBar(BarWidget):
    def colours(self):
        a = self.a
        return [a[f"z{i}_col"] or a[f"z{i}_rgb"] for i in range(4)]

    def fill_layer(self) -> tuple[Image.Image, int]:
        a, t = self.a, self.track
        starts = [float(t.to_px(v)) for v in (t.lo, a["z1"], a["z2"], a["z3"])]
        stops = sorted(zip(starts, self.colours()), key=lambda s: s[0])  # flat past z3 (and before min)
        return gradient(t.iw, t.ih, stops), 0

    def markers(self) -> list[StaticImage | None]:
        a, t = self.a, self.track
        width = max(1, self.ctx.scaling.length(2))
        colour = next((a[k] for k in ("divider", "marker") if a[k] is not NOT_GIVEN), a["zone_divider"])
        return [t.marker(float(t.to_px(z)), width, colour) for z in (a["z1"], a["z2"], a["z3"])
                if t.lo < z < t.hi]
