"""Widgets: one class per component type, registered by name with its attributes.

Importing this package registers every component type (see registry.py).
"""
from overlay.widgets import circuit_map, text  # noqa: F401  (registers the component types)
from overlay.widgets.registry import PLANNED, ComponentType, component, known_types, lookup

__all__ = ["PLANNED", "ComponentType", "component", "known_types", "lookup"]
