"""Unit conversion with pint — in the main process only, once per column.

Workers never import this module: FrameTable columns arrive already converted.

pint costs ~0.12 s per run (import and registry), 3% of rendering a 10 s clip.
What a render asks of it is a handful of facts: that m/s → km/h is x·3.6, that
km/h is written 'km/h'. Those are remembered on disk (keyed by pint's version)
once pint has said them, so a later run with the same units does not load pint.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from overdash import InputError
from overlay import memo
from overlay.layout.units import LABELS, SCALED_UNITS


def default_memo_path() -> Path:
    return memo.cache_dir() / "units.json"


class UnitConverter:
    """pint's conversions and symbols, remembered; the registry (~0.25 s uncached) is built only if needed.

    Conversions are affine (scale, offset) — every pint unit that is not logarithmic —
    and are remembered as such; others always go through pint.
    """

    def __init__(self, cache: bool = True, memo_path: str | os.PathLike | None = None):
        self._cache = cache
        self._ureg = None
        self._memo_path = Path(memo_path) if memo_path else default_memo_path()
        self._file = self._memo_file() if cache else None  # named once: finding pint's install costs a stat
        self._memo = memo.load(self._file) if cache else {}
        self._dirty = False

    @property
    def ureg(self):
        if self._ureg is None:
            import pint

            # The parsed definitions are cached on disk (~/.cache/pint): 0.15 s → 0.01 s per run.
            try:
                self._ureg = pint.UnitRegistry(cache_folder=":auto:" if self._cache else None)
            except Exception:  # an unwritable cache folder must not stop a render
                self._ureg = pint.UnitRegistry()
        return self._ureg

    def convert(self, values: np.ndarray, from_unit: str, to_unit: str) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        key = f"{from_unit}\u2192{to_unit}"
        affine = self._memo.get(key)
        if affine is None:
            affine = self._affine(from_unit, to_unit)
            if affine is None:
                return self._pint_convert(values, from_unit, to_unit)
            self._remember(key, affine)
        scale, offset = affine
        return values * scale + offset if offset else values * scale

    def symbol(self, unit: str, spec: str = "~P") -> str:
        """How a unit is written on the dashboard, e.g. 'km/h'."""
        if unit in SCALED_UNITS:  # a layout unit pint has no name for ('spm')
            return LABELS.get(unit, unit)
        key = f"{unit}\u2237{spec}"
        text = self._memo.get(key)
        if text is None:
            try:
                text = format(self.ureg.Unit(unit), spec)
            except Exception as exc:
                raise InputError(f"unknown unit {unit!r}: {exc}") from None
            self._remember(key, text)
        return text

    def _pint_convert(self, values: np.ndarray, from_unit: str, to_unit: str) -> np.ndarray:
        try:
            q = self.ureg.Quantity(values, from_unit)
            return np.asarray(q.to(to_unit).magnitude, dtype=np.float64)
        except Exception as exc:  # pint raises several unrelated types
            raise InputError(f"cannot convert {from_unit!r} to {to_unit!r}: {exc}") from None

    def _affine(self, from_unit: str, to_unit: str) -> tuple[float, float] | None:
        """(scale, offset) with pint's result = x·scale + offset, checked at a few points; None if not affine."""
        probe = np.array([0.0, 1.0, -40.0, 1234.5])
        got = self._pint_convert(probe, from_unit, to_unit)
        offset, scale = float(got[0]), float(got[1] - got[0])
        if not np.allclose(probe * scale + offset, got, rtol=1e-12, atol=1e-9):
            return None
        return scale, offset

    def _remember(self, key: str, value) -> None:
        self._memo[key] = list(value) if isinstance(value, tuple) else value
        if self._cache:
            memo.save(self._file, self._memo)

    def _memo_file(self) -> Path:
        """One file per installed pint: another pint may say otherwise."""
        tag = memo.package_tag("pint", missing="unknown")
        return self._memo_path.with_name(f"{self._memo_path.stem}-{tag}{self._memo_path.suffix}")
