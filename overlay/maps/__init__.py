"""Tile maps: Web Mercator tile math, tile styles, fetching, the persistent cache, privacy zones.

Main process, before workers start:  prepare_maps(layout, table, video_size, MapOptions(...))
-> MapAssets; `assets.bind(layout)` hands them to the map widgets (overlay/widgets/maps.py).

Names load on first use (PEP 562): a render whose layout has no tile map imports only
overlay.maps.options (and privacy, for --privacy).
"""
from overdash.lazy import lazy_exports

_WHERE = {
    **dict.fromkeys(("TileCache", "default_cache_dir"), "cache"),
    **dict.fromkeys(("USER_AGENT", "FetchReport", "prefetch"), "fetch"),
    **dict.fromkeys(("MAP_TYPES", "MapOptions", "map_components"), "options"),
    **dict.fromkeys(("MapAssets", "layout_tiles", "prepare_maps"), "prepare"),
    **dict.fromkeys(("PrivacyZone", "inside", "mask_points", "mask_table", "mask_track", "parse_zone"), "privacy"),
    **dict.fromkeys(("STYLES", "TileStyle", "api_key_for", "config_path", "resolve_style"), "styles"),
    **dict.fromkeys(("Tile", "fit_zoom", "tiles_for_windows", "tiles_in_box", "to_global", "to_latlon"), "tiles"),
}
__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
