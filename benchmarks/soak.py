"""`make soak [N=200] [SEED=1] [CASES="kill-worker main-SIGTERM"]`: the fault-injection cases of
tests/pipeline/test_faults.py in a loop, each at a random frame, and a table of outcomes.

Not part of `make test`: a few hundred real renders take ten minutes or more. A run that
behaved is one with exactly the expected exit status, message line, nothing left behind
(output, partial file, process, shared memory) and a successful second render; anything
else is counted as unexpected, with its first examples printed under the table.
"""
from __future__ import annotations

import argparse
import sys
import time

from tests.support.faults import CASES, can_mount, soak


def table(results, cases) -> str:
    rows = [("case", "runs", "expected outcome", "as expected", "unexpected")]
    for name, outcomes in results.items():
        case = cases[name]
        expected = (f"exit {case.status}" if case.status >= 0 else "killed (SIGKILL)") + (
            ", partial left, next run removes it" if case.partial_left else "")
        bad = sum(not o.ok for o in outcomes)
        rows.append((name, str(len(outcomes)), expected, str(len(outcomes) - bad), str(bad)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    total = sum(len(o) for o in results.values())
    bad = sum(not x.ok for o in results.values() for x in o)
    lines.append(f"\n{total} runs, {total - bad} as expected, {bad} unexpected")
    for name, outcomes in results.items():
        for o in [o for o in outcomes if not o.ok][:3]:
            lines.append(f"  {name} at frame {o.frame}: {'; '.join(o.problems)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make soak", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES), metavar="CASE")
    args = parser.parse_args(argv)
    names = list(args.cases)
    why = can_mount()
    if why and "disk-full" in names:
        names.remove("disk-full")
        print(f"soak: disk-full left out: {why}", file=sys.stderr)
    started = time.monotonic()
    results = soak(names, args.runs, args.seed)
    print(f"\nsoak: {args.runs} runs, seed {args.seed}, {time.monotonic() - started:.0f} s\n")
    print(table(results, CASES))
    return 1 if any(not o.ok for r in results.values() for o in r) else 0


if __name__ == "__main__":
    sys.exit(main())
