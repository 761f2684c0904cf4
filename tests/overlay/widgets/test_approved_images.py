"""Approved pictures, compared with tolerance: the gauges, and the text/map family, each in one
small image (the rest of the vocabulary is in tests/images/widgets-more.png).

Regenerate after an intended change of look with OVERDASH_APPROVE=1 and look at the PNG first.
pillow-simd and stock Pillow differ by a few levels on edges: the tolerance allows that.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from tests.overlay.widgets.test_gauges import table_of
from tests.overlay.widgets.test_widgets import render
from tests.support.paths import IMAGES

GAUGES = """
<component type="asi" x="0" y="0" size="100" vs0="10" vs="20" vfe="60" vno="80" vne="100"/>
<component type="msi" x="100" y="0" size="100" green="30" yellow="40" end="50"/>
<component type="msi2" x="200" y="0" size="100" green="30" yellow="40" end="50"/>
<component type="cairo-gauge-marker" x="300" y="0" size="100" metric="speed" units="kph" max="100"/>
<component type="cairo-gauge-round-annotated" x="0" y="100" size="100" metric="speed" units="kph" max="100"/>
<component type="cairo-gauge-arc-annotated" x="100" y="100" size="100" metric="speed" units="kph" max="100"/>
<component type="cairo-gauge-donut" x="200" y="100" size="100" metric="speed" units="kph" max="100"/>
<component type="cairo-circuit-map" x="300" y="100" size="100"/>
"""

TEXT = """
<frame x="0" y="0" width="400" height="200" cr="16" bg="20,24,32,180" outline="255,255,255,90">
  <component type="text" x="12" y="10" size="18" rgb="255,190,70">SPEED</component>
  <component type="metric" x="12" y="34" metric="speed" units="kph" dp="1" size="56"/>
  <component type="metric_unit" x="150" y="70" metric="speed" units="kph" size="20">{:~P}</component>
  <component type="datetime" x="12" y="110" format="%H:%M:%S" size="28"/>
  <component type="metric" x="12" y="150" metric="alt" dp="0" size="28" align="left"/>
  <component type="circuit_map" x="260" y="20" size="120"/>
</frame>
"""


def check(arr: np.ndarray, name: str) -> None:
    approved = IMAGES / name
    if os.environ.get("OVERDASH_APPROVE"):
        Image.fromarray(arr).save(approved, optimize=True)
    if not approved.exists():
        pytest.fail(f"{approved} missing; run with OVERDASH_APPROVE=1 to create it")
    want = np.asarray(Image.open(approved).convert("RGBA")).astype(int)
    diff = np.abs(arr.astype(int) - want)
    assert diff.mean() < 1.0, f"{name}: mean difference {diff.mean():.2f}"
    assert (diff.max(axis=-1) > 64).mean() < 0.005, f"{name}: more than a few pixels differ a lot"


def test_gauges_look_as_approved():
    table = table_of(np.linspace(0, 30, 60))  # m/s: 0 → 108 km/h
    check(render(GAUGES, 40, table=table, size=(400, 200), resolve=True), "gauges.png")


def test_text_and_track_look_as_approved():
    table = table_of(np.linspace(0, 30, 60))
    check(render(TEXT, 40, table=table, size=(400, 200), resolve=True), "text-and-track.png")
