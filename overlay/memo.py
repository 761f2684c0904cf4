"""Small facts remembered between runs as JSON in the user's cache folder.

What pint says about a unit, which time zone a place is in: each costs tens of
milliseconds to work out and never changes while the package that answers stays
the same, so the file is named after that package's install (path and time).
Reading or writing may fail; that only costs the time saved.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

from overdash.files import atomic_write, cache_dir  # noqa: F401 - cache_dir: the folder these facts live in


def package_tag(*modules: str, missing: str = "none") -> str:
    """12 hex digits naming the install of the first of `modules` found, else `missing`."""
    for module in modules:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin:
            try:
                stamp = os.stat(spec.origin).st_mtime_ns
            except OSError:
                stamp = 0
            return hashlib.sha1(f"{spec.origin}:{stamp}".encode()).hexdigest()[:12]
    return missing


def load(path: Path) -> dict:
    """The remembered dict; a missing, unreadable or damaged file is an empty one."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(path: Path, data: dict) -> None:
    """Atomically, so two renders at once never read half a file."""
    atomic_write(path, json.dumps(data, sort_keys=True), best_effort=True)
