"""Widgets: one class per component type, registered by name with its attributes.

Importing this package registers every component type (see registry.py).
"""
from overlay.widgets import circuit_map, text  # noqa: F401  (registers the component types)
from overlay.widgets import cairo_circuit_map, cairo_gauges, speed_dials  # noqa: F401  (gauges)
from overlay.widgets import bar, chart, compass, compass_arrow, gps_lock_icon, icon, zone_bar  # noqa: F401  (registers the component types)
from overlay.widgets import maps  # noqa: F401  (moving_map, journey_map, moving_journey_map)
from overlay.widgets.registry import PLANNED, ComponentType, component, known_types, lookup

__all__ = ["PLANNED", "ComponentType", "component", "known_types", "lookup"]
