"""A unit of distributed work: one `overdash render` (a whole recording, or a frame range of
one) in a child process, on this machine (`--jobs`) or on a Ray node (ray_backend).

    coordinator ── Task(key, module, payload) ──▶ run_child: python -m MODULE  < payload
                ◀── Outcome(key, status, one-line reason, seconds) ──

Why a child process and not a function call: a render forks its workers and owns its
ffmpeg, its signals and its partial file (pipeline.scheduler, pipeline.procs). A Ray
worker is a multi-threaded process with its own signal handling, where forking is not
safe; a fresh interpreter per unit is, and costs ~0.3 s. The child dies with whoever
started it (prctl PDEATHSIG), and its own workers and ffmpeg die with it, so killing a
Ray worker or this process leaves nothing running.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable

from pipeline.procs import leave_termination_to_main, prepare_die_with_parent, program_setup

EXIT_INPUT = 2        # the child's status for bad input (overdash.InputError): retrying cannot help
STOP_GRACE = 10.0     # seconds a stopped child has to remove its partial file before SIGKILL
ERROR_PREFIX = "overdash: error: "


@dataclass(frozen=True)
class Task:
    key: str            # what the table and messages call it (a clip's name, "segment 2/8")
    module: str         # run as `python -m module`, the payload on its stdin
    payload: bytes
    frames: int = 0     # video frames it renders, for the cluster's frames/s
    workers: int = 0    # drawing processes it may use (0: the child's default)


@dataclass(frozen=True)
class Outcome:
    key: str
    status: str         # "done" or "failed"
    reason: str = ""    # one line, for "failed"
    seconds: float = 0.0
    code: int = 0       # the child's exit status (negative: killed by that signal)

    @property
    def ok(self) -> bool:
        return self.status == "done"


class Children:
    """The child processes a coordinator started, so an interrupt can stop them all."""

    def __init__(self):
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen] = set()
        self.stopping = False

    def add(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.add(proc)
            if self.stopping:
                proc.send_signal(signal.SIGTERM)

    def discard(self, proc: subprocess.Popen) -> None:
        with self._lock:
            self._live.discard(proc)

    def stop(self) -> None:
        """SIGTERM every child (a render takes it as Ctrl-C: children stopped, partial file removed),
        SIGKILL those still there after STOP_GRACE."""
        with self._lock:
            self.stopping = True
            live = list(self._live)
        for proc in live:
            try:
                proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + STOP_GRACE
        for proc in live:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_child(task: Task, children: Children | None = None, on_start: Callable[[int], None] | None = None) -> Outcome:
    """Run the task's child to its end: its Outcome, with the child's own one-line error.

    The child starts in a session of its own: a terminal's Ctrl-C reaches the coordinator
    alone, which then stops every child the same way (Children.stop)."""
    started = time.monotonic()
    prepare_die_with_parent()
    env = dict(os.environ)
    if task.workers:
        env["OVERDASH_CHILD_WORKERS"] = str(task.workers)
    with tempfile.TemporaryFile() as payload, tempfile.TemporaryFile() as err:
        payload.write(task.payload)
        payload.seek(0)
        proc = subprocess.Popen([sys.executable, "-m", task.module], stdin=payload, stdout=subprocess.DEVNULL,
                                stderr=err, env=env, start_new_session=True, preexec_fn=program_setup)
        if children is not None:
            children.add(proc)
        try:
            if on_start is not None:
                on_start(proc.pid)
            code = proc.wait()
        finally:
            if proc.returncode is None:  # interrupted here: the child must not outlive its caller
                proc.kill()
                proc.wait()
            if children is not None:
                children.discard(proc)
        err.seek(0)
        text = err.read().decode(errors="replace")
    seconds = time.monotonic() - started
    if code == 0:
        return Outcome(task.key, "done", seconds=seconds)
    return Outcome(task.key, "failed", reason_of(text, code), seconds, code)


def reason_of(stderr: str, code: int) -> str:
    """The child's one-line error ("overdash: error: …" as the command prints it), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX):]
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return lines[-1].removeprefix("overdash: ") if lines else f"exited with status {code}"


# main never sleeps longer than this in one wait: a signal that arrives just before it blocks (after
# Python's last look at its signals) is handled only when the wait returns, not when it arrived.
SIGNAL_LATENCY = 0.2


def run_local(tasks: Iterable[Task], jobs: int, on_outcome: Callable[[Outcome], None]) -> list[Outcome]:
    """Every task, `jobs` at a time on this machine; each Outcome to on_outcome as it comes.
    An interrupt (Ctrl-C, SIGTERM) stops the running children, then propagates."""
    children = Children()
    outcomes: list[Outcome] = []
    pending = list(tasks)
    # Signals go to main's thread: it waits below, and only it runs Python's handlers.
    with ThreadPoolExecutor(max(1, jobs), thread_name_prefix="overdash-job",
                            initializer=leave_termination_to_main) as pool:
        running: set[Future] = set()
        try:
            while pending or running:
                while pending and len(running) < max(1, jobs):
                    running.add(pool.submit(run_child, pending.pop(0), children))
                done, running = wait(running, timeout=SIGNAL_LATENCY, return_when=FIRST_COMPLETED)
                for future in done:
                    outcome = future.result()
                    outcomes.append(outcome)
                    on_outcome(outcome)
        except BaseException:
            children.stop()
            raise
    return outcomes


class Tally:
    """Progress of a distributed run, a line per finished unit: how many are done, frames/s over
    the whole cluster (frames of finished units over the time since the start) and the time
    left at that rate. Units report only when they end: a line per unit, no bar."""

    def __init__(self, tasks: Iterable[Task], noun: str, say: Callable[[str], None], where: str = "in all"):
        self.frames_of = {t.key: t.frames for t in tasks}
        self.noun, self.say, self.where = noun, say, where
        self.total = sum(self.frames_of.values())
        self.done_units = self.done_frames = 0
        self.started = time.monotonic()

    def __call__(self, outcome: Outcome) -> None:
        self.done_units += 1
        self.done_frames += self.frames_of.get(outcome.key, 0)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done_frames / elapsed
        left = (self.total - self.done_frames) / rate if rate > 0 else float("nan")
        what = "done" if outcome.ok else f"failed: {outcome.reason}"
        when = f", about {_clock(left)} left" if left == left and self.done_units < len(self.frames_of) else ""
        self.say(f"overdash: {outcome.key} {what} — {self.done_units}/{len(self.frames_of)} {self.noun} done, "
                 f"{rate:.0f} frames/s {self.where}{when}")


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"
