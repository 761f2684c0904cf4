"""Files every package writes the same way: whole or not at all, in the user's folders.

A render, an export or a cache update that is interrupted must leave either the
old file or the new one, never half of one: everything is written to a hidden
temporary name beside its destination and renamed over it when complete.
A render's own partial file (ffmpeg's output) is locked while its run lives, so
that one left by a run killed outright can be told apart and removed later.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Iterable, Union

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; partial files are then never swept
    fcntl = None  # type: ignore[assignment]

Content = Union[bytes, bytearray, memoryview, str, Iterable[str]]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Made readable by their owner only, then given the mode any file the user makes gets.
_MODE = 0o666 & ~_umask()


def atomic_write(path: Path | str, content: Content, *, best_effort: bool = False) -> bool:
    """Write `content` (bytes, text, or text chunks) to `path` through a temporary file beside it.

    Two processes writing the same file at once each rename a complete file. On any
    failure the temporary file is removed and the error raised, unless
    `best_effort` (caches: a read-only folder only costs the time saved), which
    returns False instead of raising an OSError.
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        if best_effort:
            path.parent.mkdir(parents=True, exist_ok=True)
        # Named before it is made (mkstemp names it after): a Ctrl-C landing as the file is
        # created finds the name already known to the cleanup below.
        for _ in range(8):
            tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.partial")
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
                break
            except FileExistsError:
                tmp = None  # another writer's: never ours to remove
        else:
            raise FileExistsError(f"{path.parent}: no free temporary name beside {path.name}")
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


# A render's output while ffmpeg writes it: `.NAME.partial-8HEX.EXT` beside the output.
_PARTIAL = re.compile(r"^\..+\.partial-[0-9a-f]{8}(\.[^./]+)?$")


def partial_path(output: Path) -> Path:
    """A hidden temporary name beside the output, with the same extension (ffmpeg picks the
    container from it), renamed onto the output when the render succeeds."""
    return output.with_name(f".{output.stem}.partial-{os.urandom(4).hex()}{output.suffix}")


class PartialLock:
    """A render's partial file, created and locked (flock) by main for as long as the render lives.

    A render killed outright (SIGKILL, power loss) cannot remove its partial file; the
    lock is how the next render into the folder tells that file, whose lock died with
    its process, from one another render is still writing (remove_stale_partials).
    The lock belongs to the open file, not to the name: ffmpeg opening the same path
    (and truncating it) keeps it.
    """

    def __init__(self, path: Path, fd: int | None):
        self.path, self._fd = path, fd

    @classmethod
    def claim(cls, path: Path) -> "PartialLock":
        """Create `path` (it must not exist) and lock it. Raises OSError (e.g. a read-only folder)."""
        for _ in range(3):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), _MODE)
            if fcntl is None:
                return cls(path, fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # Another run may have swept the new, not yet locked file in between: make it again.
                if os.fstat(fd).st_nlink:
                    return cls(path, fd)
            except OSError:
                pass
            os.close(fd)
        raise FileExistsError(f"{path}: removed by another run as it was made")

    def release(self) -> None:
        """Drop the lock: after the file was renamed onto the output, or removed."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def remove_stale_partials(folder: Path | str) -> list[Path]:
    """Remove the partial files in `folder` that a render which died outright left behind.

    Only this user's files named like a render's partial output, and only those no live
    process holds locked (PartialLock): never a file another render is writing. Best
    effort: a file that cannot be examined is left alone. Returns what was removed.
    """
    if fcntl is None:
        return []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        if not _PARTIAL.match(name):
            continue
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live render holds it
            now = os.stat(path, follow_symlinks=False)
            if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                os.unlink(path)
                removed.append(Path(path))
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/overdash (default ~/.cache/overdash): tiles, capability checks, remembered facts.

    Read at each call, so a test or a user who changes the variable is obeyed at once.
    """
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "overdash"


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/overdash (default ~/.config/overdash): the user's profiles and config.json."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "overdash"
