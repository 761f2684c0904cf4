"""How render lays out the dashboard's regions: one NUT stream each, in either pixel format.

"""
from __future__ import annotations

import pytest

from encoders import nut, repeat
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


def test_overlay_only_outputs_send_regions_pasted_into_a_transparent_picture(tmp_path):
    """A ride file alone: the dashboard's regions cross as in a composited render (a stream each,
    sent when changed: the writer's usual keepalive), and ffmpeg pastes each at its place into a
    transparent picture of the output size with exactly the overlay's frame count."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render
    from pipeline.writer import KEEPALIVE_FRAMES

    ride = device_file("gpx/ride-2021-09-24.gpx.gz")
    plan = plan_render(RenderConfig(input=ride, output=tmp_path / "dash.mov", workers=2, quiet=True,
                                    size=(640, 360), from_time="600", to_time="602"))
    job = plan.job
    places = plan.overlay.placements()
    assert len(places) == 3 and [(r.x, r.y, r.x + r.width, r.y + r.height) for r in places] == \
        list(plan.painter.regions)
    assert job.regions == tuple((r.width, r.height) for r in places)
    assert sum(w * h for w, h in job.regions) < 640 * 360 // 2
    assert job.keepalive == KEEPALIVE_FRAMES and job.pix_fmt == "rgba"
    i = job.argv.index("pipe:0")
    assert list(job.argv[i - 3:i + 1]) == ["-f", "nut", "-i", "pipe:0"]
    graph = job.argv[job.argv.index("-filter_complex") + 1]
    layout = "|".join(["639_359", *(f"{r.x}_{r.y}" for r in places)])
    assert graph.endswith(f"[clock][r0][r1][r2]xstack=inputs=4:layout={layout}:fill=black@0[vout]")
    assert job.argv[job.argv.index("-map") + 1] == "[vout]"
    # ProRes (the .mov default): the clock is stream 0, one tick per distinct picture, already in
    # yuva444p10le; the coded frames go to stdout, and a second ffmpeg copies them into the file.
    assert job.nut_header == nut.header([(1, 1), *job.regions], 30, 1, "rgba", fourccs=[repeat.CLOCK_FOURCC])
    assert job.clock == repeat.CLOCK_PIXEL
    assert graph.startswith("[0:0]null[clock];")
    for k in range(len(places)):
        assert f"[0:{k + 1}]scale=out_color_matrix=bt709:out_range=tv,format=yuva444p10le[r{k}]" in graph
    assert "[0:4]" not in graph and "trim" not in graph
    assert job.argv[-3:] == ("-f", "rawvideo", "pipe:1")
    assert job.mux_argv[-1] == str(job.partial) and "copy" in job.mux_argv and "+faststart" in job.mux_argv
    assert job.mux_header == nut.header([(640, 360)], 30, 1, fourccs=[b"ap4h"])


def test_overlay_only_outputs_of_inter_coded_profiles_paste_onto_a_lavfi_clock(tmp_path):
    """qtrle codes a frame against the one before, so every frame is encoded: the 1x1 clock is a
    lavfi source of exactly the overlay's frame count, and one ffmpeg writes the file."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    ride = device_file("gpx/ride-2021-09-24.gpx.gz")
    plan = plan_render(RenderConfig(input=ride, output=tmp_path / "dash.mov", workers=2, quiet=True,
                                    size=(640, 360), from_time="600", to_time="602", profile="qtrle"))
    job = plan.job
    places = plan.overlay.placements()
    assert job.mux_argv == () and job.nut_header == nut.header(job.regions, 30, 1, "rgba")
    graph = job.argv[job.argv.index("-filter_complex") + 1]
    assert graph.startswith(f"color=c=black@0:s=1x1:r=30,format=argb,trim=end_frame={job.count}[clock]")
    for k in range(len(places)):
        assert f"[0:{k}]trim=end_pts={job.count},format=argb[r{k}]" in graph
    assert "[0:3]" not in graph
