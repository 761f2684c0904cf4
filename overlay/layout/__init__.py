"""Layouts: the XML vocabulary parsed into a validated, picklable tree.

    layout = load_layout("default", include=..., exclude=...)   # main process
    layout = layout.resolve_units(settings)                      # unit labels (pint)
    table = build_frame_table(..., requests=layout.unit_requests(settings))
"""
from overlay.layout.nodes import DESIGN_SIZE, Component, Frame, Group, Layout, Node, walk
from overlay.layout.parse import bundled_layouts, load_layout, parse_layout, resolve_path
from overlay.layout.units import NAMED_UNITS, UnitSettings, pace_aware, resolve_unit

__all__ = [
    "DESIGN_SIZE", "Component", "Frame", "Group", "Layout", "Node", "walk",
    "bundled_layouts", "load_layout", "parse_layout", "resolve_path",
    "NAMED_UNITS", "UnitSettings", "pace_aware", "resolve_unit",
]
