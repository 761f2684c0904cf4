"""What every test gets: its own home folders, a check that it leaves nothing running, and
device-file skips that CI turns into failures (tests/support/required_skips.py), and the static
ffmpeg builds of three generations (the `ffmpeg_build` fixture of tests/support/ffmpeg_builds.py).

Home and caches. No test reads or writes the user's ~, ~/.cache/overdash or
~/.config/overdash. Each test has its own HOME and XDG_CONFIG_HOME (empty
folders); XDG_CACHE_HOME is one isolated folder shared by the whole session, so
what a cache only speeds up (ffmpeg capability checks, the pint memo, time zone
facts) is worked out once per run, not once per render. A test about a cache
itself asks for `fresh_cache` (an empty XDG_CACHE_HOME of its own). Module and
session fixtures, set up before any test's own folders, see the session's.

Leaks. After each test, no new child process of the test process may still run
(zombies and multiprocessing's resource tracker aside) and no new overdash ring
segment (/dev/shm/overdash-<creator pid>-...) made by this process or its
children may remain. A leak fails the test (an error at teardown) naming what
leaked; the processes are then killed and the segments unlinked so the next test
starts clean. A child gets OVERDASH_LEAK_GRACE_S (default 2) seconds to exit first.
"""
from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import psutil
import pytest

pytest_plugins = ["tests.support.ffmpeg_builds", "tests.support.required_skips"]

SHM = Path("/dev/shm")
RING_NAME = re.compile(r"overdash-(\d+)-")  # pipeline/ring.py names named rings after their creator's pid
LEAK_GRACE_S = float(os.environ.get("OVERDASH_LEAK_GRACE_S", "2"))  # for a child to exit after its test


# ------------------------------------------------------------------------ home and caches

def pytest_configure(config: pytest.Config) -> None:
    """Tests that stop a render with Ctrl-C or a closed terminal mean a foreground command's
    signals. A test run started in the background (a script's `&`, nohup) inherits SIGINT or
    SIGHUP ignored, which overdash rightly keeps (tests/pipeline/test_procs.py), and its
    children would too: every child starts from the defaults instead."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture(scope="session", autouse=True)
def _session_home(tmp_path_factory: pytest.TempPathFactory):
    """Session-wide HOME and XDG folders: what module and session fixtures run with."""
    root = tmp_path_factory.mktemp("session-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("HOME", str(root))
    mp.setenv("XDG_CACHE_HOME", str(root / ".cache"))
    mp.setenv("XDG_CONFIG_HOME", str(root / ".config"))
    yield root
    mp.undo()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, _session_home: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own HOME (and XDG_CONFIG_HOME inside it); the session's shared cache folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_session_home / ".cache"))
    return home


@pytest.fixture
def fresh_cache(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty XDG_CACHE_HOME of this test's own (for tests of a cache); the folder is returned."""
    cache = isolated_home / ".cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


# ------------------------------------------------------------------------ leaks

def _descendants() -> dict[int, psutil.Process]:
    return {child.pid: child for child in psutil.Process().children(recursive=True)}


def _running(proc: psutil.Process) -> bool:
    """Still running (not a zombie waiting to be reaped) and not a helper that outlives tests by design."""
    try:
        if not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = " ".join(proc.cmdline())
    except psutil.Error:
        return False
    return "resource_tracker" not in cmdline and "forkserver" not in cmdline  # multiprocessing's own


def _describe(proc: psutil.Process) -> str:
    try:
        return f"pid {proc.pid}: {' '.join(proc.cmdline()) or proc.name()}"
    except psutil.Error:
        return f"pid {proc.pid}"


def _shm_names() -> set[str]:
    try:
        return set(os.listdir(SHM))
    except FileNotFoundError:  # not Linux
        return set()


def _ours(name: str, family: set[int]) -> bool:
    """A ring segment made by this process or by a child of it (alive or gone, never another's)."""
    m = RING_NAME.match(name)
    if not m:
        return False
    pid = int(m.group(1))
    return pid in family or not psutil.pid_exists(pid)


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest):
    """Fail the test when it leaves a child process running or a ring segment in /dev/shm."""
    children_before = set(_descendants())
    shm_before = _shm_names()
    yield
    deadline = time.monotonic() + LEAK_GRACE_S
    while True:
        now = _descendants()
        procs = [p for pid, p in now.items() if pid not in children_before and _running(p)]
        family = {os.getpid(), *children_before, *now}
        segments = sorted(n for n in _shm_names() - shm_before if _ours(n, family))
        if not (procs or segments) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not (procs or segments):
        return
    found = [f"process left running: {_describe(p)}" for p in procs]
    found += [f"shared memory left behind: {SHM / n}" for n in segments]
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=5)
    for n in segments:
        try:
            os.unlink(SHM / n)
        except OSError:
            pass
    pytest.fail(f"{request.node.nodeid} leaked:\n  " + "\n  ".join(found), pytrace=False)
