"""Download the tiles a render needs, before any drawing, politely and without ever failing.

`prefetch` fetches every tile that is missing or stale in the cache with a few
parallel connections (tile servers' usage policies ask for modest
concurrency and an identifying User-Agent), revalidates stale tiles with
conditional requests (ETag / Last-Modified), and stores what the server says
about caching. Errors, timeouts and hangs are counted, never raised: the
render goes on with whatever tiles there are, and the user gets ONE warning
line. After CIRCUIT_BREAKER failures in a row without a single success it
stops asking (the server is down or refusing us).

Only the main process calls this; workers read the cache by path.
urllib (with http.client, ssl, email: ~15 ms) is imported only when a tile is
actually requested, not by a render whose layout has no tile map.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable

from overdash import __version__
from overlay.maps.cache import TileCache
from overlay.maps.options import CONCURRENCY, TIMEOUT, default_warn
from overlay.maps.styles import TileStyle
from overlay.maps.tiles import Tile, sorted_tiles

# Identifies the application, as tile usage policies ask; no contact URL is invented here.
USER_AGENT = f"overdash/{__version__} (telemetry dashboards for action-camera video)"
CIRCUIT_BREAKER = 8     # consecutive failures (and no success yet) before giving up on the server
MAX_TILE_BYTES = 4 << 20
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8")


@dataclass(frozen=True)
class FetchReport:
    needed: int = 0          # tiles the render uses
    cached: int = 0          # already fresh in the cache
    fetched: int = 0         # downloaded now
    revalidated: int = 0     # stale, and the server said 304 Not Modified
    failed: int = 0          # errors, timeouts, given up, or missing while offline
    stale_used: int = 0      # failed to refresh, but an older copy is cached and will be drawn
    message: str = ""        # the one warning line, or ""

    @property
    def missing(self) -> int:
        """Tiles the render will draw as plain background."""
        return self.failed - self.stale_used


def _is_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


class _Fetcher:
    def __init__(self, style: TileStyle, cache: TileCache, timeout: float):
        self.style, self.cache, self.timeout = style, cache, timeout
        self.lock = threading.Lock()
        self.fetched = self.revalidated = 0
        self.done = 0
        self.successes = 0
        self.streak = 0
        self.errors: dict[str, int] = {}
        self.ok: list[Tile] = []
        self.abort = threading.Event()

    def one(self, tile: Tile) -> None:
        import urllib.error

        if self.abort.is_set():  # given up on the server, or past the deadline: not counted as done
            return
        outcome, why = "failed", ""
        try:
            outcome = self._fetch(tile)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                self.cache.touch(tile, exc.headers)
                outcome = "revalidated"
            else:
                why = f"HTTP {exc.code}"
                if exc.code in (404, 410):  # the tile does not exist: not asked for again for a while
                    self.cache.mark_missing(tile, exc.headers)
        except (urllib.error.URLError, OSError, ValueError) as exc:  # timeouts are OSErrors
            reason = getattr(exc, "reason", None) or exc
            why = "timed out" if "timed out" in str(reason) else type(reason).__name__
        except Exception as exc:  # noqa: BLE001 - a tile must never fail the render
            why = type(exc).__name__
        self._count(tile, outcome, why)

    def _fetch(self, tile: Tile) -> str:
        import urllib.request

        headers = {"User-Agent": USER_AGENT, "Accept": "image/png,image/*;q=0.9"}
        if self.cache.has(tile):
            meta = self.cache.meta(tile)
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
        req = urllib.request.Request(self.style.url(*tile), headers=headers)
        start = time.monotonic()
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            if resp.status == 304:
                self.cache.touch(tile, resp.headers)
                return "revalidated"
            chunks, size = [], 0
            while True:  # a server trickling bytes must not hold us beyond 2 x timeout
                if self.abort.is_set() or time.monotonic() - start > 2 * self.timeout:
                    raise TimeoutError("timed out")
                chunk = resp.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_TILE_BYTES:
                    raise ValueError("tile too large")
                chunks.append(chunk)
            data = b"".join(chunks)
            if resp.length:  # read(n) returns short, without an error, when the server closes mid-body
                raise ConnectionError(f"closed after {size} of {size + resp.length} bytes")
            if not _is_image(data):
                raise ValueError("not an image")
            self.cache.store(tile, data, resp.headers)
            return "fetched"

    def _count(self, tile: Tile, outcome: str, why: str) -> None:
        with self.lock:
            self.done += 1
            if outcome == "failed":
                self.errors[why or "error"] = self.errors.get(why or "error", 0) + 1
                self.streak += 1
                if self.successes == 0 and self.streak >= CIRCUIT_BREAKER:
                    self.abort.set()
            else:
                self.ok.append(tile)
                self.successes += 1
                self.streak = 0
                if outcome == "fetched":
                    self.fetched += 1
                else:
                    self.revalidated += 1


def prefetch(tiles: Iterable[Tile], style: TileStyle, cache: TileCache, *, offline: bool = False,
             progress: Callable[[int, int], None] | None = None, concurrency: int = CONCURRENCY,
             timeout: float = TIMEOUT, deadline: float | None = None,
             warn: Callable[[str], None] | None = default_warn) -> FetchReport:
    """Make every tile in `tiles` available in `cache`; never raises for network trouble.

    `progress(done, total)` is called from this (the calling) thread as downloads finish.
    `deadline`: seconds for the whole prefetch (None: no overall limit; each tile is
    still bounded by `timeout`). Returns a FetchReport; its `message` (also passed to
    `warn`, once) says how many tiles could not be had and why.
    """
    wanted = sorted_tiles(set(Tile(*t) for t in tiles))
    now = time.time()
    expired = [t for t in wanted if not cache.fresh(t, now)]
    # Tiles the server recently said do not exist are not asked for again (drawn plain).
    absent = sum(1 for t in expired if not cache.has(t) and cache.known_missing(t, now))
    todo = [t for t in expired if cache.has(t) or not cache.known_missing(t, now)]
    cached = len(wanted) - len(expired)
    if not todo:
        msg = (f"maps: {absent} of {len(wanted)} map tiles ({style.key}) do not exist on the server "
               f"(it said so recently): drawn plain") if absent else ""
        if msg and warn:
            warn(msg)
        return FetchReport(needed=len(wanted), cached=cached, failed=absent, message=msg)
    if offline:
        stale = sum(1 for t in todo if cache.has(t))
        missing = len(todo) - stale + absent
        msg = ""
        if missing:
            msg = (f"maps: {missing} of {len(wanted)} map tiles ({style.key}) are not in the cache "
                   f"{cache.dir} and --offline is set: those parts of the map are drawn plain")
            if warn:
                warn(msg)
        return FetchReport(needed=len(wanted), cached=cached + stale, failed=missing, message=msg)

    import urllib.request  # noqa: F401  (once, here, before the threads that use it)

    f = _Fetcher(style, cache, timeout)
    total = len(todo)
    end = None if deadline is None else time.monotonic() + deadline
    pool = ThreadPoolExecutor(max(1, min(concurrency, total)), thread_name_prefix="overdash-tiles")
    pending = {pool.submit(f.one, t) for t in todo}
    try:
        while pending and not f.abort.is_set():
            if end is not None and time.monotonic() >= end:
                f.abort.set()
                break
            before = len(pending)
            _, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            if progress and len(pending) != before:
                progress(total - len(pending), total)
    finally:
        # Tiles not started are dropped; one in a hung request ends by its socket timeout
        # (or at its next read: `abort` is set), without holding this thread.
        f.abort.set()
        pool.shutdown(wait=False, cancel_futures=True)
    with f.lock:
        gave_up = total - f.done
        if gave_up:
            f.errors["given up" if end is None or time.monotonic() < end else "over the deadline"] = gave_up
        ok = set(f.ok)
        fetched, revalidated = f.fetched, f.revalidated
        errors = dict(f.errors)
    failed_tiles = [t for t in todo if t not in ok]
    failed = len(failed_tiles)
    stale_used = sum(1 for t in failed_tiles if cache.has(t))
    if progress:
        progress(total, total)
    msg = ""
    if failed:
        why = ", ".join(f"{n} {k}" for k, n in sorted(errors.items(), key=lambda kv: -kv[1]))
        plain = failed - stale_used
        tail = (f"{plain} drawn plain" if plain else "none drawn plain") + (
            f", {stale_used} from an older cached copy" if stale_used else "")
        msg = f"maps: {failed} of {len(wanted)} map tiles ({style.key}) could not be downloaded ({why}); {tail}"
    if absent:
        msg = (msg + "; " if msg else "maps: ") + (
            f"{absent} of {len(wanted)} map tiles ({style.key}) do not exist on the server "
            f"(it said so recently): drawn plain")
    if msg and warn:
        warn(msg)
    return FetchReport(needed=len(wanted), cached=cached, fetched=fetched, revalidated=revalidated,
                       failed=failed + absent, stale_used=stale_used, message=msg)
