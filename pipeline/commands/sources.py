"""Where the dashboard's data comes from: the video (chapters joined), its GoPro track, or a
GPX/FIT file merged onto the video's timeline — resolved once, in the main process.

    camera track ─┐
                  ├─ align (start time + --offset [+ --sync auto]) ─ merge (extend | replace) ─▶ Telemetry
    GPX / FIT  ───┘
"""
from __future__ import annotations

import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from encoders.probe import Prefetch, VideoInfo, probe_video
from encoders.tools import sibling_tool
from overdash import InputError
from pipeline.commands.config import RenderConfig, parse_clock

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from overlay.telemetry.laps import LapSpec
    from overlay.telemetry.timeseries import Telemetry

SYNC_WEAK = 0.1  # confidence below which --sync auto warns


@dataclass(frozen=True)
class Source:
    video: VideoInfo
    telemetry: Telemetry   # on the video timeline
    zone: ZoneInfo | None  # for wall-clock display, None = UTC
    notes: tuple[str, ...] = ()


def load_source(config: RenderConfig, *, say=lambda text: print(text, file=sys.stderr),
                prefetch: Prefetch | None = None, imu: frozenset[str] | None = None,
                video: VideoInfo | None = None, paths: list[Path] | None = None) -> Source:
    """`imu`: the camera's motion streams whose values are read ("accl", "cori", ...:
    layout_streams), None: all of them (the editor, whose layout may come to need any).
    `video`: the facts of source_paths(config) when already probed (probe_source); `paths`:
    source_paths(config) when the caller already has them."""
    from overlay.telemetry.timezone import first_position, resolve_zone

    paths = paths or source_paths(config)

    def camera_and_zone():
        # --use-gpx-only: the camera's telemetry is not read at all, the file drives everything
        camera = None if config.use_file_only else _camera_telemetry(
            config, paths, optional=bool(config.gpx or config.fit), imu=imu)
        if camera is not None and not (config.gpx or config.fit) and "gps" in camera:
            # the time zone lookup (~50 ms the first time) overlaps ffprobe when it still runs
            return camera, resolve_zone(config.tz, *(first_position(camera) or (None, None)))
        return camera, None

    if video is not None:
        camera, zone = camera_and_zone()
    else:
        # ffprobe runs while this thread reads the GoPro track: most of its time is the
        # child process, so the two overlap (its errors still come first: not a video).
        # Leaving the `with` joins the thread: main has no thread of its own when children fork.
        with ThreadPoolExecutor(1, thread_name_prefix="overdash-probe") as pool:
            probe = pool.submit(probe_source, config, prefetch, paths)
            try:
                camera, zone = camera_and_zone()
            except InputError:
                probe.result()  # not a video outranks a telemetry problem: its error is raised first
                raise
            video = probe.result()
    warning = altitude_warning(camera)  # heights left above the ellipsoid: no geoid grid
    notes: list[str] = [warning] if warning else []
    if config.gpx or config.fit:
        telemetry = _with_file(config, video, camera, notes)
    else:
        telemetry = camera
        if telemetry is None or "gps" not in telemetry:
            raise InputError(f"{config.input}: the GoPro telemetry has no GPS stream "
                             f"(GPS off, or a camera without GPS) — add the ride with --gpx or --fit")
    for note in notes:
        say(f"overdash: {note}")
    if zone is None:
        zone = resolve_zone(config.tz, *(first_position(telemetry) or (None, None)))
    return Source(video, apply_lap_options(telemetry, config.laps), zone, tuple(notes))


def source_paths(config: RenderConfig) -> list[Path]:
    """The video files of the input: IN and the chapters that follow it (or those given)."""
    from overlay.telemetry.chapter_files import find_chapters

    paths = [config.input, *config.more_inputs]
    return find_chapters(config.input) if config.chapters and len(paths) == 1 else paths


def check_whole(paths: list[Path]) -> None:
    """Refuse a video whose data stops before its index says (overlay.telemetry.mp4.Movie.video_cut):
    ffmpeg would decode the frames that are there, freeze on the last, broken one, and end early,
    without an error. Files that are not MP4/MOV, or whose index is unreadable, are left to ffprobe
    and ffmpeg."""
    from overlay.telemetry.mp4 import read_mp4

    for path in paths:
        try:
            movie = read_mp4(path)
        except InputError:
            continue
        cut = movie.video_cut()
        if cut is not None:
            raise InputError(f"{path}: truncated: its data stops in video frame {cut[0] + 1} of {cut[1]} "
                             f"(after {movie.size / 1e6:.1f} MB) — an interrupted copy or download? "
                             f"Copy it again")


def probe_source(config: RenderConfig, prefetch: Prefetch | None = None,
                 paths: list[Path] | None = None) -> VideoInfo:
    """The input's video facts, chapters joined; from `prefetch` for the file it started on."""
    from encoders.chapters import probe_chapters

    return probe_chapters(paths or source_paths(config), ffprobe=sibling_tool(config.ffmpeg, "ffprobe"),
                          probe=prefetch.probe if prefetch else probe_video)


def start_prefetch(path, ffmpeg: str) -> Prefetch | None:
    """ffprobe of a video input started now (encoders.probe.Prefetch); None for a ride file or a
    path that is not a file."""
    path = Path(path)
    if is_ride_file(path) or not path.is_file():
        return None
    return Prefetch(path, sibling_tool(ffmpeg, "ffprobe"))


def layout_streams(config: RenderConfig) -> frozenset[str] | None:
    """The camera motion streams the run's layout reads (overlay.telemetry.streams.streams_read);
    None (read them all) when the layout does not load: its error is raised later, in its turn.

    A 3-hour 60 fps recording holds 2.2M samples per IMU stream; a layout that shows speed and a
    map reads none of them, and main's memory then stays at what GPS needs."""
    from overdash import OverdashError
    from overlay.frametable import needed_metrics
    from overlay.layout import load_layout
    from overlay.telemetry.streams import streams_read

    try:
        layout = load_layout(config.layout, include=config.include, exclude=config.exclude)
        return streams_read(needed_metrics(layout.unit_requests(config.units)))
    except OverdashError:
        return None


def _camera_telemetry(config: RenderConfig, paths: list[Path], optional: bool, imu: frozenset[str] | None = None):
    """The GoPro track (or --gpmf file); None when a GPX/FIT file can stand in for it."""
    from overlay.telemetry.chapters import load_gopro_chapters
    from overlay.telemetry.gopro import load_gopro
    from overlay.telemetry.quality import QualityLimits

    try:
        limits = config.gps_limits or QualityLimits()
        if config.gpmf:
            return load_gopro(config.gpmf, limits, altitude=config.altitude, values_of=imu)
        if len(paths) == 1:
            return load_gopro(paths[0], limits, altitude=config.altitude, values_of=imu)
        return load_gopro_chapters(paths, limits, altitude=config.altitude, values_of=imu)
    except InputError:
        if optional and not config.gpmf:
            return None  # any camera: the file drives the whole dashboard
        raise


def _with_file(config: RenderConfig, video, camera, notes: list[str]):
    from overlay.telemetry.merge import align, merge
    from overlay.telemetry.sync import sync

    path = config.gpx or config.fit
    assert path is not None, "called for --gpx or --fit only"
    ride = read_ride(path, fit=bool(config.fit), warn=True)
    start, said = _start_time(config, video, camera, ride)
    notes.append(f"{path.name}: video starts at {said}")
    offset = config.offset
    if config.sync == "auto":
        if camera is None or "gps" not in camera:
            raise InputError(f"--sync auto needs the camera's own GPS to compare with {path.name}; "
                             f"use --offset SECONDS instead")
        found = sync(camera, align(ride, start, offset))
        offset += found.offset
        notes.append(f"--sync auto: {found.describe()}"
                     + (" — weak match, check the result or give --offset" if found.confidence < SYNC_WEAK else ""))
    aligned = align(ride, start, offset, duration=video.duration)  # a file beside the video: said with its span
    return aligned if camera is None else merge(camera, aligned, config.merge)


# --video-time-start/--video-time-end: which of the input file's times (gopro-dashboard-overlay's names)
FILE_TIMES = {"file-created": "st_ctime", "file-modified": "st_mtime", "file-accessed": "st_atime"}


def _start_time(config: RenderConfig, video, camera, ride) -> tuple[float, str]:
    """UTC of the video's first frame: --start or --video-time-*, else the camera's GPS clock, else
    (--use-gpx-only, as gopro-dashboard-overlay does) the ride's first point, else creation_time."""
    from overlay.telemetry.merge import camera_start_utc, to_posix, utc_span

    if config.start:
        return to_posix(config.start), f"{config.start} (--start)"
    if config.video_time:
        which, kind = config.video_time
        stamp = getattr(config.input.stat(), FILE_TIMES[kind])
        if which == "end":
            stamp -= video.duration
        from overlay.telemetry.filedata import iso

        return stamp, f"{iso(stamp)} (--video-time-{which} {kind} of {config.input.name})"
    if config.use_file_only:
        first = utc_span(ride)[0]
        return first, "the ride's first point (--use-gpx-only without --video-time-start or --start)"
    if camera is not None:
        utc = camera_start_utc(camera)
        if utc is not None:
            return utc, "the camera's GPS time"
    if video.creation_time:
        # Cameras without GPS write their own clock here, often local time marked UTC: --offset fixes that.
        return to_posix(video.creation_time), f"{video.creation_time} (the file's creation time)"
    raise InputError(f"{config.input}: no start time in the video (no GPS, no creation_time); "
                     f"give it with --start 2024-05-01T09:30:00Z")


RIDE_SUFFIXES = (".gpx", ".fit", ".gpx.gz")


def is_ride_file(path: Path) -> bool:
    return path.name.lower().endswith(RIDE_SUFFIXES)


def read_ride(path: Path, *, fit: bool | None = None, warn: bool = False):
    """A GPX or FIT file's telemetry on its own clock (t = 0 at its first point is align's job).

    `fit`: what the user said the file is (--gpx / --fit); by default its suffix decides.
    `warn`: what the reader noticed (a FIT file damaged part way, records dropped) said as
    warnings naming the file, for commands that do not list notes as `info` does.
    """
    from overlay.telemetry.fit import load_fit
    from overlay.telemetry.gpx import load_gpx

    if fit is None:
        fit = path.name.lower().endswith(".fit")
    ride = load_fit(path) if fit else load_gpx(path)
    if warn:
        for note in ride.notes:
            warnings.warn(f"{path}: {note}", stacklevel=2)
    return ride


def altitude_warning(telemetry) -> str | None:
    """'warning: altitude: … not corrected: EGM96 grid … not found …' when the camera's heights could
    not be corrected to mean sea level (overlay.telemetry.geoid); None when all is well."""
    from overlay.telemetry.geoid import warning

    note = warning(telemetry.notes) if telemetry is not None else None
    return f"warning: {note}" if note else None


def load_inputs(inputs: list[Path], chapters: bool = True, limits=None, altitude: str = "msl"):
    """Telemetry of `overdash info`/`export` inputs: one file plus its later chapters, the given
    files in order, or a GPX/FIT ride (its time axis then starts at its first point).
    `altitude`: GoPro GPS heights "msl" (corrected to mean sea level) or "ellipsoid" (as recorded)."""
    from overlay.telemetry.chapter_files import find_chapters
    from overlay.telemetry.chapters import load_gopro_chapters
    from overlay.telemetry.merge import align, utc_span
    from overlay.telemetry.quality import QualityLimits

    for path in inputs:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    if is_ride_file(inputs[0]):
        if len(inputs) > 1:
            raise InputError(f"{inputs[1]}: give one GPX/FIT file at a time")
        ride = read_ride(inputs[0])
        return align(ride, utc_span(ride)[0])
    paths = find_chapters(inputs[0]) if chapters and len(inputs) == 1 else list(inputs)
    return load_gopro_chapters(paths, limits or QualityLimits(), altitude)


@dataclass(frozen=True)
class Ride:
    """A GPX/FIT file rendered on its own (overlay-only output): its window and timeline."""

    telemetry: Telemetry
    start_utc: float
    duration: float
    zone: ZoneInfo | None


def load_ride_only(config: RenderConfig) -> Ride:
    """The ride file as the whole timeline: t = 0 at --from (default: the file's first point)."""
    from overlay.telemetry.filedata import iso
    from overlay.telemetry.merge import align, to_posix, utc_span
    from overlay.telemetry.timezone import first_position, resolve_zone

    path = config.input
    ride = read_ride(path, warn=True)
    first, last = utc_span(ride)

    def when(text: str | None, default: float, option: str) -> float:
        if text is None:
            return default
        try:
            return first + parse_clock(text, option)  # into the ride: seconds or [HH:]MM:SS
        except InputError:
            pass
        try:
            return to_posix(text)
        except (InputError, ValueError):
            raise InputError(f"{option} {text!r}: give the time into the ride (seconds or [HH:]MM:SS[.s]) "
                             f"or an ISO 8601 date and time") from None

    start, end = when(config.from_time, first, "--from"), when(config.to_time, last, "--to")
    if not first <= start < end <= last + 1e-6:
        raise InputError(f"{path}: --from/--to ({iso(start)} to {iso(end)}) must lie inside the ride, "
                         f"{iso(first)} to {iso(last)}, with --from before --to")
    telemetry = apply_lap_options(align(ride, start, config.offset), config.laps)
    pos = first_position(telemetry)
    return Ride(telemetry, start, end - start, resolve_zone(config.tz, *(pos or (None, None))))


def lap_options(args) -> LapSpec | None:
    """--lap-line, --laps auto, --sector-line and --min-lap checked together (None: none given), for
    every command that reads telemetry (pipeline.commands.cli.add_lap_options)."""
    line, laps = getattr(args, "lap_line", None), getattr(args, "laps", None)
    sectors = getattr(args, "sector_line", None)
    if line is None and laps != "auto" and not sectors:
        return None  # lap_spec's answer too; its module (numpy) is not loaded before ffmpeg starts
    from overlay.telemetry.laps import lap_spec

    return lap_spec(line, laps, tuple(sectors or ()), getattr(args, "min_lap", None))


def apply_lap_options(telemetry: Telemetry, spec: LapSpec | None) -> Telemetry:
    """`telemetry` with its laps timed on the track when asked (replacing the file's laps)."""
    if spec is None:
        return telemetry
    from overlay.telemetry.laps import apply_laps

    return apply_laps(telemetry, spec)
