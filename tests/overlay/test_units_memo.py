"""overlay.conversion.UnitConverter: pint's answers remembered on disk give pint's results, and spare pint.

Real pint, real files. Every memo lives under tmp_path (the `memo_path=` argument), and
XDG_CACHE_HOME points at a temporary folder so neither the memo nor pint's own definition
cache ever touches the user's ~/.cache.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pint
import pytest

from overdash import InputError
from overlay.conversion import UnitConverter
from overlay.layout import NAMED_UNITS, pace_aware
from overlay.layout.units import SCALED_UNITS
from overlay.telemetry.timeseries import BASE_UNITS
from tests.support.paths import ROOT

REPO = ROOT

# Values a column may hold: missing (NaN), negative, zero, tiny, large, fractional.
VALUES = np.array([0.0, 1.0, -1.0, 3.5, -40.0, 1e-9, -0.25, 12345.678, np.nan, 0.1, 100.0, np.nan, 7.0])

# (from, to) pairs a render asks for: a metric's base unit (BASE_UNITS) -> a layout unit (NAMED_UNITS).
PAIRS = [
    ("meter / second", NAMED_UNITS["kph"]),
    ("meter / second", NAMED_UNITS["mph"]),
    ("meter / second", NAMED_UNITS["knots"]),
    ("meter / second", "meter / second"),
    ("meter", NAMED_UNITS["feet"]),
    ("meter", NAMED_UNITS["km"]),
    ("meter", NAMED_UNITS["miles"]),
    ("meter", NAMED_UNITS["nautical_miles"]),
    ("degC", "degF"),
    ("degC", "kelvin"),
    ("radian", "degree"),
    ("degree", "radian"),
    ("meter / second ** 2", NAMED_UNITS["G"]),
    ("standard_gravity", "meter / second ** 2"),
    ("1 / minute", "1 / second"),
    ("second", "minute"),
    ("percent", "dimensionless"),
    ("watt", "kilowatt"),
]
# speed -> pace goes through pace_aware: pint converts 1 / (m/s) -> time per distance.
PACE_TARGETS = [NAMED_UNITS["pace"], NAMED_UNITS["pace_mile"], NAMED_UNITS["pace_kt"]]
# Units whose symbol a dashboard label may show.
SYMBOL_UNITS = sorted({u for u in NAMED_UNITS.values() if u and u not in SCALED_UNITS} | {
    "meter / second", "degC", "degF", "kelvin", "degree", "radian", "watt", "percent",
    "dimensionless", "second", "1 / minute", "meter / second ** 2",
})

assert {a for a, _ in PAIRS} <= set(BASE_UNITS.values()) | {"radian"}  # pairs start from real base units


@pytest.fixture(scope="session")
def xdg_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def private_cache(xdg_cache, monkeypatch):
    """pint's definition cache (':auto:') and the default memo go to a temporary folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg_cache))


@pytest.fixture(scope="module")
def ureg():
    return pint.UnitRegistry()


def pint_convert(ureg, values, a, b):
    return np.asarray(ureg.Quantity(np.asarray(values, dtype=np.float64), a).to(b).magnitude, dtype=np.float64)


def memo_files(folder: Path) -> list[Path]:
    """The memo file(s) a converter with memo_path=folder/'units.json' wrote (named per pint install)."""
    return sorted(p for p in folder.glob("units*.json"))


def read_memo(folder: Path) -> dict:
    files = memo_files(folder)
    assert len(files) == 1, files
    data = json.loads(files[0].read_text())
    assert isinstance(data, dict)
    return data


def check_all(conv: UnitConverter, ureg) -> None:
    for a, b in PAIRS:
        got = conv.convert(VALUES, a, b)
        assert got.dtype == np.float64 and got.shape == VALUES.shape
        np.testing.assert_allclose(got, pint_convert(ureg, VALUES, a, b), rtol=1e-12, atol=0,
                                   equal_nan=True, err_msg=f"{a} -> {b}")
    mine = pace_aware(conv.convert)
    reference = pace_aware(lambda v, a, b: pint_convert(ureg, v, a, b))
    for b in PACE_TARGETS:
        got = mine(VALUES, "meter / second", b)
        np.testing.assert_allclose(got, reference(VALUES, "meter / second", b), rtol=1e-12, atol=0,
                                   equal_nan=True, err_msg=f"pace {b}")
    for u in SYMBOL_UNITS:
        assert conv.symbol(u) == format(ureg.Unit(u), "~P"), u
        assert conv.symbol(u, "~C") == format(ureg.Unit(u), "~C"), u
    assert conv.symbol("spm") == "spm"  # steps per minute: no pint unit, twice the cadence
    np.testing.assert_allclose(mine(VALUES, "1 / minute", "spm"), 2 * VALUES, rtol=1e-12, equal_nan=True)


# --- results equal pint's, fresh and from the memo --------------------------------------------------------

def forbid_pint(monkeypatch, why: str) -> None:
    """From now on any use of the pint registry fails the test with `why`."""
    def forbidden(self):
        raise AssertionError(why)
    monkeypatch.setattr(UnitConverter, "ureg", property(forbidden))


def test_fresh_and_remembered_results_equal_pint(tmp_path, ureg, monkeypatch):
    memo = tmp_path / "units.json"
    fresh = UnitConverter(memo_path=memo)
    check_all(fresh, ureg)
    remembered = read_memo(tmp_path)
    assert len(remembered) >= len(PAIRS) + len(PACE_TARGETS) + len(SYMBOL_UNITS)

    # A second converter answers everything from the file, without pint.
    forbid_pint(monkeypatch, "pint used although the memo holds the answer")
    again = UnitConverter(memo_path=memo)
    check_all(again, ureg)
    assert read_memo(tmp_path) == remembered  # nothing new to remember


def test_known_values(tmp_path):
    """A few conversions spelled out, from a fresh converter and from the memo."""
    for _ in range(2):
        conv = UnitConverter(memo_path=tmp_path / "units.json")
        np.testing.assert_allclose(conv.convert([10.0, 0.0, -5.0, np.nan], "meter / second", "kph"),
                                   [36.0, 0.0, -18.0, np.nan], rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(conv.convert([-40.0, 0.0, 100.0], "degC", "degF"), [-40.0, 32.0, 212.0], rtol=1e-12)
        np.testing.assert_allclose(conv.convert([0.0, 1.0], "degC", "kelvin"), [273.15, 274.15], rtol=1e-12)
        np.testing.assert_allclose(conv.convert([np.pi, -np.pi / 2], "radian", "degree"), [180.0, -90.0], rtol=1e-12)
        np.testing.assert_allclose(conv.convert([1609.344], "meter", "mile"), [1.0], rtol=1e-12)
        speeds = np.array([10.0, 0.0, 0.05, -3.0, np.nan])
        pace = pace_aware(conv.convert)(speeds, "meter / second", "second / kilometer")
        np.testing.assert_allclose(pace, [100.0, np.nan, np.nan, np.nan, np.nan], rtol=1e-12, equal_nan=True)
        assert conv.symbol("kph") == "kph" and conv.symbol("knot") == "kn" and conv.symbol("degC") == "°C"
    assert len(memo_files(tmp_path)) == 1


def test_scalar_and_list_inputs(tmp_path, ureg):
    conv = UnitConverter(memo_path=tmp_path / "units.json")
    out = conv.convert(2.0, "meter", "foot")
    assert float(out) == pytest.approx(pint_convert(ureg, 2.0, "meter", "foot"), rel=1e-12)
    again = UnitConverter(memo_path=tmp_path / "units.json")
    assert float(again.convert(2.0, "meter", "foot")) == pytest.approx(float(out), rel=1e-12)
    assert again.convert([1.0, 2.0], "meter", "foot").tolist() == pytest.approx(
        pint_convert(ureg, [1.0, 2.0], "meter", "foot").tolist(), rel=1e-12)


def test_default_memo_follows_xdg_cache_home(tmp_path, monkeypatch, ureg):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    UnitConverter().convert([1.0], "meter", "foot")
    assert len(memo_files(tmp_path / "overdash")) == 1


def test_cache_false_writes_nothing(tmp_path, ureg):
    conv = UnitConverter(cache=False, memo_path=tmp_path / "units.json")
    np.testing.assert_allclose(conv.convert(VALUES, "meter", "foot"), pint_convert(ureg, VALUES, "meter", "foot"),
                               rtol=1e-12, equal_nan=True)
    assert conv.symbol("foot") == "ft"
    assert list(tmp_path.iterdir()) == []


# --- another process: the memo spares it pint -------------------------------------------------------------

CHILD = r"""
import json, sys
import numpy as np
from overlay.conversion import UnitConverter
conv = UnitConverter(memo_path=sys.argv[1])
pairs = json.loads(sys.argv[2])
symbols = json.loads(sys.argv[3])
values = np.array([0.0, 1.0, -1.0, 3.5, 12345.678, float("nan")])
out = {
    "pint": "pint" in sys.modules,
    "convert": [[None if v != v else v for v in conv.convert(values, a, b).tolist()] for a, b in pairs],
    "symbols": [conv.symbol(u) for u in symbols],
}
out["pint_after"] = "pint" in sys.modules
print(json.dumps(out))
"""
CHILD_VALUES = np.array([0.0, 1.0, -1.0, 3.5, 12345.678, np.nan])


def run_child(memo: Path, pairs, symbols, xdg: Path) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(xdg)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(memo), json.dumps(pairs), json.dumps(symbols)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_child(out: dict, pairs, symbols, ureg) -> None:
    for (a, b), got in zip(pairs, out["convert"]):
        got = np.array([np.nan if v is None else v for v in got])
        np.testing.assert_allclose(got, pint_convert(ureg, CHILD_VALUES, a, b), rtol=1e-12, atol=0,
                                   equal_nan=True, err_msg=f"{a} -> {b}")
    assert out["symbols"] == [format(ureg.Unit(u), "~P") for u in symbols]


def test_second_process_with_remembered_units_does_not_import_pint(tmp_path, ureg, xdg_cache):
    memo = tmp_path / "units.json"
    pairs = [["meter / second", "kph"], ["meter", "foot"], ["degC", "degF"], ["radian", "degree"],
             ["1 / (meter / second)", "second / kilometer"]]
    symbols = ["kph", "foot", "degF", "degree", "meter / second"]
    conv = UnitConverter(memo_path=memo)
    for a, b in pairs:
        conv.convert(CHILD_VALUES, a, b)
    for u in symbols:
        conv.symbol(u)

    out = run_child(memo, pairs, symbols, xdg_cache)
    assert out["pint"] is False  # the import of overlay.conversion itself stays free of pint
    assert out["pint_after"] is False, "a remembered pair or symbol made the child import pint"
    check_child(out, pairs, symbols, ureg)


def test_second_process_with_a_new_pair_imports_pint_and_remembers_it(tmp_path, ureg, xdg_cache):
    memo = tmp_path / "units.json"
    conv = UnitConverter(memo_path=memo)
    conv.convert(CHILD_VALUES, "meter / second", "kph")
    conv.symbol("kph")
    before = read_memo(tmp_path)

    new_pairs, new_symbols = [["meter", "mile"], ["degC", "kelvin"]], ["mile"]
    out = run_child(memo, [["meter / second", "kph"]] + new_pairs, ["kph"] + new_symbols, xdg_cache)
    assert out["pint_after"] is True
    check_child(out, [["meter / second", "kph"]] + new_pairs, ["kph"] + new_symbols, ureg)

    after = read_memo(tmp_path)
    assert before.items() <= after.items()  # what was remembered is kept
    assert len(after) == len(before) + len(new_pairs) + len(new_symbols)

    # ... and a third process finds the new pair in the file: no pint.
    out = run_child(memo, new_pairs, new_symbols, xdg_cache)
    assert out["pint_after"] is False
    check_child(out, new_pairs, new_symbols, ureg)


# --- what is not remembered: unknown and non-affine units; a damaged memo --------------------------------

def test_unknown_unit_names_the_unit_and_leaves_the_memo_intact(tmp_path, ureg):
    memo = tmp_path / "units.json"
    conv = UnitConverter(memo_path=memo)
    conv.convert(VALUES, "meter", "foot")
    conv.symbol("foot")
    before = read_memo(tmp_path)

    with pytest.raises(InputError, match="furlongz"):
        conv.convert(VALUES, "meter", "furlongz")
    with pytest.raises(InputError, match="blorps"):
        conv.convert(VALUES, "blorps", "meter")
    with pytest.raises(InputError, match="furlongz"):
        conv.symbol("furlongz")
    with pytest.raises(InputError, match="kph"):  # known units that do not convert
        conv.convert(VALUES, "meter", "kph")
    assert read_memo(tmp_path) == before

    # A new converter still reads the file, and still refuses the unknown unit.
    again = UnitConverter(memo_path=memo)
    np.testing.assert_allclose(again.convert(VALUES, "meter", "foot"), pint_convert(ureg, VALUES, "meter", "foot"),
                               rtol=1e-12, equal_nan=True)
    with pytest.raises(InputError, match="furlongz"):
        again.symbol("furlongz")
    with pytest.raises(InputError, match="furlongz"):
        again.convert(VALUES, "meter", "furlongz")
    assert read_memo(tmp_path) == before


def test_non_affine_units_always_go_through_pint(tmp_path, ureg, monkeypatch):
    """Logarithmic units are no x·scale + offset: never remembered as such, always pint's answer."""
    memo = tmp_path / "units.json"
    values = np.array([0.0, 3.0, 10.0, -7.5, 20.0, np.nan])
    for _ in range(2):  # fresh, then with a memo file present
        conv = UnitConverter(memo_path=memo)
        conv.convert(VALUES, "meter", "foot")
        for a, b in (("dBm", "milliwatt"), ("decibel", "dimensionless")):
            np.testing.assert_allclose(conv.convert(values, a, b), pint_convert(ureg, values, a, b),
                                       rtol=1e-12, equal_nan=True, err_msg=f"{a} -> {b}")
        np.testing.assert_allclose(conv.convert([10.0], "dBm", "milliwatt"), [10.0], rtol=1e-12)
    before = read_memo(tmp_path)

    # Without pint, a third converter knows meter -> foot but not dBm -> milliwatt.
    forbid_pint(monkeypatch, "pint asked")
    conv = UnitConverter(memo_path=memo)
    np.testing.assert_allclose(conv.convert(VALUES, "meter", "foot"), pint_convert(ureg, VALUES, "meter", "foot"),
                               rtol=1e-12, equal_nan=True)
    with pytest.raises((AssertionError, InputError), match="pint asked"):
        conv.convert(values, "dBm", "milliwatt")
    assert read_memo(tmp_path) == before


GARBAGE = [b"\x00\xff\xfe\x80garbage\x00", b'{"meter \xe2\x86\x92 foot": [0.3', b"[1, 2, 3]", b"", b"null"]


@pytest.mark.parametrize("garbage", GARBAGE, ids=["binary", "truncated", "list", "empty", "null"])
def test_corrupt_memo_is_ignored_and_rewritten(tmp_path, ureg, garbage, monkeypatch):
    memo = tmp_path / "units.json"
    UnitConverter(memo_path=memo).convert([1.0], "meter", "foot")  # learn the file's name
    (path,) = memo_files(tmp_path)
    path.write_bytes(garbage)

    conv = UnitConverter(memo_path=memo)
    for a, b in (("meter", "foot"), ("degC", "degF"), ("meter / second", "kph")):
        np.testing.assert_allclose(conv.convert(VALUES, a, b), pint_convert(ureg, VALUES, a, b),
                                   rtol=1e-12, equal_nan=True, err_msg=f"{a} -> {b}")
    assert conv.symbol("kph") == "kph"
    data = json.loads(path.read_text())  # valid again
    assert isinstance(data, dict) and len(data) == 4
    assert memo_files(tmp_path) == [path]  # no temporary file left behind

    forbid_pint(monkeypatch, "the rewritten memo was not used")
    again = UnitConverter(memo_path=memo)
    np.testing.assert_allclose(again.convert(VALUES, "degC", "degF"), pint_convert(ureg, VALUES, "degC", "degF"),
                               rtol=1e-12, equal_nan=True)
    assert again.symbol("kph") == "kph"


# --- a memo that cannot be written only costs speed ---------------------------------------------------------

def test_unwritable_memo_directory_still_converts(tmp_path, ureg):
    folder = tmp_path / "ro"
    folder.mkdir()
    memo = folder / "units.json"
    UnitConverter(memo_path=memo).convert(VALUES, "meter", "foot")  # remembered before it turns read-only
    before = read_memo(folder)
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("chmod does not stop this user writing (root)")
        conv = UnitConverter(memo_path=memo)
        check_all(conv, ureg)
        assert read_memo(folder) == before  # unchanged, and no temporary files
        assert [p.name for p in folder.iterdir()] == [memo_files(folder)[0].name]
    finally:
        folder.chmod(0o700)


def test_memo_directory_that_cannot_exist_still_converts(tmp_path, ureg):
    """Works for root too: the memo's folder is a regular file, so it cannot be created."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    conv = UnitConverter(memo_path=blocker / "sub" / "units.json")
    check_all(conv, ureg)
    assert blocker.read_text() == "x" and list(tmp_path.iterdir()) == [blocker]
