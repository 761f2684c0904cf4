"""Runs fuzz cases in forked children, each bounded in time and memory, and records findings.

A child runs one batch of cases for one target under RLIMIT_AS (default: 1 GiB above
what it already maps) with an interval timer per case (default 2 s): a case that overruns raises Hang, one that
exhausts memory raises MemoryError, and both are findings like any exception that is
not InputError. The parent watches each child through a shared counter: a child stuck
in C code past the timer, or killed by a signal (a segfault, the OOM killer), is a
finding on the case it was running, and the batch goes on after it in a new child.

Case i of a target is made from random.Random(f"{seed}:{target}:{i}") alone, so any
finding is reproduced with `python -m fuzz replay TARGET SEED INDEX`.
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import random
import resource
import signal
import struct
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from fuzz.mutate import mutate
from fuzz.targets import TARGETS, Seed, Target

_SLOT = struct.Struct("<qq")  # index of the case running, cases finished


class Hang(BaseException):
    """A case ran past its time limit (BaseException: a parser's `except Exception` must not eat it)."""


@dataclass
class Stats:
    cases: int = 0
    seconds: float = 0.0
    findings: dict[str, dict] = field(default_factory=dict)  # signature → first occurrence


def make_case(target: str, seeds: list[Seed], pool: list[bytes], seed: int, index: int) -> bytes:
    rng = random.Random(f"{seed}:{target}:{index}")
    chosen = rng.choice(seeds)
    return mutate(rng, chosen.data, pool, chosen.focus)


def signature(exc: BaseException) -> str:
    """Exception type plus the innermost frame in this project: one finding per bug, not per input."""
    frames = traceback.extract_tb(exc.__traceback__)
    root = str(Path(__file__).resolve().parents[1])
    ours = [f for f in frames if f.filename.startswith(root) and "/fuzz/" not in f.filename]
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


def check(target: Target, path: Path, timeout: float) -> BaseException | None:
    """Run the entry point on one file: None when it gave data or InputError, else what it raised."""
    from overdash import InputError
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        target.call(path)
    except InputError:
        return None
    except (Hang, MemoryError, RecursionError, Exception) as exc:  # noqa: BLE001 - every other one is a finding
        return exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return None


def _on_alarm(signum, frame):
    raise Hang("case ran past its time limit")


def _limit_memory(extra: int) -> None:
    """RLIMIT_AS at what this (forked) process already maps plus `extra`: a child of a long-running
    process (a test session) inherits its address space, which alone may pass a fixed limit."""
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        mapped = 0
    resource.setrlimit(resource.RLIMIT_AS, (mapped + extra, mapped + extra))


def _child(target: Target, seeds: list[Seed], seed: int, start: int, stop: int, work: Path,
           slot: mmap.mmap, timeout: float, mem_bytes: int) -> None:
    if mem_bytes:
        _limit_memory(mem_bytes)
    signal.signal(signal.SIGALRM, _on_alarm)
    warnings.simplefilter("ignore")
    pool = [s.data for s in seeds]
    path = _scratch(target, os.getpid(), work)
    log = open(work / "findings.jsonl", "a")
    seen: dict[str, int] = {}  # a signature's first few cases per batch are enough to fix it
    for i in range(start, stop):
        slot[:_SLOT.size] = _SLOT.pack(i, i - start)
        data = make_case(target.name, seeds, pool, seed, i)
        path.write_bytes(data)
        exc = check(target, path, timeout)
        if exc is not None and seen.setdefault(signature(exc), 0) < 3:
            seen[signature(exc)] += 1
            _record(log, work, target.name, seed, i, data, signature(exc), "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:]))
    slot[:_SLOT.size] = _SLOT.pack(stop, stop - start)
    path.unlink(missing_ok=True)
    log.close()


def _scratch(target: Target, pid: int, work: Path) -> Path:
    """Each case is a file, as users hand them over; in RAM where there is a tmpfs (opening a
    file on an overlay disk costs more than parsing a small one)."""
    folder = Path("/dev/shm") if Path("/dev/shm").is_dir() else work
    return folder / f"overdash-fuzz-{target.name}-{pid}{target.suffix}"


def _record(log, work: Path, target: str, seed: int, index: int, data: bytes | None, sig: str, detail: str) -> None:
    name = ""
    if data is not None:
        name = f"{target}-{hashlib.sha1(data).hexdigest()[:12]}.bin"
        (work / "cases").mkdir(exist_ok=True)
        (work / "cases" / name).write_bytes(data)
    log.write(json.dumps({"target": target, "seed": seed, "index": index, "signature": sig,
                          "case": name, "detail": detail[-2000:]}) + "\n")
    log.flush()


@dataclass
class _Running:
    pid: int
    target: Target
    slot: mmap.mmap
    start: int
    stop: int
    began: float
    last_index: int = -1
    index_since: float = 0.0


def run(names: list[str], cases: int | dict[str, int], *, seed: int = 0, jobs: int = 1, batch: int = 500,
        timeout: float = 2.0, mem_mib: int = 1024, work: Path, progress=None) -> dict[str, Stats]:
    """Fuzz each named target for `cases` cases; returns per-target Stats (findings included)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "findings.jsonl").touch()
    seeds = {name: TARGETS[name].seeds() for name in names}
    stats = {name: Stats() for name in names}
    counts = cases if isinstance(cases, dict) else {name: cases for name in names}
    most = max(counts.values(), default=0)
    queue = [(name, s, min(s + batch, counts[name])) for s in range(0, most, batch) for name in names
             if s < counts[name]]
    queue.reverse()
    running: list[_Running] = []
    while queue or running:
        while queue and len(running) < jobs:
            name, start, stop = queue.pop()
            running.append(_spawn(TARGETS[name], seeds[name], seed, start, stop, work, timeout, mem_mib))
        time.sleep(0.02)
        for r in list(running):
            index, _ = _SLOT.unpack(r.slot[:_SLOT.size])
            now = time.monotonic()
            if index != r.last_index:
                r.last_index, r.index_since = index, now
            pid, status = os.waitpid(r.pid, os.WNOHANG)
            stuck = pid == 0 and now - r.index_since > timeout * 3 + 5
            if pid == 0 and not stuck:
                continue
            if stuck:  # the timer could not interrupt it (a loop in C): kill and note the case
                os.kill(r.pid, signal.SIGKILL)
                os.waitpid(r.pid, 0)
                status = -1
            running.remove(r)
            _scratch(r.target, r.pid, work).unlink(missing_ok=True)  # left behind by a child that died
            st = stats[r.target.name]
            st.seconds += now - r.began
            if status != 0 and index < r.stop:  # died or stuck on case `index`: record it, go on after it
                why = "hang (killed by the watchdog)" if stuck else f"child died ({_status(status)})"
                data = make_case(r.target.name, seeds[r.target.name], [s.data for s in seeds[r.target.name]],
                                 seed, index)
                with open(work / "findings.jsonl", "a") as log:
                    _record(log, work, r.target.name, seed, index, data, f"{why} in {r.target.name}", why)
                if index + 1 < r.stop:
                    queue.append((r.target.name, index + 1, r.stop))
                st.cases += index + 1 - r.start
            else:
                st.cases += r.stop - r.start
            r.slot.close()
            if progress:
                progress(stats)
    for line in (work / "findings.jsonl").read_text().splitlines():
        f = json.loads(line)
        if f["target"] in stats and f["seed"] == seed:
            stats[f["target"]].findings.setdefault(f["signature"], f)
    return stats


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status) if os.WIFEXITED(status) else status}"


def _spawn(target: Target, seeds: list[Seed], seed: int, start: int, stop: int, work: Path, timeout: float,
           mem_mib: int) -> _Running:
    slot = mmap.mmap(-1, _SLOT.size)
    slot[:_SLOT.size] = _SLOT.pack(start, 0)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's stack
        code = 0
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            _child(target, seeds, seed, start, stop, work, slot, timeout, mem_mib << 20)
        except BaseException:  # noqa: BLE001 - anything escaping the per-case guard ends this batch
            code = 3
        os._exit(code)
    return _Running(pid, target, slot, start, stop, time.monotonic(), start, time.monotonic())


def isolated(call, path: Path, *, timeout: float = 10.0, mem_mib: int = 1024) -> str:
    """Run call(path) in a forked child bounded like a fuzz case; what it did, in one line:
    "data", "InputError: <message>", or the finding ("MemoryError ...", "Hang ...", "signal ...")."""
    import pickle
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        outcome = "child failed"
        try:
            from overdash import InputError
            _limit_memory(mem_mib << 20)
            signal.signal(signal.SIGALRM, _on_alarm)
            warnings.simplefilter("ignore")
            try:
                signal.setitimer(signal.ITIMER_REAL, timeout)
                call(path)
                outcome = "data"
            except InputError as exc:
                outcome = f"InputError: {exc}"
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                outcome = f"{signature(exc)}: {exc}"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            os.write(write, pickle.dumps(outcome[:4000]))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        raw = fh.read()
    _, status = os.waitpid(pid, 0)
    return pickle.loads(raw) if raw else _status(status)
