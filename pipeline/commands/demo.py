"""`overdash demo`: try overdash with nothing but the clone — a GoPro-like sample made on the
spot, then rendered by the normal render path.

The sample is made the way a camera file is built, so that rendering it runs the
real reading path, not a shortcut: ffmpeg's test picture (testsrc2, 29.97 fps,
full-range BT.709 like GoPro footage) and a quiet tone (AAC) with a creation
time, plus a GPMF telemetry track written by overlay.telemetry.gpmfwrite from
the built-in demo ride (GPS5 at 18 Hz with GPSU/GPSF/GPSP, ACCL at 200 Hz,
one payload per 1.001 s). ffmpeg copies that track into the MP4 from a
data-only MP4 (overlay.telemetry.mp4write) as handler 'meta' "GoPro MET",
sample entry 'gpmd' — the track `overdash render` finds through the MP4
sample tables (overlay.telemetry.mp4) in a camera file. The same payloads
are kept as a raw track (.gpmd) beside it for trying `--gpmf`.

The sample is made once per length and size and kept in DIR/sample/, so a
second `overdash demo` only renders. Every file appears whole or not at all:
ffmpeg and the writers work on hidden temporary names that are renamed when
complete and removed on any failure.

`make_sample` is also what tests use for a GoPro-like file when ../shared/data
is absent.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from overdash import InputError, OverdashError, RenderError
from overdash.files import atomic_write, remove

SAMPLE_VERSION = 1  # part of the cached file's name: bump when the sample's content changes
FPS = "30000/1001"
DEFAULT_SIZE = (1920, 1080)
DEFAULT_SECONDS = 20.0
MAX_SECONDS = 3600.0
# x264 settings for a test picture made once: ultrafast keeps making it ~4x quicker than
# veryfast; B-frames (-bf 2) make ffmpeg write the video edit list GoPro-style readers must honour.
X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-crf", "28")


def add_demo_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("demo", help="make a GoPro-like sample and render it (no files needed)",
                       description="Make a short GoPro-like video (ffmpeg's test picture, a quiet tone and a "
                                   "GPMF telemetry track of a built-in ride written by overdash) and draw the "
                                   "dashboard over it with the normal render path.")
    p.add_argument("--out", type=Path, default=Path("out/demo"), metavar="DIR",
                   help="where the result and the cached sample go (default: %(default)s)")
    p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, metavar="N",
                   help="length of the sample (default: %(default)g)")
    p.add_argument("--size", default=f"{DEFAULT_SIZE[0]}x{DEFAULT_SIZE[1]}", metavar="WxH",
                   help="picture size of the sample (default: %(default)s)")
    p.add_argument("--layout", default="default", help="bundled layout name or XML file (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None, help="drawing processes (default: as render)")
    p.add_argument("--ffmpeg", default="ffmpeg", help="ffmpeg executable (default: %(default)s)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, only the result line")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=cmd_demo)
    return p


def cmd_demo(args: argparse.Namespace) -> int:
    from encoders.tools import resolve_tool
    from pipeline.commands.config import parse_size

    size = parse_size(args.size)
    seconds = check_seconds(args.seconds)
    resolve_tool(args.ffmpeg)  # before anything is made: the sample and the render both need it
    from overlay.layout import load_layout

    load_layout(args.layout)  # a mistyped layout fails now, not after the sample is made
    say = (lambda text: None) if args.quiet else (lambda text: print(f"overdash demo: {text}", file=sys.stderr))
    folder = args.out
    made = _missing_folders(folder / "sample")
    try:
        _make_folder(folder)
        sample = make_sample(folder / "sample", seconds, size, ffmpeg=args.ffmpeg, say=say,
                             progress=not args.quiet)
        output = folder / "demo-dash.mp4"
        render_sample(sample, output, layout=args.layout, workers=args.workers, ffmpeg=args.ffmpeg,
                      quiet=args.quiet, debug=args.debug)
    except BaseException:
        for path in made:  # innermost first; a folder that holds something (the sample) stays
            try:
                path.rmdir()
            except OSError:
                break
        raise
    print(f"overdash demo: wrote {output} ({seconds:g} s, {size[0]}x{size[1]}, layout {args.layout}) "
          f"— sample input {sample}")
    return 0


def check_seconds(seconds: float) -> float:
    if not (0 < seconds <= MAX_SECONDS):
        raise InputError(f"--seconds {seconds:g}: must be above 0 and at most {MAX_SECONDS:g}")
    return float(seconds)


def _missing_folders(folder: Path) -> list[Path]:
    """`folder` and those of its parents that do not exist yet, innermost first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    return missing


def _make_folder(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot make the demo folder ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise InputError(f"{folder}: folder is not writable")
    return folder


def sample_path(folder: Path, seconds: float, size: tuple[int, int]) -> Path:
    """Where make_sample keeps the sample of this length and size (the .gpmd track beside it)."""
    return Path(folder) / f"demo-v{SAMPLE_VERSION}-{seconds:g}s-{size[0]}x{size[1]}.mp4"


def make_sample(folder: Path, seconds: float = DEFAULT_SECONDS, size: tuple[int, int] = DEFAULT_SIZE, *,
                ffmpeg: str = "ffmpeg", say=lambda text: None, progress: bool = False) -> Path:
    """A GoPro-like MP4 of `seconds` at `size` in `folder` (made, or the one made before): video,
    audio, creation time and a GPMF track; the raw track is beside it as .gpmd. Raises
    OverdashError (one line) when ffmpeg is missing or fails, leaving no file behind."""
    from encoders.tools import resolve_tool

    folder = Path(folder)
    path = sample_path(folder, seconds, size)
    track = path.with_suffix(".gpmd")
    if path.is_file() and track.is_file():
        say(f"reusing the sample {path}")
        return path
    ffmpeg = resolve_tool(ffmpeg)
    _make_folder(folder)
    say(f"making a {seconds:g} s {size[0]}x{size[1]} GoPro-like sample in {folder} (once)")
    payloads, created = _telemetry(seconds)
    stamp = f"{os.getpid()}-{os.urandom(3).hex()}"
    data = folder / f".{path.stem}.telemetry-{stamp}.partial.mp4"
    partial = folder / f".{path.stem}.{stamp}.partial.mp4"
    try:
        _write(track, _raw(payloads))
        _write(data, _data_mp4(payloads, created))
        _run_ffmpeg(_sample_argv(ffmpeg, data, partial, seconds, size, created), seconds, progress)
        os.replace(partial, path)
    except BaseException:
        remove(track)
        raise
    finally:
        remove(data)
        remove(partial)
    return path


def _telemetry(seconds: float) -> tuple[list[bytes], datetime]:
    """GPMF payloads of the first `seconds` of the demo ride, and the UTC time of its first frame."""
    from overlay.telemetry.demo import demo_telemetry
    from overlay.telemetry.gpmfwrite import encode

    tel = demo_telemetry(max(600.0, seconds + 2.0))  # a ride at its real pace: the sample is its start
    created = datetime.fromtimestamp(float(tel["gps"]["timestamp"][0]), timezone.utc)
    return encode(tel, seconds), created


def _raw(payloads: list[bytes]) -> bytes:
    from overlay.telemetry.gpmfwrite import raw_track

    return raw_track(payloads)


def _data_mp4(payloads: list[bytes], created: datetime) -> bytes:
    from overlay.telemetry.gpmfwrite import PAYLOAD_SECONDS
    from overlay.telemetry.mp4write import gpmd_mp4

    return gpmd_mp4(payloads, [round(PAYLOAD_SECONDS * 1000)] * len(payloads), created=created)


def _write(path: Path, content: bytes) -> None:
    try:
        atomic_write(path, content)
    except OSError as exc:
        raise RenderError(f"{path}: cannot write the demo sample ({exc.strerror or exc})") from None


def _sample_argv(ffmpeg: str, data: Path, output: Path, seconds: float, size: tuple[int, int],
                 created: datetime) -> list[str]:
    from encoders.tools import path_arg

    w, h = size
    return [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-y",
            # yuvj420p straight from the source (no scaler): full range, as GoPro video is
            "-f", "lavfi", "-i", f"testsrc2=size={w}x{h}:rate={FPS}:duration={seconds:g},format=yuvj420p",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds:g},volume=0.1",
            "-i", path_arg(data),
            "-map", "0:v", "-map", "1:a", "-map", "2:d", "-t", f"{seconds:g}",
            *X264, "-color_range", "pc", "-colorspace", "bt709", "-color_primaries", "bt709",
            "-color_trc", "bt709", "-c:a", "aac", "-b:a", "64k", "-c:d", "copy",
            "-metadata", f"creation_time={created.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}",
            "-f", "mp4", path_arg(output)]


def _run_ffmpeg(argv: list[str], seconds: float, progress: bool) -> None:
    """Run ffmpeg with a progress bar from its -progress lines; its first error line on failure."""
    from encoders.tools import first_error_line
    from pipeline.commands.progress import Progress

    frames = max(1, round(seconds * 30000 / 1001))
    bar = Progress(frames, 30000 / 1001, label="making sample", enabled=progress)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, errors="replace")
    except OSError as exc:
        raise OverdashError(f"{argv[0]}: cannot run ({exc.strerror or exc})") from None
    assert proc.stdout is not None and proc.stderr is not None  # both PIPE
    try:
        for line in proc.stdout:
            if line.startswith("frame="):
                try:
                    bar(min(frames, int(line[6:])))
                except ValueError:
                    pass
        stderr = proc.stderr.read()
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        bar.close()
        proc.stdout.close()
        proc.stderr.close()
    if code != 0:
        raise RenderError(f"making the demo sample failed: ffmpeg: {first_error_line(stderr)}")


def render_sample(sample: Path, output: Path, *, layout: str = "default", workers: int | None = None,
                  ffmpeg: str = "ffmpeg", quiet: bool = False, debug: bool = False) -> None:
    """`overdash render SAMPLE OUTPUT --layout LAYOUT` in this process, as main() runs it."""
    from pipeline.commands.cli import build_parser

    argv = ["render", str(sample), str(output), "--layout", layout, "--no-chapters", "--ffmpeg", ffmpeg]
    argv += ["--workers", str(workers)] if workers is not None else []
    argv += ["-q"] if quiet else []
    argv += ["--debug"] if debug else []
    args = build_parser("render").parse_args(argv)
    from pipeline.commands.sources import start_prefetch

    prefetch = start_prefetch(args.inputs[0], args.ffmpeg)
    from pipeline.commands.render import config_from_args, render

    render(config_from_args(args), prefetch=prefetch)
