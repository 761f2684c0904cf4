"""Packing the dashboard's regions into the overlay frame that crosses the pipe."""
from __future__ import annotations

import itertools
import random

import pytest

from encoders.command import Region
from pipeline.commands.render import pack_regions


def check_packing(boxes, regions, width, height):
    assert len(regions) == len(boxes)
    for box, r in zip(boxes, regions):
        assert (r.x, r.y, r.x + r.width, r.y + r.height) == box, "each region keeps its place in the video"
        assert 0 <= r.atlas_x and r.atlas_x + r.width <= width and 0 <= r.atlas_y and r.atlas_y + r.height <= height
    for a, b in itertools.combinations(regions, 2):
        apart = (a.atlas_x + a.width <= b.atlas_x or b.atlas_x + b.width <= a.atlas_x
                 or a.atlas_y + a.height <= b.atlas_y or b.atlas_y + b.height <= a.atlas_y)
        assert apart, f"{a} overlaps {b} in the atlas"


# The default layout's three clusters at 1080p (top left, bottom right, bottom left).
DEFAULT_1080 = ((40, 40, 400, 170), (1560, 720, 1880, 1040), (40, 796, 820, 1040))


def test_stacked_bands_for_rgba():
    regions, width, height = pack_regions(DEFAULT_1080, Region)
    check_packing(DEFAULT_1080, regions, width, height)
    assert (width, height) == (780, 130 + 320 + 244)
    assert [r.atlas_x for r in regions] == [0, 0, 0]


@pytest.mark.parametrize("seed", range(10))
def test_random_boxes_never_overlap(seed):
    rnd = random.Random(seed)
    boxes = []
    for _ in range(rnd.randint(1, 7)):
        x, y = 2 * rnd.randint(0, 800), 2 * rnd.randint(0, 400)
        boxes.append((x, y, x + 2 * rnd.randint(1, 300), y + 2 * rnd.randint(1, 200)))
    regions, width, height = pack_regions(tuple(boxes), Region)
    check_packing(boxes, regions, width, height)
    assert (width, height) == (max(b[2] - b[0] for b in boxes), sum(b[3] - b[1] for b in boxes))
