"""Compiled dataclass methods, kept between runs.

`@dataclass` writes each class's `__init__`, `__repr__`, `__eq__`, `__hash__` (and, when
frozen, `__setattr__` and `__delattr__`) as Python source and compiles it as the class is
created. For the ~60 dataclasses a render imports that is ~30 ms of every start-up
(CPython 3.11 to 3.13 compile each method on its own), spent before ffmpeg gets its first
frame. The source depends only on the class's fields and options, and the code compiled
from it only on that source and the interpreter, so the code can be kept: `install` lets
dataclasses take it from a file in the cache folder, keyed by the exact source text and
the interpreter's bytecode magic number, and compile only what the file lacks. The file
holds code that is run, so it is used only if this user owns it and nobody else may write
it (as Python's own bytecode cache, it is as safe as the folder it lives in).

Only the command-line entry points install it, before they import the rest of overdash,
and save it when the command is done: a program that imports overdash as a library keeps
its own dataclasses untouched.
"""
from __future__ import annotations

import builtins
import dataclasses
import marshal
import os
import sys
import types
from importlib.util import MAGIC_NUMBER
from pathlib import Path

# Past this many kept methods, a save keeps only those this run used: the file does not grow
# with every edit of every class, yet each command's own methods survive another's run.
MAX_ENTRIES = 4000


class CodeCache:
    """Source text → code object, loaded from `path` and saved back when a run compiled more."""

    def __init__(self, path: Path):
        self.path = path
        self.codes = _load(path)
        self.used: set[str] = set()
        self.compiled = 0

    def exec(self, source, globals=None, locals=None, /):
        """`exec` as dataclasses calls it, with the compiled code remembered."""
        if type(source) is str:
            code = self.codes.get(source)
            if code is None:
                # flags as exec() of a string in dataclasses.py gets them: that module has no
                # __future__ imports, and this one's (annotations) must not leak into its code
                code = compile(source, "<string>", "exec", dont_inherit=True)
                self.codes[source] = code
                self.compiled += 1
            self.used.add(source)
            source = code
        return builtins.exec(source, globals, locals)

    def save(self) -> None:
        """Write the file if this run compiled anything (best effort: a cache that cannot be
        written only costs the time it would have saved)."""
        if not self.compiled:
            return
        from overdash.files import atomic_write

        codes = self.codes
        if len(codes) > MAX_ENTRIES:
            codes = {source: code for source, code in codes.items() if source in self.used}
        if atomic_write(self.path, MAGIC_NUMBER + marshal.dumps(codes), best_effort=True):
            try:  # this user's alone whatever the umask: _load refuses a file others may write
                os.chmod(self.path, 0o600)
            except OSError:
                pass


def _load(path: Path) -> dict:
    """The kept code, or nothing from a file this user may not have written alone: it is run."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if (hasattr(os, "getuid") and st.st_uid != os.getuid()) or st.st_mode & 0o022:
                return {}
            data = f.read()
    except OSError:
        return {}
    if not data.startswith(MAGIC_NUMBER):  # another interpreter's bytecode
        return {}
    try:
        codes = marshal.loads(data[len(MAGIC_NUMBER):])
    except (EOFError, ValueError, TypeError):  # damaged: compiled afresh and rewritten
        return {}
    if not isinstance(codes, dict):
        return {}
    return {source: code for source, code in codes.items()
            if type(source) is str and type(code) is types.CodeType}


def install(folder: Path) -> CodeCache | None:
    """Serve dataclasses' compiles from `folder`/dataclass-code-<interpreter>.marshal from now on;
    the caller saves it (CodeCache.save) once the command is done. None where it does not apply
    (not CPython, or already installed)."""
    if sys.implementation.name != "cpython" or "exec" in vars(dataclasses):
        return None
    cache = CodeCache(Path(folder) / f"dataclass-code-{sys.implementation.cache_tag}.marshal")
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]  # found before the builtin
    return cache


def install_for_command() -> CodeCache | None:
    """`install` in the cache folder, for a command-line entry point before it imports the rest of
    overdash; None if that folder cannot even be named (no home directory): only the time is lost."""
    from overdash.files import cache_dir

    try:
        return install(cache_dir())
    except (OSError, RuntimeError, KeyError):
        return None
