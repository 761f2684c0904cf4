"""Heights above mean sea level from GPS heights above the WGS84 ellipsoid (EGM96 geoid).

Most GoPro cameras (HERO5–7, Fusion, MAX, HERO8 before firmware 1.50) record GPS
altitude as the height h above the WGS84 ellipsoid; the height above mean sea
level is H = h − N, where N, the geoid undulation, is −35 m at Carlsbad and
+50 m in parts of Europe. Streams that say GPSA "MSLV" are already mean sea level.

N comes from the EGM96 15' grid that PROJ distributes as `egm96_15.gtx`
(Debian/Ubuntu: `apt install proj-data`): read once per process with numpy and
interpolated bilinearly, vectorised over whole tracks. The GTX layout: a 40-byte
big-endian header (lower-left latitude and longitude, latitude and longitude
steps as float64; rows and columns as int32), then rows × columns big-endian
float32 heights, rows from south to north, each row from west to east.

Without the grid a render still runs: heights stay ellipsoidal, and the note
`msl_heights` returns says so and how to get the grid (commands print it).
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

GRID_NAME = "egm96_15.gtx"
# PROJ's own data folders on Debian/Ubuntu, source builds and Homebrew; $PROJ_DATA / $PROJ_LIB first.
DEFAULT_DIRS = ("/usr/share/proj", "/usr/local/share/proj", "/opt/homebrew/share/proj")
HOW_TO_GET = "install it with `apt install proj-data` (or put egm96_15.gtx in a folder named by $PROJ_DATA)"
MODES = ("msl", "ellipsoid")
NOTE = "altitude: "  # every note msl_heights returns starts so; `info` prints it on its own line
UNCORRECTED = "not corrected"  # …and a note that warns says this
_HEADER = struct.Struct(">4d2i")
_NODATA = np.float32(-88.8888)  # GTX's "no value"
_MAX_ABS = 200.0  # metres: the geoid lies within -107..+86 m of the ellipsoid; more means a broken file


class GeoidUnavailable(Exception):
    """The grid is missing or unreadable; str() is one line saying which and what to do."""


@dataclass(frozen=True, eq=False)
class GeoidGrid:
    """A GTX grid in memory: node (row j, column i) is at lat0 + j*dlat, lon0 + i*dlon."""

    path: Path
    lat0: float
    lon0: float
    dlat: float
    dlon: float
    heights: np.ndarray  # (rows, cols) big-endian float32, as in the file (a read-only map)

    def undulation(self, lat, lon) -> np.ndarray:
        """N in metres at each (lat, lon) in degrees, bilinear between the four nearest nodes.

        Longitudes wrap (any of −180..180 or 0..360 works on a global grid); latitudes
        outside the grid, longitudes outside a regional grid and NaN positions give NaN."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        lat, lon = np.broadcast_arrays(lat, lon)
        rows, cols = self.heights.shape
        y = (lat - self.lat0) / self.dlat
        x = np.mod(lon - self.lon0, 360.0) / self.dlon
        ring = int(round(360.0 / self.dlon))  # columns in a full circle
        global_ = cols >= ring
        ok = np.isfinite(y) & np.isfinite(x) & (y >= -1e-9) & (y <= rows - 1 + 1e-9)
        if not global_:
            ok &= x <= cols - 1 + 1e-9
        y = np.where(ok, np.clip(y, 0.0, rows - 1), 0.0)
        x = np.where(ok, x, 0.0)
        j0 = np.minimum(np.floor(y).astype(np.intp), max(rows - 2, 0))
        i0 = np.floor(x).astype(np.intp)
        fy, fx = y - j0, x - i0
        j1 = np.minimum(j0 + 1, rows - 1)
        if global_:
            i0, i1 = i0 % ring, (i0 + 1) % ring
        else:
            i0 = np.minimum(i0, max(cols - 2, 0))
            fx = x - i0
            i1 = np.minimum(i0 + 1, cols - 1)
        corners = [self._nodes(j, i) for j, i in ((j0, i0), (j0, i1), (j1, i0), (j1, i1))]
        south = corners[0] * (1 - fx) + corners[1] * fx
        north = corners[2] * (1 - fx) + corners[3] * fx
        return np.where(ok, south * (1 - fy) + north * fy, np.nan)

    def _nodes(self, j: np.ndarray, i: np.ndarray) -> np.ndarray:
        """Heights at nodes (j, i) as float64; NaN where the grid has none; a height no geoid
        has means a corrupt file (GeoidUnavailable)."""
        h = np.asarray(self.heights[j, i], dtype=np.float64)
        h[h == _NODATA] = np.nan
        if np.any(np.abs(h) > _MAX_ABS):
            raise GeoidUnavailable(f"{self.path}: corrupt (heights of {np.nanmax(np.abs(h)):.0f} m, "
                                   f"not geoid undulations); {HOW_TO_GET}")
        return h


def search_dirs() -> list[Path]:
    """Where the grid is looked for, in order: $PROJ_DATA, $PROJ_LIB (each may list several
    folders), then PROJ's usual install folders."""
    dirs: list[Path] = []
    for var in ("PROJ_DATA", "PROJ_LIB"):
        dirs += [Path(p) for p in os.environ.get(var, "").split(os.pathsep) if p]
    return dirs + [Path(d) for d in DEFAULT_DIRS]


_GRIDS: dict[Path, GeoidGrid] = {}  # read once per process


def load_grid(dirs: Sequence[Path] | None = None) -> GeoidGrid:
    """The first egm96_15.gtx in `dirs` (default: search_dirs()), read once per process."""
    dirs = search_dirs() if dirs is None else list(dirs)
    path = next((d / GRID_NAME for d in dirs if (d / GRID_NAME).is_file()), None)
    if path is None:
        shown = ", ".join(str(d) for d in dict.fromkeys(dirs)) or "no folders"
        raise GeoidUnavailable(f"EGM96 grid {GRID_NAME} not found (looked in {shown}); {HOW_TO_GET}")
    grid = _GRIDS.get(path)
    if grid is None:
        grid = _GRIDS[path] = read_gtx(path)
    return grid


def read_gtx(path: Path) -> GeoidGrid:
    """A GTX file, mapped (not read: a lookup touches a few pages of its 4 MB), its header and
    size checked here, the heights a lookup uses checked then (GeoidGrid.undulation)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEADER.size)
            size = os.fstat(fh.fileno()).st_size
        if len(head) < _HEADER.size:
            raise GeoidUnavailable(f"{path}: not a GTX grid (only {len(head)} bytes); {HOW_TO_GET}")
        lat0, lon0, dlat, dlon, rows, cols = _HEADER.unpack(head)
        steps_ok = all(np.isfinite(v) for v in (lat0, lon0, dlat, dlon)) and dlat > 0 and dlon > 0
        if not (steps_ok and -90 <= lat0 <= 90 and 2 <= rows <= 100_000 and 2 <= cols <= 100_000):
            raise GeoidUnavailable(f"{path}: not a GTX grid (header {lat0}, {lon0}, {dlat}, {dlon}, "
                                   f"{rows}x{cols}); {HOW_TO_GET}")
        if size != _HEADER.size + rows * cols * 4:
            raise GeoidUnavailable(f"{path}: truncated or corrupt ({size} bytes, the header says "
                                   f"{rows}x{cols} heights); {HOW_TO_GET}")
        heights = np.memmap(path, dtype=">f4", mode="r", offset=_HEADER.size, shape=(rows, cols))
    except OSError as exc:
        raise GeoidUnavailable(f"{path}: cannot read ({exc.strerror or exc}); {HOW_TO_GET}") from None
    return GeoidGrid(path, lat0, lon0, dlat, dlon, heights)


def msl_heights(lat: np.ndarray, lon: np.ndarray, alt: np.ndarray, ellipsoidal: np.ndarray,
                mode: str = "msl", dirs: Sequence[Path] | None = None) -> tuple[np.ndarray, str]:
    """GPS altitudes in `mode` ("msl" or "ellipsoid") and the one-line note that says what was done.

    `ellipsoidal` marks the samples whose stream lacks GPSA "MSLV": only those change.
    With "ellipsoid", or without the grid, every height stays as recorded."""
    if mode not in MODES:
        raise ValueError(f"altitude {mode!r}: use one of {', '.join(MODES)}")
    ellipsoidal = np.asarray(ellipsoidal, dtype=bool)
    count = int(ellipsoidal.sum())
    if count == 0:
        return alt, NOTE + "already mean sea level (GPSA MSLV)"
    if mode == "ellipsoid":
        return alt, NOTE + "GPS heights kept above the WGS84 ellipsoid (--altitude ellipsoid)"
    n = np.zeros(len(alt))
    try:
        n[ellipsoidal] = load_grid(dirs).undulation(lat[ellipsoidal], lon[ellipsoidal])
    except GeoidUnavailable as exc:
        return alt, NOTE + f"GPS heights above the WGS84 ellipsoid, {UNCORRECTED}: {exc}"
    out = np.asarray(alt, dtype=np.float64) - n  # an unknown position (NaN) gives no altitude
    where = _where(lat[ellipsoidal], lon[ellipsoidal], n[ellipsoidal])
    part = "" if count == len(alt) else f" for {count} of {len(alt)} samples (the rest say GPSA MSLV)"
    return out, NOTE + f"GPS heights above the WGS84 ellipsoid, corrected to mean sea level with EGM96{part}{where}"


def _where(lat: np.ndarray, lon: np.ndarray, n: np.ndarray) -> str:
    """' (geoid -35.2 m here)', or its range along a long track; positions 0, 0 (no fix yet) left out."""
    real = np.isfinite(n) & ~((lat == 0) & (lon == 0))
    if not real.any():
        return ""
    low, high = float(n[real].min()), float(n[real].max())
    if high - low < 0.5:
        return f" (geoid {(low + high) / 2:.1f} m here)"
    return f" (geoid {low:.1f} to {high:.1f} m along the track)"


def warning(notes: Sequence[str]) -> str | None:
    """The altitude note among `notes` that a command should show as a warning (no grid), if any."""
    return next((n for n in notes if n.startswith(NOTE) and UNCORRECTED in n), None)
