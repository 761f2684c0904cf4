"""Gear changes in a FIT file: the front and rear gear numbers as columns at the record times.

Electronic groupsets (Shimano Di2, SRAM eTap, Campagnolo EPS) do not write the
gear into `record` messages: the head unit writes an `event` message (global
21) each time the gear changes, event 42 (front_gear_change) or 43
(rear_gear_change). Its `data` field packs the new state (FIT profile
gear_change_data: rear_gear_num in bits 0-7, rear_gear teeth 8-15,
front_gear_num 16-23, front_gear teeth 24-31); some devices write the
front_gear_num (9) and rear_gear_num (11) fields instead, which win where
both are there. A gear number of 0 means none.

A gear holds until the next change, so each record takes the last change at or
before its time (as gopro-dashboard-overlay does); records before the first
change have none. Events with a compressed timestamp header carry no time
field and are not read.
"""
from __future__ import annotations

import numpy as np

from overlay.telemetry.fitfile import TIMESTAMP, Scan, scalar_fields

EVENT = 21
GEAR_EVENTS = (42, 43)  # front_gear_change, rear_gear_change
EVENT_FIELD, DATA16, DATA, FRONT_GEAR_NUM, REAR_GEAR_NUM = 0, 2, 3, 9, 11


def gear_changes(data: bytes, sc: Scan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time (FIT seconds), front and rear gear number (NaN: not said) of every gear change, in time order."""
    u8 = np.frombuffer(data, dtype=np.uint8)
    times, fronts, rears = [], [], []
    for g in sc.timed:
        if g.definition.global_num != EVENT:
            continue
        offs = np.frombuffer(g.offsets, dtype=np.int64)
        if not len(offs):
            continue
        got = scalar_fields(u8, g.definition, offs)
        if EVENT_FIELD not in got or TIMESTAMP not in got:
            continue
        keep = np.isin(got[EVENT_FIELD], GEAR_EVENTS) & np.isfinite(got[TIMESTAMP])
        if not keep.any():
            continue
        nan = np.full(len(offs), np.nan)
        packed = got.get(DATA, got.get(DATA16, nan))
        word = np.where(np.isfinite(packed), packed, 0).astype(np.int64)
        front = _or_packed(got.get(FRONT_GEAR_NUM), (word >> 16) & 0xFF)
        rear = _or_packed(got.get(REAR_GEAR_NUM), word & 0xFF)
        times.append(got[TIMESTAMP][keep])
        fronts.append(front[keep])
        rears.append(rear[keep])
    if not times:
        empty = np.zeros(0)
        return empty, empty.copy(), empty.copy()
    t = np.concatenate(times)
    order = np.argsort(t, kind="stable")
    return t[order], np.concatenate(fronts)[order], np.concatenate(rears)[order]


def _or_packed(field: np.ndarray | None, packed: np.ndarray) -> np.ndarray:
    """The explicit gear number field where written, else the number packed in `data` (0: none)."""
    from_data = np.where(packed > 0, packed.astype(np.float64), np.nan)
    return from_data if field is None else np.where(np.isfinite(field), field, from_data)


def gear_columns(data: bytes, sc: Scan, record_times: np.ndarray) -> dict[str, np.ndarray]:
    """'gear.front' and 'gear.rear' at each record time (FIT seconds): the gear of the last change at or
    before it, each number held until a change says otherwise. Empty when the file has no gear changes."""
    t, front, rear = gear_changes(data, sc)
    out: dict[str, np.ndarray] = {}
    for name, values in (("gear.front", front), ("gear.rear", rear)):
        held = _forward_fill(values)
        if not np.isfinite(held).any():
            continue
        k = np.searchsorted(t, record_times, side="right") - 1
        col = np.where(k >= 0, held[np.clip(k, 0, len(held) - 1)], np.nan)
        out[name] = np.where(np.isfinite(record_times), col, np.nan)
    return out


def _forward_fill(values: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last number before it (an event that changed only the other gear)."""
    ok = np.isfinite(values)
    last = np.maximum.accumulate(np.where(ok, np.arange(len(values)), -1))
    return np.where(last >= 0, values[np.maximum(last, 0)], np.nan)
