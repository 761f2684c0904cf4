"""The whole render against a plain transcode of the same clip (issue 6), and the overlay
transport choices measured against each other.

Targets on the cpu profile: at most 1.10x the plain `ffmpeg -c:v libx264 -preset
veryfast` transcode at 1080p30 with the default layout, 1.15x at 4K. Each group has
its own plain transcode; `make bench` prints every render as a multiple of it.

* transport: `yuva420p` (workers convert what changed, ffmpeg blends as is) against
  `rgba` (ffmpeg converts every region of every frame, serially);
* length: a 10.5 s clip carries about 0.4 s of fixed start-up (Python, planning),
  a 60 s one — an ordinary GoPro clip — much less of it.

    .venv/bin/python -m pytest benchmarks/test_bench_compositing.py --benchmark-only -p no:cacheprovider
"""
from __future__ import annotations

import pytest

from benchmarks.measure import RIDE, render_seconds, transcode_seconds

ROUNDS = 3


def _transcode(benchmark, clip, group):
    benchmark.group = group
    benchmark.extra_info.update(workers=0, label="plain transcode")
    benchmark.pedantic(lambda: transcode_seconds(clip), rounds=ROUNDS, iterations=1)


def _render(benchmark, clip, group, pix_fmt, ride=False):
    if ride and not RIDE.exists():
        pytest.skip(f"device file missing: {RIDE}")
    benchmark.group = group
    benchmark.extra_info.update(workers=2, label=f"render, overlay as {pix_fmt}")
    benchmark.pedantic(lambda: render_seconds(clip, 2, pix_fmt=pix_fmt, ride=ride), rounds=ROUNDS, iterations=1)


G1080 = "1080p30 10.5 s, default layout, cpu profile"
G1080_LONG = "1080p30 60 s (GPX ride), default layout, cpu profile"
G2160 = "2160p30 10.5 s, default layout, cpu profile"


def test_transcode_1080(benchmark, clip_1080):
    _transcode(benchmark, clip_1080, G1080)


@pytest.mark.parametrize("pix_fmt", ["yuva420p", "rgba"])
def test_render_1080(benchmark, clip_1080, pix_fmt):
    _render(benchmark, clip_1080, G1080, pix_fmt)


def test_transcode_1080_long(benchmark, clip_1080_long):
    _transcode(benchmark, clip_1080_long, G1080_LONG)


def test_render_1080_long(benchmark, clip_1080_long):
    _render(benchmark, clip_1080_long, G1080_LONG, "yuva420p", ride=True)


def test_transcode_2160(benchmark, clip_2160):
    _transcode(benchmark, clip_2160, G2160)


@pytest.mark.parametrize("pix_fmt", ["yuva420p", "rgba"])
def test_render_2160(benchmark, clip_2160, pix_fmt):
    _render(benchmark, clip_2160, G2160, pix_fmt)
