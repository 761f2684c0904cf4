"""Encoder profiles: data files that say how to encode, validated on load.

Profiles are JSON so users can add their own (in $XDG_CONFIG_HOME/overdash/profiles,
which shadows the built-ins in the repository's top-level profiles/ folder)
without touching code. A mistake is reported at load time, naming the file and
the key, instead of as an ffmpeg failure minutes into a render.

Schema (version 1) — one JSON object per file, `<name>.json`; no other keys:

    schema          int, optional, must be 1
    name            str, required, equals the file name without .json
                    (lowercase letters, digits, '.', '_', '-')
    description     str, required, one line for `--list-profiles`
    encoder         str, required, ffmpeg encoder name (`-c:v`), e.g. "libx264"
    input_options   list[str], decoder-side ffmpeg options placed before the
                    source's `-i` (e.g. ["-hwaccel", "cuda"]); default []
    output_options  list[str], encoder options placed after `-c:v` (e.g.
                    ["-preset", "veryfast", "-crf", "20"]); default []
    pix_fmt         str, required, output pixel format (`-pix_fmt`)
    audio           str, "copy" (default) or an ffmpeg audio encoder name
    extensions      list[str], required, output file extensions this profile
                    may write, without the dot, from {"mp4", "mov", "mkv"}
    gpu             null (CPU only, default) or the GPU vendor the encoder
                    needs ("nvidia", "intel", "amd"); informational — whether
                    the encoder works is decided by a real one-frame encode

Options that the command builder owns (inputs, maps, filters, -c:v, -pix_fmt,
-f, -y, logging, threads, frame-count or timing changes) are rejected in the
option lists, as are flags given twice.
"""
from __future__ import annotations

import json
import os
import sys
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from overdash import InputError

SCHEMA_VERSION = 1
CONTAINERS = ("mp4", "mov", "mkv")
GPU_VENDORS = ("nvidia", "intel", "amd")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_FLAG = re.compile(r"^-[A-Za-z]")
_REQUIRED = ("name", "description", "encoder", "pix_fmt", "extensions")
_OPTIONAL = ("schema", "input_options", "output_options", "audio", "gpu")
# Set by encoders.command; a profile repeating them would make two conflicting flags.
RESERVED_OPTIONS = frozenset("""
    -i -f -y -n -c -codec -c:v -codec:v -vcodec -c:a -codec:a -acodec -pix_fmt -pix_fmt:v
    -map -map_metadata -map_chapters -filter_complex -lavfi -filter_complex_threads
    -vf -filter:v -af -filter:a -movflags -fps_mode -vsync -r -s -t -to -ss -frames -frames:v
    -vframes -threads -loglevel -v -hide_banner -nostdin -nostats -stats -an -vn
""".split())


class ProfileError(InputError):
    """A profile file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Profile:
    """A validated encoder profile (see the module docstring for the JSON form)."""

    name: str
    description: str
    encoder: str
    input_options: tuple[str, ...]
    output_options: tuple[str, ...]
    pix_fmt: str
    audio: str
    extensions: tuple[str, ...]
    gpu: str | None
    source: Path

    @property
    def needs_gpu(self) -> bool:
        return self.gpu is not None


def builtin_dir() -> Path:
    """The top-level profiles/ folder: in the checkout, or where a wheel install put it."""
    checkout = Path(__file__).resolve().parent.parent / "profiles"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "overdash" / "profiles"


def user_dir() -> Path:
    """$XDG_CONFIG_HOME/overdash/profiles (default ~/.config/overdash/profiles)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "overdash" / "profiles"


def profile_dirs() -> tuple[Path, ...]:
    """Where names are looked up, first match wins: the user's profiles, then built-ins."""
    return (user_dir(), builtin_dir())


def builtin_profiles() -> dict[str, Profile]:
    """Every built-in profile by name (loading validates them all)."""
    return {p.stem: load_profile(p) for p in sorted(builtin_dir().glob("*.json"))}


def available_profiles(dirs: Sequence[Path] | None = None) -> list[str]:
    """Names that load_profile(name) can find, sorted."""
    names = {p.stem for d in (profile_dirs() if dirs is None else dirs) for p in Path(d).glob("*.json")}
    return sorted(names)


def load_profile(name_or_path, *, dirs: Sequence[Path] | None = None) -> Profile:
    """Load a profile by name (looked up in `dirs`, default profile_dirs()) or by file path."""
    text = str(name_or_path)
    if text.endswith(".json") or "/" in text or os.sep in text:
        return _load_file(Path(text))
    for folder in profile_dirs() if dirs is None else dirs:
        candidate = Path(folder) / f"{text}.json"
        if candidate.is_file():
            return _load_file(candidate)
    known = ", ".join(available_profiles(dirs)) or "none"
    raise ProfileError(f"{text}: no such profile (available: {known})")


def _load_file(path: Path) -> Profile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read profile ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return profile_from_dict(data, path)


def profile_from_dict(data, path: Path) -> Profile:
    """Validate a decoded profile; every error names `path` and the offending key."""
    def fail(key: str, problem: str):
        raise ProfileError(f"{path}: key '{key}': {problem}")

    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile must be a JSON object")
    for key in data:
        if key not in _REQUIRED + _OPTIONAL:
            fail(key, f"unknown key (allowed: {', '.join(_REQUIRED + _OPTIONAL)})")
    for key in _REQUIRED:
        if key not in data:
            fail(key, "missing")
    if data.get("schema", SCHEMA_VERSION) != SCHEMA_VERSION:
        fail("schema", f"unsupported version {data['schema']!r} (expected {SCHEMA_VERSION})")
    strings = {k: data.get(k, "copy" if k == "audio" else None)
               for k in ("name", "description", "encoder", "pix_fmt", "audio")}
    for key, value in strings.items():
        if not isinstance(value, str) or not value.strip():
            fail(key, "must be a non-empty string")
    if not _NAME.match(strings["name"]):
        fail("name", f"{strings['name']!r} must be lowercase letters, digits, '.', '_' or '-'")
    if strings["name"] != path.stem:
        fail("name", f"{strings['name']!r} does not match the file name {path.name!r}")
    for key in ("encoder", "pix_fmt", "audio"):
        if not re.match(r"^[A-Za-z0-9_]+$", strings[key]):
            fail(key, f"{strings[key]!r} is not an ffmpeg name")
    options = {key: _option_list(data.get(key, []), key, fail) for key in ("input_options", "output_options")}
    extensions = data["extensions"]
    if not isinstance(extensions, list) or not extensions or not all(isinstance(e, str) for e in extensions):
        fail("extensions", "must be a non-empty list of strings")
    for ext in extensions:
        if ext not in CONTAINERS:
            fail("extensions", f"{ext!r} is not one of {', '.join(CONTAINERS)} (no leading dot)")
    gpu = data.get("gpu")
    if gpu is not None and gpu not in GPU_VENDORS:
        fail("gpu", f"{gpu!r} must be null or one of {', '.join(GPU_VENDORS)}")
    return Profile(
        name=strings["name"], description=strings["description"].strip(),
        encoder=strings["encoder"], input_options=options["input_options"],
        output_options=options["output_options"], pix_fmt=strings["pix_fmt"],
        audio=strings["audio"], extensions=tuple(dict.fromkeys(extensions)), gpu=gpu,
        source=path,
    )


def _option_list(value, key: str, fail) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        fail(key, "must be a list of non-empty strings")
    seen: set[str] = set()
    for token in value:
        if not _FLAG.match(token):
            continue
        if token in RESERVED_OPTIONS:
            fail(key, f"{token} is set by overdash itself and cannot appear in a profile")
        if token in seen:
            fail(key, f"{token} is given twice")
        seen.add(token)
    if value and not _FLAG.match(value[0]):
        fail(key, f"must start with an option flag, not {value[0]!r}")
    return tuple(value)
