"""`overdash batch`'s bookkeeping: which recordings the inputs hold, where each one's output
goes, which outputs are already complete, and the table at the end.

A recording is a video and the chapters that follow it (GX01…, GX02…: found by name as
`render` finds them); a chapter also given by itself (a shell glob gives them all) is
part of its recording, not a recording of its own.

Complete (resumable runs): an output is complete when the marker written beside it after
its render still describes it: a hidden `.NAME.done` file holding the output's size and
modification time, the inputs' sizes and times, and the render options. A render that
never ended, an output replaced since, a changed input or different options: rendered again.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from overdash import InputError
from overdash.files import atomic_write, remove

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm")


@dataclass(frozen=True)
class Recording:
    name: str                  # what the table calls it: the first file's name
    paths: tuple[Path, ...]    # the files, chapters in order
    output: Path


def recordings(inputs: Sequence[Path], out_dir: Path, suffix: str = "", *, chapters: bool = True) -> list[Recording]:
    """The recordings in `inputs` (files, or folders of videos), each with its output in `out_dir`:
    the first file's name, with `suffix` (default: the input's own extension)."""
    from overlay.telemetry.chapter_files import chapter_number, find_chapters

    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        else:
            files.append(path)
    if not files:
        raise InputError("batch: no video files in the inputs")
    seen: set[Path] = set()
    found: list[Recording] = []
    names: dict[str, Path] = {}
    # first chapters first, so that a later chapter given on its own joins its recording
    for path in sorted(files, key=lambda p: (chapter_number(p.stem) or 1, str(p))):
        key = path.resolve() if path.exists() else path.absolute()
        if key in seen:
            continue
        group = find_chapters(path) if chapters and path.exists() else [path]
        seen.update(p.resolve() for p in group)
        output = out_dir / f"{path.stem}{suffix or path.suffix.lower() or '.mp4'}"
        if output.name in names:
            raise InputError(f"{path} and {names[output.name]} would both be written to {output}: "
                             f"render them into different --out folders")
        names[output.name] = path
        found.append(Recording(path.name, tuple(group), output))
    return sorted(found, key=lambda r: str(r.paths[0]))


def marker_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.done")


def _stat(path: Path) -> list:
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


def fingerprint(recording: Recording, options: str) -> dict:
    """What a complete output's marker holds, but for the output's own facts."""
    return {"inputs": [_stat(p) for p in recording.paths],
            "options": hashlib.sha256(options.encode()).hexdigest()}


def is_complete(recording: Recording, options: str) -> bool:
    """The output is there and is what a render of these inputs with these options wrote."""
    try:
        marker = json.loads(marker_path(recording.output).read_text())
        return marker == {**fingerprint(recording, options), "output": _stat(recording.output)}
    except (OSError, ValueError):
        return False


def mark_complete(recording: Recording, options: str) -> None:
    atomic_write(marker_path(recording.output),
                 json.dumps({**fingerprint(recording, options), "output": _stat(recording.output)}))


def forget(recording: Recording) -> None:
    """Before rendering again: the old marker no longer vouches for anything."""
    remove(marker_path(recording.output))


def table(rows: Sequence[tuple[str, str, str]]) -> str:
    """The end-of-run table: recording, status (done / failed / skipped), note."""
    width = max([len("recording"), *(len(r[0]) for r in rows)])
    lines = [f"{'recording':<{width}}  {'status':<7}  note"]
    lines += [f"{name:<{width}}  {status:<7}  {note}".rstrip() for name, status, note in rows]
    return "\n".join(lines)


def describe(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def options_text(config) -> str:
    """The render options that decide an output's content (not where it goes, nor how fast)."""
    import dataclasses

    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    for name in ("input", "more_inputs", "output", "workers", "quiet", "debug", "notices", "show_ffmpeg",
                 "profile_widgets"):
        fields.pop(name, None)
    return repr(sorted(fields.items()))

