"""The index probe against ffprobe on damaged files: every mutated MP4 that encoders.mp4index
settles must give ffprobe's facts.

The crash fuzzer (fuzz/run.py) shows the reader never raises; this shows it never answers
where ffprobe would answer differently or refuse the file. One exception is counted, not
failed: damage in the first frames' data (ffprobe decodes them and then reports the pixel
format as 'unknown'; the index gives the SPS's), which the render's ffmpeg finds either way.
"""
from __future__ import annotations

import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fuzz.mutate import mutate
from fuzz.targets import index_seeds


@dataclass
class Agreement:
    counts: Counter = field(default_factory=Counter)
    disagreements: list[str] = field(default_factory=list)  # what differs, and where the case was kept


def agree(cases: int, *, seed: int = 1, work: Path | None = None) -> Agreement:
    from encoders.mp4index import read_index_facts
    from encoders.probe import start_probe

    seeds = index_seeds()
    pool = [s.data for s in seeds]
    rng = random.Random(seed)
    out = Agreement()
    work = work or Path(tempfile.mkdtemp(prefix="overdash-agree-"))
    work.mkdir(parents=True, exist_ok=True)
    for index in range(cases):
        origin = rng.choice(seeds)
        case = work / f"case{Path(origin.name).suffix}"
        case.write_bytes(mutate(rng, origin.data, pool, origin.focus))
        facts = read_index_facts(case)
        if facts is None:
            out.counts["declined"] += 1
            continue
        try:
            reference = start_probe(case, index=False).result()
        except Exception as exc:  # noqa: BLE001 - ffprobe refused a file the index settled
            out.disagreements.append(_keep(work, case, index, f"ffprobe refuses it: {exc}"))
            continue
        if reference.pix_fmt == "unknown":
            out.counts["first frames undecodable"] += 1
        elif reference != facts:
            diff = {k: (getattr(facts, k), getattr(reference, k)) for k in facts.__dataclass_fields__
                    if getattr(facts, k) != getattr(reference, k)}
            out.disagreements.append(_keep(work, case, index, f"index, ffprobe: {diff}"))
        else:
            out.counts["agreed"] += 1
    return out


def _keep(work: Path, case: Path, index: int, what: str) -> str:
    kept = work / f"disagree-{index}{case.suffix}"
    kept.write_bytes(case.read_bytes())
    return f"case {index} ({kept}): {what}"
