"""Running ffmpeg/ffprobe as short-lived helpers (probing, capability checks).

One place turns "the binary is not there" into a user-facing error with an
install hint, so every caller reports a missing ffmpeg the same way. The
long-running encode is started by the main process (pipeline.encoder), not
from here; the pipeline's writer only feeds its stdin.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Sequence

from overdash import OverdashError

INSTALL_HINT = (
    "install ffmpeg (Debian/Ubuntu: `sudo apt install ffmpeg`, macOS: `brew install ffmpeg`) "
    "or pass the path of an ffmpeg build"
)


def resolve_tool(name: str) -> str:
    """The absolute path of an executable (name on PATH or a path), or OverdashError."""
    found = shutil.which(name)
    if found is None:
        raise OverdashError(f"{name}: not found; {INSTALL_HINT}")
    return found


def sibling_tool(ffmpeg: str, tool: str) -> str:
    """`tool` (ffprobe) beside a given ffmpeg (--ffmpeg /opt/ff/ffmpeg → /opt/ff/ffprobe), else on PATH."""
    path = Path(ffmpeg)
    if path.parent != Path("."):
        candidate = path.with_name(tool)
        if candidate.exists():
            return str(candidate)
    return tool


def run_tool(argv: Sequence[str], *, timeout: float | None = 60.0,
             pass_fds: Sequence[int] = ()) -> subprocess.CompletedProcess:
    """Run argv to completion with text output captured; a missing binary is an OverdashError.

    stdin is closed (DEVNULL) so that ffmpeg never waits for keyboard input.
    subprocess.TimeoutExpired propagates: callers decide what a timeout means.
    """
    try:
        return subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, capture_output=True,
            text=True, errors="replace", timeout=timeout, check=False, pass_fds=tuple(pass_fds),
        )
    except FileNotFoundError:
        raise OverdashError(f"{argv[0]}: not found; {INSTALL_HINT}") from None
    except PermissionError:
        raise OverdashError(f"{argv[0]}: not executable; {INSTALL_HINT}") from None


def start_tool(argv: Sequence[str]) -> subprocess.Popen:
    """Start argv with text output piped, as run_tool runs it; a missing binary is an OverdashError."""
    try:
        return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
    except FileNotFoundError:
        raise OverdashError(f"{argv[0]}: not found; {INSTALL_HINT}") from None
    except PermissionError:
        raise OverdashError(f"{argv[0]}: not executable; {INSTALL_HINT}") from None


_TAGS = re.compile(r"^(?:\[[^\]]*\] )+")  # "[h264 @ 0x55ad…] ", one or more


def first_error_line(stderr: str, *, strip_prefix: str | None = None) -> str:
    """The first meaningful line of ffmpeg/ffprobe stderr, without its '[codec @ 0x…] ' tags (ffmpeg 7
    and later write two: '[vist#0:0/h264 @ 0x…] [dec:h264 @ 0x…] ').

    With `-loglevel error` the first line is the cause ("Cannot load libcuda.so.1");
    later lines are consequences ("Error initializing output stream …").
    """
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        line = _TAGS.sub("", line).strip()
        if strip_prefix and line.startswith(strip_prefix + ": "):
            line = line[len(strip_prefix) + 2:]
        if line:
            return line
    return "no error message"


def path_arg(path) -> str:
    """A file path as an ffmpeg URL: 'file:' keeps 'a:b.mp4' from being read as protocol 'a'
    and '-x.mp4' from being read as an option."""
    text = str(path)
    return f"file:{text}" if (":" in text or text.startswith("-")) else text
