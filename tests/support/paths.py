"""Where the tests' files are: the checkout, its own test files, and the real device files.

The device files (../shared/data beside the checkout, see ../shared/data/README.md)
are not part of the repository. A test that needs one asks for it by name and is
skipped, naming the file, when it is absent:

    path = device_file("gopro/max-heromode.mp4")          # inside a test or fixture
    pytestmark = needs_device_file("gopro/hero5.raw")     # a whole module (or @ on a test)

The skip reason always starts with SKIP_PREFIX ("device file missing: ..."); no
other skip uses it. CI has the files and refuses such skips: with CI=true or
OVERDASH_REQUIRE_DATA=1 the hook in tests/conftest.py turns them into failures.

The EGM96 geoid grid (/usr/share/proj/egm96_15.gtx, Debian's proj-data, which
`make setup` installs) is asked for the same way: geoid_grid() / needs_geoid_grid(),
skip reason starting with GRID_SKIP_PREFIX, a failure where CI requires it.

OVERDASH_SHARED_DATA=<folder> looks for the device files there instead of
../shared/data; `OVERDASH_SHARED_DATA=/nonexistent make test` shows what the
suite does on a checkout without them (every data test skipped by name).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
IMAGES = TESTS / "images"
TEST_DATA = TESTS / "data"
SHARED_DATA = Path(os.environ.get("OVERDASH_SHARED_DATA") or ROOT.parent / "shared" / "data")
SKIP_PREFIX = "device file missing:"


def _reason(missing) -> str:
    return f"{SKIP_PREFIX} " + ", ".join(f"../shared/data/{r}" for r in missing)


def device_file(relative: str) -> Path:
    """../shared/data/`relative`, or skip the calling test naming the file."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(_reason([relative]))
    return path


def has_device_file(relative: str) -> bool:
    """For optional extra checks only: a test that needs the file asks device_file()."""
    return (SHARED_DATA / relative).exists()


def needs_device_file(*relative: str) -> pytest.MarkDecorator:
    """A mark that skips a test (or module, as `pytestmark`) unless every named device file is there."""
    missing = [r for r in relative if not (SHARED_DATA / r).exists()]
    return pytest.mark.skipif(bool(missing), reason=_reason(missing))


GRID_SKIP_PREFIX = "geoid grid missing:"


def _grid_reason() -> str | None:
    from overlay.telemetry.geoid import GeoidUnavailable, load_grid

    try:
        load_grid()
    except GeoidUnavailable as exc:
        return f"{GRID_SKIP_PREFIX} {exc}"
    return None


def geoid_grid():
    """The EGM96 grid overdash finds (overlay.telemetry.geoid.load_grid), or skip the calling test."""
    from overlay.telemetry.geoid import load_grid

    reason = _grid_reason()
    if reason:
        pytest.skip(reason)
    return load_grid()


def needs_geoid_grid() -> pytest.MarkDecorator:
    """A mark that skips a test unless the EGM96 grid is installed (`make setup`: proj-data)."""
    reason = _grid_reason()
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def needs_device_files_in(*values) -> pytest.MarkDecorator:
    """needs_device_file for the paths under SHARED_DATA among `values` (a parametrize case's arguments)."""
    return needs_device_file(*[str(Path(v).relative_to(SHARED_DATA)) for v in values
                               if isinstance(v, Path) and Path(v).is_relative_to(SHARED_DATA)])
