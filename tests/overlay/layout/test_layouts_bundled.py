"""Bundled layouts and a hand-written layout in the vocabulary, drawn with demo telemetry.

Every bundled layout loads and draws at its design size and at 720p and 4K,
and the 4K picture shrunk to 720p is the 720p picture (scaling is uniform,
nothing snaps to a different place). tests/data/every-type.xml — written the
way users write layouts for gopro-dashboard-overlay — draws something in the
box of every one of its components. The 9:16 layout fills the bottom third of
a phone video and leaves the middle free.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PIL import Image, ImageFilter

from overlay.conversion import UnitConverter
from overlay.frametable import build_frame_table
from overlay.layout import Component, Frame, Group, UnitSettings, bundled_layouts, load_layout, pace_aware
from overlay.layout.parse import BUNDLED_DIR
from overlay.renderer import Renderer
from overlay.telemetry.demo import demo_telemetry
from overlay.widgets import lookup
from overlay.widgets.base import union
from tests.support.paths import TEST_DATA

EVERY_TYPE = TEST_DATA / "every-type.xml"
FPS = Fraction(30)
DESIGNED = ("default", "minimal", "cycling", "motor", "vertical")


# Map widgets must read only an empty tile cache: the same pictures on every machine.
pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture(scope="module")
def telemetry():
    return demo_telemetry()


def frame_count(telemetry) -> int:
    return int(telemetry["gps"].span[1] * FPS)


def prepared(ref, telemetry):
    """(layout with unit labels resolved, frame table) — what the main process hands to workers."""
    converter = UnitConverter()
    layout = load_layout(ref).resolve_units(UnitSettings(), converter)
    table = build_frame_table(telemetry, frame_count(telemetry), FPS, layout.unit_requests(UnitSettings()),
                              convert=pace_aware(converter.convert))
    return layout, table


def overlay_image(layout, table, size, frame) -> np.ndarray:
    """The dashboard alone (RGBA over transparent), as a worker draws it: region by region."""
    renderer = Renderer(layout, table, size)
    regions = renderer.regions()
    width = max(r[2] - r[0] for r in regions)
    views = [Image.new("RGBA", (width, r[3] - r[1])) for r in regions]
    renderer.draw_regions(frame, views, regions)
    canvas = Image.new("RGBA", size)
    for (x0, y0, x1, y1), view in zip(regions, views):
        canvas.alpha_composite(view.crop((0, 0, x1 - x0, y1 - y0)), (x0, y0))
    return np.asarray(canvas)


def over_background(rgba: np.ndarray) -> np.ndarray:
    """The overlay composited over a bright-to-dark gradient (like footage: sky above, road below)."""
    h, w = rgba.shape[:2]
    bg = np.broadcast_to(np.linspace(220, 30, h, dtype=np.float32)[:, None, None], (h, w, 3))
    a = rgba[..., 3:4].astype(np.float32) / 255
    return rgba[..., :3].astype(np.float32) * a + bg * (1 - a)  # Pillow keeps RGBA un-premultiplied


def test_the_bundled_layouts_are_there():
    assert set(DESIGNED) <= set(bundled_layouts())


@pytest.mark.parametrize("name", DESIGNED)
def test_bundled_layout_declares_its_canvas_and_draws_at_design_size(name, telemetry):
    text = (BUNDLED_DIR / f"{name}.xml").read_text()
    assert "<layout width=" in text  # each bundled layout says what it was designed for
    layout, table = prepared(name, telemetry)
    size = layout.preferred_size
    assert size == ((1080, 1920) if name == "vertical" else (1920, 1080))
    im = overlay_image(layout, table, size, frame_count(telemetry) // 2)
    drawn = im[..., 3] > 0
    assert drawn.mean() > 0.002, f"{name}: almost nothing drawn"
    # the middle of the picture (its centre ninth) stays free for the footage
    h, w = drawn.shape
    assert not drawn[h // 3: 2 * h // 3, w // 3: 2 * w // 3].any(), f"{name}: draws over the middle of the picture"


def _scaling_sizes(name):
    pairs = [((1280, 720), (3840, 2160))]
    if name == "vertical":
        pairs.append(((720, 1280), (2160, 3840)))
    return [(name, small, big) for small, big in pairs]


@pytest.mark.parametrize("name,small,big", [p for n in DESIGNED for p in _scaling_sizes(n)])
def test_bundled_layout_is_the_same_picture_at_720p_and_4k(name, small, big, telemetry):
    layout, table = prepared(name, telemetry)
    frame = frame_count(telemetry) // 3
    low = over_background(overlay_image(layout, table, small, frame))
    high = Image.fromarray(np.round(over_background(overlay_image(layout, table, big, frame))).astype(np.uint8))
    shrunk = np.asarray(high.resize(small, Image.Resampling.BOX)).astype(np.float32)
    diff = np.abs(shrunk - low)
    assert diff.mean() < 2.5, f"{name}: mean abs diff {diff.mean():.2f} over the picture"
    # Over the dashboard itself, softened by a 2 px blur: text is rasterised at each size (its
    # hinting moves glyph edges by a pixel or so); a widget out of place or mis-sized is not.
    x0, y0, x1, y1 = Renderer(layout, table, small).bounds()
    soft = [np.asarray(Image.fromarray(np.round(im).astype(np.uint8)).filter(ImageFilter.GaussianBlur(2)),
                       dtype=np.float32)[y0:y1, x0:x1] for im in (low, shrunk)]
    local = np.abs(soft[0] - soft[1]).mean()
    assert local < 8.0, f"{name}: mean abs diff {local:.2f} over the dashboard"


def test_vertical_fills_the_bottom_third_of_a_phone_video_and_keeps_the_middle_free(telemetry):
    layout, table = prepared("vertical", telemetry)
    im = overlay_image(layout, table, (1080, 1920), frame_count(telemetry) // 2)
    drawn = im[..., 3] > 0
    bottom = drawn[1280:]
    assert bottom.mean() > 0.6, f"bottom third only {bottom.mean():.0%} covered"
    cols, rows = np.flatnonzero(bottom.any(axis=0)), np.flatnonzero(bottom.any(axis=1))
    assert cols[0] < 80 and cols[-1] > 1000  # edge to edge, with a margin
    assert rows[0] < 40 and rows[-1] > 560
    assert not drawn[300:1280].any(), "the middle of the picture is not free"
    # the same layout on a 2160x3840 (4K) phone video covers the same share
    big = overlay_image(layout, table, (2160, 3840), frame_count(telemetry) // 2)[..., 3] > 0
    assert abs(big[2560:].mean() - bottom.mean()) < 0.01


# --- a layout written by hand, in the vocabulary --------------------------------------------------

def _components_with_offsets(nodes, offset=(0.0, 0.0)):
    for node in nodes:
        if isinstance(node, Component):
            yield node, offset
        else:
            yield from _components_with_offsets(node.children, (offset[0] + node.x, offset[1] + node.y))


def test_hand_written_layout_uses_the_whole_vocabulary():
    layout = load_layout(EVERY_TYPE)
    assert layout.preferred_size == (1920, 1080)  # no width/height: picture pixels, previewed at 1080p
    kinds = {type(n).__name__ if not isinstance(n, Group) else n.kind for n in _walk(layout.children)}
    assert {"composite", "translate", "Frame", "Component"} <= kinds
    frame = next(n for n in _walk(layout.children) if isinstance(n, Frame))
    assert frame.cr > 0 and frame.opacity < 1 and frame.bg and frame.outline
    used = {c.type for c in layout.components()}
    from overlay.widgets.registry import known_types
    missing = set(known_types()) - used
    assert len(used) >= 0.8 * len(known_types()), f"not used: {sorted(missing)}"


def _walk(nodes):
    for n in nodes:
        yield n
        if not isinstance(n, Component):
            yield from _walk(n.children)


@pytest.mark.slow
def test_hand_written_layout_draws_in_every_components_box(telemetry):
    layout, table = prepared(EVERY_TYPE, telemetry)
    size, frame = (1920, 1080), frame_count(telemetry) // 2
    whole = overlay_image(layout, table, size, frame).astype(np.int16)
    assert (whole[..., 3] > 0).any()
    renderer = Renderer(layout, table, size)
    for node, offset in _components_with_offsets(layout.children):
        assert node.name, f"{node.where}: every component in every-type.xml has a name"
        parts = lookup(node.type).widget(node, offset, renderer.ctx).parts()
        box = union(p.bbox() for p in parts)
        assert box is not None, f"{node.where}: {node.type} has no box"
        x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(size[0], box[2]), min(size[1], box[3])
        assert x1 > x0 and y1 > y0, f"{node.where}: {node.type} is outside the picture"
        # what the component adds: the picture with it, minus the picture without it
        without = overlay_image(layout.select(exclude=(node.name,)), table, size, frame).astype(np.int16)
        changed = np.abs(whole[y0:y1, x0:x1] - without[y0:y1, x0:x1]).max(axis=-1) > 8
        assert changed.sum() >= 20, f"{node.where}: {node.type} {node.name!r} drew nothing in its box {box}"


@pytest.mark.parametrize("ref", [*bundled_layouts(), str(EVERY_TYPE)])
def test_repainting_only_the_damaged_box_gives_the_frame_drawn_from_scratch(ref, telemetry):
    """Workers repaint only the box where two frames of a region differ (Renderer.damage: the
    extents of the widgets whose keys changed, grown over widgets that cannot draw a part of
    themselves). Walking frames forwards, backwards and in jumps, each region repainted that
    way must be exactly the region drawn from scratch at that frame."""
    layout, table = prepared(ref, telemetry)
    renderer = Renderer(layout, table, (1280, 720))
    regions = renderer.regions()
    n = frame_count(telemetry)
    walk = [0, 1, 2, 3, 5, 4, 9, 30, 31, 62, 61, 200, 201, 202, 1000, 999, n // 2, n // 2 + 1, n - 2, n - 1, 7]
    canvases = [Image.new("RGBA", (r[2] - r[0], r[3] - r[1])) for r in regions]
    held = [(None, None)] * len(regions)
    boxes = []
    for frame in walk:
        keys = renderer.region_keys(frame, regions)
        for i, canvas in enumerate(canvases):
            old, old_keys = held[i]
            if old is None:
                renderer.draw_region(frame, canvas, i, regions)
            elif old_keys != keys[i]:
                box = renderer.damage(i, regions, old, old_keys, frame, keys[i])
                if box is not None:
                    assert all(v % 2 == 0 for v in box) and box[2] <= canvas.width and box[3] <= canvas.height
                    patch = Image.new("RGBA", (box[2] - box[0], box[3] - box[1]), (255, 0, 255, 255))
                    renderer.draw_box(frame, patch, i, regions, box)
                    canvas.paste(patch, box[:2])
                    boxes.append((box[2] - box[0]) * (box[3] - box[1]) / (canvas.width * canvas.height))
            held[i] = (frame, keys[i])
            fresh = Image.new("RGBA", canvas.size)
            renderer.draw_region(frame, fresh, i, regions)
            assert np.array_equal(np.asarray(canvas), np.asarray(fresh)), f"{ref}: region {i} at frame {frame}"
    assert boxes, "the demo ride changes something between these frames"
