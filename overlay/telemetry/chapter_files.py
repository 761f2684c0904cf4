"""GoPro chapter files: which files continue a recording, from their names alone.

GoPro cuts long recordings into chapters of ~4 GB. Naming (GoPro's support
page "GoPro Camera File Naming Convention"):

* HERO6 and later: GX010123.MP4, GX020123.MP4, ... (GH for AVC, GX for HEVC,
  GL for low-res proxies): 2 letters, 2-digit chapter, 4-digit file number.
* HERO5 and older: GOPR0123.MP4 first, then GP010123.MP4, GP020123.MP4, ...

Kept apart from the telemetry reading (overlay.telemetry.chapters): a render asks which files
make its video before anything heavy is imported.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

_NEW = re.compile(r"^(G[HXL])(\d\d)(\d{4})$", re.IGNORECASE)
_OLD_FIRST = re.compile(r"^(GOPR)(\d{4})$", re.IGNORECASE)
_OLD_NEXT = re.compile(r"^(GP)(\d\d)(\d{4})$", re.IGNORECASE)
MAX_CHAPTERS = 99


def chapter_name(stem: str, chapter: int) -> str | None:
    """Stem of chapter `chapter` (1 = first) of the recording `stem` belongs to, or None."""
    if m := _NEW.match(stem):
        return f"{m.group(1)}{chapter:02d}{m.group(3)}"
    m = _OLD_FIRST.match(stem) or _OLD_NEXT.match(stem)
    if m:
        number = m.group(2) if m.group(1).upper() == "GOPR" else m.group(3)
        prefix = "GOPR" if chapter == 1 else f"GP{chapter - 1:02d}"
        return f"{prefix}{number}" if stem.isupper() else f"{prefix}{number}".lower()
    return None


def chapter_number(stem: str) -> int | None:
    """1 for a first chapter (GX01…, GOPR…), 2 for the next, …; None if not a GoPro name."""
    if m := _NEW.match(stem):
        return int(m.group(2))
    if _OLD_FIRST.match(stem):
        return 1
    if m := _OLD_NEXT.match(stem):
        return int(m.group(2)) + 1
    return None


def find_chapters(path: str | os.PathLike) -> list[Path]:
    """`path` and the chapters that follow it in its folder, in order (just `path` if none)."""
    path = Path(path)
    first = chapter_number(path.stem)
    if first is None:
        return [path]
    found = [path]
    for chapter in range(first + 1, MAX_CHAPTERS + 1):
        stem = chapter_name(path.stem, chapter)
        candidate = path.with_name(f"{stem}{path.suffix}") if stem else None
        if candidate is None or not candidate.is_file():
            break
        found.append(candidate)
    return found
