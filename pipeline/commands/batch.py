"""`overdash batch IN… --out DIR [--jobs N | --ray [ADDRESS]] [render options]`: every recording
in the inputs rendered with the same options, several at once on this machine or spread
over a Ray cluster; a table at the end, and a second run skips what is complete.

Each recording is an ordinary render in a child process (pipeline.commands.child): one
that fails (a broken file, a refused option) is a row of the table, not the end of the
run. Exit status 0 when every recording is done or skipped, 1 when any failed.
"""
from __future__ import annotations

import argparse
import copy
import pickle
import sys
import time
from pathlib import Path

from overdash import InputError, OverdashError
from pipeline.distributed.batch import (
    describe,
    forget,
    is_complete,
    mark_complete,
    options_text,
    recordings,
    table,
)
from pipeline.distributed.tasks import Outcome, Tally, Task, run_local

CHILD = "pipeline.commands.child"
CPUS_PER_JOB = 4  # --jobs default: a render per 4 CPUs keeps each one's workers and ffmpeg busy


def add_batch_parser(sub, render: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The batch command: its own options, then every option of `render` but its positionals and
    --segments (copied from the render parser, so the two can never disagree)."""
    from pipeline.commands.config import default_workers

    b = sub.add_parser("batch", help="render many recordings with the same options, here or on a Ray cluster",
                       description="Render every recording in the inputs with the same options. GoPro "
                                   "chapters are joined into their recording; outputs already complete "
                                   "are skipped; a table at the end says what was done, skipped or failed.")
    b.add_argument("inputs", type=Path, nargs="+", metavar="IN", help="videos, or folders of videos")
    b.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="folder for the outputs, each named after its recording's first file")
    b.add_argument("--jobs", type=int, metavar="N",
                   help=f"recordings rendered at once on this machine, each with CPUs / N drawing workers "
                        f"(default: one per {CPUS_PER_JOB} CPUs, {default_jobs(default_workers())} here)")
    b.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="spread the recordings over a Ray cluster instead (see render --ray), a whole node each")
    b.add_argument("--suffix", default="", metavar=".EXT",
                   help="output extension, e.g. .mov (default: each input's own)")
    for action in render._actions:
        taken = any(o in b._option_string_actions for o in action.option_strings)
        if action.option_strings and not taken and action.dest != "segments":
            b._add_action(action)
    b.set_defaults(func=run_batch, workers=None)
    return b


def default_jobs(cpus: int) -> int:
    return max(1, cpus // CPUS_PER_JOB)


def run_batch(args) -> int:
    from pipeline.commands.config import default_workers

    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs {args.jobs}: must be at least 1")
    if args.ray is not None and args.jobs is not None:
        raise InputError("--jobs runs recordings on this machine, --ray on a Ray cluster: give one")
    if args.ray is not None:  # before any work: without Ray, say how to install it
        from pipeline.distributed.ray_backend import require_ray

        require_ray()
    say = (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot make the folder ({exc.strerror or exc})") from None
    jobs = args.jobs or default_jobs(default_workers())
    workers = args.workers or max(1, default_workers() // jobs)
    found = recordings(args.inputs, out, args.suffix, chapters=not args.no_chapters)
    rows: dict[str, tuple[str, str]] = {}
    tasks, planned = [], {}
    for rec in found:
        try:
            config, frames = _plan(args, rec, workers)
        except OverdashError as exc:
            rows[rec.name] = ("failed", str(exc))
            continue
        options = options_text(config)
        if is_complete(rec, options):
            rows[rec.name] = ("skipped", f"already complete: {rec.output}")
            continue
        forget(rec)
        planned[rec.name] = (rec, options)
        tasks.append(Task(rec.name, CHILD, pickle.dumps((config, None)), frames=frames))
    say(f"overdash: {describe(len(found), 'recording')}: {len(tasks)} to render, "
        f"{sum(s == 'skipped' for s, _ in rows.values())} complete, {sum(s == 'failed' for s, _ in rows.values())} "
        f"refused" + (f"; {jobs} at a time, {workers} workers each" if args.ray is None and tasks else ""))

    def finished(outcome: Outcome) -> None:
        tally(outcome)
        if outcome.ok:
            rec, options = planned[outcome.key]
            mark_complete(rec, options)
            rows[outcome.key] = ("done", f"{outcome.seconds:.1f} s → {rec.output}")
        else:
            rows[outcome.key] = ("failed", outcome.reason)

    tally = Tally(tasks, "recordings", say, "in all" if args.ray is None else "over the cluster")
    started = time.time()
    try:
        if tasks and args.ray is not None:
            _run_on_ray(args.ray, tasks, found, out, finished)
        elif tasks:
            run_local(tasks, jobs, finished)
    except KeyboardInterrupt as exc:
        for rec in found:
            if rows.get(rec.name, ("",))[0] in ("done", "failed", "skipped"):
                continue
            if rec.name in planned and _written_since(rec.output, started):
                # its render finished (an output appears only whole) before its outcome came in
                mark_complete(*planned[rec.name])
                rows[rec.name] = ("done", f"→ {rec.output}")
            else:
                rows[rec.name] = ("stopped", "not finished: nothing written")
        print(table([(r.name, *rows[r.name]) for r in found]), flush=True)
        done = sum(status == "done" for status, _ in rows.values())
        if done:  # the command's last line says what is left (pipeline.commands.cli)
            exc.written = f"{describe(done, 'finished recording')} kept, nothing else written"  # type: ignore[attr-defined]
        raise
    print(table([(r.name, *rows[r.name]) for r in found]), flush=True)
    return 1 if any(status == "failed" for status, _ in rows.values()) else 0


def _written_since(path: Path, since: float) -> bool:
    try:
        return path.stat().st_mtime >= since
    except OSError:
        return False


def _plan(args, rec, workers: int):
    """The recording's RenderConfig (the batch's options, its own files) and its video frame count;
    OverdashError (one line) for a recording that cannot be rendered as asked."""
    from encoders.chapters import probe_chapters
    from encoders.tools import sibling_tool
    from pipeline.commands.render import config_from_args

    own = copy.copy(args)
    own.inputs, own.output, own.workers, own.quiet = list(rec.paths), rec.output, workers, True
    config = config_from_args(own)
    video = probe_chapters(rec.paths, ffprobe=sibling_tool(config.ffmpeg, "ffprobe"))
    return config, video.frame_count


def _run_on_ray(address: str, tasks: list[Task], found, out: Path, finished) -> None:
    from overdash.files import remove_stale_partials
    from pipeline.distributed.ray_backend import Cluster

    with Cluster(address) as cluster:
        cluster.check_shared([p for rec in found for p in rec.paths], out)
        try:
            cluster.run(tasks, cluster.cpus_per_unit(), finished)
        finally:  # units cancelled by an interrupt were killed outright: their partial files go too
            remove_stale_partials(out)
