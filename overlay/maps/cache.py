"""The persistent tile cache: $XDG_CACHE_HOME/overdash/tiles/<style>/<z>/<x>/<y>.png.

Next to each tile a small JSON file (<y>.json) keeps what HTTP said about it:
ETag, Last-Modified and when it expires (from Cache-Control max-age or
Expires; DEFAULT_TTL when the server says nothing). A stale tile is still
used for drawing; the next online prefetch revalidates it with a conditional
request. Files are written to a temporary name and renamed, so a reader
(a worker, another render) never sees half a tile.
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from overdash.files import atomic_write, cache_dir
from overlay.maps.tiles import Tile

DEFAULT_TTL = 7 * 24 * 3600  # seconds a tile is fresh when the server sends no caching headers
# Seconds a tile the server says does not exist (404/410: past the style's zoom range, open sea
# on some styles) is not asked for again, unless the response says otherwise.
NOT_FOUND_TTL = 24 * 3600


def default_cache_dir() -> Path:
    return cache_dir() / "tiles"


def tiles_under(folder: str | os.PathLike) -> Path:
    """The tile cache inside a folder the user named (--cache-dir): a subfolder of its own, so
    that pointing it at gopro-dashboard-overlay's ~/.gopro-graphics mixes nothing with that tool's files."""
    return Path(folder) / "overdash-tiles"


class TileCache:
    """Tiles of one style under `root/<style_key>/`; safe to use from several threads and processes."""

    def __init__(self, root: str | os.PathLike | None, style_key: str):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.style_key = style_key
        self.dir = self.root / style_key

    def path(self, tile: Tile) -> Path:
        z, x, y = tile
        return self.dir / str(z) / str(x) / f"{y}.png"

    def meta_path(self, tile: Tile) -> Path:
        return self.path(tile).with_suffix(".json")

    def has(self, tile: Tile) -> bool:
        return self.path(tile).is_file()

    def meta(self, tile: Tile) -> dict:
        try:
            data = json.loads(self.meta_path(tile).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def fresh(self, tile: Tile, now: float | None = None) -> bool:
        """Cached and not yet expired (a tile without metadata counts as fresh: put there by hand)."""
        if not self.has(tile):
            return False
        meta = self.meta(tile)
        if not meta:
            return True
        expires = meta.get("expires")
        return isinstance(expires, (int, float)) and (time.time() if now is None else now) < expires

    def missing_path(self, tile: Tile) -> Path:
        return self.path(tile).with_suffix(".missing")

    def known_missing(self, tile: Tile, now: float | None = None) -> bool:
        """The server said recently that this tile does not exist: do not ask again yet."""
        try:
            expires = json.loads(self.missing_path(tile).read_text(encoding="utf-8")).get("expires")
        except (OSError, ValueError, AttributeError):
            return False
        return isinstance(expires, (int, float)) and (time.time() if now is None else now) < expires

    def mark_missing(self, tile: Tile, headers=None) -> None:
        """Remember a 404/410 for the response's freshness (NOT_FOUND_TTL without headers); 0: not at all."""
        ttl = freshness(headers, default=NOT_FOUND_TTL)
        if ttl <= 0:
            return
        path = self.missing_path(tile)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps({"expires": time.time() + ttl}).encode())

    def read(self, tile: Tile) -> bytes | None:
        try:
            return self.path(tile).read_bytes()
        except OSError:
            return None

    def store(self, tile: Tile, data: bytes, headers) -> None:
        """Write the tile and its metadata from the response `headers` (a mapping / HTTPMessage)."""
        path = self.path(tile)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
        self.touch(tile, headers)
        try:
            self.missing_path(tile).unlink()
        except FileNotFoundError:
            pass

    def touch(self, tile: Tile, headers) -> None:
        """Record new caching headers for a cached tile (after a 304 Not Modified)."""
        now = time.time()
        old = self.meta(tile)
        meta = {
            "fetched": now,
            "expires": now + freshness(headers),
            "etag": _get(headers, "ETag") or old.get("etag"),
            "last_modified": _get(headers, "Last-Modified") or old.get("last_modified"),
        }
        path = self.meta_path(tile)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(meta).encode())


def _get(headers, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def freshness(headers, default: float = DEFAULT_TTL) -> float:
    """Seconds the response stays fresh: Cache-Control max-age, else Expires - Date, else `default`."""
    cc = (_get(headers, "Cache-Control") or "").lower()
    if "no-store" in cc or "no-cache" in cc:
        return 0.0
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", cc)
    if m:
        age = _get(headers, "Age")
        return max(0.0, float(m.group(1)) - (float(age) if age and age.isdigit() else 0.0))
    expires = _get(headers, "Expires")
    if expires:
        import email.utils  # only here: ~5 ms at import, and most renders never parse a header

        try:
            when = email.utils.parsedate_to_datetime(expires).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return 0.0  # an invalid Expires means "already expired" (RFC 9111)
        date = _get(headers, "Date")
        try:
            base = email.utils.parsedate_to_datetime(date).timestamp() if date else time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            base = time.time()
        return max(0.0, when - base)
    return float(default)
