"""pytest-benchmark suites (`make bench`): overlay drawing into a null sink and the whole
render, for 1, 2 and 4 workers, plus the plain transcode every render is compared with.
"""
from __future__ import annotations

import pytest

from benchmarks.measure import _config, null_sink, transcode_seconds
from pipeline.commands.render import plan_render, render
from pipeline.scheduler import run_pipeline

WORKERS = [1, 2, 4]


@pytest.mark.parametrize("workers", WORKERS)
def test_overlay_null_sink(benchmark, clip_1080, workers, tmp_path):
    benchmark.group = "overlay → null sink"
    plan = plan_render(_config(clip_1080, tmp_path / "x.mp4", workers))
    out = tmp_path / "null"
    job = null_sink(plan.job, out)
    stats = benchmark.pedantic(lambda: run_pipeline(job, plan.painter), setup=lambda: out.unlink(missing_ok=True),
                                   rounds=3, iterations=1)
    benchmark.extra_info.update(workers=workers, frames=job.count, steady_fps=round(stats.steady_fps, 1),
                                overlay=f"{job.width}x{job.height}")


@pytest.mark.parametrize("workers", WORKERS)
def test_full_render(benchmark, clip_1080, workers, tmp_path):
    benchmark.group = "full render (1080p, cpu profile)"
    stats = benchmark.pedantic(
        lambda: render(_config(clip_1080, tmp_path / "dash.mp4", workers)), rounds=3, iterations=1)
    benchmark.extra_info.update(workers=workers, frames=stats.frames, peak_rss_mib=round(stats.peak_rss_mib))


def test_plain_transcode(benchmark, clip_1080):
    benchmark.group = "full render (1080p, cpu profile)"
    benchmark.extra_info.update(workers=0, baseline="ffmpeg -c:v libx264 -preset veryfast")
    benchmark.pedantic(lambda: transcode_seconds(clip_1080), rounds=3, iterations=1)
