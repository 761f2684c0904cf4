"""`python -m fuzz [run|agree|replay]`: see fuzz/run.py and fuzz/agree.py. `make fuzz` runs the long campaigns."""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from fuzz.run import TARGETS, make_case, run


def _table(stats, began: float) -> str:
    rows = [f"{'parser':8} {'cases':>9} {'seconds':>8} {'cases/s':>8}  findings"]
    for name, st in stats.items():
        rate = st.cases / st.seconds if st.seconds else 0.0
        rows.append(f"{name:8} {st.cases:9d} {st.seconds:8.0f} {rate:8.0f}  {len(st.findings)}")
        rows += [f"{'':8}   - {sig}: case {f['index']} ({f['case']})" for sig, f in st.findings.items()]
    total = sum(st.cases for st in stats.values())
    rows.append(f"{'total':8} {total:9d} {time.monotonic() - began:8.0f} (wall)")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz", description="Fuzz overdash's parsers.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run cases against the parsers")
    r.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)}")
    r.add_argument("--cases", default="150000", help="cases per target: N, or NAME=N,... (others: 0)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--jobs", type=int, default=2, help="children at a time")
    r.add_argument("--batch", type=int, default=1000, help="cases per forked child")
    r.add_argument("--timeout", type=float, default=2.0, help="seconds per case")
    r.add_argument("--mem-mib", type=int, default=1024, help="address-space limit per child")
    r.add_argument("--work", type=Path, default=Path("/tmp/overdash-fuzz"), help="findings and their cases")
    a = sub.add_parser("agree", help="damaged MP4s: the index probe's facts against ffprobe's")
    a.add_argument("--cases", type=int, default=20000)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--work", type=Path, default=Path("/tmp/overdash-fuzz/agree"), help="disagreeing cases")
    p = sub.add_parser("replay", help="run one case in this process and show what it raises")
    p.add_argument("target", choices=sorted(TARGETS))
    p.add_argument("seed", type=int)
    p.add_argument("index", type=int)
    p.add_argument("--save", type=Path, help="also write the case's bytes here")
    args = ap.parse_args(argv)
    if args.command == "agree":
        from fuzz.agree import agree

        result = agree(args.cases, seed=args.seed, work=args.work)
        print(", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items())),
              f"disagreed: {len(result.disagreements)}", *result.disagreements, sep="\n")
        return 1 if result.disagreements else 0
    if args.command == "replay":
        target = TARGETS[args.target]
        seeds = target.seeds()
        data = make_case(target.name, seeds, [s.data for s in seeds], args.seed, args.index)
        path = args.save or Path(f"/tmp/overdash-fuzz-replay{target.suffix}")
        path.write_bytes(data)
        try:
            target.call(path)
            print(f"{len(data)} bytes: parsed")
        except Exception:  # noqa: BLE001 - shown, not handled
            traceback.print_exc()
        return 0
    names = [n for n in args.targets.split(",") if n]
    began = time.monotonic()
    last = [0.0]

    def progress(stats):
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            print(_table(stats, began), flush=True)

    cases: int | dict[str, int] = int(args.cases) if args.cases.isdigit() else {
        k: int(v) for k, v in (item.split("=") for item in args.cases.split(","))}
    if isinstance(cases, dict):
        names = [n for n in names if cases.get(n)]
    stats = run(names, cases, seed=args.seed, jobs=args.jobs, batch=args.batch, timeout=args.timeout,
                mem_mib=args.mem_mib, work=args.work, progress=progress)
    print(_table(stats, began), flush=True)
    summary = {n: {"cases": s.cases, "seconds": round(s.seconds, 1), "findings": list(s.findings)}
               for n, s in stats.items()}
    (args.work / f"summary-seed{args.seed}.json").write_text(json.dumps(summary, indent=1))
    return 1 if any(s.findings for s in stats.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
