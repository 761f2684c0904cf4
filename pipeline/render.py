"""`overdash render`: resolve everything once in the main process, then run the pipeline.

Order matters for the failure rules: every check a user can fix (paths, video,
telemetry, layout, encoder) happens before any process starts or any file is
written.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from overdash import InputError
from overlay.layout.units import UnitSettings
from pipeline.config import RenderConfig, check_paths, parse_fps
from pipeline.progress import Progress
from pipeline.scheduler import PipelineJob, RunStats, partial_path, run_pipeline


@dataclass(frozen=True)
class LayoutPainter:
    """Picklable recipe for a worker's painter: the widget tree is built once per worker."""

    layout: object
    table: object
    video_size: tuple[int, int]
    units: object
    origin: tuple[int, int]

    def __call__(self):
        from overlay.render import Renderer

        renderer = Renderer(self.layout, self.table, self.video_size, self.units)
        origin = self.origin

        def paint(frame, image):
            renderer.draw(frame, image, origin)
        return paint


@dataclass(frozen=True)
class Plan:
    """Everything resolved for one render, before any process starts."""

    job: PipelineJob
    painter: LayoutPainter
    fps: Fraction
    profile_note: str
    video: object


def config_from_args(args) -> RenderConfig:
    return RenderConfig(
        input=args.input, output=args.output, workers=args.workers, layout=args.layout,
        overlay_fps=parse_fps(args.overlay_fps), include=tuple(args.include), exclude=tuple(args.exclude),
        units=UnitSettings(args.units_speed, args.units_altitude, args.units_distance, args.units_temperature),
        profile=args.profile, ffmpeg=args.ffmpeg, debug=args.debug, quiet=args.quiet)


def plan_render(config: RenderConfig) -> Plan:
    from encoders.command import OverlaySpec, build_command, overlay_frames_needed
    from encoders.probe import probe_video
    from encoders.capability import choose_profile
    from overlay.frametable import build_frame_table
    from overlay.layout import load_layout
    from overlay.render import Renderer
    from overlay.telemetry.gopro import load_gopro
    from overlay.units import UnitConverter

    check_paths(config)
    video = probe_video(config.input)
    telemetry = load_gopro(config.input)
    if "gps" not in telemetry:
        raise InputError(f"{config.input}: the GoPro telemetry has no GPS stream (GPS off, or a camera without GPS)")
    units = config.units
    layout = load_layout(config.layout, include=config.include, exclude=config.exclude)
    converter = UnitConverter()
    layout = layout.resolve_units(units, converter) if hasattr(layout, "resolve_units") else layout

    video_fps = Fraction(video.fps_num, video.fps_den)
    fps = config.overlay_fps or video_fps
    # Enough frames to cover the video; ffmpeg takes exactly this many (see overlay_frames_needed).
    count = video.frame_count if fps == video_fps else (video.frame_count - 1) * fps // video_fps + 1
    table = build_frame_table(telemetry, count, fps, layout.unit_requests(units), convert=converter.convert)

    size = (video.width, video.height)
    x0, y0, x1, y1 = Renderer(layout, table, size, units).bounds()
    if x1 <= x0 or y1 <= y0:
        raise InputError(f"layout {config.layout!r} draws nothing inside a {video.width}x{video.height} video")
    choice = choose_profile(config.profile, ffmpeg=config.ffmpeg)
    note = f"encoder profile {choice.profile.name}" + (f" ({choice.reason})" if choice.reason else "")
    overlay = OverlaySpec(x=x0, y=y0, width=x1 - x0, height=y1 - y0, pix_fmt="rgba",
                          fps_num=fps.numerator, fps_den=fps.denominator)
    if overlay_frames_needed(video, overlay) != count:
        raise AssertionError(f"overlay frame count {count} != {overlay_frames_needed(video, overlay)}")
    partial = partial_path(config.output)
    argv = build_command(choice.profile, video, overlay, partial, ffmpeg=config.ffmpeg, final_path=config.output)
    job = PipelineJob(count=count, width=overlay.width, height=overlay.height, argv=tuple(argv),
                      partial=partial, output=config.output, workers=config.workers)
    painter = LayoutPainter(layout, table, size, units, (x0, y0))
    return Plan(job, painter, fps, note, video)


def render(config: RenderConfig) -> RunStats:
    t0 = time.monotonic()
    plan = plan_render(config)
    say = (lambda *a: None) if config.quiet else (lambda *a: print(*a, file=sys.stderr))
    job = plan.job
    say(f"overdash: {config.input} → {config.output}: {job.count} overlay frames at {float(plan.fps):.3f} fps, "
        f"{job.width}x{job.height} overlay, {job.workers} workers; {plan.profile_note}")
    progress = Progress(job.count, float(plan.fps), enabled=not config.quiet)
    try:
        stats = run_pipeline(job, plan.painter, progress)
    finally:
        progress.close()
    duration = plan.video.duration or job.count / float(plan.fps)
    total = time.monotonic() - t0
    say(f"overdash: wrote {config.output} — {stats.frames} frames in {total:.1f} s "
        f"({stats.frames / max(stats.seconds, 1e-9):.0f} fps, {duration / total:.2f}× real time), "
        f"peak memory {stats.peak_rss_mib:.0f} MiB per process")
    return stats
