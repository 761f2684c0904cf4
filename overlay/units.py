"""Unit conversion with pint — in the main process only, once per column.

Workers never import this module: FrameTable columns arrive already converted.
"""
from __future__ import annotations

import numpy as np

from overdash import InputError


class UnitConverter:
    """Holds one pint registry (building it costs ~0.25 s, so build it once)."""

    def __init__(self, cache: bool = True):
        import pint

        # The parsed definitions are cached on disk (~/.cache/pint): 0.15 s → 0.01 s per run.
        try:
            self._ureg = pint.UnitRegistry(cache_folder=":auto:" if cache else None)
        except Exception:  # an unwritable cache folder must not stop a render
            self._ureg = pint.UnitRegistry()

    def convert(self, values: np.ndarray, from_unit: str, to_unit: str) -> np.ndarray:
        try:
            q = self._ureg.Quantity(np.asarray(values, dtype=np.float64), from_unit)
            return np.asarray(q.to(to_unit).magnitude, dtype=np.float64)
        except Exception as exc:  # pint raises several unrelated types
            raise InputError(f"cannot convert {from_unit!r} to {to_unit!r}: {exc}") from None

    def symbol(self, unit: str, spec: str = "~P") -> str:
        """How a unit is written on the dashboard, e.g. 'km/h'."""
        try:
            return format(self._ureg.Unit(unit), spec)
        except Exception as exc:
            raise InputError(f"unknown unit {unit!r}: {exc}") from None
