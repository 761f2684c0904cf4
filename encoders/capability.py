"""Which encoders actually work on this machine, and which profile 'auto' means.

`ffmpeg -encoders` lists what ffmpeg was built with, not what runs: h264_nvenc
is listed on every Debian ffmpeg and fails without an NVIDIA driver. The only
reliable test is a real one-frame encode. It costs ~0.1–2 s, so results are
cached per machine, keyed by the ffmpeg binary (path and version): a different
ffmpeg is re-tested. Failures expire after a day (a driver may get installed).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from overdash import OverdashError
from encoders.profiles import Profile, load_profile
from encoders.tools import first_error_line, resolve_tool, run_tool

AUTO_CANDIDATES = ("nvenc", "cpu")  # fastest first
CHECK_TIMEOUT = 20.0
FAILURE_TTL = 24 * 3600.0


@dataclass(frozen=True)
class ProfileChoice:
    """The profile to use, and why it is not the first choice (None when it is)."""

    profile: Profile
    reason: str | None = None


def default_cache_path() -> Path:
    """$XDG_CACHE_HOME/overdash/capabilities.json (default ~/.cache/...); read at call time."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "overdash" / "capabilities.json"


def ffmpeg_identity(ffmpeg: str = "ffmpeg") -> str:
    """'<absolute path>|<version>' of an ffmpeg binary: the capability cache key."""
    path = resolve_tool(ffmpeg)
    done = run_tool([path, "-hide_banner", "-version"], timeout=CHECK_TIMEOUT)
    first = done.stdout.splitlines()[0] if done.stdout else "unknown version"
    return f"{path}|{first.split(' Copyright')[0].strip()}"


def encoder_works(ffmpeg: str, encoder: str, *, cache_path: Path | None = None,
                  timeout: float = CHECK_TIMEOUT, refresh: bool = False) -> tuple[bool, str]:
    """(True, "ok") if `encoder` can encode one frame with this ffmpeg, else (False, reason).

    The reason is ffmpeg's first error line, e.g. "Cannot load libcuda.so.1".
    A missing ffmpeg raises OverdashError: that is not an encoder problem.
    """
    cache_path = default_cache_path() if cache_path is None else Path(cache_path)
    key = ffmpeg_identity(ffmpeg)
    cache = _read_cache(cache_path)
    entry = cache.get(key, {}).get(encoder)
    if entry and not refresh and (entry["ok"] or time.time() - entry["checked"] < FAILURE_TTL):
        return entry["ok"], entry["reason"]
    ok, reason = _one_frame_encode(ffmpeg, encoder, timeout)
    cache.setdefault(key, {})[encoder] = {"ok": ok, "reason": reason, "checked": time.time()}
    _write_cache(cache_path, cache)
    return ok, reason


def choose_profile(name: str = "auto", *, ffmpeg: str = "ffmpeg",
                   candidates: Sequence[str] = AUTO_CANDIDATES,
                   dirs: Sequence[Path] | None = None,
                   cache_path: Path | None = None) -> ProfileChoice:
    """'auto' → the first working candidate, with a one-line reason for each skipped one.

    Any other name or path is loaded and checked too: a profile whose encoder
    cannot run here fails now, not minutes into a render.
    """
    if name != "auto":
        profile = load_profile(name, dirs=dirs)
        ok, reason = encoder_works(ffmpeg, profile.encoder, cache_path=cache_path)
        if not ok:
            raise OverdashError(f"profile '{profile.name}': encoder {profile.encoder} "
                                f"does not work here ({reason}); choose another profile, e.g. cpu")
        return ProfileChoice(profile)
    skipped: list[str] = []
    for candidate in candidates:
        profile = load_profile(candidate, dirs=dirs)
        ok, reason = encoder_works(ffmpeg, profile.encoder, cache_path=cache_path)
        if ok:
            why = "; ".join(skipped) + f" — using {profile.name}" if skipped else None
            return ProfileChoice(profile, why)
        skipped.append(f"{profile.name} unavailable: {reason}")
    raise OverdashError(f"no working encoder among {', '.join(candidates)} ({'; '.join(skipped)})")


def _one_frame_encode(ffmpeg: str, encoder: str, timeout: float) -> tuple[bool, str]:
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostats", "-nostdin",
            "-f", "lavfi", "-i", "color=size=256x256:duration=0.04",
            "-frames:v", "1", "-c:v", encoder, "-f", "null", "-"]
    try:
        done = run_tool(argv, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"no answer within {timeout:g} s"
    if done.returncode == 0:
        return True, "ok"
    return False, first_error_line(done.stderr)


def _read_cache(path: Path) -> dict:
    """The cache as a dict; a missing or damaged file is an empty cache."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: {enc: e for enc, e in encs.items() if _valid_entry(e)}
            for key, encs in data.items() if isinstance(encs, dict)}


def _valid_entry(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("ok"), bool)
            and isinstance(entry.get("reason"), str)
            and isinstance(entry.get("checked"), (int, float)))


def _write_cache(path: Path, data: dict) -> None:
    """Write atomically (temp file + rename); a read-only cache dir only costs re-checks."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
