"""Component type name -> widget class + attribute spec.

Adding a component is one class decorated with `@component("name", attrs)`;
the layout parser validates against the spec and the renderer builds the
class. docs/layout-xml.md is generated from the same specs (overlay.layout.
vocabulary; the meanings are in overlay.widgets.attrdocs, and a test fails
until a new component or attribute has one). Names treat '-' and '_' alike.
"""
from __future__ import annotations

from dataclasses import dataclass

from overlay.widgets.attrs import Attr, canonical

# Filled by @component at import of overlay.widgets; read-only afterwards.
_TYPES: dict[str, "ComponentType"] = {}


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
    return _TYPES.get(canonical(name))


def known_types() -> tuple[str, ...]:
    return tuple(sorted(_TYPES))
