"""Where the tests' files are: the checkout, its own test files, and the real device files.

The device files (../shared/data beside the checkout) are not part of the
repository: a test that needs one asks `device_file(...)`, which skips the test
with the file's name when it is absent (CI has them and refuses such skips).
"""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
IMAGES = TESTS / "images"
TEST_DATA = TESTS / "data"
SHARED_DATA = ROOT.parent / "shared" / "data"
SKIP_PREFIX = "device file missing:"


def device_file(relative: str) -> Path:
    """../shared/data/`relative`, or skip the calling test naming the file."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"{SKIP_PREFIX} ../shared/data/{relative}")
    return path


def needs_device_file(*relative: str):
    """A mark that skips a test (or module, as `pytestmark`) unless every named device file is there."""
    missing = [r for r in relative if not (SHARED_DATA / r).exists()]
    return pytest.mark.skipif(bool(missing), reason=f"{SKIP_PREFIX} " + ", ".join(f"../shared/data/{r}" for r in missing))
