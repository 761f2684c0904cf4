"""`overdash render`: resolve everything once in the main process, then run the pipeline.

Order matters for the failure rules: every check a user can fix (paths, video,
encoder, telemetry, then the layout) happens before any file is written. ffmpeg
is the one process started earlier, as soon as the video and the encoder are known:
it loads its libraries while the telemetry is read and the layout measured, and
waits for its filter graph, which only the measured layout can give, so a
telemetry or layout error still leaves nothing but a process to kill.
"""
from __future__ import annotations

import dataclasses
import shlex
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from overdash import InputError
from overdash.files import partial_path
from overlay.layout.units import UnitSettings
from pipeline.commands.config import (
    RenderConfig,
    check_paths,
    parse_fps,
    parse_size,
    pil_flavour,
)
from pipeline.commands.dashboard import build_dashboard
from pipeline.commands.overlay_only import overlay_only_profile, plan_full_frame, plan_ride_only
from pipeline.commands.plan import Plan, canvas_size, map_args, profile_note
from pipeline.commands.progress import Progress
from pipeline.commands.sources import (
    check_whole,
    is_ride_file,
    lap_options,
    layout_streams,
    load_source,
    probe_source,
    source_paths,
)
from pipeline.procs import sigint_blocked

if TYPE_CHECKING:
    from pipeline.scheduler import RunStats


def config_from_args(args) -> RenderConfig:
    """The command line resolved once; gopro-dashboard-overlay's spellings via pipeline.commands.compat,
    and every option that this render would ignore refused (config.refuse_ignored)."""
    from pipeline.commands.compat import resolve
    from pipeline.commands.config import refuse_ignored
    from pipeline.commands.sources import is_ride_file

    compat = resolve(args)
    refuse_ignored(args, ride_only=is_ride_file(compat["input"]), has_ride=bool(compat["gpx"] or compat["fit"]))
    return RenderConfig(
        chapters=not args.no_chapters, gpmf=args.gpmf,
        output=args.output, workers=args.workers,
        overlay_fps=parse_fps(args.overlay_fps), include=tuple(args.include), exclude=tuple(args.exclude),
        units=UnitSettings(args.units_speed, args.units_altitude, args.units_distance, args.units_temperature),
        debug=args.debug, quiet=args.quiet, font=args.font,
        merge=compat.pop("merge") or "extend", sync=args.sync, offset=args.offset, start=args.start, tz=args.tz,
        keep_gpmf=args.keep_gpmf, size=parse_size(args.size) if args.size else None,
        from_time=getattr(args, "from"), to_time=args.to,
        offline=args.offline, overlay_pix_fmt=args.overlay_pix_fmt,
        altitude=args.altitude, laps=lap_options(args), **compat)


def plan_render(config: RenderConfig, prefetch=None, *, start_ffmpeg: bool = False, part=None) -> Plan:
    """`prefetch`: pipeline.commands.sources.Prefetch, ffprobe already running for the input.

    `start_ffmpeg`: start ffmpeg as soon as the video and encoder are known, with its
    graph to follow through a pipe once the layout is measured (Plan.encoder). It
    loads its libraries meanwhile (~45 ms, 1.4% of rendering a 10 s clip). Nothing is
    written before the graph arrives, and a failure after the start kills it.

    `part`: pipeline.distributed.segments.Part, render only video frames [first, end) (a
    segment of `render --ray`), with the dashboard planned for the whole video.
    """
    from encoders.capability import choose_profile, ffmpeg_features
    from encoders.chapters import concat_list
    from encoders.command import (
        FFMPEG_ENV,
        OverlaySpec,
        Region,
        build_command,
        overlay_frames_needed,
        overlay_graph,
    )
    from encoders.nut import header as nut_header

    try:
        check_paths(config)
    except BaseException:
        if prefetch is not None:
            prefetch.join()  # the run ends here: reap ffprobe
        raise
    say = (lambda text: None) if config.quiet else (lambda text: print(text, file=sys.stderr))
    try:  # this ffmpeg's release and spellings; one too old is refused before anything is read
        features = ffmpeg_features(config.ffmpeg)
    except BaseException:
        if prefetch is not None:
            prefetch.join()
        raise
    if is_ride_file(config.input):
        return plan_ride_only(config, features)

    # ffmpeg starts as soon as the video's facts and the encoder are known, before the imports
    # and work the telemetry and layout need (~0.15 s of numpy, Pillow, widgets): it loads its
    # libraries (~60 ms) on the other core meanwhile, and is ready when the graph is. The layout
    # is read first (the streams it shows decide what of the track is decoded) only where the
    # facts are not there yet: an ffprobe still running, or chapters and runs without a prefetch
    # (a Ray segment), whose video is probed with the telemetry read (load_source).
    paths = source_paths(config)
    single = prefetch is not None and len(paths) == 1
    layout_later = single and prefetch.answered()
    imu = None if layout_later else layout_streams(config)

    def load(video):  # called once
        check_whole(paths)  # a cut-short copy: refused before its telemetry is read, and nothing is written
        streams = layout_streams(config) if layout_later else imu
        return load_source(config, say=say, prefetch=prefetch, imu=streams, video=video, paths=paths)

    source = None if single else load(None)
    video = source.video if source is not None else probe_source(config, prefetch, paths)
    video_fps = Fraction(video.fps_num, video.fps_den)
    fps = config.overlay_fps or video_fps
    # Enough frames to cover the video; ffmpeg takes exactly this many (see overlay_frames_needed).
    count = video.frame_count if fps == video_fps else (video.frame_count - 1) * fps // video_fps + 1
    size = (video.display_width, video.display_height)
    canvas = canvas_size(config.overlay_size, size)
    name = overlay_only_profile(config) if config.generate == "overlay" else config.profile
    choice = choose_profile(name, ffmpeg=config.ffmpeg, video=video)
    note = profile_note(choice)
    if config.generate == "overlay" and not choice.profile.overlay_only:
        raise InputError(f"--generate overlay writes the dashboard alone, and profile '{choice.profile.name}' "
                         f"draws over the video: use prores-alpha (.mov), vp9-alpha (.webm), qtrle or png")
    if choice.profile.overlay_only:  # the dashboard alone, with alpha, at the video's size
        source = source or load(video)
        return plan_full_frame(config, choice.profile, note, source.telemetry, source.zone, count, fps, canvas,
                                video=video, duration=video.duration, features=features)
    if config.bg and config.bg[3]:
        raise InputError(f"--bg {','.join(map(str, config.bg))}: a background would cover the video; it is for "
                         f"the dashboard alone (--generate overlay)")
    pix_fmt = overlay_pix_fmt(config.overlay_pix_fmt, choice.profile, video)
    partial = partial_path(config.output)
    concat = (Path(tempfile.gettempdir()) / f"{partial.name}.ffconcat", concat_list(video)) if video.parts else None

    encoded = part.video(video) if part else video  # what this run's ffmpeg reads of the source

    def command(overlay, graph_via=None):
        argv = build_command(choice.profile, encoded, overlay, partial, ffmpeg=config.ffmpeg,
                             final_path=config.output, concat_path=concat[0] if concat else None,
                             keep_gpmf=config.keep_gpmf, graph_via=graph_via, features=features)
        return part.argv(argv, video) if part else argv

    encoder = graph_via = None
    try:
        # Each region is a NUT stream of its own, described by the stream's header: nothing but
        # the graph depends on the regions. Chapters keep the late start (their concat list is
        # written just before the run).
        if start_ffmpeg and concat is None:
            with sigint_blocked():  # a Ctrl-C meanwhile comes once `encoder` is there to abort
                encoder, graph_via = _start_before_layout(features.graph_script, command, fps, pix_fmt,
                                                          env=FFMPEG_ENV, partial=partial)
        source = source or load(video)
        telemetry = source.telemetry
        dash = build_dashboard(config.layout, telemetry, count, fps, canvas, config.units,
                               include=config.include, exclude=config.exclude, font=config.font,
                               zone=source.zone, **map_args(config))
        # A region a stream, sent only when it changed: each keeps its place in the video.
        regions = tuple(Region(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in dash.regions)
        sizes = tuple((r.width, r.height) for r in regions)
        overlay = OverlaySpec(x=0, y=0, width=max(w for w, _ in sizes), height=max(h for _, h in sizes),
                              pix_fmt=pix_fmt, fps_num=fps.numerator, fps_den=fps.denominator, regions=regions)
        if overlay_frames_needed(video, overlay) != count:
            raise AssertionError(f"overlay frame count {count} != {overlay_frames_needed(video, overlay)}")
        argv = command(overlay, graph_via)
        if encoder is not None:
            if tuple(argv) != encoder.argv:
                raise AssertionError(f"ffmpeg was started with {encoder.argv}, the layout needs {argv}")
            encoder.send_graph(overlay_graph(choice.profile, encoded, overlay, features))
        from pipeline.ffmpeg_log import Source
        from pipeline.scheduler import PipelineJob  # after the graph: ffmpeg opens its inputs meanwhile

        painter = dash.painter
        if part:  # the part's own overlay frames, drawn at their place in the whole
            count = overlay_frames_needed(encoded, overlay)
            from pipeline.distributed.segments import ShiftedPainter

            # the pipeline takes any painter factory; a part's run never profiles widgets (split.py)
            painter = ShiftedPainter(painter, part.overlay_first(video_fps, fps))  # type: ignore[assignment]
        job = PipelineJob(count=count, width=overlay.width, height=overlay.height, argv=tuple(argv),
                          partial=partial, output=config.output, workers=config.workers, regions=sizes,
                          pix_fmt=pix_fmt, tail=True,
                          yuva=_yuva_format(choice.profile, video) if pix_fmt == "yuva420p" else None,
                          env=FFMPEG_ENV, nut_header=nut_header(sizes, fps.numerator, fps.denominator, pix_fmt),
                          source=Source(str(config.input), video.video_stream, video.video_codec, video.audio_codec))
        # ffmpeg read its graph from a pipe; what --show-ffmpeg prints is the same run with it inline
        shown = tuple(command(overlay)) if config.show_ffmpeg else ()
        return Plan(job, painter, overlay, fps, note, video, concat, size, video.duration,
                    len(video.parts) or 1, encoder, shown)
    except BaseException:  # a Ctrl-C included: the caller gets the encoder only with the Plan
        if encoder is not None:
            encoder.abort()
        raise


def _start_before_layout(option: str | None, command, fps: Fraction, pix_fmt: str, env, partial: Path):
    """(Encoder, graph_via): ffmpeg started now, waiting for its graph through `option`
    (FfmpegFeatures.graph_script); (None, None) if this ffmpeg cannot read a graph from a
    pipe (the run starts it later, graph in argv). `partial` is made and locked as the
    graph is sent (Encoder.send_graph)."""
    from encoders.command import OverlaySpec
    from pipeline.encoder import Encoder

    if option is None:
        return None, None
    # The regions are not known yet; nothing but the graph depends on them.
    unknown = OverlaySpec(x=0, y=0, width=2, height=2, pix_fmt=pix_fmt, fps_num=fps.numerator,
                          fps_den=fps.denominator)
    encoder = Encoder.start_before_graph(lambda path: command(unknown, (option, path)), env, partial=partial)
    return encoder, (option, encoder.graph_path)


def print_widget_profile(plan: Plan, count: int, samples: int = 120) -> None:
    """Time each widget over frames spread through the video, in this process, before rendering."""
    import numpy as np

    from overlay.renderer import Renderer

    p = plan.painter
    renderer = Renderer(p.layout, p.table, p.video_size, p.unit_settings, font=p.font)
    frames = sorted({int(i) for i in np.linspace(0, count - 1, min(samples, count))})
    rows = renderer.profile(frames, p.regions or (renderer.bounds(),))  # as LayoutPainter draws
    total = sum(ms for _, ms in rows)
    print(f"overdash: time per widget, mean over {len(frames)} frames (total {total:.2f} ms/frame):", file=sys.stderr)
    for name, ms in rows:
        print(f"  {ms:8.3f} ms  {name}", file=sys.stderr)


def overlay_pix_fmt(asked: str, profile, video) -> str:
    """How overlay frames cross the pipe: yuva420p where the blend takes it as is, else rgba.

    yuva420p is converted in the workers (overlay.yuva), in parallel and only where
    a region changed, instead of by ffmpeg serially on every frame; half the bytes
    cross the pipe too. It needs the native converter (numpy alone is slower than
    ffmpeg) and a compositor that blends yuva420p: the CPU one onto 8-bit 4:2:0
    video, or overlay_cuda.
    """
    from encoders.blend import blends_yuva420p

    if asked == "rgba":
        return "rgba"
    takes = blends_yuva420p(profile, video)
    if asked == "yuva420p":
        if not takes:
            raise InputError(f"--overlay-pix-fmt yuva420p: profile '{profile.name}' cannot blend a yuva420p "
                             f"overlay onto {video.pix_fmt} video; use rgba or auto")
        return "yuva420p"
    from overlay.yuva import native_available

    return "yuva420p" if takes and native_available() else "rgba"


def _yuva_format(profile, video):
    """The workers' yuva420p: the source's matrix, in the range the compositor blends in
    (a GPU compositor converts a full-range source to limited range first)."""
    from encoders.blend import blend_full_range
    from overlay.yuva import YuvaFormat

    return YuvaFormat(matrix=video.color_matrix, full_range=blend_full_range(profile, video))


def render(config: RenderConfig, prefetch=None, part=None) -> RunStats:
    """`part`: only these video frames (see plan_render)."""
    t0 = time.monotonic()
    if not config.quiet:
        for notice in config.notices:
            print(f"overdash: {notice}", file=sys.stderr)
    drawing_only = config.generate == "none"
    plan = scratch = None
    try:  # from the moment plan_render hands over a started ffmpeg: nothing between
        plan = plan_render(config, prefetch, start_ffmpeg=not drawing_only, part=part)
        if not drawing_only:
            _remove_stale_partials(config.output.parent)
        else:
            scratch = tempfile.TemporaryDirectory(prefix="overdash-none-")
            plan = _without_output(plan, Path(scratch.name))
        return _run(config, plan, t0)
    finally:  # run_pipeline reaps an encoder it was given; one that never got there is killed
        if plan is not None and plan.encoder is not None and plan.encoder.proc.returncode is None:
            plan.encoder.abort()
        if scratch is not None:
            scratch.cleanup()


def _remove_stale_partials(folder: Path) -> None:
    """Partial files that renders killed outright (kill -9, power loss) left in the output folder:
    removed, each said in one line (overdash.files.remove_stale_partials never touches a live one)."""
    from overdash.files import remove_stale_partials

    for path in remove_stale_partials(folder):
        print(f"overdash: removed a partial file left by an earlier run: {path}", file=sys.stderr)


# --generate none: a stand-in for ffmpeg that reads the overlay stream and keeps nothing
# (it makes the empty file the pipeline renames at the end, inside a scratch folder).
_DISCARD = ("import shutil, sys, os; open(sys.argv[1], 'wb').close(); "
            "shutil.copyfileobj(sys.stdin.buffer, open(os.devnull, 'wb'), 1 << 20)")


def _without_output(plan: Plan, scratch: Path) -> Plan:
    """--generate none: every frame drawn and sent as for the real output, then discarded:
    the drawing and transfer cost alone, and no file written."""
    job = dataclasses.replace(plan.job, argv=(sys.executable, "-c", _DISCARD, str(scratch / "partial")),
                              partial=scratch / "partial", output=scratch / "discarded", mux_argv=())
    return dataclasses.replace(plan, job=job)


def _run(config: RenderConfig, plan: Plan, t0: float) -> RunStats:
    from pipeline.scheduler import run_pipeline

    say = (lambda *a: None) if config.quiet else (lambda *a: print(*a, file=sys.stderr))
    job = plan.job
    area = sum(r.width * r.height for r in plan.overlay.placements())
    source = str(config.input) if plan.chapters == 1 else f"{config.input} + {plan.chapters - 1} more chapter(s)"
    say(f"overdash: {source} → {config.output}: {job.count} overlay frames at {float(plan.fps):.3f} fps, "
        f"{len(plan.overlay.placements())} region(s) covering {area / (plan.size[0] * plan.size[1]):.0%} "
        f"of the picture, {job.workers} workers, drawing with {pil_flavour()}; {plan.profile_note}")
    if config.show_ffmpeg:
        print(f"overdash: ffmpeg command: {shlex.join(plan.shown_argv or job.argv)}", file=sys.stderr)
        if job.mux_argv:  # encoders.repeat: the coded frames are relayed, repeated, to a muxer
            print(f"overdash: ffmpeg mux command: {shlex.join(job.mux_argv)}", file=sys.stderr)
    if config.profile_widgets:
        print_widget_profile(plan, job.count)
    progress = Progress(job.count, float(plan.fps), enabled=not config.quiet)
    try:
        if plan.concat:
            plan.concat[0].write_text(plan.concat[1])
        stats = run_pipeline(job, plan.painter, progress, encoder=plan.encoder)
    finally:
        progress.close()
        if plan.concat:
            plan.concat[0].unlink(missing_ok=True)
    duration = plan.duration or job.count / float(plan.fps)
    total = time.monotonic() - t0
    wrote = "drew (--generate none: nothing written)" if config.generate == "none" else f"wrote {config.output} —"
    say(f"overdash: {wrote} {stats.frames} frames in {total:.1f} s "
        f"({stats.frames / max(stats.seconds, 1e-9):.0f} fps, {duration / total:.2f}× real time), "
        f"peak memory {stats.peak_rss_mib:.0f} MiB per process")
    return stats
