"""`overdash info`: what a GoPro (or GPX/FIT) file holds — camera, video, every stream, GPS quality.

It takes a GoPro MP4 (its later chapters are found and joined unless
--no-chapters), several chapter files in order, a raw GPMF file (.raw, .gpmd),
or a GPX/FIT ride. Problems with the input are InputErrors (one line, file and
problem).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from overlay.telemetry import export
from overlay.telemetry.chapter_files import find_chapters
from overlay.telemetry.geoid import NOTE
from overlay.telemetry.quality import QualityLimits, counts
from overlay.telemetry.timeseries import Telemetry, Timeseries
from pipeline.commands.cli import add_altitude_option, add_lap_options
from pipeline.commands.sources import apply_lap_options, is_ride_file, lap_options, load_inputs


def add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", type=Path, nargs="+", metavar="FILE",
                   help="GoPro MP4 (later chapters are found), chapter files in order, a raw GPMF .raw/.gpmd, "
                        "or a GPX/FIT ride")
    p.add_argument("--no-chapters", action="store_true", help="read only the given file(s), not later chapters")
    p.add_argument("--max-dop", type=float, default=QualityLimits.max_dop,
                   help="GPS samples with a higher DOP are marked untrusted (default: %(default)s)")
    add_altitude_option(p)


def add_info_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("info", help="camera, video and telemetry streams of a GoPro file",
                       description="Camera model and firmware, video facts, every GPMF stream with its "
                                   "sample count, rate and time span, and a GPS lock summary.")
    add_inputs(p)
    add_lap_options(p)
    p.set_defaults(func=cmd_info)
    return p


def gps_summary(gps: Timeseries, what: str) -> str:
    """'gps: 812 of 830 samples trusted; marked: dop 18' — the GPS quality line of both reports."""
    c = counts(gps)
    why = ", ".join(f"{k} {v}" for k, v in c.items() if k not in ("total", "ok") and v)
    return f"gps: {c['ok']} of {c['total']} {what} trusted" + (f"; marked: {why}" if why else "")


def ride_info_lines(tel: Telemetry, path: Path) -> list[str]:
    """`overdash info` of a GPX/FIT file: device, time span, what was recorded, GPS quality, zone."""
    from overlay.telemetry.timezone import first_position, zone_for

    lines = [f"file: {path}", f"device: {tel.device or 'unknown'}"]
    for name, ts in tel.streams.items():
        if not len(ts):
            continue
        utc = ts["timestamp"] if "timestamp" in ts else None
        span = (f", {export.iso_utc(np.nanmin(utc))} .. {export.iso_utc(np.nanmax(utc))}"
                if utc is not None and np.isfinite(utc).any() else "")
        cols = [c for c in ts.columns if c != "timestamp" and np.isfinite(np.asarray(ts[c], float)).any()]
        lines.append(f"{name}: {len(ts)} points over {ts.span[1] - ts.span[0]:.0f} s{span}")
        lines.append(f"  columns: {', '.join(cols)}")
    lines += [f"  {note}" for note in tel.notes]
    if "gps" in tel:
        lines.append(gps_summary(tel["gps"], "points"))
    pos = first_position(tel)
    if pos:
        lines.append(f"starts at {pos[0]:.5f}, {pos[1]:.5f} (time zone {zone_for(*pos) or 'unknown'})")
    return lines


def _fmt_span(span: tuple[float, float]) -> str:
    return "-" if not np.isfinite(span[0]) else f"{span[0]:9.3f} .. {span[1]:9.3f} s"


def _video_lines(path: Path) -> list[str]:
    if path.suffix.lower() not in (".mp4", ".mov", ".m4v", ".360"):
        return ["video: none (raw GPMF file: payload times from the payloads)"]
    from encoders.probe import probe_video

    try:
        v = probe_video(path)
    except Exception as exc:  # ffprobe missing or unhappy: info still reports the telemetry
        return [f"video: not probed ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"]
    fps = v.fps_num / v.fps_den if v.fps_den else float("nan")
    return [f"video: {v.width}x{v.height} {v.video_codec} {fps:.3f} fps, {v.frame_count} frames, "
            f"{v.duration:.3f} s" + (f", audio {v.audio_codec}" if v.has_audio else "")
            + (f", created {v.creation_time}" if v.creation_time else "")]


def info_lines(tel: Telemetry, paths: list[Path]) -> list[str]:
    """The report `overdash info` prints (also used by tests)."""
    lines = [f"file: {', '.join(str(p) for p in paths)}",
             f"camera: {tel.device or 'unknown'}" + (f", firmware {tel.firmware}" if tel.firmware else "")]
    lines += _video_lines(paths[0])
    lines += [f"  {note}" for note in tel.notes if not note.startswith(NOTE)]
    lines.append(f"streams ({len(tel.inventory)}):")
    lines.append(f"  {'key':4}  {'samples':>8}  {'rate Hz':>9}  {'time span':>24}  as")
    for s in sorted(tel.inventory, key=lambda s: (not s.decoded, s.fourcc)):
        rate = f"{s.rate:9.3f}" if np.isfinite(s.rate) else f"{'-':>9}"
        use = s.stream or ("(not used: GPS9 preferred)" if s.decoded else "(listed only)")
        label = f"  {s.name}" if s.name else ""
        lines.append(f"  {s.fourcc:4}  {s.count:8d}  {rate}  {_fmt_span(s.span):>24}  {use}{label}")
    if "gps" in tel:
        lines.append(gps_summary(tel["gps"], "samples"))
        utc = tel["gps"]["timestamp"]
        if np.isfinite(utc).any():
            lines.append(f"gps time: {export.iso_utc(np.nanmin(utc))} .. {export.iso_utc(np.nanmax(utc))}")
        lines += [note for note in tel.notes if note.startswith(NOTE)]  # how heights were referenced
    else:
        lines.append("gps: no GPS stream (GPS off, or a camera without GPS)")
    return lines


def laps_report(tel: Telemetry, asked: bool = False) -> list[str]:
    """The completed laps: time, difference to the best, sectors; nothing without any (unless `asked`
    for laps on the track: then how many crossings were found)."""
    from overlay.telemetry.laps_delta import format_lap_time, lap_rows

    rows = lap_rows(tel)
    if not rows:
        return [f"laps: none completed ({len(tel.laps)} crossing{'s' * (len(tel.laps) != 1)} of the line)"] \
            if asked else []
    best = min(rows, key=lambda r: r.time)
    lines = [f"laps: {len(rows)} completed, best lap {best.lap} in {format_lap_time(best.time)}"]
    sectors = max(len(r.sectors) for r in rows)
    lines.append(f"  {'lap':>4}  {'start s':>9}  {'time':>9}  {'to best':>8}"
                 + "".join(f"  {f'sector {i + 1}':>9}" for i in range(sectors)))
    for r in rows:
        delta = "best" if r is best else f"+{r.delta:.3f}"
        lines.append(f"  {r.lap:>4}  {r.start:9.3f}  {format_lap_time(r.time):>9}  {delta:>8}"
                     + "".join(f"  {format_lap_time(s):>9}" for s in r.sectors))
    return lines


def cmd_info(args: argparse.Namespace) -> int:
    limits = QualityLimits(max_dop=args.max_dop)
    spec = lap_options(args)  # its mistakes before the (slow) load
    tel = apply_lap_options(load_inputs(list(args.inputs), not args.no_chapters, limits, args.altitude), spec)
    from overlay.telemetry.events import detect_events, event_lines

    if is_ride_file(args.inputs[0]):
        print("\n".join(ride_info_lines(tel, args.inputs[0]) + laps_report(tel, spec is not None)
                        + event_lines(detect_events(tel))))
        return 0
    paths = find_chapters(args.inputs[0]) if not args.no_chapters and len(args.inputs) == 1 else list(args.inputs)
    print("\n".join(info_lines(tel, paths) + laps_report(tel, spec is not None) + event_lines(detect_events(tel))))
    return 0
