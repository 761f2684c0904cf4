"""What splitting a render into segments costs, and what it buys on N machines.

    python -m benchmarks.segments [--size 1920x1080] [--seconds 120] [--segments 3] [--rounds 3]

On this machine, alternating, each round: the whole clip rendered as one unit, then the
same clip as N segments rendered one after another plus the join, every unit the child
process a Ray task runs (pipeline.commands.child), so what is timed is what a node does.
Wall and CPU (the children's, workers and ffmpeg included) are medians over the rounds.

The check: segments + join ≤ 1.05 × the whole render (the overhead splitting adds).
The model, from the measured parts: a render is a fixed cost `o` per unit (interpreter,
probe, telemetry, layout, ffmpeg start and drain; measured as a 2-frame render) plus work
W spread over the frames, so whole = o + W and the N segments sum to N·o + W. With M machines and 2 segments each
(render --ray's default), the expected time is  F + 2·o + W / M + J  (F: the driver's
probe and keyframe scan, J: the join), printed for this clip and for an hour of it.
A unit's fixed cost (~1 s of CPU: interpreter and imports, telemetry, layout, ffmpeg and
x264 start, cold drawing caches) is why the check needs segments of tens of seconds: with
shorter ones it is a larger share (measured 60 s at 1080p in 3 segments: wall 1.03, cpu 1.08).
Exit status 1 when a ratio is over the limit.
"""
from __future__ import annotations

import argparse
import dataclasses
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.measure import children_cpu

LIMIT = 1.05


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), children_cpu()
    fn()
    return time.perf_counter() - wall, children_cpu() - cpu


def _child(config, part) -> None:
    from pipeline.distributed.tasks import Task, run_child

    outcome = run_child(Task("bench", "pipeline.commands.child", pickle.dumps((config, part))))
    if not outcome.ok:
        raise SystemExit(f"render failed: {outcome.reason}")


def main(argv: list[str] | None = None) -> int:
    from benchmarks.clips import make_clip
    from encoders.capability import choose_profile
    from encoders.probe import probe_video
    from pipeline.commands.cli import build_parser
    from pipeline.commands.render import config_from_args
    from pipeline.distributed.join import join
    from pipeline.distributed.segments import Part, keyframes, segment_paths, split

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", default="1920x1080")
    p.add_argument("--seconds", type=float, default=120.0)
    p.add_argument("--segments", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    clip = make_clip(w, h, args.seconds)
    with tempfile.TemporaryDirectory(prefix="overdash-bench-segments-") as tmp:
        folder = Path(tmp)
        whole_out = folder / "whole.mp4"
        config = config_from_args(build_parser("render").parse_args(["render", str(clip), str(whole_out), "-q"]))
        t0 = time.perf_counter()
        video = probe_video(clip)
        parts = split(video.frame_count, keyframes(video), args.segments, video.fps)
        driver = time.perf_counter() - t0
        profile = choose_profile(config.profile, video=video).profile
        files = segment_paths(folder, len(parts), ".mp4")
        whole, segs, joins, tiny = [], [], [], []
        for _ in range(args.rounds):
            # a unit's fixed cost, measured on its own: a render of 2 frames
            tiny.append(_timed(lambda: _child(dataclasses.replace(config, output=folder / "tiny.mp4"),
                                              Part(0, 2))))
            whole.append(_timed(lambda: _child(config, None)))
            each = [_timed(lambda part=part, f=f: _child(dataclasses.replace(config, output=f), part))
                    for part, f in zip(parts, files)]
            segs.append((sum(x for x, _ in each), sum(c for _, c in each), [x for x, _ in each]))
            joins.append(_timed(lambda: join("ffmpeg", files, parts, video, profile, folder / "joined.mp4",
                                             folder=folder)))
    med = statistics.median
    whole_wall, whole_cpu = med(x for x, _ in whole), med(c for _, c in whole)
    seg_wall, seg_cpu = med(s[0] for s in segs), med(s[1] for s in segs)
    join_wall, join_cpu = med(x for x, _ in joins), med(c for _, c in joins)
    n = len(parts)
    o = med(x for x, _ in tiny)
    wall_ratio = (seg_wall + join_wall) / whole_wall
    cpu_ratio = (seg_cpu + join_cpu) / whole_cpu
    print(f"clip {clip.name}: {video.frame_count} frames, {n} segments, {args.rounds} rounds (medians)")
    print(f"  whole render        wall {whole_wall:7.2f} s   cpu {whole_cpu:7.2f} s")
    print(f"  segments, summed    wall {seg_wall:7.2f} s   cpu {seg_cpu:7.2f} s   "
          f"(each: {', '.join(f'{x:.2f}' for x in segs[len(segs) // 2][2])} s)")
    print(f"  join                wall {join_wall:7.2f} s   cpu {join_cpu:7.2f} s")
    print(f"  a 2-frame unit      wall {o:7.2f} s   cpu {med(c for _, c in tiny):7.2f} s   (fixed cost per unit)")
    print(f"  segments + join ÷ whole: wall {wall_ratio:.3f}, cpu {cpu_ratio:.3f} (limit {LIMIT})")
    work = whole_wall - o
    per_frame_join = join_wall / video.frame_count
    print(f"  model: fixed cost per unit o = {o:.2f} s, work W = {work:.2f} s "
          f"({work / video.frame_count * 1000:.2f} ms/frame), driver F = {driver:.2f} s, "
          f"join J = {per_frame_join * 1000:.3f} ms/frame")
    hour = round(3600 * float(video.fps))
    print(f"\n| machines | this clip ({args.seconds:g} s) | one hour of this video |")
    print("|---|---|---|")
    for m in (1, 4, 16):
        row = []
        for frames in (video.frame_count, hour):
            scale = frames / video.frame_count
            t = o + work * scale if m == 1 else driver + 2 * o + work * scale / m + per_frame_join * frames
            row.append(f"{t:.1f} s" if t < 600 else f"{t / 60:.1f} min")
        print(f"| {m} | {row[0]} | {row[1]} |")
    return 0 if wall_ratio <= LIMIT and cpu_ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
