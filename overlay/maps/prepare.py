"""The one call the main process makes before workers start: work out, fetch and hand over the map tiles.

    assets = prepare_maps(layout, table, video_size, MapOptions(style=..., offline=..., privacy=zones))
    layout = assets.bind(layout)      # workers' map widgets find the assets in the layout
    table = mask_table(table, zones)  # privacy for text widgets too (overlay.maps.privacy)

`MapAssets` is small and picklable (cache folder, style without API key,
privacy zones, the tile list); `bind` stores it in `derived["maps"]` of every
map component, so it reaches the workers with the layout and needs nothing
new in the Renderer or the pipeline. Workers read tiles from the cache folder
by path and never fetch.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from overlay.maps.cache import TileCache, default_cache_dir
from overlay.maps.fetch import FetchReport, prefetch
from overlay.maps.geometry import needed_tiles, plan, positions
from overlay.maps.options import MAP_TYPES, MapOptions, map_components
from overlay.maps.privacy import PrivacyZone, mask_track
from overlay.maps.styles import TileStyle, resolve_style
from overlay.maps.tiles import Tile


@dataclass(frozen=True)
class MapAssets:
    """What workers need to draw maps: picklable, no API key, no network handles."""

    cache_dir: str
    style: TileStyle
    zones: tuple[PrivacyZone, ...] = ()
    tiles: frozenset = frozenset()
    report: FetchReport = FetchReport()

    @classmethod
    def default(cls) -> "MapAssets":
        """Used by a map widget when prepare_maps was not called: default style, cache only."""
        return cls(str(default_cache_dir()), dataclasses.replace(resolve_style(None), api_key=None))

    def cache(self) -> TileCache:
        return TileCache(self.cache_dir, self.style.key)

    def bind(self, layout):
        """`layout` with these assets in `derived["maps"]` of each map component."""
        from overlay.layout.nodes import Component

        def visit(node):
            if not isinstance(node, Component):
                return dataclasses.replace(node, children=tuple(visit(c) for c in node.children))
            if node.type not in MAP_TYPES:
                return node
            return dataclasses.replace(node, derived={**node.derived, "maps": self})

        return dataclasses.replace(layout, children=tuple(visit(c) for c in layout.children))


def _offset_free_size(c, scaling) -> int:
    return scaling.length(c.attrs.get("size", 256.0))


def layout_tiles(layout, table, video_size, style: TileStyle, zones=()) -> set[Tile]:
    """Every tile the layout's map widgets show over the render (same geometry the workers use)."""
    from overlay.widgets.base import Scaling

    size = (int(video_size[0]), int(video_size[1]))
    scaling = Scaling.fit(layout.design_for(size), size)
    lat, lon = positions(table.columns.get("lat"), table.columns.get("lon"), zones)
    track = mask_track(table.track, zones)
    wanted: set[Tile] = set()
    for c in map_components(layout):
        size = _offset_free_size(c, scaling)
        if size <= 0:
            continue
        g = plan(c.type, c.attrs, scaling.scale, size, style, track, lat, lon)
        if g is not None:
            wanted |= needed_tiles(g, lat, lon, track)
    return wanted


def prepare_maps(layout, table, video_size, options: MapOptions = MapOptions()) -> MapAssets:
    """Resolve the style, work out the tiles, fetch what the cache lacks (unless offline).

    Raises InputError only for user mistakes (unknown style, missing API key);
    network trouble is one warning line and the render goes on. A layout
    without map widgets costs nothing (no style lookup, no cache access).
    """
    zones = tuple(options.privacy)
    cache_dir = str(options.cache_dir or default_cache_dir())
    if not map_components(layout):
        return MapAssets(cache_dir, TileStyle("none", "", max_zoom=19), zones)
    style = resolve_style(options.style, options.api_key)
    tiles = layout_tiles(layout, table, video_size, style, zones)
    cache = TileCache(cache_dir, style.key)
    report = prefetch(tiles, style, cache, offline=options.offline, progress=options.progress,
                      concurrency=options.concurrency, timeout=options.timeout, deadline=options.deadline,
                      warn=options.warn)
    return MapAssets(cache_dir, dataclasses.replace(style, api_key=None), zones, frozenset(tiles), report)
