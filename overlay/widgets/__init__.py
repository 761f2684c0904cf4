"""Widgets: one class per component type, registered by name with its attributes.

Importing this package registers every component type (see registry.py).
"""
from overlay.widgets import (  # noqa: F401  (importing a module registers its component types)
    bar,
    cairo_circuit_map,
    cairo_gauges,
    chart,
    circuit_map,
    compass,
    compass_arrow,
    gps_lock_icon,
    icon,
    lap_delta,
    lap_table,
    maps,  # moving_map, journey_map, moving_journey_map
    speed_dials,
    text,
    zone_bar,
)
from overlay.widgets.registry import ComponentType, component, known_types, lookup

__all__ = ["ComponentType", "component", "known_types", "lookup"]
