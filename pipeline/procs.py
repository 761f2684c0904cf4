"""Process hygiene shared by every child: no orphans, Ctrl-C handled only by main."""
from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere).

    A killed main process must not leave workers blocked on a queue forever, nor
    ffmpeg waiting on a pipe.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def child_setup() -> None:
    """First thing a worker or the writer does: main alone reacts to Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


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
