"""Process hygiene shared by every child: no orphans, termination signals handled only by main."""
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


def program_setup() -> None:
    """preexec_fn of a program main starts (ffmpeg): it dies with main, and it takes the
    termination signals as usual even when started inside `sigint_blocked` (a blocked mask
    survives exec). Runs between fork and exec: a syscall each, nothing that loads a library."""
    die_with_parent()
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(TERMINATING))


def leave_termination_to_main() -> None:
    """First thing a helper thread of main does (the coordinator's job threads): the termination
    signals are blocked in it, so the kernel hands them to main's thread. Python runs a handler
    only in the main thread, and a signal that landed in another thread does not wake main from a
    blocking wait (a lock, concurrent.futures.wait): a Ctrl-C would wait for a running child to
    end. Programs started from such a thread must unblock them again (program_setup)."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, set(TERMINATING))


def set_process_name(name: str) -> None:
    """Name this process in ps/top (Linux, at most 15 bytes): forked children otherwise
    all look like the main `overdash render` process."""
    prctl = _prctl() if sys.platform.startswith("linux") else None
    if prctl is not None:
        prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)


# What a user, a terminal or a supervisor sends to end a run: Ctrl-C, `kill` / `timeout` /
# systemd / `docker stop`, and a closed terminal. Each ends a render the same way.
TERMINATING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in main as a KeyboardInterrupt so that every cleanup written
    for Ctrl-C (children stopped, ffmpeg killed, partial output removed) runs for it too."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, _frame) -> None:
    # The first one decides: a second Ctrl-C, or a supervisor's repeat, must not cut the
    # cleanup it started short (that is bounded: children get SIGKILL, ffmpeg too).
    for sig in TERMINATING:
        signal.signal(sig, _after_first)
    if signum == signal.SIGHUP:
        _mute_hung_up_terminal()
    raise Terminated(signum)


def _after_first(_signum: int, _frame) -> None:
    """Signals after the first do nothing. A handler, not SIG_IGN: while main blocks a signal the
    kernel hands it to another thread (OpenBLAS, Ray), which may run the C-level handler only
    after main has swapped handlers; CPython then finds SIG_IGN and raises "Signal N ignored due
    to race condition" in the middle of the cleanup."""


def _mute_hung_up_terminal() -> None:
    """A closed terminal answers every write with EIO: point stdout and stderr at /dev/null,
    so that the cleanup's last progress line or message cannot turn into an error."""
    for fd in (1, 2):
        try:
            os.write(fd, b"")
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)


def end_on_termination() -> None:
    """In main, before any work: SIGINT, SIGTERM and SIGHUP raise Terminated, a KeyboardInterrupt.

    Python's default for SIGTERM and SIGHUP is to die at once, which skips every `finally`
    and leaves ffmpeg's hidden partial file behind. A signal the caller set to be ignored
    stays ignored: `nohup overdash render …` must survive the terminal closing, and a
    shell's background job ignores Ctrl-C.
    """
    if threading.current_thread() is threading.main_thread():
        for sig in TERMINATING:
            if signal.getsignal(sig) != signal.SIG_IGN:
                signal.signal(sig, _raise_terminated)


def whole_lines() -> None:
    """Main's stderr writes each line, text and newline, in one write.

    With PYTHONUNBUFFERED set (CI runners and IDEs set it), Python writes print()'s text and its
    newline separately, and a Ctrl-C raised between the two leaves the line open: the command's
    last message ("overdash: interrupted — …") then ends a status line instead of standing on its
    own. Line buffering holds the text until its newline and writes both at once; lines still
    appear as they are printed. Without PYTHONUNBUFFERED this is how stderr already writes."""
    reconfigure = getattr(sys.stderr, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(line_buffering=True, write_through=False)
        except (ValueError, OSError):  # closed, or not a text stream that can be
            pass


def signal_status(exc: KeyboardInterrupt) -> int:
    """The shell's exit status for a run ended by a signal: 128 + its number (130 for Ctrl-C)."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


def child_setup(name: str = "") -> None:
    """First thing a worker or the writer does: main alone reacts to termination signals.

    A terminal's Ctrl-C or closing, `timeout` and systemd signal the whole process group
    (or cgroup) at once. A child that died of it would race main's own handling and turn
    an interrupt into "worker died"; main stops the children itself (SIGKILL, see
    scheduler._stop_all). Children start with these signals blocked (see
    `sigint_blocked`), so one arriving while they are still importing stays pending;
    ignoring it before unblocking drops it.
    """
    for sig in TERMINATING:
        signal.signal(sig, signal.SIG_IGN)
    if name:
        set_process_name(name)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(TERMINATING))
    die_with_parent()


@contextlib.contextmanager
def sigint_blocked():
    """Start child processes inside this: a Ctrl-C, SIGTERM or SIGHUP meanwhile is held until the block ends.

    Two things are needed. The children inherit the signals blocked (across exec, too), so
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
    # An ignored signal stays ignored (nohup); collecting it would only risk the late-arrival
    # OSError described at _after_first once the block restores SIG_IGN.
    previous = {sig: signal.signal(sig, lambda signum, _frame: pending.append(signum))
                for sig in TERMINATING if signal.getsignal(sig) != signal.SIG_IGN}
    old_mask = (signal.pthread_sigmask(signal.SIG_BLOCK, set(TERMINATING))
                if hasattr(signal, "pthread_sigmask") else None)
    try:
        yield
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        # A signal the kernel gave to another thread may reach Python a moment after this:
        # it then meets main's own handler (raised just after the block, never inside it).
        if pending:
            first = pending[0]
            handler = previous[first]
            if callable(handler):  # what main would have done on the spot (KeyboardInterrupt, Terminated)
                handler(first, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(first)


# Signals that mean the process crashed rather than was told to stop.
_CRASH = ("SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT")


def describe_exit(code: int | None) -> str:
    """How a child ended, for one-line messages: 'killed by SIGKILL', 'crashed with SIGSEGV',
    'exited with status 3' (see exit_hint for what follows it)."""
    if code is None:
        return "still running"
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return f"killed by signal {-code}"
    return f"crashed with {name}" if name in _CRASH else f"killed by {name}"


def exit_hint(code: int | None) -> str:
    """What a death by signal usually means, as ' — …' to follow describe_exit; '' otherwise.

    A user who reads "exit status -9" learns nothing; one who reads that the kernel's
    out-of-memory killer is the usual sender of SIGKILL knows what to try.
    """
    if code is None or code >= 0:
        return ""
    try:
        name = signal.Signals(-code).name
    except ValueError:
        return ""
    if name == "SIGKILL":
        return (f" — signal {-code}, usually the kernel's out-of-memory killer: the system ran short of "
                f"memory (try fewer --workers, or close other programs)")
    if name in _CRASH:
        return f" — signal {-code}, a crash: run again with --debug, and report it if it happens again"
    return f" — signal {-code}, sent by another program"


def kill_pid(pid: int | None) -> None:
    """SIGKILL a process we started, ignoring one that is already gone."""
    if not pid:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
