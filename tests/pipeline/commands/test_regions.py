"""How render lays out the dashboard's regions: one NUT stream each, in either pixel format.

"""
from __future__ import annotations

import pytest

from encoders import nut
from tests.support.paths import device_file


@pytest.mark.parametrize("pix_fmt", ["rgba", "yuva420p"])
def test_each_region_keeps_its_place_and_is_a_stream_of_its_own(tmp_path, pix_fmt):
    """The overlay's regions are the dashboard's boxes, each blended where the layout draws it;
    the ring has a slice per region of exactly its size, and the NUT header a stream per region
    in the overlay's pixel format (RGBA regions need no even sizes: nothing is cropped)."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    sample = device_file("gopro/max-heromode.mp4")
    plan = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True,
                                    overlay_pix_fmt=pix_fmt))
    boxes = plan.painter.regions
    assert len(boxes) == 3, "the default layout at 1080p: three clusters"
    places = plan.overlay.placements()
    assert [(r.x, r.y, r.x + r.width, r.y + r.height) for r in places] == list(boxes)
    assert plan.job.regions == tuple((r.width, r.height) for r in places)
    assert plan.job.pix_fmt == plan.overlay.pix_fmt == pix_fmt
    assert plan.job.nut_header == nut.header(plan.job.regions, plan.fps.numerator, plan.fps.denominator, pix_fmt)
    graph = plan.job.argv[plan.job.argv.index("-filter_complex") + 1]
    assert [f"[1:{i}]" in graph for i in range(4)] == [True, True, True, False]
    assert "crop=" not in graph and "split=" not in graph


def test_overlay_only_outputs_send_the_whole_picture_every_frame(tmp_path):
    """A ride file alone: one region the size of the picture, every frame sent (each is encoded)."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    ride = device_file("gpx/ride-2021-09-24.gpx.gz")
    plan = plan_render(RenderConfig(input=ride, output=tmp_path / "dash.mov", workers=2, quiet=True,
                                    size=(640, 360), from_time="600", to_time="602"))
    job = plan.job
    assert job.regions in ((), ((640, 360),)) and (job.width, job.height) == (640, 360)
    assert job.keepalive == 1 and job.nut_header == nut.header([(640, 360)], 30, 1, "rgba")
    i = job.argv.index("pipe:0")
    assert list(job.argv[i - 3:i + 1]) == ["-f", "nut", "-i", "pipe:0"]
