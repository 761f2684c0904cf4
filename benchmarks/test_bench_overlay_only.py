"""Transparent exports in `make bench`: the dashboard alone (ProRes 4444 with alpha) from the FIT
ride, against ffmpeg alone encoding a transparent picture of the same size with the same settings
(benchmarks/overlay_only.py has the measures and a longer command-line report)."""
from __future__ import annotations

import pytest

from benchmarks.overlay_only import FIT, figures, pairs

PAIRS = 3


@pytest.mark.parametrize("size, seconds", [((1920, 1080), 10.0), ((3840, 2160), 4.0)])
def test_prores_alpha_over_ffmpeg_alone(benchmark, tmp_path, size, seconds):
    if not FIT.exists():
        pytest.skip(f"device file missing: {FIT}")
    benchmark.group = "render ÷ transcode (medians of alternated pairs)"
    ours, floor = benchmark.pedantic(lambda: pairs("prores-alpha", size, seconds, PAIRS, tmp_path),
                                     rounds=1, iterations=1)
    benchmark.extra_info.update(label=f"prores-alpha {size[0]}x{size[1]} {seconds:g} s FIT ride, alone",
                                realtime=round(seconds / figures(ours, floor)["render_wall_s"], 2),
                                **figures(ours, floor))


def test_prores_alpha_of_a_camera_video_over_ffmpeg_alone(benchmark, tmp_path):
    """`--generate overlay` of a 1080p clip with a GoPro's telemetry: a dashboard that changes on
    most frames, so nearly every picture is encoded (the ride's case above repeats most)."""
    from benchmarks.clips import make_clip

    clip = make_clip(1920, 1080, 10.0)
    benchmark.group = "render ÷ transcode (medians of alternated pairs)"
    ours, floor = benchmark.pedantic(lambda: pairs("prores-alpha", (1920, 1080), 10.0, PAIRS, tmp_path, clip=clip),
                                     rounds=1, iterations=1)
    benchmark.extra_info.update(label="prores-alpha 1920x1080 10 s --generate overlay of a camera clip, alone",
                                realtime=round(10.0 / figures(ours, floor)["render_wall_s"], 2),
                                **figures(ours, floor))
