"""Widgets: one class per component type, registered by name with its attributes.

A widget module is imported when its type is first looked up (registry.lookup);
registry.known_types() and registry.load_all() import them all.
"""
from overlay.widgets.registry import ComponentType, component, known_types, load_all, lookup

__all__ = ["ComponentType", "component", "known_types", "load_all", "lookup"]
