"""Print each benchmark group from `make bench`'s JSON: speed-ups over one worker, renders as a
multiple of the plain transcode in the same group, and the paired render ÷ transcode ratios
(wall and CPU) of benchmarks/test_bench_compositing.py."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks.stats import Interval, verdict

DEFAULT = Path(".benchmarks") / "last.json"


_WHY = {"undecided": " (the interval spans it: more pairs)", "not judged": " (too few pairs: 6 or more)"}


def _judged(x: dict) -> str:
    """The medians' intervals, and against a case's targets what they say (benchmarks.stats.verdict)."""
    parts = []
    for side, name in (("wall", "wall"), ("cpu", "CPU")):
        low, high = x[f"{side}_ci"]
        text = f"{name} median in {low:.3f}–{high:.3f}"
        target = x.get(f"{side}_target")
        if target is not None:
            said = verdict(Interval(low, high, x["ci_coverage"]), target)
            text += f", target ≤ {target:.2f}: {said}" + _WHY.get(said, "")
        parts.append(text)
    return f"{'; '.join(parts)} ({x['ci_coverage']:.1%} intervals)"


def main(path: Path = DEFAULT) -> int:
    data = json.loads(path.read_text())
    groups: dict[str, list] = {}
    for b in data["benchmarks"]:
        groups.setdefault(b["group"] or "telemetry loading", []).append(b)
    for group, rows in groups.items():
        print(f"\n{group}")
        base = {r["extra_info"].get("workers"): r["stats"]["median"] for r in rows}
        one = base.get(1)
        transcode = base.get(0)
        for r in sorted(rows, key=lambda r: (r["extra_info"].get("workers", 0), r["name"])):
            w = r["extra_info"].get("workers")
            med = r["stats"]["median"]
            frames = r["extra_info"].get("frames")
            if "cpu_ratio" in r["extra_info"]:  # a paired comparison: its ratios are the result
                x = r["extra_info"]
                floor = x.get("floor", "the plain transcode")
                realtime = f", {x['realtime']:.2f}× real time" if "realtime" in x else ""
                spread = (f"; single pairs: wall {x['wall_range'][0]:.2f}–{x['wall_range'][1]:.2f}, "
                          f"CPU {x['cpu_range'][0]:.2f}–{x['cpu_range'][1]:.2f}" if "wall_range" in x else "")
                print(f"  {x['label']:>40}: wall ×{x['wall_ratio']:.3f}, CPU ×{x['cpu_ratio']:.3f} {floor} "
                      f"(render {x['render_wall_s']:.2f} s / {x['render_cpu_s']:.2f} CPU-s, {floor} "
                      f"{x['transcode_wall_s']:.2f} s / {x['transcode_cpu_s']:.2f} CPU-s, {x['pairs']} pairs"
                      f"{realtime}{spread})")
                if "wall_ci" in x:
                    print(f"  {'':>40}  {_judged(x)}")
                continue
            if "label" in r["extra_info"]:
                label = r["extra_info"]["label"]
            elif w is None:  # not a worker-count comparison: name the case
                label = r["name"].split("[", 1)[1].rstrip("]") if "[" in r["name"] else r["name"].removeprefix("test_")
            else:
                label = "plain transcode" if w == 0 else f"{w} worker(s)"
            w = w or 0
            parts = [f"  {label:>30}: {med:7.3f} s"]
            if frames:
                parts.append(f"{frames / med:7.1f} frames/s")
            if "steady_fps" in r["extra_info"]:
                parts.append(f"steady {r['extra_info']['steady_fps']:.0f} frames/s")
            if one and w and "label" not in r["extra_info"]:
                parts.append(f"speed-up ×{one / med:.2f} over 1 worker")
            if transcode and w:
                parts.append(f"{med / transcode:.2f}× the plain transcode")
            print(", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT))
