"""Find the clock offset between a GPX/FIT file and the camera by cross-correlation (`--sync auto`).

Both telemetries must be on the video timeline: align the file first with the
best start you have (camera GPS time, creation_time or --start) and offset 0.
`find_offset` returns the extra offset to add to the one given to `align`
(overlay.telemetry.merge: t_video = UTC - start - offset), i.e. how much later
the file's aligned time of an event is than the camera's.

Method:

1. Speed of each source, over trusted fixes, is resampled onto one 10 Hz
   grid, masked across gaps longer than `max_gap` and outliers (> 6 MAD).
   Both sides use the same kind: recorded 'speed' when both have one (GPS
   Doppler speed is far less noisy than speed from noisy fixes), else the
   speed derived from positions ('cspeed') when both have positions. Mixing
   kinds biases the speed term: the Karoo's recorded FIT speed lags the speed
   from its own positions by 1.5 s (measured on ride-2021-09-24); with
   positions on both sides the position term (below) keeps such a bias out
   of the result (< 0.05 s in the tests).
2. Masked normalised cross-correlation (Pearson over the overlap at every
   lag, via six FFT correlations, so the means and variances are those of
   the overlapping part only) over lags within +-`search` (default 15 min),
   needing an overlap of at least min(30 s, half the shorter recording).
3. With positions on both sides (default when both have them): the RMS
   distance between the two tracks at every lag (again by FFT), turned into
   a similarity 1 / (1 + (rms / d)^2), d = the camera's median moving speed
   x 1 s (clipped to 1..30 m), so being a second off costs the same walking
   or driving. The score is 0.75 x position + 0.25 x speed: positions are
   absolute and sharp; speed breaks ties where the track loops or stops.
4. The best lag is refined below the grid step by a parabola through the
   peak and its neighbours.

Confidence = peak score minus the best score outside the main peak's lobe
(the lobe: from the peak outwards while the score, smoothed over 0.5 s,
keeps falling), clipped to [0, 1]. Near 0: two
lags explain the data about equally well; the tests see > 0.3 for true
matches. A peak on the edge of the search window halves the confidence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from overdash import InputError
from overlay.telemetry.derived import EARTH_RADIUS
from overlay.telemetry.timeseries import Telemetry, median

DEFAULT_SEARCH = 900.0  # s, +-15 min
RATE = 10.0  # Hz, common grid
POSITION_SECONDS = 1.0  # RMS distance, in seconds of travel at the median speed, where similarity = 0.5
POSITION_WEIGHT = 0.75  # share of the position similarity in the score when positions are used


@dataclass(frozen=True)
class SyncResult:
    offset: float  # s, add to align()'s offset
    confidence: float  # 0..1
    peak: float  # score at the peak (-1..1)
    second: float  # best score outside the peak's lobe
    overlap: float  # s of data compared at the peak
    used_position: bool
    at_edge: bool  # the peak is at the end of the searched range

    def describe(self) -> str:
        return (f"offset {self.offset:+.2f} s, confidence {self.confidence:.2f} (peak {self.peak:.2f}, "
                f"next {self.second:.2f}, over {self.overlap:.0f} s, "
                f"{'speed+position' if self.used_position else 'speed'}"
                f"{', at the edge of the search window' if self.at_edge else ''})")


def find_offset(camera_tel: Telemetry, file_tel: Telemetry, search: float = DEFAULT_SEARCH,
                use_position: bool | None = None, speed: str = "auto") -> tuple[float, float]:
    """(offset seconds, confidence 0..1) of the file against the camera; see the module docs."""
    r = sync(camera_tel, file_tel, search=search, use_position=use_position, speed=speed)
    return r.offset, r.confidence


def _has(tel: Telemetry, column: str) -> bool:
    return any(column in s and np.isfinite(s[column]).sum() >= 2 for s in tel.streams.values())


def _gps_like(tel: Telemetry, kinds: tuple[str, ...]):
    """(t, speed, lat, lon) of the first speed column of `kinds` found; lat/lon None without positions."""
    for series in ([tel.streams["gps"]] if "gps" in tel.streams else []) + list(tel.streams.values()):
        speed = None
        for name in kinds:
            if name in series and np.isfinite(series[name]).sum() >= 2:
                speed = np.asarray(series[name], dtype=np.float64).copy()
                break
        if speed is None:
            continue
        ok = np.isfinite(speed) & np.isfinite(series.t)
        if "gps-ok" in series:
            ok &= np.asarray(series["gps-ok"], bool)
        lat = lon = None
        if "lat" in series and "lon" in series:
            lat = np.where(ok, series["lat"], np.nan)
            lon = np.where(ok, series["lon"], np.nan)
        speed[~ok] = np.nan
        return series.t, speed, lat, lon
    return None


def _despike(v: np.ndarray) -> np.ndarray:
    v = np.where((v >= 0) & (v < 100), v, np.nan)
    fin = v[np.isfinite(v)]
    if len(fin) > 10:
        med = median(fin)
        mad = median(np.abs(fin - med)) * 1.4826
        if mad > 0:
            v = np.where(np.abs(v - med) > 6 * mad, np.nan, v)
    return v


def _resample(t: np.ndarray, v: np.ndarray, i0: int, i1: int, max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Values and validity on grid points i0..i1 (time i / RATE)."""
    grid = np.arange(i0, i1 + 1) / RATE
    ok = np.isfinite(v) & np.isfinite(t)
    tt, vv = t[ok], v[ok]
    if len(tt) < 2:
        return np.zeros(len(grid)), np.zeros(len(grid), bool)
    right = np.clip(np.searchsorted(tt, grid, side="left"), 1, len(tt) - 1)
    gap = tt[right] - tt[right - 1]
    valid = (grid >= tt[0]) & (grid <= tt[-1]) & (gap <= max_gap)
    vals = np.interp(grid, tt, vv)
    return np.where(valid, vals, 0.0), valid


class _Correlator:
    """Sums over the overlap at every lag d: sum_i x[i] * y[i + d], d = -(m-1) .. n-1, by FFT."""

    def __init__(self, m: int, n: int):
        self.m, self.n = m, n
        self.size = 1 << int(np.ceil(np.log2(m + n - 1)))

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        fx = np.fft.rfft(x[::-1], self.size)
        fy = np.fft.rfft(y, self.size)
        return np.fft.irfft(fx * fy, self.size)[: self.m + self.n - 1]


def sync(camera_tel: Telemetry, file_tel: Telemetry, search: float = DEFAULT_SEARCH,
         use_position: bool | None = None, speed: str = "auto", max_gap: float = 5.0) -> SyncResult:
    """The offset with its evidence; InputError when there is nothing to compare.

    `speed`: which speeds to correlate — 'auto' (the same kind on both sides: recorded
    'speed' when both have one, else 'cspeed' from positions when both have them, else
    whatever each has), 'speed' (recorded, falling back to cspeed) or 'cspeed'.
    """
    if speed == "auto":
        if _has(camera_tel, "speed") and _has(file_tel, "speed"):
            kinds = ("speed", "cspeed")
        elif _has(camera_tel, "cspeed") and _has(file_tel, "cspeed"):
            kinds = ("cspeed", "speed")
        else:
            kinds = ("speed", "cspeed")
    elif speed in ("speed", "cspeed"):
        kinds = (speed, "cspeed" if speed == "speed" else "speed")
    else:
        raise ValueError(f"speed={speed!r}: expected 'auto', 'speed' or 'cspeed'")
    cam, fil = _gps_like(camera_tel, kinds), _gps_like(file_tel, kinds)
    if cam is None or fil is None:
        which = "the camera" if cam is None else "the file"
        raise InputError(f"--sync auto: {which} has no speed or GPS track to compare; use --offset")
    tc, vc, latc, lonc = cam
    tf, vf, latf, lonf = fil
    vc, vf = _despike(vc), _despike(vf)
    if use_position is None:
        use_position = latc is not None and latf is not None
    elif use_position and (latc is None or latf is None):
        raise InputError("--sync auto: position matching needs positions in both the camera and the file")
    fc, ff = np.isfinite(vc), np.isfinite(vf)
    if fc.sum() < 2 or ff.sum() < 2:
        raise InputError("--sync auto: not enough speed samples to compare; use --offset")
    c0, c1 = tc[fc].min(), tc[fc].max()
    f0, f1 = tf[ff].min(), tf[ff].max()
    ia0, ia1 = int(np.ceil(c0 * RATE)), int(np.floor(c1 * RATE))
    ib0 = int(np.ceil(max(f0, c0 - search) * RATE))
    ib1 = int(np.floor(min(f1, c1 + search) * RATE))
    if ia1 - ia0 < 2 or ib1 - ib0 < 2:
        raise InputError(f"--sync auto: the file's data ({f0:.1f} .. {f1:.1f} s on the video timeline) is not "
                         f"within {search:g} s of the camera's ({c0:.1f} .. {c1:.1f} s); align it closer first")
    a, ma = _resample(tc, vc, ia0, ia1, max_gap)
    b, mb = _resample(tf, vf, ib0, ib1, max_gap)
    m, n = len(a), len(b)
    corr = _Correlator(m, n)
    wa, wb = ma.astype(float), mb.astype(float)
    a = np.where(ma, a - a[ma].mean() if ma.any() else a, 0.0)
    b = np.where(mb, b - b[mb].mean() if mb.any() else b, 0.0)
    count = np.rint(corr(wa, wb))
    sa, sb = corr(a, wb), corr(wa, b)
    saa, sbb, sab = corr(a * a, wb), corr(wa, b * b), corr(a, b)
    lags = (np.arange(m + n - 1) - (m - 1) + ib0 - ia0) / RATE  # file time - camera time
    shorter = min(ma.sum(), mb.sum()) / RATE
    min_count = max(2.0, min(30.0, 0.5 * shorter) * RATE)
    usable = (count >= min_count) & (np.abs(lags) <= search + 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        nn = np.maximum(count, 1.0)
        cov = sab - sa * sb / nn
        var = np.maximum(saa - sa * sa / nn, 0.0) * np.maximum(sbb - sb * sb / nn, 0.0)
        ncc = np.where(var > 1e-12 * nn * nn, cov / np.sqrt(var), 0.0)
    score = np.clip(ncc, -1.0, 1.0)
    if use_position:
        moving = vc[np.isfinite(vc) & (vc > 0.5)]
        scale = float(np.clip(median(moving) * POSITION_SECONDS, 1.0, 30.0)) if len(moving) else 5.0
        similarity = _position_similarity(corr, tc, latc, lonc, tf, latf, lonf, ia0, ia1, ib0, ib1, max_gap, scale)
        score = POSITION_WEIGHT * similarity + (1 - POSITION_WEIGHT) * score
    score = np.where(usable, score, -np.inf)
    if not np.isfinite(score).any():
        raise InputError("--sync auto: the camera's and the file's tracks never overlap enough "
                         f"within +-{search:g} s to compare; use --offset")
    p = int(np.argmax(score))
    peak = float(score[p])
    delta = 0.0
    if 0 < p < len(score) - 1 and np.isfinite(score[p - 1]) and np.isfinite(score[p + 1]):
        den = score[p - 1] - 2 * peak + score[p + 1]
        if den < 0:
            delta = float(np.clip(0.5 * (score[p - 1] - score[p + 1]) / den, -0.5, 0.5))
    at_edge = not (0 < p < len(score) - 1 and np.isfinite(score[p - 1]) and np.isfinite(score[p + 1]))
    second = _second_peak(score, p)
    confidence = float(np.clip(peak - max(second, 0.0), 0.0, 1.0)) * (0.5 if at_edge else 1.0)
    return SyncResult(offset=float(lags[p] + delta / RATE), confidence=confidence, peak=peak, second=second,
                      overlap=float(count[p]) / RATE, used_position=bool(use_position), at_edge=at_edge)


def _position_similarity(corr, tc, latc, lonc, tf, latf, lonf, ia0, ia1, ib0, ib1, max_gap, scale) -> np.ndarray:
    okc = np.isfinite(latc) & np.isfinite(lonc)
    lat0, lon0 = float(np.mean(latc[okc])), float(np.mean(lonc[okc]))
    k = np.radians(1.0) * EARTH_RADIUS

    def local(lat, lon):
        return (lon - lon0) * k * np.cos(np.radians(lat0)), (lat - lat0) * k

    xc, yc = local(latc, lonc)
    xf, yf = local(latf, lonf)
    xa, ma = _resample(tc, xc, ia0, ia1, max_gap)
    ya, _ = _resample(tc, yc, ia0, ia1, max_gap)
    xb, mb = _resample(tf, xf, ib0, ib1, max_gap)
    yb, _ = _resample(tf, yf, ib0, ib1, max_gap)
    wa, wb = ma.astype(float), mb.astype(float)
    count = np.maximum(np.rint(corr(wa, wb)), 1.0)
    sq = corr((xa * xa + ya * ya) * wa, wb) + corr(wa, (xb * xb + yb * yb) * wb)
    cross = corr(xa * wa, xb * wb) + corr(ya * wa, yb * wb)
    msd = np.maximum((sq - 2 * cross) / count, 0.0)
    sim = 1.0 / (1.0 + msd / scale**2)
    return np.where(np.rint(corr(wa, wb)) > 0, sim, 0.0)


def _second_peak(score: np.ndarray, p: int) -> float:
    """Best score outside the main peak's lobe (see the module docs); -1 if there is none."""
    finite = np.isfinite(score)
    floor = median(score[finite])
    smooth = np.convolve(np.where(finite, score, floor), np.ones(5) / 5, mode="same")
    lo = p
    while lo > 0 and finite[lo - 1] and smooth[lo - 1] <= smooth[lo] + 1e-12:
        lo -= 1
    hi = p
    while hi < len(score) - 1 and finite[hi + 1] and smooth[hi + 1] <= smooth[hi] + 1e-12:
        hi += 1
    outside = np.concatenate([score[:lo], score[hi + 1:]])
    outside = outside[np.isfinite(outside)]
    return float(outside.max()) if len(outside) else -1.0
