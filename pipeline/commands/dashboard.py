"""Layout + telemetry + frame times + picture size → the painter workers run, and its regions.

Shared by `render` (frames of a video) and `preview` (one frame, or demo data).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from overdash import InputError

if TYPE_CHECKING:
    from overlay.frametable import FrameTable
    from overlay.renderer import LayoutPainter
    from overlay.widgets.base import Box


@dataclass(frozen=True)
class Dashboard:
    painter: LayoutPainter       # picklable: workers build their widgets from it
    regions: tuple[Box, ...]     # boxes (x0, y0, x1, y1) in picture pixels that the layout draws into
    table: FrameTable


def build_dashboard(layout_ref: str, telemetry, count: int, fps: Fraction, size: tuple[int, int], units, *,
                    include=(), exclude=(), font: str | None = None, zone=None,
                    full_frame: bool = False, maps=None, privacy=(), layout=None, tables=None,
                    empty_ok: bool = False) -> Dashboard:
    """`full_frame`: one region, the whole picture (overlay-only outputs), instead of the widgets' clusters.

    `privacy` zones hide positions everywhere (text, maps, track); `maps` (overlay.maps.MapOptions)
    fetches the tiles the layout's maps need now, so workers only ever read the cache.
    `layout`: an already parsed Layout (`overdash edit` parses the text being typed) instead of
    loading `layout_ref`, which then only names it in messages. `tables`: a dict that keeps each
    FrameTable by the columns it holds, so redrawing an edited layout that reads the same metrics
    does not interpolate the whole ride again; it also keeps every metric in each table (the
    editor's values panel lists them all), where a render keeps only the columns its layout
    reads, which bounds main's memory on long rides. `empty_ok`: a layout that draws nothing is drawn
    (as nothing) instead of refused.
    """
    from overlay.conversion import UnitConverter
    from overlay.frametable import build_frame_table
    from overlay.layout import load_layout, pace_aware
    from overlay.renderer import EMPTY_BOUNDS, LayoutPainter, Renderer

    if layout is None:
        layout = load_layout(layout_ref, include=include, exclude=exclude)
        if maps is not None:  # (an edited layout may gain its map later: the editor keeps the options)
            check_map_options(layout_ref, layout, maps)
    converter = UnitConverter()
    layout = layout.resolve_units(units, converter)
    requests = frozenset(layout.unit_requests(units))
    table = tables.get(requests) if tables is not None else None
    if table is None:
        table = build_frame_table(telemetry, count, fps, requests, convert=pace_aware(converter.convert), zone=zone,
                                  keep=tables is None)
        if tables is not None:
            tables[requests] = table
    if privacy:
        from overlay.maps.privacy import mask_table

        table = mask_table(table, tuple(privacy))
    from overlay.maps.options import MapOptions, map_components

    if (privacy or maps is not None) and map_components(layout):  # else no tile code is loaded
        from overlay.maps.prepare import prepare_maps

        layout = prepare_maps(layout, table, size, maps or MapOptions(privacy=tuple(privacy))).bind(layout)
    renderer = Renderer(layout, table, size, units, font=font)
    boxes = ((0, 0, size[0], size[1]),) if full_frame else renderer.regions()
    if boxes == (EMPTY_BOUNDS,) and not empty_ok:
        raise InputError(f"layout {layout_ref!r} draws nothing inside a {size[0]}x{size[1]} picture")
    return Dashboard(LayoutPainter(layout, table, size, units, font, regions=boxes, prebuilt=renderer), boxes, table)


def check_map_options(layout_ref: str, layout, maps) -> None:
    """Tile options on a layout without a tile map would change nothing: say so rather than ignore them."""
    from overlay.maps.options import MAP_TYPES, map_components

    given = [opt for opt, value in (("--map-style", maps.style), ("--offline", maps.offline),
                                    ("--cache-dir", maps.cache_dir)) if value]
    if given and not map_components(layout):
        raise InputError(f"{given[0]}: layout {layout_ref!r} has no tile map ({', '.join(sorted(MAP_TYPES))}), "
                         f"so it would change nothing; leave it out")


def compose(dashboard: Dashboard, frame: int, background):
    """Frame `frame` of the dashboard over `background` (an RGB or RGBA PIL image of the picture size)."""
    from PIL import Image

    canvas = background.convert("RGBA")
    width = max(b[2] - b[0] for b in dashboard.regions)
    views = tuple(Image.new("RGBA", (width, b[3] - b[1])) for b in dashboard.regions)
    dashboard.painter()(frame, views)
    for (x0, y0, x1, y1), view in zip(dashboard.regions, views):
        canvas.alpha_composite(view.crop((0, 0, x1 - x0, y1 - y0)), (x0, y0))
    return canvas
