"""Print each benchmark group from `make bench`'s JSON: speed-ups over one worker, renders as a
multiple of the plain transcode in the same group, and the paired render ÷ transcode ratios
(wall and CPU) of benchmarks/test_bench_compositing.py."""
from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT = Path(".benchmarks") / "last.json"


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
