"""pipeline.procs: how a child's death is told, and termination signals turned into an interrupt."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pipeline.procs import (
    TERMINATING,
    Terminated,
    describe_exit,
    end_on_termination,
    exit_hint,
    sigint_blocked,
    signal_status,
)


@pytest.mark.parametrize("code, text, hint", [
    (-9, "killed by SIGKILL", "signal 9, usually the kernel's out-of-memory killer"),
    (-11, "crashed with SIGSEGV", "signal 11, a crash"),
    (-6, "crashed with SIGABRT", "signal 6, a crash"),
    (-15, "killed by SIGTERM", "signal 15, sent by another program"),
    (3, "exited with status 3", ""),
    (None, "still running", ""),
])
def test_every_way_a_child_ends_is_named(code, text, hint):
    assert describe_exit(code) == text
    assert hint in exit_hint(code) and (exit_hint(code) == "") == (hint == "")


def test_exit_status_is_128_plus_the_signal():
    assert signal_status(KeyboardInterrupt()) == 130
    assert signal_status(Terminated(signal.SIGTERM)) == 143
    assert signal_status(Terminated(signal.SIGHUP)) == 129


@pytest.fixture
def handlers():
    """Each signal at its default disposition for the test (as a shell starts a command: a run
    under `nohup` or a background job would inherit SIGHUP or SIGINT ignored), restored after."""
    saved = {sig: signal.getsignal(sig) for sig in TERMINATING}
    for sig in TERMINATING:
        signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("sig", TERMINATING)
def test_each_termination_signal_raises_a_keyboard_interrupt_carrying_it_once(sig, handlers):
    end_on_termination()
    with pytest.raises(KeyboardInterrupt) as caught:
        os.kill(os.getpid(), sig)  # a signal to oneself is delivered before kill() returns
    assert isinstance(caught.value, Terminated) and caught.value.signum == sig
    for again in TERMINATING:  # the cleanup the first one started is not cut short by a second
        os.kill(os.getpid(), again)


@pytest.fixture
def other_threads():
    """Idle threads, as OpenBLAS or Ray leave in main: while main blocks a signal the kernel
    hands it to one of them, so it may reach Python a moment after the block ends."""
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    yield
    stop.set()


def _let_late_signals_arrive(seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.005)


@pytest.mark.parametrize("threads", [False, True], ids=["main-only", "other-threads"])
def test_a_signal_while_children_start_is_held_until_they_are_known(threads, handlers, request):
    """Raised after the block, never inside it: a child started meanwhile is always registered."""
    if threads:
        request.getfixturevalue("other_threads")
    for _ in range(20):
        for sig in TERMINATING:
            signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
        end_on_termination()
        reached_end = False
        with pytest.raises(Terminated) as caught:
            with sigint_blocked():
                os.kill(os.getpid(), signal.SIGTERM)
                os.kill(os.getpid(), signal.SIGINT)  # a second one, as a supervisor repeats itself
                reached_end = True
            _let_late_signals_arrive()
        assert reached_end and caught.value.signum in (signal.SIGTERM, signal.SIGINT)
        _let_late_signals_arrive(0.02)  # a late second signal is quietly dropped, never an OSError


def test_a_signal_the_caller_ignores_stays_ignored(handlers):
    """`nohup overdash render …`: the render outlives the terminal it was started from."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    end_on_termination()
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    os.kill(os.getpid(), signal.SIGHUP)  # nothing raised
    assert callable(signal.getsignal(signal.SIGTERM))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the signal mask from /proc (Linux)")
def test_ffmpeg_started_while_signals_are_held_still_takes_them(handlers):
    """Encoders start inside sigint_blocked (main must know them before a Ctrl-C is raised); the
    blocked mask would survive exec, and ffmpeg would then ignore a SIGTERM sent to it."""
    from pipeline.encoder import Encoder

    end_on_termination()
    with sigint_blocked():
        encoder = Encoder.start(["sleep", "30"])
    try:
        status = dict(line.split(":\t", 1) for line in open(f"/proc/{encoder.pid}/status").read().splitlines()
                      if ":\t" in line)
        blocked = int(status["SigBlk"], 16)
        assert not [sig for sig in TERMINATING if blocked & (1 << (sig - 1))], status["SigBlk"]
        os.kill(encoder.pid, signal.SIGTERM)
        assert encoder.proc.wait(timeout=5) == -signal.SIGTERM
    finally:
        encoder.kill()
        encoder.close()



_STATUS_LINES = """
import sys
from pipeline.procs import whole_lines
whole_lines()
print("ready", file=sys.stderr)
try:
    while True:
        print("overdash: a.mp4 done — 1/2 recordings done, 235 frames/s in all, about 0:01 left", file=sys.stderr)
except KeyboardInterrupt:
    print("overdash: interrupted — 1 finished recording kept, nothing else written", file=sys.stderr)
"""


@pytest.mark.parametrize("run", range(8))
def test_a_ctrl_c_never_leaves_a_status_line_open(tmp_path, run):
    """Under PYTHONUNBUFFERED (CI runners and IDEs set it), a Ctrl-C between a status line's text and
    its newline used to glue the command's last message onto that line (`overdash batch`, 2026-12-05).
    Without whole_lines() this fails in most runs."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(root))
    log = tmp_path / "stderr"
    with open(log, "wb") as err:  # a file: the writer never waits for a reader
        proc = subprocess.Popen([sys.executable, "-c", _STATUS_LINES], stderr=err, env=env)
    deadline = time.monotonic() + 30
    while log.stat().st_size == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)  # thousands of lines are written by now: the signal lands among them
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    lines = log.read_text().splitlines()
    assert lines[0] == "ready" and len(lines) > 100, lines[:3]
    assert lines[-1] == "overdash: interrupted — 1 finished recording kept, nothing else written", lines[-2:]
    assert all(line.endswith("about 0:01 left") for line in lines[1:-1])
