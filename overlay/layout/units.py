"""Layout unit names -> pint unit strings, without importing pint.

Workers import this module (to find a widget's FrameTable column) and must
stay free of pint; only `UnitLabels` (main process) touches pint, through
overlay.conversion.UnitConverter, and only when asked.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from overdash import InputError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class UnitSettings:
    """What the `speed`/`altitude`/`distance`/`temperature` units of a layout mean (--units-*)."""

    speed: str = "kph"
    altitude: str = "metre"
    distance: str = "km"
    temperature: str = "degC"


# Named units of the layout vocabulary -> pint strings (None = the metric's base unit).
NAMED_UNITS: dict[str, str | None] = {
    "none": None,
    "mph": "mph",
    "kph": "kph",
    "kmh": "kph",
    "knots": "knot",
    "knot": "knot",
    "pace": "minute / kilometer",  # or per mile: follows the distance setting (resolve_unit)
    "pace_km": "minute / kilometer",
    "pace_mile": "minute / mile",
    "pace_kt": "minute / nautical_mile",
    "spm": "spm",  # steps per minute: SCALED_UNITS
    "G": "standard_gravity",
    "gravity": "standard_gravity",
    "feet": "foot",
    "foot": "foot",
    "miles": "mile",
    "mile": "mile",
    "metres": "meter",
    "metre": "meter",
    "meters": "meter",
    "meter": "meter",
    "km": "kilometer",
    "nautical_miles": "nautical_mile",
}

# Units that follow the command line (--units-*).
SETTING_OF = {
    "speed": "speed", "distance": "distance",
    "altitude": "altitude", "alt": "altitude",
    "temperature": "temperature", "temp": "temperature",
}

PACE_UNITS = frozenset(v for k, v in NAMED_UNITS.items() if k.startswith("pace"))
# Distance settings whose `units="pace"` is per mile (any other distance: per kilometre).
MILE_DISTANCES = frozenset({"mile", "miles", "mi"})

# Units pint has no name for: layout name -> (pint unit, factor). A running step is half a
# stride, and FIT and GPX record a runner's cadence in strides (revolutions) per minute, so
# steps per minute are twice the recorded cadence (as gopro-dashboard-overlay's spm).
SCALED_UNITS: dict[str, tuple[str, float]] = {"spm": ("1 / minute", 2.0)}

# How units read on a dashboard where pint's symbol would look odd.
LABELS = {
    "minute / kilometer": "min/km",
    "minute / mile": "min/mi",
    "minute / nautical_mile": "min/nmi",
    "spm": "spm",
    "standard_gravity": "G",
}


def resolve_unit(units: str | None, settings: UnitSettings) -> str | None:
    """A layout `units=` value -> pint unit string, or None for the metric's base unit."""
    if units is None:
        return None
    name = units.strip()
    if name in SETTING_OF:
        name = getattr(settings, SETTING_OF[name]).strip()
    if name == "pace" and settings.distance.strip() in MILE_DISTANCES:
        name = "pace_mile"
    return NAMED_UNITS.get(name, name) or None


def pace_aware(convert: Callable[[np.ndarray, str, str], np.ndarray]):
    """Wrap a converter so speed -> pace (time per distance) and SCALED_UNITS work.

    pint cannot invert: a pace unit (or any time-per-distance unit pint refuses to reach from a
    speed, such as 'second / kilometer') is reached through 1 / speed. Pace is in the unit's
    own terms (minutes per km: 2.0 for 2:00/km); format="pace" writes it as m:ss.
    """
    def convert_with_pace(values: np.ndarray, from_unit: str, to_unit: str) -> np.ndarray:
        import numpy as np  # not at module level: the command line reads UnitSettings before numpy is needed

        if to_unit in SCALED_UNITS:
            unit, factor = SCALED_UNITS[to_unit]
            return np.asarray(convert(values, from_unit, unit), dtype=np.float64) * factor
        if to_unit not in PACE_UNITS:
            try:
                return convert(values, from_unit, to_unit)
            except InputError:
                try:
                    return _inverse(convert, values, from_unit, to_unit)
                except InputError:
                    pass
                raise
        return _inverse(convert, values, from_unit, to_unit)
    return convert_with_pace


def _inverse(convert, values, from_unit: str, to_unit: str):
    """`values` turned into 1 / value, then converted: speed -> time per distance."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = np.where(v > 0.1, 1.0 / v, np.nan)  # standing still has no pace
    return convert(inverse, f"1 / ({from_unit})", to_unit)


def format_label(body: str, unit: str, symbol: Callable[[str, str], str]) -> str:
    """Fill a metric_unit body like '{:~P}' or '({:~C})' with the unit written by `symbol(unit, spec)`."""
    out = []
    for literal, field, spec, _conv in string.Formatter().parse(body):
        out.append(literal)
        if field is None:
            continue
        if field not in ("", "0"):
            raise InputError(f"unit format {body!r}: use '{{:spec}}' fields only")
        spec = spec or "~P"
        upper = spec[-1] in "cpd"  # the vocabulary's lower-case C/P/D mean upper-cased output
        text = LABELS[unit] if unit in LABELS else symbol(unit, spec[:-1] + spec[-1].upper())
        out.append(text.upper() if upper else text)
    return "".join(out)


# Symbols of common units, for a label when the layout's labels were not resolved with pint.
SYMBOLS = {
    "kph": "kph", "mph": "mph", "knot": "kn", "meter": "m", "foot": "ft", "mile": "mi",
    "kilometer": "km", "nautical_mile": "nmi", "degC": "°C", "degF": "°F",
    "meter / second": "m/s", "degree": "deg", "watt": "W", "1 / minute": "1/min",
    "second": "s", "dimensionless": "",
}


def fallback_label(unit: str | None) -> str:
    """A pint-free label for a pint unit string (Layout.resolve_units gives the real one)."""
    if unit is None:
        return ""
    return LABELS.get(unit, SYMBOLS.get(unit, unit))
