"""A short, fixed-seed run of the parser fuzzer (fuzz/; the long run is `make fuzz`).

Every parser must turn any bytes into data or one InputError. The smoke replays the same
cases on every run (seed 0), so a failure here is a reproducible finding:
`python -m fuzz replay TARGET 0 INDEX` shows its traceback.
"""
from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.run import run
from fuzz.targets import TARGETS
from overdash import InputError

SMOKE_CASES = {"mp4": 1000, "index": 1000, "gpmf": 1000, "fit": 1000, "gpx": 2000, "layout": 2000, "profile": 2000,
               "tile": 2000}


@pytest.mark.slow
def test_fixed_seed_smoke_finds_nothing(tmp_path):
    stats = run(list(SMOKE_CASES), SMOKE_CASES, seed=0, jobs=2, batch=500, work=tmp_path)
    assert {name: st.cases for name, st in stats.items()} == SMOKE_CASES
    found = [f"{name}: {sig} (python -m fuzz replay {name} 0 {f['index']})\n{f['detail']}"
             for name, st in stats.items() for sig, f in st.findings.items()]
    assert not found, "\n".join(found)


def test_the_harness_reports_a_crash_a_hang_and_a_memory_blowup(tmp_path, monkeypatch):
    """The smoke above can fail: a target that misbehaves on some cases is caught each way."""
    from fuzz import run as run_module
    from fuzz.targets import Seed, Target

    def bad(path: Path) -> object:
        data = path.read_bytes()
        if data[:1] == b"C":
            raise KeyError("crash")
        if data[:1] == b"H":
            while True:
                pass
        if data[:1] == b"M":
            return bytearray(2 << 30)  # 2 GiB under a 1 GiB limit
        raise InputError("fine")

    seeds = [Seed("c", b"C" * 64), Seed("h", b"H" * 64), Seed("m", b"M" * 64), Seed("ok", b"." * 64)]
    monkeypatch.setitem(run_module.TARGETS, "bad", Target("bad", ".bin", bad, lambda: seeds))
    stats = run(["bad"], 40, seed=0, jobs=1, batch=40, timeout=0.5, work=tmp_path)
    kinds = {sig.split(" ")[0] for sig in stats["bad"].findings}
    assert {"KeyError", "Hang", "MemoryError"} <= kinds
    assert stats["bad"].cases == 40


@pytest.mark.parametrize("name", sorted(TARGETS))
@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=512))
def test_arbitrary_bytes_give_data_or_one_input_error(name, data):
    """Property: any bytes at all (hypothesis shrinks a failure to the fewest)."""
    target = TARGETS[name]
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped payloads warn; only exceptions matter here
        path = Path(folder) / f"case{target.suffix}"
        path.write_bytes(data)
        try:
            target.call(path)
        except InputError as exc:
            assert str(path) in str(exc)  # the one line names the file
