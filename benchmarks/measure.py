"""The three measurements every benchmark and the perf check are built from.

Each runs the real thing (real processes, real ffmpeg). The transcode and the render
return a Cost: seconds of wall time and CPU seconds (user + system of the process and
every descendant it waited for: ffmpeg, ffprobe, workers, writer). Ratios between them,
taken in one run, are what we compare: wall time is what one user waits, CPU seconds what a
machine rendering many clips at once pays.
"""
from __future__ import annotations

import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.commands.config import RenderConfig
from pipeline.commands.render import plan_render
from pipeline.scheduler import run_pipeline

# A real ride drives long benchmark clips: the sample's own GPMF covers 10.5 s, and a
# dashboard frozen after that would hide the per-frame cost (nothing to redraw).
RIDE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gpx" / "ride-2021-09-24.gpx.gz"
RIDE_START = "2021-09-24T10:30:00Z"  # half an hour in: moving, every value changing


def _config(clip: Path, out: Path, workers: int, layout: str = "default", *, pix_fmt: str = "auto",
            ride: bool = False) -> RenderConfig:
    extra = dict(gpx=RIDE, start=RIDE_START, merge="replace") if ride else {}
    return RenderConfig(input=clip, output=out, workers=workers, layout=layout, profile="cpu", quiet=True,
                        overlay_pix_fmt=pix_fmt, **extra)


@dataclass(frozen=True)
class Cost:
    wall: float  # seconds
    cpu: float  # CPU seconds, user + system, all processes of the run

    def __truediv__(self, other: "Cost") -> "Cost":
        return Cost(self.wall / other.wall, self.cpu / other.cpu)


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(argv, **kwargs) -> Cost:
    """Run `argv` to completion (check=True) and return its Cost. The CPU seconds are this
    process's waited-for children before and after: the run's whole tree, reaped by it."""
    cpu, start = children_cpu(), time.monotonic()
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, **kwargs)
    return Cost(time.monotonic() - start, children_cpu() - cpu)


def alternated(first, second, pairs: int) -> list[tuple]:
    """`pairs` pairs of (first(), second()), the order swapped in every other pair (ABBA).

    The machine drifts within a run (other tenants, clock boost, the page cache): with one side
    always second, drift would tilt every ratio the same way; swapped, it cancels."""
    runs = []
    for i in range(pairs):
        if i % 2:
            b, a = second(), first()
        else:
            a, b = first(), second()
        runs.append((a, b))
    return runs


def transcode_seconds(clip: Path) -> float:
    return transcode_cost(clip).wall


def transcode_cost(clip: Path) -> Cost:
    """A plain ffmpeg transcode with the same encoder settings as our render: the floor."""
    from encoders.command import build_transcode_command
    from encoders.probe import probe_video
    from encoders.profiles import load_profile

    with tempfile.TemporaryDirectory(prefix="overdash-bench-") as tmp:
        out = Path(tmp) / "plain.mp4"
        return timed(build_transcode_command(load_profile("cpu"), probe_video(clip), out))


def render_seconds(clip: Path, workers: int, layout: str = "default", *, pix_fmt: str = "auto",
                   ride: bool = False) -> float:
    return render_cost(clip, workers, layout, pix_fmt=pix_fmt, ride=ride).wall


def render_cost(clip: Path, workers: int, layout: str = "default", *, pix_fmt: str = "auto",
                ride: bool = False) -> Cost:
    """The whole `overdash render` as a user runs it: a new process, imports and planning included.

    pix_fmt: how the overlay crosses to ffmpeg (auto = yuva420p converted by the workers
    here; rgba = converted by ffmpeg). ride: the dashboard driven by the GPX ride (RIDE).
    Python may cache bytecode, as it does on a user's machine (PYTHONDONTWRITEBYTECODE,
    set in some sandboxes, would add ~40 ms of compiling to every run).
    """
    import os
    import sys

    args = ["render", str(clip), "OUT", "--workers", str(workers), "--layout", layout, "--profile", "cpu",
            "--overlay-pix-fmt", pix_fmt, "-q"]
    if ride:
        args += ["--gpx", str(RIDE), "--start", RIDE_START, "--merge", "replace"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="overdash-bench-") as tmp:
        argv = [sys.executable, "-m", "pipeline.commands.cli",
                *[str(Path(tmp) / "dash.mp4") if a == "OUT" else a for a in args]]
        return timed(argv, env=env, cwd=Path(__file__).resolve().parents[1])


@dataclass(frozen=True)
class HeavyPainter:
    """The real layout painter plus a fixed amount of extra drawing per frame.

    Today's widgets draw a frame in ~0.5 ms, so moving frames, not drawing them,
    bounds the throughput and worker counts hardly differ. Maps, charts and
    gauges will draw for several ms; this stand-in (two Gaussian blurs, ~3 ms)
    makes the worker-scaling check measure what the pool is for.
    """

    inner: object
    blur_size: tuple[int, int] = (480, 320)

    def __call__(self):
        from PIL import Image, ImageFilter

        paint = self.inner()
        scratch = Image.effect_noise(self.blur_size, 64).convert("RGBA")

        def heavy(frame, views, previous=None):
            paint(frame, views, previous)
            for radius in (6, 9):
                scratch.filter(ImageFilter.GaussianBlur(radius))
        return heavy


def null_sink(job, out: Path):
    """`job` with ffmpeg reading the overlay frames and discarding them (-c copy -f null).

    The stream is read as the writer sends it: NUT, a stream per region. The null muxer
    writes nothing; the run creates `out` itself (as it creates every partial file, exclusively,
    under its lock) and renames it onto itself, so `out` must not exist before each run.
    """
    source = ("-probesize", "4096", "-analyzeduration", "0", "-f", "nut", "-i", "pipe:0", "-map", "0")
    sink = ("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostats", *source, "-c", "copy", "-f", "null", "-")
    return replace(job, argv=sink, partial=out, output=out)


def overlay_fps(clip: Path, workers: int, layout: str = "default", heavy: bool = False) -> float:
    """Overlay frames/s drawn and moved through the ring into a null sink (ffmpeg -c copy -f null),
    once running: process start-up is left out, it would swamp a short clip."""
    with tempfile.TemporaryDirectory(prefix="overdash-bench-") as tmp:
        plan = plan_render(_config(clip, Path(tmp) / "dash.mp4", workers, layout))
        out = Path(tmp) / "null.nut"
        job = null_sink(plan.job, out)
        stats = run_pipeline(job, HeavyPainter(plan.painter) if heavy else plan.painter)
        return stats.steady_fps
