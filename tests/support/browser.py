"""A headless Chromium for the editor's page tests, and `overdash edit` run as a child process.

The browser is Debian's `chromium` with its `chromium-driver` (`make setup` installs both,
selenium comes with the `test` extra). Where either is missing the tests that need it skip,
the reason starting with SKIP_PREFIX; CI has them and turns that skip into a failure
(tests/support/required_skips.py, OVERDASH_REQUIRE_BROWSER or CI=true).

    with chromium() as driver, EditServer.start(tmp_path, "--layout", path) as server:
        driver.get(server.url)               # chromium() skips naming what is missing
        assert not console_problems(console(driver))
"""
from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.paths import ROOT

SKIP_PREFIX = "browser missing:"
CHROMIUM = Path(os.environ.get("OVERDASH_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("OVERDASH_CHROMEDRIVER", "/usr/bin/chromedriver"))
URL_LINE = re.compile(r"^overdash edit: (http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_\-]+))$")
START_TIMEOUT_S = 60.0   # a cold start imports numpy, PIL and the layout code, and may probe a video


def missing() -> list[str]:
    """What the browser tests need and this machine lacks (empty when they can run)."""
    lack = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        lack.append("the selenium package (pip install -e '.[test]')")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        lack.append(f"{CHROMIUM} (apt: chromium)")
    if not (CHROMEDRIVER.is_file() and os.access(CHROMEDRIVER, os.X_OK)):
        lack.append(f"{CHROMEDRIVER} (apt: chromium-driver)")
    return lack


@contextmanager
def chromium():
    """A new headless Chromium (1280x900, console log kept) for a `with`, or skip naming what is missing.

    chromedriver is started detached (its parent exits at once), so neither it nor the
    browser processes Chromium starts and ends as it pleases (renderers, a spare one) are
    children of the test process: one browser can serve a whole module without the leak
    check of tests/conftest.py counting them against the test that happened to be running.
    Leaving the `with` quits the browser and ends that chromedriver by its pid."""
    lack = missing()
    if lack:
        pytest.skip(f"{SKIP_PREFIX} {', '.join(lack)}; make setup installs them")
    from selenium import webdriver
    from selenium.webdriver.chromium.remote_connection import ChromiumRemoteConnection

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    port, pid = _detached_chromedriver()
    try:
        connection = ChromiumRemoteConnection(f"http://127.0.0.1:{port}", vendor_prefix="goog",
                                              browser_name="chrome")
        driver = webdriver.Remote(command_executor=connection, options=options)
        try:
            yield driver
        finally:
            driver.quit()
    finally:
        _end(pid)


def console(driver) -> list[dict]:
    """The browser console entries logged since the last call (chromedriver's log endpoint)."""
    return driver.execute("getLog", {"type": "browser"})["value"]


def _detached_chromedriver() -> tuple[int, int]:
    """(port, pid) of a chromedriver whose parent has already exited, once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launch = ("import subprocess, sys; print(subprocess.Popen(sys.argv[1:], start_new_session=True, "
              "stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid)")
    pid = int(subprocess.run([sys.executable, "-c", launch, str(CHROMEDRIVER), f"--port={port}"],
                             capture_output=True, text=True, check=True, timeout=30).stdout)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2):
                return port, pid
        except OSError:
            time.sleep(0.1)
    _end(pid)
    raise AssertionError(f"chromedriver (pid {pid}) did not answer on port {port} within 30 s")


def _end(pid: int) -> None:
    """SIGTERM the detached chromedriver (not our child: poll until it is gone), SIGKILL after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


class EditServer:
    """`overdash edit --no-browser --port 0 ...` as a child process: its URL, port and token.

    Stopped with SIGTERM; `stop()` returns the exit status and stderr so a test can assert
    the clean exit the contract promises (0, "overdash edit: stopped")."""

    def __init__(self, proc: subprocess.Popen, err, url: str, port: int, token: str):
        self.proc, self.err, self.url, self.port, self.token = proc, err, url, port, token
        self.base = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, cwd: Path, *args: str | os.PathLike) -> EditServer:
        argv = [sys.executable, "-m", "pipeline.commands.cli", "edit", "--no-browser", "--port", "0",
                *map(str, args)]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        # stderr to a file, not a pipe: a request log nobody reads would fill a pipe and stall the server
        err = tempfile.TemporaryFile("w+")
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err,
                                text=True, start_new_session=True)
        line = _read_line(proc, START_TIMEOUT_S)
        m = URL_LINE.match(line.strip()) if line is not None else None
        if m is None:
            proc.kill()
            proc.communicate(timeout=10)
            raise AssertionError(f"overdash edit printed {line!r}, not its URL line; exit {proc.returncode}; "
                                 f"stderr:\n{_tail(err)}")
        return cls(proc, err, m.group(1), int(m.group(2)), m.group(3))

    def stderr(self) -> str:
        return _tail(self.err)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> tuple[int, str]:
        """SIGTERM, wait; (exit status, stderr). Killed (and an error) when it does not exit in 15 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.communicate(timeout=10)
            raise AssertionError("overdash edit did not exit within 15 s of SIGTERM") from None
        return self.proc.returncode, self.stderr()

    def __enter__(self) -> EditServer:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.stop()


def _read_line(proc: subprocess.Popen, timeout: float) -> str | None:
    """The child's first stdout line, or None when it exits or says nothing in `timeout` seconds."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if sel.select(timeout=0.2):
                line = proc.stdout.readline()
                return line if line else None
            if proc.poll() is not None:
                return None
    finally:
        sel.close()
    return None


def _tail(err, limit: int = 4000) -> str:
    err.flush()
    err.seek(0)
    return err.read()[-limit:]


def console_problems(entries: list[dict]) -> list[dict]:
    """Console entries that are errors or warnings (what the page must never log)."""
    return [e for e in entries if e.get("level") in ("SEVERE", "WARNING")]
