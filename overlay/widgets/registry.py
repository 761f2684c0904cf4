"""Component type name -> widget class + attribute spec.

Adding a component is one class decorated with `@component("name", attrs)`;
the layout parser validates against the spec and the renderer builds the
class. docs/layout-xml.md is generated from the same specs (overlay.layout.
vocabulary; the meanings are in overlay.widgets.attrdocs, and a test fails
until a new component or attribute has one). Names treat '-' and '_' alike.

A widget module is imported the first time its type is looked up, so a run loads
only the widgets its layout uses (the default layout needs two of fifteen modules:
~20 ms less before ffmpeg gets its filter graph). MODULES says where each type is;
tests/overlay/widgets/test_registry.py holds it against the modules themselves.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from overlay.widgets.attrs import Attr, canonical

# Filled by @component as each widget module is imported; read-only afterwards.
_TYPES: dict[str, "ComponentType"] = {}

# Component type (canonical name) -> the module of overlay.widgets that registers it.
MODULES = {
    "asi": "speed_dials", "bar": "bar", "cairo_circuit_map": "cairo_circuit_map",
    "cairo_gauge_arc_annotated": "cairo_gauges", "cairo_gauge_donut": "cairo_gauges",
    "cairo_gauge_marker": "cairo_gauges", "cairo_gauge_round_annotated": "cairo_gauges",
    "chart": "chart", "circuit_map": "circuit_map", "compass": "compass", "compass_arrow": "compass_arrow",
    "datetime": "text", "gps_lock_icon": "gps_lock_icon", "gradient_chart": "chart", "icon": "icon",
    "journey_map": "maps", "lap_delta": "lap_delta", "lap_table": "lap_table", "metric": "text",
    "metric_unit": "text", "moving_journey_map": "maps", "moving_map": "maps", "msi": "speed_dials",
    "msi2": "speed_dials", "text": "text", "zone_bar": "zone_bar",
}


@dataclass(frozen=True)
class ComponentType:
    name: str
    attrs: tuple[Attr, ...]
    widget: type
    body: bool = False  # whether the element's text (body) is meaningful
    spelling: str = ""  # the name as registered ('compass-arrow'; `name` is canonical): for docs

    def attr(self, name: str) -> Attr | None:
        for a in self.attrs:
            if a.name == name:
                return a
        return None


def component(name: str, attrs: tuple[Attr, ...], *, body: bool = False):
    """Class decorator registering a widget under a component type name."""
    def register(cls: type) -> type:
        key = canonical(name)
        if key in _TYPES:
            raise RuntimeError(f"component type {name!r} registered twice")
        names = [a.name for a in attrs]
        if len(set(names)) != len(names):
            raise RuntimeError(f"component type {name!r}: duplicate attribute names")
        _TYPES[key] = ComponentType(key, tuple(attrs), cls, body, name.strip())
        cls.TYPE = key
        return cls
    return register


def lookup(name: str) -> ComponentType | None:
    key = canonical(name)
    if key not in _TYPES and key in MODULES:
        import_module(f"{__package__}.{MODULES[key]}")
    return _TYPES.get(key)


def load_all() -> None:
    """Import every widget module: their types are all registered afterwards."""
    for module in sorted(set(MODULES.values())):
        import_module(f"{__package__}.{module}")


def known_types() -> tuple[str, ...]:
    load_all()
    return tuple(sorted(_TYPES))
