"""Files every package writes the same way: whole or not at all, in the user's folders.

A render, an export or a cache update that is interrupted must leave either the
old file or the new one, never half of one: everything is written to a hidden
temporary name beside its destination and renamed over it when complete.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Union

Content = Union[bytes, bytearray, memoryview, str, Iterable[str]]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp makes files only their owner can read; what we write is the user's, like any file they make.
_MODE = 0o666 & ~_umask()


def atomic_write(path: Path | str, content: Content, *, best_effort: bool = False) -> bool:
    """Write `content` (bytes, text, or text chunks) to `path` through a temporary file beside it.

    Two processes writing the same file at once each rename a complete file. On any
    failure the temporary file is removed and the error raised, unless
    `best_effort` (caches: a read-only folder only costs the time saved), which
    returns False instead of raising an OSError.
    """
    path = Path(path)
    tmp = None
    try:
        if best_effort:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        os.fchmod(fd, _MODE)
        if isinstance(content, (bytes, bytearray, memoryview)):
            with os.fdopen(fd, "wb") as out:
                out.write(content)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as text:
                if isinstance(content, str):
                    text.write(content)
                else:
                    for chunk in content:
                        text.write(chunk)
        os.replace(tmp, path)
        return True
    except BaseException as exc:
        if tmp is not None:
            remove(tmp)
        if best_effort and isinstance(exc, OSError):
            return False
        raise


def remove(path: Path | str) -> None:
    """Unlink `path` if it is there; a file already gone is what the caller wanted."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/overdash (default ~/.cache/overdash): tiles, capability checks, remembered facts.

    Read at each call, so a test or a user who changes the variable is obeyed at once.
    """
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "overdash"


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/overdash (default ~/.config/overdash): the user's profiles and config.json."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "overdash"
