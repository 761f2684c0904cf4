"""Overlay-only (transparent) renders against ffmpeg alone: `python -m benchmarks.overlay_only`.

What editors' users run: a FIT ride drawn alone with alpha (default .mov: ProRes 4444),
or `--generate overlay` from a video. Each is measured as a user runs it (a new
`overdash render` process) and next to it ffmpeg alone encoding a transparent lavfi
picture of the same size and rate with the same encoder, options and pixel format:
the floor no dashboard can beat. Pairs alternate (overdash, ffmpeg, overdash, …) so
that a noisy neighbour hits both; the report gives medians of the per-pair ratios.

Wall seconds are what one user waits; CPU seconds (user + system of the process and
all its children: workers, writer, ffmpeg — resource.RUSAGE_CHILDREN, which counts a
child once it is waited for) are what a machine rendering many clips at once pays.

    python -m benchmarks.overlay_only                     # 1080p30 and 4K30, 10 s each, 3 pairs
    python -m benchmarks.overlay_only --sizes 1920x1080 --seconds 30 --pairs 5
    python -m benchmarks.overlay_only --profile qtrle     # any overlay-only profile
    python -m benchmarks.overlay_only --video             # --generate overlay from a made 1080p clip
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.clips import make_clip
from benchmarks.measure import Cost, timed

ROOT = Path(__file__).resolve().parents[1]
FIT = ROOT.parent / "shared" / "data" / "fit" / "ride-2021-09-24-karoo.fit"
FROM = 1800.0  # seconds into the ride: moving, every value changing
FPS = 30


def ffmpeg_alone(profile_name: str, size: tuple[int, int], seconds: float, out: Path) -> Cost:
    """ffmpeg encoding a fully transparent picture with the profile's encoder settings: the floor."""
    from encoders.profiles import load_profile

    p = load_profile(profile_name)
    w, h = size
    source = f"color=c=black@0:s={w}x{h}:r={FPS}:d={seconds},format={p.pix_fmt}"
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostats", "-y", "-f", "lavfi", "-i", source,
            "-c:v", p.encoder, "-pix_fmt", p.pix_fmt, *p.output_options, "-an", str(out)]
    return timed(argv)


def overdash_ride(profile_name: str, size: tuple[int, int], seconds: float, out: Path, workers: int) -> Cost:
    """`overdash render RIDE.fit OUT --size WxH --from … --to …` in a new process."""
    argv = [sys.executable, "-m", "pipeline.commands.cli", "render", str(FIT), str(out), "--profile", profile_name,
            "--size", f"{size[0]}x{size[1]}", "--from", str(FROM), "--to", str(FROM + seconds),
            "--workers", str(workers), "-q"]
    return timed(argv, env={**os.environ, "PYTHONPATH": str(ROOT)})


def overdash_video(profile_name: str, clip: Path, out: Path, workers: int) -> Cost:
    """`overdash render CLIP OUT --generate overlay` in a new process."""
    argv = [sys.executable, "-m", "pipeline.commands.cli", "render", str(clip), str(out), "--profile", profile_name,
            "--generate", "overlay", "--workers", str(workers), "-q"]
    return timed(argv, env={**os.environ, "PYTHONPATH": str(ROOT)})


def pairs(profile: str, size: tuple[int, int], seconds: float, count: int, folder: Path, *,
          clip: Path | None = None, workers: int = 2) -> tuple[list[Cost], list[Cost]]:
    """`count` alternated (overdash, ffmpeg alone) runs: the ride (or --generate overlay of `clip`)."""
    ext = {"vp9-alpha": "webm"}.get(profile, "mov")
    ours: list[Cost] = []
    floor: list[Cost] = []
    for _ in range(count):
        out = folder / f"dash.{ext}"
        ours.append(overdash_video(profile, clip, out, workers) if clip
                    else overdash_ride(profile, size, seconds, out, workers))
        floor.append(ffmpeg_alone(profile, size, seconds, folder / f"floor.{ext}"))
    return ours, floor


def figures(ours: list[Cost], floor: list[Cost]) -> dict:
    """Median ratios of the pairs and medians of each side, as benchmarks.report prints them."""
    med = statistics.median
    return {"wall_ratio": round(med(o.wall / f.wall for o, f in zip(ours, floor)), 3),
            "cpu_ratio": round(med(o.cpu / f.cpu for o, f in zip(ours, floor)), 3),
            "render_wall_s": round(med(c.wall for c in ours), 2), "render_cpu_s": round(med(c.cpu for c in ours), 2),
            "transcode_wall_s": round(med(c.wall for c in floor), 2),
            "transcode_cpu_s": round(med(c.cpu for c in floor), 2), "pairs": len(ours), "floor": "ffmpeg alone"}


def _ratio_report(label: str, seconds: float, ours: list[Cost], floor: list[Cost]) -> str:
    wall = statistics.median(c.wall for c in ours)
    cpu = statistics.median(c.cpu for c in ours)
    wall_ratio = statistics.median(o.wall / f.wall for o, f in zip(ours, floor))
    cpu_ratio = statistics.median(o.cpu / f.cpu for o, f in zip(ours, floor))
    floor_wall = statistics.median(c.wall for c in floor)
    return (f"{label}: overdash {wall:.1f} s wall ({seconds / wall:.2f}x real time), {cpu:.1f} CPU s; "
            f"ffmpeg alone {floor_wall:.1f} s ({seconds / floor_wall:.2f}x real time); "
            f"ratio wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f}  [medians of {len(ours)} pairs]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="prores-alpha")
    ap.add_argument("--sizes", default="1920x1080,3840x2160")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--video", action="store_true", help="--generate overlay from a made clip instead of the ride")
    args = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="overdash-bench-alpha-") as tmp:
        folder = Path(tmp)
        for size in sizes:
            # a camera-like clip (the GoPro sample's telemetry, else the demo's), made once and cached
            clip = make_clip(size[0], size[1], args.seconds) if args.video else None
            ours, floor = pairs(args.profile, size, args.seconds, args.pairs, folder, clip=clip, workers=args.workers)
            what = "video --generate overlay" if clip else "FIT ride"
            print(_ratio_report(f"{args.profile} {size[0]}x{size[1]}@{FPS} {args.seconds:g} s {what}",
                                args.seconds, ours, floor), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
