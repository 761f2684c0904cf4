"""A pytest plugin (loaded by tests/conftest.py): where device files are required, their absence fails.

CI has ../shared/data and must not pass by skipping the tests that read it. With
OVERDASH_REQUIRE_DATA=1, or CI=true (set by CI services) unless
OVERDASH_REQUIRE_DATA=0, a test skipped with a reason starting with
tests.support.paths.SKIP_PREFIX ("device file missing: ...") is reported as
failed instead, naming the file. Every other skip (no ffmpeg, no GPU) stays a skip.
"""
from __future__ import annotations

import os

import pytest

from tests.support.paths import SKIP_PREFIX

REQUIRED_NOTE = "device files are required here (OVERDASH_REQUIRE_DATA=1 or CI=true); see ../shared/data/README.md"


def data_required() -> bool:
    """OVERDASH_REQUIRE_DATA=1/0 decides; without it, CI=true requires the data."""
    explicit = os.environ.get("OVERDASH_REQUIRE_DATA", "").strip()
    if explicit:
        return explicit not in ("0", "false", "no")
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def _device_skip_reason(report) -> str | None:
    """The skip reason when `report` is a skip for a missing device file."""
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return None
    reason = str(report.longrepr[2])
    reason = reason.removeprefix("Skipped: ")
    return reason if reason.startswith(SKIP_PREFIX) else None


def _fail(report) -> None:
    reason = _device_skip_reason(report)
    if reason is not None and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{reason}\n{REQUIRED_NOTE}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if data_required():
        _fail(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    if data_required():
        _fail(outcome.get_result())  # a module skipped as a whole (pytest.skip(allow_module_level=True))
