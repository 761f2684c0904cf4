"""Ray glue, imported only when --ray asks for it: connect (or start a local cluster for the
run), check that every node sees the files, run Tasks (pipeline.distributed.tasks) on the
nodes with one retry, and stop whatever is left on the way out.

    driver (this process)                            each node
    ─────────────────────                            ─────────
    Cluster(address)  ray.init; a local cluster      raylet, Ray workers
      when there is none to join
    check_shared()  ── one task pinned per node ──▶  stat the inputs, make and remove a file
                                                     in the output folder
    run(tasks)      ── one task a unit, `cpus` ───▶  python -m pipeline.commands.child
                       CPUs each, max_retries=1        (a render with `cpus` workers)
    ◀── Outcome; a render failure (exit 1) or a dead worker is retried once by Ray;
        bad input (exit 2) is not: it would fail the same way.

Paths cross as they are: Ray does not move files, so inputs and outputs must be on a
filesystem every node mounts at the same path (check_shared says which node lacks what).
"""
from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

from overdash import InputError, RenderError
from pipeline.distributed.tasks import EXIT_INPUT, Outcome, Task, run_child

INSTALL_HINT = ("--ray needs Ray, an optional extra: pip install 'overdash[ray]' "
                "(in a clone: make setup RAY=1)")
RETRIES = 1  # a failed or lost unit runs once more before the run gives up on it


def require_ray():
    """The ray module, or InputError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return ray


class _Retry(Exception):
    """A unit that failed for a reason another try may not meet (a render error, a crash)."""


def _remote_unit(task: Task) -> Outcome:
    """On a Ray worker: the unit's render with as many drawing processes as the CPUs Ray gave it."""
    import ray

    cpus = int(ray.get_runtime_context().get_assigned_resources().get("CPU", 0))
    outcome = run_child(replace(task, workers=cpus or task.workers))
    if not outcome.ok and outcome.code != EXIT_INPUT:
        raise _Retry(outcome.reason)
    return outcome


def _probe_node(paths: Sequence[str], folder: str) -> list[str]:
    """On one node: what it cannot see or write of the run's files."""
    host = socket.gethostname()
    missing = [f"{host}: {p} not found" for p in paths if not os.path.exists(p)]
    probe = os.path.join(folder, f".overdash-probe-{host}-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        with open(probe, "wb"):
            pass
        os.unlink(probe)
    except OSError as exc:
        missing.append(f"{host}: cannot write in {folder} ({exc.strerror or exc})")
    return missing


class Cluster:
    """A Ray connection for one run: `address` names a cluster; None joins the one this machine
    belongs to ($RAY_ADDRESS, `ray start`), else starts a local one, shut down at the end.
    A Ray already initialised in this process (a test's) is used as it is."""

    def __init__(self, address: str | None):
        self.address = address or None
        self.ray = require_ray()
        self._owned = False

    def __enter__(self) -> "Cluster":
        ray = self.ray
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                         logging_level="ERROR", configure_logging=True)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.address or "a local cluster"
                raise InputError(f"--ray {where}: cannot connect ({str(exc).splitlines()[0]})") from None
            self._owned = True
        return self

    def __exit__(self, *exc) -> None:
        if self._owned:
            self.ray.shutdown()

    def nodes(self) -> list[dict]:
        return [n for n in self.ray.nodes() if n.get("Alive")]

    def cpus_per_unit(self) -> int:
        """A unit takes a whole node: the CPUs of the smallest one (a render uses every core)."""
        cpus = [int(n.get("Resources", {}).get("CPU", 0)) for n in self.nodes()]
        return max(1, min((c for c in cpus if c > 0), default=1))

    def check_shared(self, read: Sequence[Path], folder: Path) -> None:
        """InputError naming, per node, the inputs it cannot see and the folder it cannot write."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self.ray.remote(num_cpus=0, max_retries=0)(_probe_node)
        refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))
                .remote([str(Path(p).resolve()) for p in read], str(Path(folder).resolve())) for n in self.nodes()]
        missing = [line for found in self.ray.get(refs) for line in found]
        if missing:
            raise InputError("every Ray node must see the inputs and the output folder at the same paths "
                             "(a shared filesystem): " + "; ".join(missing))

    def run(self, tasks: Sequence[Task], cpus: int, on_outcome: Callable[[Outcome], None],
            fail_fast: bool = False) -> list[Outcome]:
        """Every task on the cluster, `cpus` CPUs each; each Outcome to on_outcome as it comes.
        fail_fast: the first unit that fails after its retry stops the run (RenderError, one
        line); the others are cancelled. Any exit from here (an interrupt too) cancels what runs."""
        ray = self.ray
        unit = ray.remote(num_cpus=cpus, max_retries=RETRIES, retry_exceptions=[_Retry])(_remote_unit)
        refs = {unit.remote(task): task for task in tasks}
        outcomes: list[Outcome] = []
        try:
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=1.0)
                for ref in ready:
                    task = refs.pop(ref)
                    outcome = self._outcome(ref, task)
                    outcomes.append(outcome)
                    on_outcome(outcome)
                    if fail_fast and not outcome.ok:
                        error = InputError if outcome.code == EXIT_INPUT else RenderError
                        raise error(f"{task.key}: {outcome.reason}")
            return outcomes
        finally:
            for ref in refs:  # left running: an error, an interrupt
                ray.cancel(ref, force=True)

    def _outcome(self, ref, task: Task) -> Outcome:
        ray = self.ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            why = str(cause) if isinstance(cause, _Retry) else _first_line(cause or exc)
            return Outcome(task.key, "failed", f"{why} (failed twice)")
        except ray.exceptions.RayError as exc:  # the worker or its node died, twice
            return Outcome(task.key, "failed", f"{_first_line(exc)} (tried twice)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0].strip()}" if lines else type(exc).__name__
