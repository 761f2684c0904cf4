"""Tile maps: Web Mercator tile math, tile styles, fetching, the persistent cache, privacy zones.

Main process, before workers start:  prepare_maps(layout, table, video_size, MapOptions(...))
-> MapAssets; `assets.bind(layout)` hands them to the map widgets (overlay/widgets/maps.py).
"""
from overlay.maps.cache import TileCache, default_cache_dir
from overlay.maps.fetch import USER_AGENT, FetchReport, prefetch
from overlay.maps.prepare import MapAssets, MapOptions, layout_tiles, prepare_maps
from overlay.maps.privacy import PrivacyZone, inside, mask_points, mask_table, mask_track, parse_zone
from overlay.maps.styles import STYLES, TileStyle, api_key_for, config_path, resolve_style
from overlay.maps.tiles import Tile, fit_zoom, tiles_for_windows, tiles_in_box, to_global, to_latlon

__all__ = [
    "TileCache", "default_cache_dir", "USER_AGENT", "FetchReport", "prefetch", "MapAssets", "MapOptions",
    "layout_tiles", "prepare_maps", "PrivacyZone", "inside", "mask_points", "mask_table", "mask_track",
    "parse_zone", "STYLES", "TileStyle", "api_key_for", "config_path", "resolve_style", "Tile", "fit_zoom",
    "tiles_for_windows", "tiles_in_box", "to_global", "to_latlon",
]
