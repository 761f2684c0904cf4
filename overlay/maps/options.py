"""What a run asks of the tile maps, and which components are tile maps.

Light on purpose: every render builds MapOptions and asks whether its layout has a map,
and a layout without one then never imports the rest of overlay.maps (styles, fetching,
the cache): ~10 ms less before ffmpeg gets its filter graph.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from overlay.maps.privacy import PrivacyZone

MAP_TYPES = ("moving_map", "journey_map", "moving_journey_map")
CONCURRENCY = 3
TIMEOUT = 10.0          # seconds per socket operation, and twice that per whole tile


def default_warn(line: str) -> None:
    print(f"overdash: warning: {line}", file=sys.stderr)


@dataclass(frozen=True)
class MapOptions:
    style: str | None = None            # --map-style: a name or a {z}/{x}/{y} URL template
    api_key: str | None = None          # --map-api-key (else $OVERDASH_MAP_API_KEY, else config file)
    offline: bool = False               # --offline: only the cache
    privacy: tuple[PrivacyZone, ...] = ()   # --privacy LAT,LON,RADIUS_M (repeatable)
    cache_dir: str | None = None        # default $XDG_CACHE_HOME/overdash/tiles
    concurrency: int = CONCURRENCY
    timeout: float = TIMEOUT
    deadline: float | None = None       # seconds for the whole download (None: per-tile timeouts only)
    progress: Callable[[int, int], None] | None = field(default=None, compare=False)
    warn: Callable[[str], None] | None = field(default=default_warn, compare=False)


def map_components(layout):
    return [c for c in layout.components() if c.type in MAP_TYPES]
