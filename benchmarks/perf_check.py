"""CI perf-regression check (`make perf-check`): ratios measured in one run, never raw times.

* render_over_transcode, render_over_transcode_cpu — whole `overdash render` (2 workers,
  cpu profile) over a plain ffmpeg transcode of the same clip, in wall time and in CPU
  seconds (every process of each run), from the same alternating pairs;
* workers2_over_1 — overlay frames/s into a null sink, 2 workers over 1, with
  a fixed extra drawing cost per frame (benchmarks.measure.HeavyPainter) so the
  ratio measures the worker pool rather than the pipe.

The overlay transport (yuva420p from the workers vs rgba converted by ffmpeg)
is ~6% of a 1080p render, too close to the noise for a ratio check: tests pin
it instead (the converter is built, `auto` chooses it, the graph converts
nothing), and `make bench` measures it.

Each ratio is the median of several alternating pairs, so a burst of machine
noise hits both sides, and every other pair runs its two sides in the other order
(measure.alternated), so the machine's drift during the run does not favour either.
A ratio past its limit in benchmarks/baseline.json is
measured again (twice); the check fails only when every attempt is past the
limit. `--update` rewrites the baseline values from this machine (keeping the
tolerances).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from benchmarks.clips import make_clip
from benchmarks.measure import alternated, overlay_fps, render_cost, transcode_cost

BASELINE = Path(__file__).with_name("baseline.json")
ATTEMPTS = 3


def measure_render_ratios(clip: Path, pairs: int) -> dict[str, float]:
    ratios = [r / t for t, r in alternated(lambda: transcode_cost(clip), lambda: render_cost(clip, workers=2), pairs)]
    return {"render_over_transcode": statistics.median(r.wall for r in ratios),
            "render_over_transcode_cpu": statistics.median(r.cpu for r in ratios)}


def measure_worker_ratio(clip: Path, pairs: int) -> dict[str, float]:
    ratios = [two / one for one, two in alternated(lambda: overlay_fps(clip, workers=1, heavy=True),
                                                     lambda: overlay_fps(clip, workers=2, heavy=True), pairs)]
    return {"workers2_over_1": statistics.median(ratios)}


# Each measure gives one or more ratios from the same runs; a baseline entry has "max" (must stay
# at or below) or "min" (at or above).
MEASURES = (measure_render_ratios, measure_worker_ratio)
CHECKS = ("render_over_transcode", "render_over_transcode_cpu", "workers2_over_1")


def within(value: float, spec: dict) -> bool:
    if "max" in spec:
        return value <= spec["max"]
    return value >= spec["min"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="perf_check", description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3, help="alternating measurements per ratio (default 3)")
    ap.add_argument("--seconds", type=float, default=6.0, help="clip length (default 6)")
    ap.add_argument("--update", action="store_true", help="write this machine's values into baseline.json")
    args = ap.parse_args(argv)

    baseline = json.loads(BASELINE.read_text())
    clip = make_clip(1920, 1080, args.seconds)
    failed: list[str] = []
    for measure in MEASURES:
        past: set[str] = set()
        for attempt in range(1, ATTEMPTS + 1):
            past = set()
            for name, value in measure(clip, args.pairs).items():
                spec = baseline[name]
                ok = within(value, spec)
                limit = f"{'≤' if 'max' in spec else '≥'} {spec.get('max', spec.get('min')):.2f}"
                print(f"perf-check: {name} = {value:.3f} (baseline {spec['value']:.2f}, limit {limit}) "
                      f"attempt {attempt}: {'ok' if ok else 'PAST LIMIT'}", flush=True)
                if args.update:
                    direction = "max" if "max" in spec else "min"
                    spec["value"] = round(value, 3)
                    tol = spec["tolerance"]
                    spec[direction] = round(value * (1 + tol) if direction == "max" else value * (1 - tol), 3)
                elif not ok:
                    past.add(name)
            if not past:  # every ratio of this measure within its limit (or --update): done
                break
        failed += sorted(past)
    if args.update:
        BASELINE.write_text(json.dumps(baseline, indent=2) + "\n")
        print(f"perf-check: baseline updated in {BASELINE}")
        return 0
    if failed:
        print(f"perf-check: FAILED — regression survived {ATTEMPTS} measurements: {', '.join(failed)}")
        return 1
    print(f"perf-check: all {len(CHECKS)} ratios within their limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
