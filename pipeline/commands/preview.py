"""`overdash preview`: one frame as a PNG — of a video with its dashboard, or of a layout
with built-in demo telemetry — and `--watch` to redraw it whenever the layout file changes."""
from __future__ import annotations

import io
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

from overdash import InputError, OverdashError
from overdash.files import atomic_write
from overlay.layout.units import UnitSettings
from pipeline.commands.config import RenderConfig, check_font, parse_clock, parse_size
from pipeline.commands.dashboard import build_dashboard, compose

DEMO_FPS = Fraction(30)


def add_preview_parser(sub, add_dashboard_options) -> None:
    p = sub.add_parser("preview", help="one frame with its dashboard, as a PNG",
                       description="Draw one frame: of a video with its dashboard, or (without IN) of the "
                                   "layout over a neutral background with built-in demo telemetry.")
    p.add_argument("input", type=Path, nargs="?", metavar="IN", help="GoPro MP4 (optional)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="PNG", help="where to write the picture")
    p.add_argument("--at", default=None, metavar="TIME",
                   help="time in the video (or demo ride): seconds or [HH:]MM:SS[.s] (default: the middle)")
    p.add_argument("--size", default=None, metavar="WxH",
                   help="picture size without a video (default: the layout's design size)")
    add_dashboard_options(p)
    p.add_argument("--watch", action="store_true", help="redraw whenever the layout file changes (Ctrl-C stops)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.set_defaults(func=cmd_preview)


def cmd_preview(args) -> int:
    units = UnitSettings(args.units_speed, args.units_altitude, args.units_distance, args.units_temperature)
    if args.output.suffix.lower() != ".png":
        raise InputError(f"{args.output}: the preview is a PNG; name it .png")
    if args.font:
        check_font(args.font)
    if not args.watch:
        draw_preview(args, units)
        return 0
    layout_file = Path(args.layout)
    if not layout_file.is_file():
        raise InputError(f"--watch needs a layout file, not {args.layout!r}")
    last = None
    try:
        while True:
            stamp = layout_file.stat().st_mtime_ns if layout_file.exists() else None
            if stamp != last:
                last = stamp
                try:
                    draw_preview(args, units)
                    print(f"overdash: {time.strftime('%H:%M:%S')} wrote {args.output}", file=sys.stderr)
                except OverdashError as exc:  # a half-edited layout: say so, keep watching
                    print(f"overdash: {time.strftime('%H:%M:%S')} error: {exc}", file=sys.stderr)
            time.sleep(0.3)
    except KeyboardInterrupt:
        return 0


def draw_preview(args, units) -> None:
    from pipeline.commands.sources import apply_lap_options, lap_options

    if args.input is None:
        from overlay.layout import load_layout
        from overlay.telemetry.demo import demo_telemetry

        telemetry = apply_lap_options(demo_telemetry(), lap_options(args))
        if args.size:
            size = parse_size(args.size)
        else:
            layout = load_layout(args.layout)
            size = layout.preferred_size
        count = int(telemetry["gps"].span[1] * DEMO_FPS)
        fps = DEMO_FPS
        zone = None
        background = _demo_background(size)
    else:
        from pipeline.commands.sources import load_source

        config = RenderConfig(input=args.input, output=args.output.with_suffix(".mp4"), workers=1,
                              altitude=args.altitude, laps=lap_options(args))
        source = load_source(config)
        video, telemetry, zone = source.video, source.telemetry, source.zone
        size = (video.display_width, video.display_height)
        count, fps = video.frame_count, video.fps
        background = None
    at = parse_clock(args.at, "--at") if args.at else float(count / fps / 2)
    frame = int(round(at * fps))
    if not 0 <= frame < count:
        raise InputError(f"--at {args.at}: outside the {float(count / fps):.1f} s of "
                         f"{'the video' if args.input else 'the demo ride'}")
    if background is None:
        background = _video_frame(args.input, video, frame)
    from pipeline.commands.plan import map_args

    maps = map_args(RenderConfig(input=Path("."), output=args.output, workers=1, quiet=True, map_style=args.map_style,
                                 map_api_key=args.map_api_key, offline=args.offline, privacy=tuple(args.privacy)))
    dash = build_dashboard(args.layout, telemetry, count, fps, size, units,
                           include=tuple(args.include), exclude=tuple(args.exclude), font=args.font, zone=zone, **maps)
    picture = compose(dash, frame, background)
    png = io.BytesIO()
    picture.convert("RGB").save(png, "PNG")
    atomic_write(args.output, png.getbuffer())


def _video_frame(path: Path, video, frame: int):
    """Decoded frame `frame` (exact, by its time k / fps) as an RGB image."""
    from PIL import Image

    t = float(Fraction(frame) / video.fps) + video.timeline_offset
    done = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{t:.6f}", "-i", str(path), "-frames:v", "1",
                           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True)
    w, h = video.display_width, video.display_height
    if done.returncode != 0 or len(done.stdout) < w * h * 3:
        from pipeline.ffmpeg_log import first_complaint, one_line, text_ends

        head, tail = text_ends(done.stderr)
        said = first_complaint(head, video.video_codec) or one_line(tail, 200)
        raise InputError(f"{path}: cannot decode the frame at {t:.3f} s{f' ({said})' if said else ''}")
    return Image.frombytes("RGB", (w, h), done.stdout[:w * h * 3])


def _demo_background(size: tuple[int, int]):
    """A mid-grey sky-to-road gradient: shows whether a layout reads on bright and dark footage."""
    import numpy as np
    from PIL import Image

    w, h = size
    ramp = np.linspace(200, 40, h, dtype=np.float32)[:, None, None]
    tint = np.array([0.85, 0.92, 1.0], np.float32)[None, None, :]
    return Image.fromarray(np.broadcast_to(ramp * tint, (h, w, 3)).astype(np.uint8), "RGB")
