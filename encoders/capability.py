"""Which encoders actually work on this machine, and which profile 'auto' means.

`ffmpeg -encoders` lists what ffmpeg was built with, not what runs: h264_nvenc
is listed on every Debian ffmpeg and fails without an NVIDIA driver. The only
reliable test is a real one-frame encode. It costs ~0.1–2 s, so results are
cached per machine, keyed by the ffmpeg binary (path and version): a different
ffmpeg is re-tested. Failures expire after a day (a driver may get installed).
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

from encoders.command import GPU_OVERLAY
from encoders.features import MIN_VERSION, MODERN, FfmpegFeatures, features_from, require_supported
from encoders.probe import VideoInfo
from encoders.profiles import Profile, ProfileError, load_profile
from encoders.render_check import Sample, check_command, sample_argv, sample_for
from encoders.tools import first_error_line, resolve_tool, run_tool
from overdash import InputError, OverdashError
from overdash.files import atomic_write, cache_dir

# fastest first: everything on the GPU, then GPU encode with CPU compositing, then the CPU
AUTO_CANDIDATES = ("nvenc-full", "nvenc", "qsv", "vaapi", "videotoolbox", "cpu")
PLATFORM_ONLY = {"apple": "darwin"}  # gpu vendor → the only sys.platform it exists on
CHECK_TIMEOUT = 20.0
# Where a check's files go in its cache key (the real folder is a fresh temporary one).
WORKDIR = Path("/overdash-check")
FAILURE_TTL = 24 * 3600.0


@dataclass(frozen=True)
class ProfileChoice:
    """The profile to use, and why it is not the first choice (None when it is)."""

    profile: Profile
    reason: str | None = None
    notice: str | None = None   # e.g. switched to the HEVC sibling for a 5.3K video (check_limits)


def default_cache_path() -> Path:
    """$XDG_CACHE_HOME/overdash/capabilities.json (default ~/.cache/...); read at call time."""
    return cache_dir() / "capabilities.json"


def ffmpeg_identity(ffmpeg: str = "ffmpeg") -> str:
    """'<absolute path>|<size>|<mtime>' of an ffmpeg binary: the capability cache key.

    A stat instead of `ffmpeg -version`: starting ffmpeg once per candidate
    profile cost ~0.3 s before every render; a replaced binary changes its
    size or modification time just the same.
    """
    path = resolve_tool(ffmpeg)
    try:
        st = os.stat(path)
    except OSError:
        return f"{path}|missing"
    return f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"


def encoder_works(ffmpeg: str, encoder: str, *, cache_path: Path | None = None,
                  timeout: float = CHECK_TIMEOUT, refresh: bool = False) -> tuple[bool, str]:
    """(True, "ok") if `encoder` can encode one frame with this ffmpeg, else (False, reason).

    The reason is ffmpeg's first error line, e.g. "Cannot load libcuda.so.1".
    A missing ffmpeg raises OverdashError: that is not an encoder problem.
    """
    return _cached_check(ffmpeg, encoder, lambda: _one_frame_encode(ffmpeg, encoder, timeout),
                         cache_path=cache_path, refresh=refresh)


def profile_works(profile: Profile, *, ffmpeg: str = "ffmpeg", cache_path: Path | None = None,
                  timeout: float = CHECK_TIMEOUT, refresh: bool = False,
                  video: VideoInfo | None = None) -> tuple[bool, str]:
    """(True, "ok") if this machine can run the profile, else (False, one-line reason).

    Checks, cheapest first: the platform (VideoToolbox is macOS only); the filters
    the profile's graph needs (`ffmpeg -filters`); then a real one-frame run of the
    render's own argv (encoders.render_check) — hardware device, hardware decoding of
    a one-frame sample in the source's codec and pixel format where the render decodes
    on the GPU, the same filter graph, the encoder with the profile's output options —
    cached like encoder_works, per kind of source. Without `video` the sample is 8-bit
    4:2:0 H.264. The run uses this ffmpeg's spellings (encoders.features), as the
    render does: a profile that works here renders.
    """
    platform = PLATFORM_ONLY.get(profile.gpu or "")
    if platform and not sys.platform.startswith(platform):
        return False, f"{profile.encoder} exists on macOS only"
    features = ffmpeg_features(ffmpeg, cache_path=cache_path)
    if profile.overlay_only:
        argv = check_argv(profile, ffmpeg=ffmpeg, features=features)
        key = "profile:" + " ".join(argv[1:])
        run = lambda: _run_check(argv, timeout)  # noqa: E731
    else:
        sample = sample_for(profile, video, WORKDIR)
        key = "profile:" + " ".join(check_command(profile, sample, WORKDIR, ffmpeg=ffmpeg, features=features)[1:])
        key += f" | source {sample.label}"
        run = lambda: _run_render_check(profile, sample, ffmpeg, features, timeout)  # noqa: E731

    def check() -> tuple[bool, str]:  # only on a cache miss: both parts start ffmpeg
        missing = [f for f in required_filters(profile) if f not in available_filters(ffmpeg)]
        if missing:
            return False, f"this ffmpeg has no {', '.join(missing)} filter"
        return run()
    return _cached_check(ffmpeg, key, check, cache_path=cache_path, refresh=refresh)


def _run_render_check(profile: Profile, sample: Sample, ffmpeg: str, features: FfmpegFeatures,
                      timeout: float) -> tuple[bool, str]:
    """Make the one-frame sample (if the render decodes on the GPU), then run the render's argv.
    A codec overdash cannot encode a sample of is checked on a lavfi picture instead."""
    with tempfile.TemporaryDirectory(prefix="overdash-check-") as tmp:
        workdir = Path(tmp)
        if sample.path is not None:
            path = workdir / sample.path.name
            make = sample_argv(sample.video, path, ffmpeg=resolve_tool(ffmpeg))
            made = make is not None and _attempt(make, timeout)[0]
            sample = replace(sample, path=path if made else None)
        return _run_check(check_command(profile, sample, workdir, ffmpeg=ffmpeg, features=features), timeout)


def required_filters(profile: Profile) -> tuple[str, ...]:
    """ffmpeg filters the profile's graph uses beyond the everyday software ones."""
    needed = []
    if profile.compositor != "cpu":
        needed.append(GPU_OVERLAY[profile.compositor])
        if profile.compositor == "cuda" and "-hwaccel_output_format" in profile.input_options:
            needed.append("scale_cuda")
    if profile.compositor != "cpu" or profile.hwupload:
        needed.append("hwupload")
    return tuple(needed)


@functools.lru_cache(maxsize=8)
def available_filters(ffmpeg: str = "ffmpeg") -> frozenset[str]:
    """Names `ffmpeg -filters` lists (what it was built with; not proof that they run)."""
    done = run_tool([resolve_tool(ffmpeg), "-hide_banner", "-filters"], timeout=CHECK_TIMEOUT)
    names = set()
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "->" in parts[2]:
            names.add(parts[1])
    return frozenset(names)


def check_argv(profile: Profile, *, ffmpeg: str = "ffmpeg", size: int = 256,
               features: FfmpegFeatures = MODERN, video: VideoInfo | None = None,
               workdir: Path = WORKDIR) -> list[str]:
    """The one-frame run that tells whether `profile` works.

    A compositing profile: the render's own argv (encoders.render_check) on a one-frame
    source like `video` — workdir/sample.mkv where the render decodes on the GPU (the
    file profile_works makes), else a lavfi picture — with a lavfi overlay. An
    overlay-only profile: its encoder settings on a lavfi picture with alpha, into
    the null muxer.
    """
    if not profile.overlay_only:
        sample = sample_for(profile, video, workdir)
        return check_command(profile, sample, workdir, ffmpeg=ffmpeg, features=features)
    head = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostats", "-nostdin"]
    picture = f"testsrc2=size={size}x{size}:rate=30:duration=0.1"
    return head + ["-f", "lavfi", "-i", f"{picture},format=rgba", "-frames:v", "1", *features.passthrough(),
                   "-c:v", profile.encoder, "-pix_fmt", profile.pix_fmt, *profile.output_options, "-f", "null", "-"]


def _run_check(argv: list[str], timeout: float) -> tuple[bool, str]:
    ok, reason = _attempt(argv, timeout)
    if ok:
        return ok, reason
    reason = reason.rstrip(".")
    if reason.startswith("Device creation failed"):
        reason = f"cannot open the hardware device ({reason})"
    return False, reason


def _attempt(argv: list[str], timeout: float, pass_fds=()) -> tuple[bool, str]:
    """(True, "ok") if ffmpeg ran `argv` cleanly, else (False, its first error line)."""
    try:
        done = run_tool(argv, timeout=timeout, pass_fds=pass_fds)
    except subprocess.TimeoutExpired:
        return False, f"no answer within {timeout:g} s"
    if done.returncode == 0:
        return True, "ok"
    return False, first_error_line(done.stderr)


def _cached_check(ffmpeg: str, name: str, check, *, cache_path: Path | None, refresh: bool) -> tuple[bool, str]:
    """A check's answer from the per-machine cache (keyed by ffmpeg identity, then name), or run it."""
    cache_path = default_cache_path() if cache_path is None else Path(cache_path)
    key = ffmpeg_identity(ffmpeg)
    cache = _read_cache(cache_path)
    entry = cache.get(key, {}).get(name)
    if entry and not refresh and (entry["ok"] or time.time() - entry["checked"] < FAILURE_TTL):
        return entry["ok"], entry["reason"]
    ok, reason = check()
    cache = _read_cache(cache_path)  # re-read: another check may have written meanwhile
    cache.setdefault(key, {})[name] = {"ok": ok, "reason": reason, "checked": time.time()}
    _write_cache(cache_path, cache)
    return ok, reason


def choose_profile(name: str = "auto", *, ffmpeg: str = "ffmpeg",
                   candidates: Sequence[str] = AUTO_CANDIDATES,
                   dirs: Sequence[Path] | None = None,
                   cache_path: Path | None = None,
                   video: VideoInfo | None = None) -> ProfileChoice:
    """'auto' → the first working candidate, with a one-line reason for the skipped ones.

    Any other name or path is loaded and checked too: a profile that cannot run
    here fails now, not minutes into a render. With `video`, the encoder's size
    limits are checked as well (encoders.limits.check_limits): the choice may
    switch to the profile's HEVC fallback (ProfileChoice.notice says so), and a
    video no candidate can encode is an InputError before anything is rendered.
    """
    from encoders.limits import check_limits

    def fit(profile: Profile) -> tuple[Profile, str | None]:
        return check_limits(profile, video, dirs=dirs) if video is not None else (profile, None)

    if name != "auto":
        profile, notice = fit(load_profile(name, dirs=dirs))
        ok, reason = profile_works(profile, ffmpeg=ffmpeg, cache_path=cache_path, video=video)
        if not ok:
            raise OverdashError(f"profile '{profile.name}' does not work here ({reason}); "
                                f"choose another profile, e.g. cpu (see `overdash profiles`)")
        return ProfileChoice(profile, None, notice)
    skipped: dict[str, list[str]] = {}
    refused: InputError | None = None  # the last candidate the video itself rules out (its size)
    for candidate in candidates:
        try:
            profile, notice = fit(load_profile(candidate, dirs=dirs))
        except ProfileError:
            raise
        except OverdashError as exc:  # too large for this encoder and no fallback, or an odd side
            skipped.setdefault(str(exc).split(": ", 1)[-1], []).append(candidate)
            if isinstance(exc, InputError):
                refused = exc
            continue
        ok, reason = profile_works(profile, ffmpeg=ffmpeg, cache_path=cache_path, video=video)
        if ok:
            return ProfileChoice(profile, _skipped_line(skipped, profile.name) if skipped else None, notice)
        skipped.setdefault(reason, []).append(candidate)
    if refused is not None:  # what the user can change is the video: said as the last candidate (cpu) says it
        raise refused
    raise OverdashError(f"no working profile among {', '.join(candidates)} ({_skipped_line(skipped)})")


def _skipped_line(skipped: dict[str, list[str]], chosen: str | None = None) -> str:
    """'nvenc-full, nvenc unavailable: Cannot load libcuda.so.1; qsv unavailable: … — using cpu'."""
    line = "; ".join(f"{', '.join(names)} unavailable: {reason}" for reason, names in skipped.items())
    return line + (f" — using {chosen}" if chosen else "")


# Options that read the filter graph from a file, newest first: `-/filter_complex` since
# ffmpeg 7.0, which deprecates `-filter_complex_script` (ffmpeg 4.x-6.x know only that).
GRAPH_SCRIPT_OPTIONS = ("-/filter_complex", "-filter_complex_script")


def graph_script_option(ffmpeg: str = "ffmpeg", *, cache_path: Path | None = None) -> str | None:
    """The option this ffmpeg reads a complex filter graph from a pipe with, or None.

    ffmpeg reads it while parsing its options, before it opens any input: started
    with the graph still to come, it loads its libraries (~50 ms) while overdash
    measures the layout. Cached per ffmpeg like the encoder checks.
    """
    for option in GRAPH_SCRIPT_OPTIONS:
        ok, _ = _cached_check(ffmpeg, f"graph-script:{option}", lambda: _graph_script_check(ffmpeg, option),
                              cache_path=cache_path, refresh=False)
        if ok:
            return option
    return None


def ffmpeg_features(ffmpeg: str = "ffmpeg", *, cache_path: Path | None = None) -> FfmpegFeatures:
    """This ffmpeg's release and option spellings (encoders.features), or FfmpegTooOld.

    Read once per binary from `ffmpeg -h long` (banner and option list) and the
    graph-script check, then cached with the encoder checks: later runs only stat
    the binary. Kept in memory for the process as well (the cache file is read once).
    """
    identity = ffmpeg_identity(ffmpeg)
    features = _features_memo.get(identity)
    if features is None:
        ok, text = _cached_check(ffmpeg, "features", lambda: _read_features(ffmpeg, cache_path),
                                 cache_path=cache_path, refresh=False)
        if not ok:
            raise OverdashError(f"{resolve_tool(ffmpeg)} does not run as ffmpeg ({text})")
        features = FfmpegFeatures.from_json(json.loads(text))
        _features_memo[identity] = features
    return require_supported(features, resolve_tool(ffmpeg))


_features_memo: dict[str, FfmpegFeatures] = {}


def _read_features(ffmpeg: str, cache_path: Path | None, timeout: float = CHECK_TIMEOUT) -> tuple[bool, str]:
    """(True, the features as JSON) or (False, why ffmpeg could not tell): a _cached_check.
    An ffmpeg too old to use is not asked about its graph option."""
    try:
        done = run_tool([resolve_tool(ffmpeg), "-h", "long"], timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"no answer within {timeout:g} s"
    text = done.stderr + done.stdout  # the banner goes to stderr, the option list to stdout
    if done.returncode != 0 or "ffmpeg version" not in text:
        return False, first_error_line(done.stderr)
    features = features_from(text, None)
    if features.version is None or features.version[:2] >= MIN_VERSION:
        features = replace(features, graph_script=graph_script_option(ffmpeg, cache_path=cache_path))
    return True, json.dumps(features.to_json(), sort_keys=True)


def _graph_script_check(ffmpeg: str, option: str, timeout: float = CHECK_TIMEOUT) -> tuple[bool, str]:
    """Run a one-frame graph that ffmpeg reads through `option` from a pipe, as a render does."""
    read, write = os.pipe()
    try:
        with os.fdopen(write, "wb") as graph:
            graph.write(b"[0:v]null[v]")
        argv = [resolve_tool(ffmpeg), "-hide_banner", "-loglevel", "error", "-nostats", "-nostdin",
                "-f", "lavfi", "-i", "color=size=16x16:duration=0.04", option, f"pipe:{read}",
                "-map", "[v]", "-frames:v", "1", "-f", "null", "-"]
        return _attempt(argv, timeout, pass_fds=(read,))
    finally:
        os.close(read)


def _one_frame_encode(ffmpeg: str, encoder: str, timeout: float) -> tuple[bool, str]:
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostats", "-nostdin",
            "-f", "lavfi", "-i", "color=size=256x256:duration=0.04",
            "-frames:v", "1", "-c:v", encoder, "-f", "null", "-"]
    return _attempt(argv, timeout)


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
    atomic_write(path, json.dumps(data, indent=1, sort_keys=True), best_effort=True)
