"""The layout vocabulary as JSON, for the editor's palette and attribute panel.

Built from the same tables the parser validates against and docs/layout-xml.md is
generated from (overlay.widgets.registry, overlay.widgets.attrdocs, overlay.layout.metrics),
so the page can never offer an attribute or a value the parser would refuse.
"""
from __future__ import annotations

from functools import lru_cache


def sized(attr_names) -> list[str]:
    """Which attributes a resize handle changes: size, or width and height, or none."""
    names = set(attr_names)
    if "size" in names:
        return ["size"]
    if {"width", "height"} <= names:
        return ["width", "height"]
    return []


def _attrs(element: str, attrs) -> list[dict]:
    from overlay.layout.vocabulary import show_default
    from overlay.widgets.attrdocs import meaning
    from overlay.widgets.attrs import describe

    return [{"name": a.name, "kind": describe(a.parse), "default": show_default(a), "doc": meaning(element, a),
             "required": a.required} for a in attrs]


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    """{"components": {type: {doc, attrs, sized}}, "containers": {...}, "metrics": [...], "units": [...]}"""
    from overlay.layout.metrics import METRIC_TABLE
    from overlay.layout.parse import CONTAINERS
    from overlay.layout.units import NAMED_UNITS
    from overlay.widgets.registry import known_types, lookup

    components = {}
    for name in known_types():
        ctype = lookup(name)
        assert ctype is not None, "known_types() names registered types"
        doc = (ctype.widget.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        components[name] = {"doc": doc, "attrs": _attrs(name, ctype.attrs), "sized": sized(a.name for a in ctype.attrs),
                            "body": ctype.body}
    containers = {tag: {"doc": "", "attrs": _attrs(tag, attrs), "sized": sized(a.name for a in attrs)}
                  for tag, attrs in CONTAINERS.items() if tag != "layout"}
    metrics = [{"name": m.name, "unit": m.unit, "doc": m.doc} for m in METRIC_TABLE]
    units = sorted(set(NAMED_UNITS) | {"speed", "altitude", "distance", "temperature"})
    return {"components": components, "containers": containers, "metrics": metrics, "units": units}
