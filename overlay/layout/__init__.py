"""Layouts: the XML vocabulary parsed into a validated, picklable tree.

    layout = load_layout("default", include=..., exclude=...)   # main process
    layout = layout.resolve_units(settings)                      # unit labels (pint)
    table = build_frame_table(..., requests=layout.unit_requests(settings))

Names load on first use (PEP 562): `overlay.layout.units` is light and is what the
command line needs before it starts ffprobe; parsing pulls in the widgets the layout uses.
"""
from overdash.lazy import lazy_exports

_WHERE = {
    **dict.fromkeys(("DESIGN_SIZE", "Component", "Frame", "Group", "Layout", "Node", "walk"), "nodes"),
    **dict.fromkeys(("bundled_layouts", "load_layout", "parse_layout", "resolve_path"), "parse"),
    **dict.fromkeys(("NAMED_UNITS", "UnitSettings", "pace_aware", "resolve_unit"), "units"),
}
__all__ = list(_WHERE)
__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())
