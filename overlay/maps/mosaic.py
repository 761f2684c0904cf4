"""The map as a worker sees it: a sparse image in view pixels, built from cached tiles.

A ride at zoom 16 spans tens of thousands of pixels, so the map is never one
bitmap: it is cut into CHUNK x CHUNK view-pixel chunks, each built once per
worker on first use (tile pixels - or the style's plain background where a
tile is missing or unreadable - with the track line drawn in and privacy zones
cut out of the line) and kept in a bounded LRU. A frame reads the few chunks
under its window. Tiles are read from the cache directory by path; nothing
here touches the network.
"""
from __future__ import annotations

import io
import math
import os
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw

from overdash import InputError
from overdash.lru import LRU
from overlay.maps.cache import TileCache
from overlay.maps.fetch import MAX_TILE_BYTES
from overlay.maps.geometry import MapGeometry
from overlay.maps.styles import TileStyle
from overlay.maps.tiles import TILE, metres_per_pixel

SUPERSAMPLE = 4  # anti-aliasing of the track line (drawn 4x, shrunk)

CHUNK = 256
MAX_CHUNKS = 160   # ~30 MB of RGB chunks per widget and worker
MAX_TILES = 48

# A tile server sends 256 or 512 px tiles (1024 at most, for @4x styles); a tile claiming
# more is corrupt or a decompression bomb: its few kilobytes would decode to gigabytes.
MAX_TILE_SIDE = 2048

TRACK_RGB = (28, 110, 240)
CASING_RGB = (255, 255, 255)


class Mosaic:
    def __init__(self, g: MapGeometry, style: TileStyle, cache: TileCache, lines: list[np.ndarray],
                 holes: list[tuple[float, float, float]], line_width: int):
        """`lines`: polylines (m, 2) in view pixels; `holes`: (x, y, r) privacy circles in view pixels."""
        self.g, self.style, self.cache = g, style, cache
        self.background = tuple(style.background)
        self.width = max(1, line_width)
        self.casing = self.width + max(2, round(self.width * 0.8))
        self.holes = holes
        self.chunks: LRU[Image.Image] = LRU(MAX_CHUNKS)  # by (i, j)
        self.tiles: LRU[Image.Image | None] = LRU(MAX_TILES)  # by (z, x, y); None: missing or unreadable
        # Segments (x0, y0, x1, y1) of all lines with their bounding boxes, for per-chunk selection.
        segs = []
        for line in lines:
            line = np.asarray(line, dtype=np.float64).reshape(-1, 2)
            if len(line) == 1:
                line = np.vstack([line, line])
            if len(line) >= 2:
                segs.append(np.column_stack([line[:-1], line[1:]]))
        self.segs = np.vstack(segs) if segs else np.zeros((0, 4))
        self.segs = self.segs[np.isfinite(self.segs).all(axis=1)]
        self.seg_box = np.column_stack([np.minimum(self.segs[:, 0], self.segs[:, 2]),
                                        np.minimum(self.segs[:, 1], self.segs[:, 3]),
                                        np.maximum(self.segs[:, 0], self.segs[:, 2]),
                                        np.maximum(self.segs[:, 1], self.segs[:, 3])])

    # -- tiles -----------------------------------------------------------------------------
    def tile(self, z: int, x: int, y: int) -> Image.Image | None:
        n = 1 << z
        if not 0 <= y < n:
            return None
        key = (z, x % n, y)
        return self.tiles.get(key, lambda: self._read_tile(key))

    def _read_tile(self, key: tuple[int, int, int]) -> Image.Image | None:
        try:
            return decode_tile(self.cache.path(key))
        except Exception:  # missing, half-written by another program, not an image: plain background
            return None

    def _tile_area(self, x0: int, y0: int, x1: int, y1: int) -> Image.Image:
        """Global pixels [x0, x1) x [y0, y1) at the tile zoom, background where tiles are missing."""
        out = Image.new("RGB", (x1 - x0, y1 - y0), self.background)
        z = self.g.zoom
        for ty in range(math.floor(y0 / TILE), math.ceil(y1 / TILE)):
            for tx in range(math.floor(x0 / TILE), math.ceil(x1 / TILE)):
                im = self.tile(z, tx, ty)
                if im is not None:
                    out.paste(im, (tx * TILE - x0, ty * TILE - y0))
        return out

    # -- chunks ----------------------------------------------------------------------------
    def chunk(self, i: int, j: int) -> Image.Image:
        return self.chunks.get((i, j), lambda: self._build(i, j))

    def _build(self, i: int, j: int) -> Image.Image:
        s = self.g.scale
        x0, y0 = i * CHUNK, j * CHUNK
        if abs(s - 1.0) < 1e-9 and CHUNK == TILE:
            t = self.tile(self.g.zoom, i, j)
            im = t.copy() if t is not None else Image.new("RGB", (CHUNK, CHUNK), self.background)
        else:  # resample the tile pixels under this chunk
            gx0, gy0 = math.floor(x0 / s) - 1, math.floor(y0 / s) - 1
            gx1, gy1 = math.ceil((x0 + CHUNK) / s) + 1, math.ceil((y0 + CHUNK) / s) + 1
            area = self._tile_area(gx0, gy0, gx1, gy1)
            box = (x0 / s - gx0, y0 / s - gy0, (x0 + CHUNK) / s - gx0, (y0 + CHUNK) / s - gy0)
            im = area.resize((CHUNK, CHUNK), Image.Resampling.BICUBIC, box=box)
        self._draw_track(im, x0, y0)
        return im

    def _draw_track(self, im: Image.Image, x0: int, y0: int) -> None:
        if not len(self.segs):
            return
        m = self.casing
        b = self.seg_box
        sel = (b[:, 2] >= x0 - m) & (b[:, 0] <= x0 + CHUNK + m) & (b[:, 3] >= y0 - m) & (b[:, 1] <= y0 + CHUNK + m)
        if not sel.any():
            return
        k = SUPERSAMPLE
        segs = (self.segs[sel] - (x0, y0, x0, y0)) * k
        big = Image.new("LA", (CHUNK * k, CHUNK * k), (0, 0))
        d = ImageDraw.Draw(big)
        polylines = _join(segs)
        for value, width in ((128, self.casing), (255, self.width)):  # L=128 casing, 255 line
            w = width * k
            for pl in polylines:
                if len(pl) == 2 and pl[0] == pl[1]:
                    x, y = pl[0]
                    d.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=(value, 255))
                else:
                    d.line(pl, fill=(value, 255), width=w, joint="curve")
                    for x, y in (pl[0], pl[-1]):  # round caps
                        d.ellipse((x - w / 2, y - w / 2, x + w / 2, y + w / 2), fill=(value, 255))
        for hx, hy, hr in self.holes:  # privacy: nothing of the line inside a zone
            cx, cy, r = (hx - x0) * k, (hy - y0) * k, hr * k
            if cx + r < 0 or cy + r < 0 or cx - r > CHUNK * k or cy - r > CHUNK * k:
                continue
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(0, 0))
        small = big.resize((CHUNK, CHUNK), Image.Resampling.BOX)
        shade, alpha = small.split()
        if not alpha.getbbox():
            return
        # shade 128 -> casing colour, 255 -> line colour (blended in between at the edges)
        t = np.asarray(shade, dtype=np.float32)[..., None]
        f = np.clip((t - 128.0) / 127.0, 0.0, 1.0)
        rgb = np.asarray(CASING_RGB, np.float32) * (1 - f) + np.asarray(TRACK_RGB, np.float32) * f
        im.paste(Image.fromarray(rgb.astype(np.uint8), "RGB"), (0, 0), alpha)

    # -- windows ---------------------------------------------------------------------------
    def window(self, ox: int, oy: int, w: int, h: int) -> Image.Image:
        """View pixels [ox, ox + w) x [oy, oy + h) as one RGB image."""
        out = Image.new("RGB", (w, h), self.background)
        for j in range(math.floor(oy / CHUNK), math.ceil((oy + h) / CHUNK)):
            for i in range(math.floor(ox / CHUNK), math.ceil((ox + w) / CHUNK)):
                out.paste(self.chunk(i, j), (i * CHUNK - ox, j * CHUNK - oy))
        return out


def decode_tile(path: str | os.PathLike) -> Image.Image:
    """A cached tile's bytes as a TILE x TILE RGB image; InputError when they are not one.

    The one place tile bytes are decoded. The size is checked before any pixel is, so a
    tile whose header claims a huge picture costs nothing; Pillow's own failures (of many
    types) become InputError, so the fuzzer can tell them from a bug here."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_TILE_BYTES + 1)
        if len(data) > MAX_TILE_BYTES:
            raise InputError(f"{path}: over {MAX_TILE_BYTES >> 20} MiB; not a map tile")
        # From memory: a chunk length read from the file then allocates at most the file's size.
        with Image.open(io.BytesIO(data)) as f:
            if not (0 < f.size[0] <= MAX_TILE_SIDE and 0 < f.size[1] <= MAX_TILE_SIDE):
                raise InputError(f"{path}: tile of {f.size[0]}x{f.size[1]} pixels; not a map tile")
            im = f.convert("RGB")
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error, Image.DecompressionBombError) as exc:
        raise InputError(f"{path}: not a readable tile image ({exc.__class__.__name__}: {exc})") from None
    if im.size != (TILE, TILE):
        im = im.resize((TILE, TILE), Image.Resampling.BILINEAR)
    return im


def _join(segs: np.ndarray) -> list[list[tuple[float, float]]]:
    """Consecutive segments sharing end points -> polylines (so joints are drawn round)."""
    out: list[list[tuple[float, float]]] = []
    cur: list[tuple[float, float]] = []
    for x0, y0, x1, y1 in segs.tolist():
        if cur and cur[-1] == (x0, y0):
            cur.append((x1, y1))
        else:
            if cur:
                out.append(cur)
            cur = [(x0, y0), (x1, y1)]
    if cur:
        out.append(cur)
    return out


def holes_for(g: MapGeometry, zones) -> list[tuple[float, float, float]]:
    """Privacy zones as (x, y, radius) circles in view pixels."""
    out = []
    for zn in zones:
        x, y = g.project(zn.lat, zn.lon)
        r = zn.radius_m / metres_per_pixel(zn.lat, g.zoom) * g.scale
        out.append((float(x), float(y), float(r)))
    return out
