"""Encoder profiles: data files that say how to encode, validated on load.

Profiles are JSON so users can add their own (in $XDG_CONFIG_HOME/overdash/profiles,
which shadows the built-ins in the repository's top-level profiles/ folder)
without touching code. A mistake is reported at load time, naming the file and
the key, instead of as an ffmpeg failure minutes into a render.

Schema (version 1) — one JSON object per file, `<name>.json`; no other keys:

    schema          int, optional, must be 1
    name            str, required, equals the file name without .json
                    (lowercase letters, digits, '.', '_', '-')
    description     str, required, one line for `overdash profiles`
    encoder         str, required, ffmpeg encoder name (`-c:v`), e.g. "libx264"
    input_options   list[str], decoder-side ffmpeg options placed before the
                    source's `-i` (e.g. ["-hwaccel", "cuda"]); default []
    output_options  list[str], encoder options placed after `-c:v` (e.g.
                    ["-preset", "veryfast", "-crf", "20"]); default []
    pix_fmt         str, required, output pixel format (`-pix_fmt`)
    audio           str, "copy" (default) or an ffmpeg audio encoder name
    extensions      list[str], required, output file extensions this profile
                    may write, without the dot, from {"mp4", "mov", "mkv"};
                    overlay-only profiles from {"mov", "mkv", "webm", "png"}
                    ("png" is an image sequence: the output name is a pattern
                    such as frames/frame-%06d.png)
    gpu             null (CPU only, default) or the GPU vendor the encoder
                    needs ("nvidia", "intel", "amd", "apple"); informational —
                    whether the profile works is decided by a real one-frame run
    compositor      where the overlay is blended onto the video (default "cpu"):
                    "cpu"   ffmpeg's overlay filter on decoded frames in memory;
                    "cuda"  overlay_cuda: the source stays on the NVIDIA GPU
                            (decoded with -hwaccel_output_format cuda, passed
                            through hwupload — which uploads what NVDEC could not
                            decode — and converted with scale_cuda), only the
                            overlay is uploaded (hwupload) — needs
                            -init_hw_device/-filter_hw_device; a full-range
                            source is decoded to memory and converted to limited
                            range before the upload (encoders.command);
                    "qsv"   overlay_qsv on Intel Quick Sync surfaces (source
                            decoded on the CPU, converted to limited range,
                            tagged with its matrix and uploaded; overlay
                            uploaded as premultiplied bgra);
                    "vaapi" overlay_vaapi on VAAPI surfaces (overlay uploaded
                            as rgba). ffmpeg 5.1's overlay_vaapi ignores per-pixel
                            alpha (global alpha only; fixed in ffmpeg 6), so the
                            built-in `vaapi` profile composites on the CPU and
                            uploads the result instead.
                    For GPU compositors `pix_fmt` is the surface format the
                    source is converted to before blending; no -pix_fmt is
                    passed to the encoder (it receives GPU frames).
    hwupload        null (default) or "vaapi": after CPU compositing, convert
                    to `pix_fmt` (yuv420p is uploaded as nv12) and upload to
                    the VAAPI device for the encoder (h264_vaapi takes only
                    VAAPI surfaces); needs -vaapi_device in input_options.
    overlay_only    bool, default false: the profile encodes the dashboard
                    alone, with transparency, for a video editor: no source
                    video or audio (encoders.alpha.build_overlay_only_command);
                    pix_fmt must have an alpha channel.
    fallback        null (default) or the name of the profile to switch to
                    when the video is larger than this encoder can handle
                    (encoders.limits.check_limits), e.g. "nvenc-hevc"

The keys compositor, hwupload, overlay_only and fallback were added to schema 1
without a version bump: files without them mean what they meant before.

gopro-dashboard-overlay's profile file is read too, so users bring their tuned
profiles along: ~/.gopro-graphics/ffmpeg-profiles.json (that tool's default
--config-dir), or any such file given as `--profile FILE.json` (one entry) or
`--profile FILE.json:NAME`. It is one JSON object, name → {"input": [...],
"output": [...], "filter": "..."}; each entry becomes a Profile (see
gopro_profile_from_entry): the encoder, -pix_fmt and audio codec are taken out
of "output", the rest are encoder options. "filter" is not used as written —
overdash sends only the dashboard's regions, not a full frame — but a GPU
overlay filter in it (overlay_cuda, overlay_qsv, overlay_vaapi) selects that
compositor. Lookup order by name: $XDG_CONFIG_HOME/overdash/profiles, then
that file, then the built-ins.

Options that the command builder owns (inputs, maps, filters, -c:v, -pix_fmt,
-f, -y, logging, threads, frame-count or timing changes) are rejected in the
option lists, as are flags given twice.
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Sequence

from overdash import InputError
from overdash.files import config_dir

SCHEMA_VERSION = 1
CONTAINERS = ("mp4", "mov", "mkv")
OVERLAY_CONTAINERS = ("mov", "mkv", "webm", "png")
GPU_VENDORS = ("nvidia", "intel", "amd", "apple")
COMPOSITORS = ("cpu", "cuda", "qsv", "vaapi")
HWUPLOADS = ("vaapi",)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_FLAG = re.compile(r"^-[A-Za-z]")
_REQUIRED = ("name", "description", "encoder", "pix_fmt", "extensions")
_OPTIONAL = ("schema", "input_options", "output_options", "audio", "gpu",
             "compositor", "hwupload", "overlay_only", "fallback")
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
    compositor: str = "cpu"
    hwupload: str | None = None
    overlay_only: bool = False
    fallback: str | None = None

    @property
    def needs_gpu(self) -> bool:
        return self.gpu is not None

    @property
    def gpu_frames(self) -> bool:
        """The encoder receives GPU surfaces (built in the filter graph), not -pix_fmt frames."""
        return self.compositor != "cpu" or self.hwupload is not None


def builtin_dir() -> Path:
    """The top-level profiles/ folder: in the checkout, or where a wheel install put it."""
    checkout = Path(__file__).resolve().parent.parent / "profiles"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "overdash" / "profiles"


def user_dir() -> Path:
    """$XDG_CONFIG_HOME/overdash/profiles (default ~/.config/overdash/profiles)."""
    return config_dir() / "profiles"


def gopro_profiles_file() -> Path:
    """Where gopro-dashboard-overlay keeps its ffmpeg profiles (its default --config-dir)."""
    return Path.home() / ".gopro-graphics" / "ffmpeg-profiles.json"


def profile_dirs() -> tuple[Path, ...]:
    """Where names are looked up, first match wins: the user's profiles, then built-ins."""
    return (user_dir(), builtin_dir())


def builtin_profiles() -> dict[str, Profile]:
    """Every built-in profile by name (loading validates them all)."""
    return {p.stem: load_profile(p) for p in sorted(builtin_dir().glob("*.json"))}


def available_profiles(dirs: Sequence[Path] | None = None) -> list[str]:
    """Names that load_profile(name) can find, sorted."""
    names = {p.stem for d in (profile_dirs() if dirs is None else dirs) for p in Path(d).glob("*.json")}
    if dirs is None and gopro_profiles_file().is_file():
        names |= set(_gopro_names(gopro_profiles_file()))
    return sorted(names)


def all_profiles() -> list[Profile]:
    """Every profile a name can reach (user, gopro-dashboard-overlay file, built-in), by name;
    a broken one raises its ProfileError."""
    return [load_profile(name) for name in available_profiles()]


def load_profile(name_or_path, *, dirs: Sequence[Path] | None = None) -> Profile:
    """Load a profile by name (looked up in `dirs`, default profile_dirs() with the
    gopro-dashboard-overlay file before the built-ins) or by file path (`FILE.json`,
    or `FILE.json:NAME` for one entry of an ffmpeg-profiles.json)."""
    text = str(name_or_path)
    if ".json:" in text:
        file, entry = text.rsplit(":", 1)
        return gopro_profiles(Path(file), only=entry)[entry]
    if text.endswith(".json") or "/" in text or os.sep in text:
        return _load_file(Path(text))
    folders = list(profile_dirs() if dirs is None else dirs)
    for i, folder in enumerate(folders):
        if dirs is None and Path(folder) == builtin_dir():
            gopro = gopro_profiles_file()
            if gopro.is_file() and text in _gopro_names(gopro):
                return gopro_profiles(gopro, only=text)[text]
        candidate = Path(folder) / f"{text}.json"
        if candidate.is_file():
            return _load_file(candidate)
    known = ", ".join(available_profiles(dirs)) or "none"
    raise ProfileError(f"{text}: no such profile (available: {known})")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProfileError(f"{path}: no such profile file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read profile ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise ProfileError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def _load_file(path: Path) -> Profile:
    data = _read_json(path)
    if _is_gopro_file(data):
        profiles = gopro_profiles(path)
        if len(profiles) != 1:
            raise ProfileError(f"{path}: holds {len(profiles)} ffmpeg profiles "
                               f"({', '.join(profiles)}): choose one with {path}:NAME")
        return next(iter(profiles.values()))
    return profile_from_dict(data, path)


def _is_gopro_file(data) -> bool:
    """An ffmpeg-profiles.json: name → {input, output, filter} objects, not one overdash profile."""
    return (isinstance(data, dict) and bool(data) and "encoder" not in data
            and all(isinstance(v, dict) for v in data.values()))


def _gopro_names(path: Path) -> list[str]:
    data = _read_json(path)
    return list(data) if isinstance(data, dict) else []


# -------------------------------------------------------------- gopro-dashboard-overlay profiles

_GOPRO_KEYS = ("input", "output", "filter")
_GOPRO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VIDEO_CODEC_FLAGS = ("-vcodec", "-c:v", "-codec:v")
_AUDIO_CODEC_FLAGS = ("-acodec", "-c:a", "-codec:a")
_GPU_BY_ENCODER = {"nvenc": "nvidia", "qsv": "intel", "vaapi": "amd", "videotoolbox": "apple"}
_DEVICES = {"cuda": ["-init_hw_device", "cuda=gpu:0", "-filter_hw_device", "gpu"],
            "qsv": ["-init_hw_device", "qsv=qsv:hw", "-filter_hw_device", "qsv"],
            "vaapi": ["-init_hw_device", "vaapi=va:/dev/dri/renderD128", "-filter_hw_device", "va"]}


def gopro_profiles(path: Path, *, only: str | None = None) -> dict[str, Profile]:
    """Every entry of a gopro-dashboard-overlay ffmpeg-profiles.json as a Profile, by name
    (or just `only`); errors name the file and the key, e.g. key 'fast.output'."""
    data = _read_json(path)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ProfileError(f"{path}: an ffmpeg-profiles.json must be a JSON object of "
                           "name → {\"input\": [...], \"output\": [...]} objects")
    if only is not None and only not in data:
        raise ProfileError(f"{path}: no profile named {only!r} (has: {', '.join(data) or 'none'})")
    return {name: gopro_profile_from_entry(name, entry, path)
            for name, entry in data.items() if only is None or name == only}


def gopro_profile_from_entry(name: str, entry, path: Path) -> Profile:
    """One {input, output, filter} entry → Profile; every error names `path` and 'NAME.KEY'."""
    def fail(key: str, problem: str) -> NoReturn:
        raise ProfileError(f"{path}: key '{name}{'.' + key if key else ''}': {problem}")

    if not _GOPRO_NAME.match(name):
        fail("", "a profile name is letters, digits, '.', '_' or '-'")
    if not isinstance(entry, dict):
        fail("", "must be an object with \"output\" (and optionally \"input\", \"filter\")")
    for key in entry:
        if key not in _GOPRO_KEYS:
            fail(key, f"unknown key (allowed: {', '.join(_GOPRO_KEYS)})")
    if "output" not in entry:
        fail("output", "missing")
    for key in ("input", "output"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            fail(key, "must be a list of non-empty strings")
    graph = entry.get("filter")
    if graph is not None and (not isinstance(graph, str) or not graph.strip()):
        fail("filter", "must be a non-empty string")
    output = list(entry["output"])
    encoder = _take(output, _VIDEO_CODEC_FLAGS, "output", fail)
    if encoder is None:
        fail("output", "names no video encoder (-vcodec or -c:v)")
    pix_fmt = _take(output, ("-pix_fmt",), "output", fail) or "yuv420p"
    audio = _take(output, _AUDIO_CODEC_FLAGS, "output", fail) or "copy"
    inputs = list(entry.get("input", []))
    compositor = next((kind for kind, f in (("cuda", "overlay_cuda"), ("qsv", "overlay_qsv"),
                                            ("vaapi", "overlay_vaapi")) if f in (graph or "")), None)
    frames_on = _value(inputs, "-hwaccel_output_format")
    if compositor is None and frames_on in _DEVICES:
        compositor = frames_on  # decoded frames stay on the GPU: blend them there
    if compositor and not any(t in inputs for t in ("-init_hw_device", "-vaapi_device")):
        if frames_on == compositor and "-hwaccel_device" not in inputs:
            inputs += ["-hwaccel_device", _DEVICES[compositor][1].split("=")[1].split(":")[0]]
        inputs = _DEVICES[compositor] + inputs
    hwupload = "vaapi" if encoder.endswith("_vaapi") and compositor is None else None
    if hwupload and "-vaapi_device" not in inputs and "-init_hw_device" not in inputs:
        inputs = ["-vaapi_device", "/dev/dri/renderD128"] + inputs
    data = {
        "name": path.stem, "description": f"{name} from {path} (gopro-dashboard-overlay)",
        "encoder": encoder, "pix_fmt": pix_fmt, "audio": audio,
        "input_options": inputs, "output_options": output, "extensions": list(CONTAINERS),
        "gpu": next((v for k, v in _GPU_BY_ENCODER.items() if k in encoder), None),
        "compositor": compositor or "cpu", "hwupload": hwupload,
    }
    try:
        profile = profile_from_dict(data, path)
    except ProfileError as exc:  # re-key: 'output_options' → 'NAME.output'
        text = str(exc).split(": key ", 1)[-1]
        key, problem = text.split("': ", 1)
        key = {"'input_options": "input", "'output_options": "output"}.get(key, "output")
        fail(key, problem)
    return Profile(**{**profile.__dict__, "name": name})


def _take(options: list[str], flags, key: str, fail) -> str | None:
    """Remove `flag value` (any of `flags`) from options and return the value; twice is an error."""
    found = None
    i = 0
    while i < len(options):
        if options[i] in flags:
            if i + 1 >= len(options):
                fail(key, f"{options[i]} has no value")
            if found is not None:
                fail(key, f"{options[i]} is given twice")
            found = options[i + 1]
            del options[i:i + 2]
        else:
            i += 1
    return found


def _value(options: Sequence[str], flag: str) -> str | None:
    return next((options[i + 1] for i, t in enumerate(options[:-1]) if t == flag), None)


def profile_from_dict(data, path: Path) -> Profile:
    """Validate a decoded profile; every error names `path` and the offending key."""
    def fail(key: str, problem: str) -> NoReturn:
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
    strings: dict[str, str] = {}
    for key in ("name", "description", "encoder", "pix_fmt", "audio"):
        value = data.get(key, "copy" if key == "audio" else None)
        if not isinstance(value, str) or not value.strip():
            fail(key, "must be a non-empty string")
        strings[key] = value
    if not _NAME.match(strings["name"]):
        fail("name", f"{strings['name']!r} must be lowercase letters, digits, '.', '_' or '-'")
    if strings["name"] != path.stem:
        fail("name", f"{strings['name']!r} does not match the file name {path.name!r}")
    for key in ("encoder", "pix_fmt", "audio"):
        if not re.match(r"^[A-Za-z0-9_]+$" if key != "encoder" else r"^[A-Za-z0-9_][A-Za-z0-9_-]*$",
                        strings[key]):
            fail(key, f"{strings[key]!r} is not an ffmpeg name")
    options = {key: _option_list(data.get(key, []), key, fail) for key in ("input_options", "output_options")}
    overlay_only = data.get("overlay_only", False)
    if not isinstance(overlay_only, bool):
        fail("overlay_only", "must be true or false")
    allowed = OVERLAY_CONTAINERS if overlay_only else CONTAINERS
    extensions = data["extensions"]
    if not isinstance(extensions, list) or not extensions or not all(isinstance(e, str) for e in extensions):
        fail("extensions", "must be a non-empty list of strings")
    for ext in extensions:
        if ext not in allowed:
            fail("extensions", f"{ext!r} is not one of {', '.join(allowed)} (no leading dot)"
                 + ("" if overlay_only or ext not in OVERLAY_CONTAINERS else "; webm and png need overlay_only"))
    gpu = data.get("gpu")
    if gpu is not None and gpu not in GPU_VENDORS:
        fail("gpu", f"{gpu!r} must be null or one of {', '.join(GPU_VENDORS)}")
    compositor = data.get("compositor", "cpu")
    if compositor not in COMPOSITORS:
        fail("compositor", f"{compositor!r} must be one of {', '.join(COMPOSITORS)}")
    hwupload = data.get("hwupload")
    if hwupload is not None and hwupload not in HWUPLOADS:
        fail("hwupload", f"{hwupload!r} must be null or one of {', '.join(HWUPLOADS)}")
    if hwupload is not None and compositor != "cpu":
        fail("hwupload", f"only for the cpu compositor (compositor {compositor!r} uploads by itself)")
    if overlay_only and (compositor != "cpu" or hwupload is not None):
        fail("overlay_only", "an overlay-only profile has no source to composite onto: "
                             "leave compositor and hwupload out")
    if overlay_only and not _has_alpha(strings["pix_fmt"]):
        fail("pix_fmt", f"{strings['pix_fmt']!r} has no alpha channel (overlay_only needs one, "
                        "e.g. yuva444p10le, yuva420p, rgba, argb)")
    if hwupload == "vaapi" and not _has_flag(options["input_options"], ("-vaapi_device", "-init_hw_device")):
        fail("input_options", "hwupload 'vaapi' needs a device: -vaapi_device /dev/dri/renderD128")
    if compositor != "cpu" and not _has_flag(options["input_options"], ("-init_hw_device", "-vaapi_device")):
        fail("input_options", f"compositor {compositor!r} needs a device: "
                              f"-init_hw_device {compositor}=NAME -filter_hw_device NAME")
    fallback = data.get("fallback")
    if fallback is not None and (not isinstance(fallback, str) or not _NAME.match(fallback)
                                 or fallback == strings["name"]):
        fail("fallback", "must be null or the name of another profile")
    return Profile(
        name=strings["name"], description=strings["description"].strip(),
        encoder=strings["encoder"], input_options=options["input_options"],
        output_options=options["output_options"], pix_fmt=strings["pix_fmt"],
        audio=strings["audio"], extensions=tuple(dict.fromkeys(extensions)), gpu=gpu,
        source=path, compositor=compositor, hwupload=hwupload, overlay_only=overlay_only,
        fallback=fallback,
    )


def _has_alpha(pix_fmt: str) -> bool:
    return pix_fmt.startswith(("yuva", "gbrap", "ya")) or pix_fmt in (
        "rgba", "bgra", "argb", "abgr", "rgba64le", "rgba64be", "bgra64le", "bgra64be", "pal8")


def _has_flag(options: Sequence[str], flags) -> bool:
    return any(token in flags for token in options)


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
