"""`overdash profiles`: every encoder profile, whether it works on this machine and why not.

Lists the built-in profiles, the user's ($XDG_CONFIG_HOME/overdash/profiles)
and gopro-dashboard-overlay's (~/.gopro-graphics/ffmpeg-profiles.json), each
checked with a real one-frame run (encoders.capability.profile_works, cached),
and marks the one `--profile auto` picks.
"""
from __future__ import annotations

import argparse

from encoders.capability import AUTO_CANDIDATES, choose_profile, ffmpeg_features, profile_works
from encoders.profiles import (
    Profile,
    ProfileError,
    available_profiles,
    builtin_dir,
    load_profile,
)


def add_profiles_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("profiles", help="list encoder profiles and whether they work here",
                       description="Every encoder profile (built-in, your own, gopro-dashboard-overlay's "
                                   "ffmpeg-profiles.json), whether it works on this machine and why not, "
                                   "and which one --profile auto picks.")
    p.add_argument("--ffmpeg", default="ffmpeg", help="ffmpeg executable (default: %(default)s)")
    p.add_argument("--profile", metavar="FILE.json",
                   help="also list the profiles of this file (an overdash profile or an ffmpeg-profiles.json)")
    p.set_defaults(func=cmd_profiles)
    return p


def profile_lines(ffmpeg: str = "ffmpeg", extra: str | None = None) -> list[str]:
    """The report `overdash profiles` prints (also used by tests). An ffmpeg overdash cannot
    use (missing, too old) is one error, not a "no" on every line."""
    ffmpeg_features(ffmpeg)
    rows, problems = [], []
    names = available_profiles()
    entries = [(name, None) for name in names] + ([(extra, extra)] if extra else [])
    try:
        auto = choose_profile("auto", ffmpeg=ffmpeg)
    except Exception as exc:  # noqa: BLE001 — report it, keep listing
        auto, problems = None, [f"auto: {exc}"]
    for name, path in entries:
        try:
            profiles = _file_profiles(path) if path else [load_profile(name)]
        except ProfileError as exc:
            rows.append(("!", name, "broken", str(exc)))
            continue
        for profile in profiles:
            if isinstance(profile, ProfileError):
                rows.append(("!", str(profile).split("key '", 1)[-1].split(".", 1)[0].split("'")[0],
                             "broken", str(profile)))
                continue
            ok, reason = profile_works(profile, ffmpeg=ffmpeg)
            where = ("built-in" if profile.source.parent == builtin_dir()
                     else "gopro" if profile.source.name == "ffmpeg-profiles.json" else "user")
            kind = "overlay only, alpha" if profile.overlay_only else (
                f"{profile.compositor} compositing" + (f", {profile.hwupload} upload" if profile.hwupload else ""))
            mark = "*" if auto and profile.name == auto.profile.name and profile.source == auto.profile.source else " "
            status = "works" if ok else "no"
            detail = f"{profile.encoder}, {kind}, {where}" + ("" if ok else f" — {reason}")
            rows.append((mark, profile.name, status, detail))
    width = max((len(r[1]) for r in rows), default=4)
    lines = [f"{mark} {name:<{width}}  {status:<6} {detail}" for mark, name, status, detail in rows]
    if auto:
        lines.append(f"* = what --profile auto picks here: {auto.profile.name}"
                     + (f" ({auto.reason})" if auto.reason else ""))
        lines.append(f"  auto tries, fastest first: {', '.join(AUTO_CANDIDATES)}")
    return lines + problems


def _file_profiles(path: str) -> list[Profile | ProfileError]:
    from pathlib import Path

    from encoders.profiles import _is_gopro_file, _read_json, gopro_profiles

    data = _read_json(Path(path))
    if not _is_gopro_file(data):
        return [load_profile(path)]
    found: list[Profile | ProfileError] = []
    for name in data:  # one broken entry does not hide the others
        try:
            found.append(gopro_profiles(Path(path), only=name)[name])
        except ProfileError as exc:
            found.append(exc)
    return found


def cmd_profiles(args: argparse.Namespace) -> int:
    print("\n".join(profile_lines(args.ffmpeg, args.profile)))
    return 0
