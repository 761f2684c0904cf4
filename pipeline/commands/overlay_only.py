"""The dashboard alone, with alpha, for a video editor to lay over the footage: a GPX/FIT ride
with no video, or `--generate overlay` / an overlay-only profile over a video's telemetry.

It crosses as a composited render's overlay does (a NUT stream per region, a region only when
it changed) and ffmpeg lays it on a transparent (or --bg) picture; ProRes encodes each distinct
picture once and repeats its packet (encoders.repeat).
"""
from __future__ import annotations

from fractions import Fraction

from overdash import InputError
from overdash.files import partial_path
from pipeline.commands.config import RenderConfig
from pipeline.commands.dashboard import build_dashboard
from pipeline.commands.plan import Plan, map_args, profile_note
from pipeline.commands.sources import load_ride_only

# Overlay-only profile for each output extension when a ride file is drawn with --profile auto.
RIDE_ONLY_PROFILES = {".mov": "prores-alpha", ".webm": "vp9-alpha", ".mkv": "vp9-alpha"}


def plan_ride_only(config: RenderConfig, features) -> Plan:
    """A GPX/FIT ride with no video: the dashboard alone, with transparency, for a video editor."""
    from encoders.capability import choose_profile

    ride = load_ride_only(config)
    choice = choose_profile(overlay_only_profile(config), ffmpeg=config.ffmpeg)
    if not choice.profile.overlay_only:
        raise InputError(f"profile '{choice.profile.name}' draws over a video, and {config.input.name} has none: "
                         f"use prores-alpha (.mov), vp9-alpha (.webm), qtrle or png")
    fps = config.overlay_fps or Fraction(30)
    count = int(ride.duration * fps) + 1
    return plan_full_frame(config, choice.profile, profile_note(choice), ride.telemetry, ride.zone, count, fps,
                            config.size or config.overlay_size or (1920, 1080), video=None,
                            duration=float(count / fps), features=features)


def overlay_only_profile(config: RenderConfig) -> str:
    """The profile name for the dashboard alone: --profile, or with auto the one for OUT's extension."""
    if config.profile != "auto":
        return config.profile
    by_suffix = RIDE_ONLY_PROFILES.get(config.output.suffix.lower())
    if by_suffix is None:
        raise InputError(f"{config.output}: the dashboard alone needs an output with transparency: "
                         f"{', '.join(RIDE_ONLY_PROFILES)} (or --profile png / qtrle)")
    return by_suffix


def plan_full_frame(config, profile, note, telemetry, zone, count, fps, size, *, video, duration,
                     features) -> Plan:
    """The dashboard alone, with alpha: as a composited render sends it — a NUT stream per region
    the layout draws into, a region only when it changed — laid by ffmpeg over a transparent
    (or --bg) picture of `size` with exactly `count` frames (encoders.alpha.overlay_only_graph)."""
    from encoders.alpha import build_overlay_only_command
    from encoders.command import FFMPEG_ENV, OverlaySpec, Region
    from encoders.nut import header as nut_header
    from encoders.repeat import CLOCK_PIXEL, encode_command, mux_command, mux_header, repeats, stream_header
    from pipeline.scheduler import PipelineJob

    dash = build_dashboard(config.layout, telemetry, count, fps, size, config.units, include=config.include,
                           exclude=config.exclude, font=config.font, zone=zone, **map_args(config))
    regions = tuple(Region(x0, y0, x1 - x0, y1 - y0) for x0, y0, x1, y1 in dash.regions)
    sizes = tuple((r.width, r.height) for r in regions)
    overlay = OverlaySpec(x=0, y=0, width=max(w for w, _ in sizes), height=max(h for _, h in sizes),
                          fps_num=fps.numerator, fps_den=fps.denominator, regions=regions)
    partial = partial_path(config.output)
    bg = config.bg if config.bg and config.bg[3] else None
    if repeats(profile, size, regions, bg, features):  # ProRes: encode each distinct picture once
        argv = encode_command(profile, size, fps, regions, ffmpeg=config.ffmpeg, features=features)
        header = stream_header(regions, fps)
        mux_argv = tuple(mux_command(profile, partial, ffmpeg=config.ffmpeg, final_path=config.output,
                                     source=video, fps=fps))
        relay_header, clock = mux_header(profile, size, fps), CLOCK_PIXEL
    else:
        argv = build_overlay_only_command(profile, size, fps, partial, regions=regions, count=count, background=bg,
                                          final_path=config.output, ffmpeg=config.ffmpeg, features=features,
                                          source=video)
        header = nut_header(sizes, fps.numerator, fps.denominator, "rgba")
        mux_argv, relay_header, clock = (), b"", b""
    job = PipelineJob(count=count, width=overlay.width, height=overlay.height, argv=tuple(argv), partial=partial,
                      output=config.output, regions=sizes, workers=config.workers, env=FFMPEG_ENV,
                      nut_header=header, tail=True, mux_argv=mux_argv, mux_header=relay_header, clock=clock)
    return Plan(job, dash.painter, overlay, fps, note, video, None, size, duration)
