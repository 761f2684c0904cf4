"""Drawing throughput of each bundled layout at 1080p in one process, as a worker draws (issue 5).

A worker builds its Renderer once, then for every frame it is sent clears its
shared-memory slot and draws the layout's regions into views of it. Here the
slot is a numpy array, the frames are 300 consecutive frames of the built-in
demo ride (every metric moving), and each round starts from a fresh Renderer
so the per-value caches start cold, as in a new worker. Target: >= 400
frames/s for `default` (extra_info["frames_per_s"]).

    .venv/bin/python -m pytest benchmarks/test_bench_layouts.py -p no:cacheprovider
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from overlay.layout import UnitSettings, bundled_layouts
from overlay.maps import MapOptions
from overlay.telemetry.demo import demo_telemetry
from pipeline.commands.dashboard import build_dashboard

FPS = Fraction(30)
FRAMES = 300
SIZE = (1920, 1080)
TARGET = {"default": 400.0}


@pytest.fixture(scope="module")
def demo():
    return demo_telemetry()


def _slot(regions):
    """A cleared RGBA slot and one writable image per region (rows stacked, as pipeline/worker.py does)."""
    width = max(r[2] - r[0] for r in regions)
    rows = sum(r[3] - r[1] for r in regions)
    array = np.zeros((rows, width, 4), np.uint8)
    views, first = [], 0
    for r in regions:
        h = r[3] - r[1]
        im = Image.frombuffer("RGBA", (width, h), array[first:first + h], "raw", "RGBA", 0, 1)
        im.readonly = 0
        views.append(im)
        first += h
    return array, tuple(views)


@pytest.mark.parametrize("name", bundled_layouts())
def test_layout_draw_throughput(benchmark, name, demo, tmp_path):
    count = int(demo["gps"].span[1] * FPS)
    dash = build_dashboard(name, demo, count, FPS, SIZE, UnitSettings(),
                           maps=MapOptions(offline=True, cache_dir=str(tmp_path), warn=None))
    frames = range(count // 2, count // 2 + FRAMES)

    def setup():
        paint = dash.painter()  # a new worker's Renderer: static layers and caches start empty
        array, views = _slot(dash.regions)
        return (paint, array, views), {}

    def draw(paint, array, views):
        for frame in frames:
            array.fill(0)
            paint(frame, views)

    benchmark.group = "layout drawing, 1080p, one worker"
    benchmark.pedantic(draw, setup=setup, rounds=5, iterations=1)
    fps = FRAMES / benchmark.stats.stats.mean
    benchmark.extra_info.update(frames=FRAMES, frames_per_s=round(fps, 1), ms_per_frame=round(1000 / fps, 3),
                                regions=len(dash.regions),
                                region_pixels=sum((r[2] - r[0]) * (r[3] - r[1]) for r in dash.regions))
    print(f"\n{name}: {fps:.0f} frames/s ({1000 / fps:.2f} ms/frame) at 1080p, one worker")
    if name in TARGET:
        assert fps >= TARGET[name], f"{name}: {fps:.0f} frames/s, target {TARGET[name]:.0f}"
