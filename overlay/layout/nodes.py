"""The parsed layout: a small picklable tree of frozen dataclasses.

It is built once in the main process (validated, units resolved) and sent to
every worker, which turns it into widgets. Values are already parsed
(numbers, colour tuples, anchors); `where` ("file:line") is kept so later
errors can still point at the XML.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterator, Union

import numpy as np

from overdash import InputError
from overlay.frametable import base_unit
from overlay.layout.conditions import Condition, metrics_of
from overlay.layout.units import UnitSettings, format_label, pace_aware, resolve_unit

# The canvas a preview draws on when neither a video nor the layout gives a size.
DESIGN_SIZE = (1920, 1080)


@dataclass(frozen=True)
class Component:
    """A leaf: `<component type=...>`; `attrs` holds every attribute of its type, defaults filled in."""

    type: str
    attrs: dict[str, Any]
    text: str = ""
    name: str | None = None
    where: str = ""
    derived: dict[str, Any] = field(default_factory=dict)  # computed in the main process (unit labels)

    def __getitem__(self, key: str) -> Any:
        return self.attrs[key]


@dataclass(frozen=True)
class Shown:
    """A container's `show-when` (overlay.layout.conditions): shown only where `when` holds, and
    `hold` s after, fading in and out over `fade` s. SHOWN_ALWAYS: no condition."""

    when: Condition | None = None
    hold: float = 0.0
    fade: float = 0.0


SHOWN_ALWAYS = Shown()


@dataclass(frozen=True)
class Group:
    """`<composite>` / `<translate>`: offsets its children by (x, y)."""

    kind: str
    x: float
    y: float
    children: tuple["Node", ...]
    name: str | None = None
    where: str = ""
    shown: Shown = SHOWN_ALWAYS


@dataclass(frozen=True)
class Frame:
    """`<frame>`: a rounded-rectangle panel that clips its children (offset by x, y)."""

    x: float
    y: float
    width: float
    height: float
    children: tuple["Node", ...]
    bg: tuple | None = None
    outline: tuple | None = None
    cr: float = 0.0
    opacity: float = 1.0
    fo: float = 0.0  # fade-out: how far in from the edge (layout px) the panel fades in from clear
    name: str | None = None
    where: str = ""
    shown: Shown = SHOWN_ALWAYS


Node = Union[Component, Group, Frame]


def walk(nodes) -> Iterator[Node]:
    for node in nodes:
        yield node
        if not isinstance(node, Component):
            yield from walk(node.children)


@dataclass(frozen=True)
class Layout:
    """A parsed layout.

    width x height is the canvas it was designed on, when `<layout>` declares one: the whole
    layout is then scaled by one factor to the video and centred (overdash's bundled layouts
    do this, so one layout serves every video size). A layout that declares no size is in
    picture pixels, drawn one to one from the top-left corner, as gopro-dashboard-overlay
    draws it — its layouts for 2.7K and 4K place widgets at x=3500, which only mean
    something on a picture that wide.
    """

    children: tuple[Node, ...]
    width: int | None = None
    height: int | None = None
    source: str = ""

    def design_for(self, video_size: tuple[int, int]) -> tuple[int, int]:
        """The canvas to scale from onto a picture of video_size: the declared one, else the picture's."""
        if self.width and self.height:
            return self.width, self.height
        return int(video_size[0]), int(video_size[1])

    @property
    def preferred_size(self) -> tuple[int, int]:
        """The picture size to preview on when there is no video: the declared canvas, else 1080p."""
        return (self.width, self.height) if self.width and self.height else DESIGN_SIZE

    def components(self) -> Iterator[Component]:
        return (n for n in walk(self.children) if isinstance(n, Component))

    def names(self) -> set[str]:
        return {n.name for n in walk(self.children) if n.name}

    def unit_requests(self, unit_settings: UnitSettings = UnitSettings()) -> set[tuple[str, str | None]]:
        """(metric, pint units or None for base units) of every FrameTable column the layout reads."""
        from overlay.widgets.registry import lookup

        wanted: set[tuple[str, str | None]] = set()
        for c in self.components():
            for metric, units in lookup(c.type).widget.requests(c.attrs):
                wanted.add((metric, resolve_unit(units, unit_settings)))
        for node in walk(self.children):  # show-when compares values in their base units
            if not isinstance(node, Component):
                wanted |= {(metric, None) for metric in metrics_of(node.shown.when)}
        return wanted

    def resolve_units(self, unit_settings: UnitSettings = UnitSettings(), converter=None) -> "Layout":
        """Write unit labels into `metric_unit` components (main process: this uses pint).

        `converter` is an overlay.conversion.UnitConverter (built when not given). Unknown
        units fail here, naming the layout line, instead of in the middle of a render.
        """
        if converter is None:
            from overlay.conversion import UnitConverter
            converter = UnitConverter()

        convert = pace_aware(converter.convert)

        def resolve(node: Node) -> Node:
            if not isinstance(node, Component):
                return dataclasses.replace(node, children=tuple(resolve(c) for c in node.children))
            if "units" not in node.attrs:
                return node
            metric = node.attrs.get("metric")
            base = base_unit(metric) if metric else None
            unit = resolve_unit(node.attrs["units"], unit_settings)
            try:
                if unit is not None:
                    converter.symbol(unit)  # an unknown unit fails here, with the layout line
                    if base is not None:
                        convert(np.ones(1), base, unit)  # and so does 'kph' on an altitude
                if node.type != "metric_unit":
                    return node
                label = format_label(node.text or "{:~P}", unit or base or "dimensionless", converter.symbol)
            except (InputError, ValueError) as exc:
                raise InputError(f"{node.where}: <component type=\"{node.type}\">: {exc}") from None
            return dataclasses.replace(node, derived={**node.derived, "label": label})

        return dataclasses.replace(self, children=tuple(resolve(c) for c in self.children))

    def select(self, include=(), exclude=()) -> "Layout":
        """Keep only elements named in `include` (with their ancestors and contents), drop `exclude`."""
        include, exclude = tuple(include or ()), tuple(exclude or ())
        names = self.names()
        for flag, wanted in (("--include", include), ("--exclude", exclude)):
            for n in wanted:
                if n not in names:
                    choices = ", ".join(sorted(names)) or "(this layout names no elements)"
                    raise InputError(f"{self.source}: {flag} {n!r}: no element has name={n!r}; "
                                     f"valid choices: {choices}")

        def keep(node: Node, inside: bool) -> Node | None:
            if node.name and node.name in exclude:
                return None
            inside = inside or not include or (node.name in include)
            if isinstance(node, Component):
                return node if inside else None
            kids = tuple(k for k in (keep(c, inside) for c in node.children) if k is not None)
            if not inside and not kids:
                return None
            return dataclasses.replace(node, children=kids)

        kept = tuple(k for k in (keep(c, False) for c in self.children) if k is not None)
        return dataclasses.replace(self, children=kept)
