"""The frame scheduler: owns the ring and every child process, and stops them all on the first error.

    main (this module)            workers ×N                  writer               ffmpeg
    ------------------            ----------                  ------               ------
    start ffmpeg (pipeline.encoder) ──────────────────────────────────────────────▶ (main's child)
    free slots ──Draw(n, slot)…─▶ draw frame n into slot
                                   ──Drawn(n, slot)─────────▶ reorder, write ──pipe──▶ composite,
    ◀─────────────────────────────────────── Written(n, slots)                         encode
    ◀─────────────────────────────────────── Finished / Stopped
    wait for ffmpeg: its exit status decides; a Failed message or a dead child ends the run at once.

Each message wakes a process, so they travel a few at a time where that costs no
waiting: main hands a worker all its frames at once, the writer gives back half the
ring's slots at a time (all of them before it would wait for a worker).

Double buffering: the ring has K ≥ 2N slots, so while the writer streams frame n
the workers are already drawing n+1 … n+K-1. Backpressure is the ring itself:
a frame is handed out only when a slot is free, so memory does not grow with
the length of the video.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import resource
import select
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from overdash import InputError, RenderError
from overdash.files import partial_path, remove
from pipeline.channel import Channel
from pipeline.encoder import Encoder, EncoderChain
from pipeline.ffmpeg_log import Source
from pipeline.messages import STOP, Draw, Failed, Finished, Stopped, Written
from pipeline.procs import describe_exit, exit_hint, mp_context, sigint_blocked
from pipeline.ring import RegionSize, Ring
from pipeline.worker import PainterFactory, WorkerArgs, worker_main
from pipeline.writer import KEEPALIVE_FRAMES, WriterArgs, writer_main

GRACE = 2.0  # seconds for a child that exited to be reaped, or a killed one to be gone

__all__ = ["PipelineJob", "RunStats", "partial_path", "run_pipeline"]  # partial_path: overdash.files


@dataclass(frozen=True)
class PipelineJob:
    """One run, fully resolved: nothing here is looked up again."""

    count: int                 # overlay frames
    width: int                 # size of the one region when `regions` is ()
    height: int
    argv: tuple[str, ...]      # ffmpeg command; writes to `partial`
    partial: Path              # temporary output, renamed to `output` on success
    output: Path
    # encoders.nut.header: one stream per region, in pix_fmt. The overlay crosses as NUT, a
    # region only when it differs from the frame before (or keepalive frames have passed).
    nut_header: bytes
    workers: int = 2
    slots: int = 0             # 0: 2 × workers + 2
    # (width, height) of each region: a region of every slot, a NUT stream; () = one, width x height
    regions: tuple[RegionSize, ...] = ()
    pix_fmt: str = "rgba"      # of a frame on the pipe: rgba, or yuva420p converted by the workers
    yuva: object = None        # overlay.yuva.YuvaFormat (matrix, range) for yuva420p
    env: tuple[tuple[str, str], ...] = ()  # added to ffmpeg's environment (encoders.command.FFMPEG_ENV)
    keepalive: int = KEEPALIVE_FRAMES  # see pipeline.writer; overlay-only outputs too (ffmpeg repeats a region)
    # After the last frame, each region once more at pts = count (pipeline.writer): what argv's
    # graph needs where its blend drops a region once the region's stream ends.
    tail: bool = False
    start_method: str = ""     # multiprocessing start method; "" = the platform's choice (procs.mp_context)
    # Repeated frames (encoders.repeat): the muxing ffmpeg, which writes `partial` instead of
    # argv's, and the NUT header the writer's relay sends it. () = one ffmpeg.
    mux_argv: tuple[str, ...] = ()
    mux_header: bytes = b""
    clock: bytes = b""         # the clock stream's one pixel (encoders.repeat.CLOCK_PIXEL)
    # The video ffmpeg decodes (pipeline.ffmpeg_log.Source), named when none of its frames decodes;
    # None: ffmpeg decodes no source (the dashboard alone).
    source: Source | None = None

    @property
    def ring_slots(self) -> int:
        return self.slots or 2 * self.workers + 2


@dataclass(frozen=True)
class RunStats:
    frames: int
    seconds: float             # processes started → output renamed
    first_frame: float         # processes started → first frame written (start-up cost)
    peak_rss_mib: float

    @property
    def steady_fps(self) -> float:
        """Throughput once running, without process start-up."""
        span = self.seconds - self.first_frame
        return (self.frames - 1) / span if self.frames > 1 and span > 0 else float("nan")


def run_pipeline(job: PipelineJob, painter: PainterFactory,
                 progress: Callable[[int], None] | None = None,
                 encoder: Encoder | EncoderChain | None = None) -> RunStats:
    """Render and encode every frame; on any failure raise RenderError and leave nothing behind.

    `encoder`: ffmpeg already started with job.argv, its graph sent (pipeline.encoder); it
    is this function's from here on. Without it ffmpeg is started here.
    """
    ctx = mp_context(job.start_method)
    started = time.monotonic()
    state = _State(encoder=encoder)
    ring = events = None
    try:
        if state.encoder is None:
            with sigint_blocked():  # a Ctrl-C meanwhile comes once state holds ffmpeg and its file
                state.encoder = (EncoderChain.start(job.argv, job.mux_argv, job.env, partial=job.partial)
                                 if job.mux_argv else Encoder.start(job.argv, job.env, partial=job.partial))
        encoder = state.encoder
        packets, muxer = encoder.relay_pipes()
        ring = Ring.create(job.ring_slots, job.width, job.height, job.pix_fmt, job.regions,
                           inherited=ctx.get_start_method() == "fork")
        # One task queue per worker: slot s belongs to worker s % workers, which alone draws into it.
        tasks = [ctx.SimpleQueue() for _ in range(job.workers)]
        drawn, events = ctx.SimpleQueue(), Channel(ctx)
        children: dict[int, tuple[str, mp.Process]] = {}
        writer = ctx.Process(target=writer_main, name="overdash-writer", daemon=True, args=(
            WriterArgs(ring.spec, encoder.stdin_for_writer(), job.count, job.nut_header, job.keepalive,
                       tail=job.tail, packets=packets, muxer=muxer, mux_header=job.mux_header, clock=job.clock),
            drawn, events))
        workers = [ctx.Process(target=worker_main, name=f"overdash-worker-{i}", daemon=True,
                               args=(WorkerArgs(i, ring.spec, painter, job.yuva), tasks[i], drawn, events))
                   for i in range(job.workers)]
        state.procs = [writer, *workers]
        with sigint_blocked():
            writer.start()
            children[writer.sentinel] = ("writer", writer)
            encoder.release_stdin()  # before the workers fork: the writer alone holds ffmpeg's stdin
            for i, proc in enumerate(workers):
                proc.start()
                children[proc.sentinel] = (f"worker {i}", proc)
        end = _drive(job, ring.spec.slots, tasks, events, children, state, progress, started)
        code = encoder.wait()
        if code == 0 and job.mux_argv and not isinstance(end, Finished):  # every frame is the file's
            raise RenderError(f"ffmpeg: stopped reading at overlay frame {end.frame} of {job.count}")
        if code != 0:
            what = "failed" if isinstance(end, Finished) else (
                f"stopped reading at overlay frame {end.frame}" if end.frame else
                "stopped reading before the first overlay frame")
            undecodable = encoder.undecodable(job.source) if job.source is not None else ""
            if undecodable:  # bad input, not a failed render: said in the user's terms, exit status 2
                raise InputError(undecodable)
            raise RenderError(f"ffmpeg: {encoder.failure(what)}")
        refused = encoder.write_failure()
        if refused:
            raise RenderError(f"ffmpeg: could not write the output: {refused}")
        for _, proc in list(children.values()):
            proc.join()
        try:
            os.replace(job.partial, job.output)
        except OSError as exc:  # e.g. the output folder was removed or renamed during the run
            raise RenderError(f"cannot move the finished video to {job.output}: {exc.strerror or exc}") from None
        state.ok = True
        return RunStats(job.count, time.monotonic() - started, state.first_frame, _peak_rss_mib())
    finally:
        with sigint_blocked():  # a signal now waits until everything is stopped and removed
            if not state.ok:
                _stop_all(state.procs)
                if state.encoder is not None:
                    state.encoder.kill()
                remove(job.partial)
            if state.encoder is not None:
                state.encoder.close()
            if ring is not None:
                ring.close()
            if events is not None:
                events.close()


@dataclass
class _State:
    ok: bool = False
    encoder: Encoder | EncoderChain | None = None
    # Every child, registered before any starts: a Ctrl-C can land between start() and the
    # bookkeeping after it (it reaches Python through any thread, e.g. OpenBLAS's, so blocking
    # SIGINT in this thread does not hold it off), and a started child must still be stopped.
    procs: list = field(default_factory=list)
    first_frame: float = 0.0


def _drive(job, slots, tasks, events, children, state, progress, started) -> Finished | Stopped:
    """Hand out frames as slots come back, until the writer says how the stream ended."""
    free = deque(range(slots))
    next_frame = written = 0
    stopped_workers = False
    end = None
    poller = select.poll()  # one for the run (connection.wait builds a selector every call)
    for fd in (events.reader.fileno(), *children):
        poller.register(fd, select.POLLIN)
    while end is None:
        batches: list[list[Draw]] = [[] for _ in tasks]
        while free and next_frame < job.count:
            slot = free.popleft()
            batches[slot % job.workers].append(Draw(next_frame, slot))
            next_frame += 1
        for queue, batch in zip(tasks, batches):
            if batch:  # a worker's frames in one message: each message wakes it
                queue.put(tuple(batch))
        if next_frame == job.count and not stopped_workers:
            for queue in tasks:
                queue.put(STOP)
            stopped_workers = True
        ready = {fd for fd, _ in poller.poll(5000)}
        for msg in events.drain():
            if isinstance(msg, Written):
                free.extend(msg.slots)
                if not written:
                    state.first_frame = time.monotonic() - started
                written = msg.frame + 1
                if progress:
                    progress(written)
            elif isinstance(msg, (Finished, Stopped)):
                end = msg
            elif isinstance(msg, Failed):
                raise RenderError(_failure_text(msg)) from _ChildTraceback(msg.traceback)
        for sentinel in [s for s in ready if s in children]:
            name, proc = children[sentinel]
            proc.join(GRACE)  # the sentinel fires as the child exits, a moment before it can be reaped
            if proc.exitcode == 0 and (name == "writer" or stopped_workers):
                del children[sentinel]
                poller.unregister(sentinel)
                continue
            for msg in events.drain():  # a Failed sent just before exiting explains the death
                if isinstance(msg, Failed):
                    raise RenderError(_failure_text(msg)) from _ChildTraceback(msg.traceback)
            code = proc.exitcode
            raise RenderError(f"{name} died unexpectedly ({describe_exit(code)}){exit_hint(code)}")
    if not stopped_workers:  # ffmpeg needed fewer frames than planned
        for queue in tasks:
            queue.put(STOP)
    return end


class _ChildTraceback(Exception):
    """Carries a child's formatted traceback as the cause, shown with --debug."""

    def __str__(self) -> str:
        return "\n" + (self.args[0] if self.args else "")


def _failure_text(msg: Failed) -> str:
    return f"{msg.who}: {msg.error}"


def _stop_all(procs) -> None:
    """SIGKILL, not SIGTERM: children ignore the termination signals a terminal or a supervisor
    sends to the whole group (procs.child_setup), and hold nothing that outlives them (the ring
    is main's to close, the pipes the kernel's)."""
    procs = [p for p in procs if p.pid is not None]  # started
    for p in procs:
        if p.is_alive():
            p.kill()
    deadline = time.monotonic() + GRACE
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))


def _peak_rss_mib() -> float:
    """Largest resident size of main or any one child (ru_maxrss is KiB on Linux)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024
