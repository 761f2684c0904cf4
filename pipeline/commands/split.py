"""`overdash render IN OUT --ray [ADDRESS] [--segments N]`: one video rendered in segments on
a Ray cluster, then joined (pipeline.distributed: segments, join, ray_backend).

    driver: probe, keyframes, split ─▶ N segment renders on the nodes (each a normal render of
    its frames, its own workers and ffmpeg) ─▶ join (stream copy + the source's audio) ─▶ OUT

Segment files go to a hidden folder beside OUT, removed on any exit; OUT appears whole or
not at all. The folder holds a lock for the run's life, so one left by a driver killed
outright (kill -9, power loss) is told from a live run's and removed by the next run.
The encoder profile is chosen once, here: nodes with different hardware must not pick
different encoders, whose segments could not be joined without re-encoding.
"""
from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from overdash import InputError

if TYPE_CHECKING:
    from pipeline.commands.config import RenderConfig
    from pipeline.distributed.segments import Part
    from pipeline.distributed.tasks import Task

CHILD = "pipeline.commands.child"
LOCK = ".lock"  # in a run's segment folder, locked while the run lives (overdash.files.PartialLock)


def render_split(config: RenderConfig, address: str | None, segments: int | None) -> None:
    # Imported here, not with the module: every `overdash render` loads this module for
    # add_ray_options, and a render on one machine needs none of pipeline.distributed.
    from encoders.capability import choose_profile
    from encoders.chapters import concat_list, probe_chapters
    from encoders.tools import sibling_tool
    from overdash.files import PartialLock
    from overlay.telemetry.chapter_files import find_chapters
    from pipeline.commands.config import check_paths
    from pipeline.commands.sources import is_ride_file
    from pipeline.distributed.join import join
    from pipeline.distributed.ray_backend import Cluster
    from pipeline.distributed.segments import keyframes, segment_paths, split
    from pipeline.distributed.tasks import Tally
    from pipeline.procs import sigint_blocked

    say = (lambda text: None) if config.quiet else (lambda text: print(text, file=sys.stderr))
    if address is None:
        raise InputError("--segments splits a render across a Ray cluster: add --ray [ADDRESS]")
    if segments is not None and segments < 1:
        raise InputError(f"--segments {segments}: must be at least 1")
    cluster = Cluster(address)  # InputError with the install line when Ray is missing
    check_paths(config)
    if is_ride_file(config.input) or config.generate != "default":
        raise InputError("--ray splits a video drawn over its source; a ride file alone or --generate "
                         "overlay/none renders on one machine")
    paths = [config.input, *config.more_inputs]
    if config.chapters and len(paths) == 1:
        paths = find_chapters(config.input)
    ffprobe = sibling_tool(config.ffmpeg, "ffprobe")
    video = probe_chapters(paths, ffprobe=ffprobe)
    profile = choose_profile(config.profile, ffmpeg=config.ffmpeg, video=video).profile
    if profile.overlay_only:
        raise InputError(f"--ray: profile '{profile.name}' writes the dashboard alone; render it on one machine")
    for notice in () if config.quiet else config.notices:
        say(f"overdash: {notice}")
    out = config.output
    with cluster:
        cluster.check_shared([*paths, *(p for p in (config.gpx, config.fit, config.gpmf) if p)], out.parent)
        cpus = cluster.cpus_per_unit()
        wanted = segments or 2 * len(cluster.nodes())
        parts = split(video.frame_count, keyframes(video, ffprobe=ffprobe), wanted, video.fps, config.overlay_fps)
        if len(cluster.nodes()) == 1:
            say("overdash: the Ray cluster has one node: segments render one after another, no faster than "
                "without --ray")
        if len(parts) < wanted:
            say(f"overdash: {len(parts)} segment(s), not {wanted}: the video has keyframes at fewer places")
        _remove_stale_folders(out.parent, say)
        folder = lock = None
        try:
            with sigint_blocked():  # a Ctrl-C meanwhile comes once both are here to remove
                folder = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.stem}.segments-"))
                lock = PartialLock.claim(folder / LOCK)
            files = segment_paths(folder, len(parts), out.suffix)
            tasks = segment_tasks(config, profile.name, parts, files)
            say(f"overdash: {config.input} → {out}: {video.frame_count} frames in {len(parts)} segments "
                f"on {len(cluster.nodes())} Ray node(s), {cpus} CPUs each; encoder profile {profile.name}")
            cluster.run(tasks, cpus, Tally(tasks, "segments", say, "over the cluster"), fail_fast=True)
            join(config.ffmpeg, files, parts, video, profile, out, folder=folder,
                 source_list_text=concat_list(video) if video.parts else None, keep_gpmf=config.keep_gpmf)
        finally:
            if lock is not None:
                lock.release()
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    say(f"overdash: wrote {out}")


def segment_tasks(config: RenderConfig, profile: str, parts: list[Part], files: list[Path]) -> list[Task]:
    """One child render per part: the same options, its own file, quiet, the profile fixed,
    no audio or GPMF track (the join takes them from the source)."""
    from pipeline.distributed.tasks import Task

    tasks = []
    for i, (part, path) in enumerate(zip(parts, files)):
        own = dataclasses.replace(config, output=path, quiet=True, keep_gpmf=False, show_ffmpeg=False,
                                  profile_widgets=False, notices=(),
                                  profile=config.profile if config.profile != "auto" else profile)
        tasks.append(Task(f"segment {i + 1}/{len(parts)}", CHILD, pickle.dumps((own, part)), frames=part.frames))
    return tasks


def add_ray_options(r) -> None:
    """--ray and --segments on `overdash render`."""
    g = r.add_argument_group("across machines (needs the ray extra: pip install 'overdash[ray]')")
    g.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="render in segments on a Ray cluster: ADDRESS (e.g. ray://head:10001), else the one "
                        "this machine belongs to, else a local one started for the run; inputs and output "
                        "must be on a filesystem every node sees at the same path")
    g.add_argument("--segments", type=int, metavar="N",
                   help="with --ray: split the video at keyframes into N segments (default: 2 per node)")


def _remove_stale_folders(parent: Path, say) -> None:
    """Segment folders whose run died outright: their lock is free. A folder without its lock
    file yet is being made by a live run, and is left alone."""
    try:
        import fcntl
    except ImportError:  # no advisory locks (Windows): nothing is swept
        return
    for folder in parent.glob(".*.segments-*"):
        try:
            fd = os.open(folder / LOCK, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live run holds it
        finally:
            os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        say(f"overdash: removed segments left by an earlier run: {folder}")
