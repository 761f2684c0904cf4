"""Process hygiene shared by every child: no orphans, Ctrl-C handled only by main."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def mp_context(method: str = ""):
    """The multiprocessing context children start in: fork on Linux, spawn elsewhere.

    A spawned child starts a fresh interpreter and imports numpy, Pillow and the
    widgets again, and the painter (frame table included) is pickled to it: about
    0.3 s of CPU per child, measured, which on two cores is wall time taken from
    ffmpeg. A forked child shares main's imports and tables copy-on-write. Main
    holds no locks other threads could own at that moment (its only threads are
    OpenBLAS's idle pool), which is what makes fork safe here. macOS and Windows
    keep spawn, their default and the only safe choice there.
    """
    import multiprocessing as mp

    if not method:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
    return mp.get_context(method)


@functools.lru_cache(maxsize=1)
def _prctl():
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def prepare_die_with_parent() -> None:
    """Look libc's prctl up now, in the parent: a preexec hook calling die_with_parent then
    runs no dlopen between fork and exec (another thread may hold the loader's lock)."""
    if sys.platform.startswith("linux"):
        _prctl()


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere).

    A killed main process must not leave workers blocked on a queue forever, nor
    ffmpeg waiting on a pipe.
    """
    prctl = _prctl() if sys.platform.startswith("linux") else None
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def set_process_name(name: str) -> None:
    """Name this process in ps/top (Linux, at most 15 bytes): forked children otherwise
    all look like the main `overdash render` process."""
    prctl = _prctl() if sys.platform.startswith("linux") else None
    if prctl is not None:
        prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


def child_setup(name: str = "") -> None:
    """First thing a worker or the writer does: main alone reacts to Ctrl-C.

    Children start with SIGINT blocked (see `sigint_blocked`), so a Ctrl-C that
    arrives while they are still importing stays pending; ignoring it before
    unblocking drops it instead of printing a child's KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if name:
        set_process_name(name)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    die_with_parent()


@contextlib.contextmanager
def sigint_blocked():
    """Start child processes inside this: a Ctrl-C pressed meanwhile is held until the block ends.

    Two things are needed. The children inherit a blocked SIGINT (across exec, too), so
    one arriving while they import stays pending until child_setup ignores it. And main
    defers its own KeyboardInterrupt: the signal reaches Python through whichever thread
    the kernel picks (OpenBLAS starts some), so blocking it in this thread alone does not
    hold it off, and an interrupt inside Process.start() would leave a started child that
    main does not know about.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: pending.append(signum))
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
    try:
        yield
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        signal.signal(signal.SIGINT, previous)
        if pending:
            raise KeyboardInterrupt


def describe_exit(code: int | None) -> str:
    """'killed by SIGKILL' / 'exited with status 3', for one-line error messages."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def kill_pid(pid: int | None) -> None:
    """SIGKILL a process we started, ignoring one that is already gone."""
    if not pid:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
