"""GoPro chapters: one recording split over several files, read as one continuous telemetry.

File names and finding the chapters: overlay.telemetry.chapter_files.

Chapter k's telemetry is shifted by the summed video durations of chapters
0..k-1, so t stays "seconds since the first frame of the first chapter", the
time at which that frame appears in the concatenated output.

HiLights (lap markers, overlay.telemetry.hilights) are shifted the same way
and joined; lap 1 starts once, at the first chapter's first frame — a chapter
boundary does not start a lap.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from overdash import InputError
from overlay.telemetry.derived import add_derived
from overlay.telemetry.hilights import hilight_laps
from overlay.telemetry.quality import QualityLimits, mark_gps
from overlay.telemetry.timeseries import StreamInfo, Telemetry, Timeseries


def load_gopro_chapters(paths: Sequence[str | os.PathLike], limits: QualityLimits = QualityLimits(),
                        altitude: str = "msl", values_of: frozenset[str] | None = None) -> Telemetry:
    """Telemetry of consecutive chapter files as one recording with continuous time
    (`altitude`, `values_of`: as for load_gopro)."""
    from overlay.telemetry.gopro import load_parts  # gopro imports nothing from here

    if not paths:
        raise InputError("no input files")
    parts, offset = [], 0.0
    for path in paths:
        tel, duration = load_parts(path, limits, altitude, values_of)
        parts.append((tel, offset))
        offset += duration
    joined = parts[0][0] if len(parts) == 1 else concatenate(parts, limits)
    tel = add_derived(joined)
    return tel.with_times(tel.start, hilight_laps(tel.laps))  # load_parts' laps: the HiLights alone


def concatenate(parts: Sequence[tuple[Telemetry, float]], limits: QualityLimits = QualityLimits()) -> Telemetry:
    """Join chapter telemetries, each shifted by its offset; GPS quality re-marked across joins.
    Lap starts are shifted and joined too; `start` is the first part's (shifted)."""
    first = parts[0][0]
    names = list(dict.fromkeys(name for tel, _ in parts for name in tel.streams))
    streams: dict[str, Timeseries] = {}
    for name in names:
        pieces = [(tel.streams[name], off) for tel, off in parts if name in tel.streams]
        keys = list(dict.fromkeys(k for ts, _ in pieces for k in ts.columns))
        t = np.concatenate([ts.t + off for ts, off in pieces])
        cols = {k: np.concatenate([ts[k] if k in ts else np.full(len(ts), np.nan) for ts, _ in pieces])
                for k in keys}
        streams[name] = Timeseries(t, cols)
    if "gps" in streams:
        streams["gps"] = mark_gps(streams["gps"], limits, first.speedup)  # a jump across a join counts
    notes = first.notes + (f"{len(parts)} chapters joined: " + ", ".join(tel.source for tel, _ in parts),)
    laps = np.concatenate([np.zeros(0)] + [np.asarray(tel.laps, dtype=np.float64) + off for tel, off in parts])
    start = None if first.start is None else first.start + parts[0][1]
    return Telemetry(streams=streams, source=first.source, device=first.device, firmware=first.firmware,
                     speedup=first.speedup, inventory=_merge_inventory(parts), notes=notes, start=start, laps=laps)


def _merge_inventory(parts: Sequence[tuple[Telemetry, float]]) -> tuple[StreamInfo, ...]:
    merged: dict[str, StreamInfo] = {}
    for tel, off in parts:
        for info in tel.inventory:
            span = (info.span[0] + off, info.span[1] + off)
            old = merged.get(info.fourcc)
            if old is None:
                merged[info.fourcc] = StreamInfo(info.fourcc, info.name, info.count, info.rate, span,
                                                 info.decoded, info.stream)
                continue
            count = old.count + info.count
            whole = (old.span[0], span[1])
            rate = (count - 1) / (whole[1] - whole[0]) if whole[1] > whole[0] else old.rate
            merged[info.fourcc] = StreamInfo(old.fourcc, old.name, count, rate, whole, old.decoded, old.stream)
    return tuple(merged.values())
