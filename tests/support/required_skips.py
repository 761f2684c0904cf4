"""A pytest plugin (loaded by tests/conftest.py): where CI has what a test needs, its absence fails.

A bare clone skips the tests that need what the repository does not hold: the real
device files of ../shared/data (tests.support.paths), the static ffmpeg builds
`make ffmpeg-builds` downloads (tests.support.ffmpeg_builds), the EGM96 geoid grid
`make setup` installs (proj-data; tests.support.paths) and the headless Chromium the
editor's page tests drive (chromium, chromium-driver, selenium; tests.support.browser)
and Ray, the optional extra the distributed tests run on (OVERDASH_REQUIRE_RAY).
CI has them all and must not pass by skipping those tests: each kind's skip becomes a
failure, naming what is missing, when its variable says so (OVERDASH_REQUIRE_DATA,
OVERDASH_REQUIRE_BUILDS, OVERDASH_REQUIRE_GRID, OVERDASH_REQUIRE_BROWSER: 1 requires,
0 does not), or by default when CI=true. Every other skip (no GPU, root cannot test
chmod) stays a skip.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests.support import browser, ffmpeg_builds, paths

# The Ray tests (tests/pipeline/distributed/test_ray.py) skip with this reason where the
# optional extra is not installed (pip install 'overdash[ray]').
RAY_SKIP_PREFIX = "Ray not installed:"


@dataclass(frozen=True)
class Requirement:
    prefix: str    # how the skip reason starts
    variable: str  # the environment variable that decides, CI=true when unset
    note: str      # said under the failure


REQUIREMENTS = (
    Requirement(paths.SKIP_PREFIX, "OVERDASH_REQUIRE_DATA",
                "device files are required here (OVERDASH_REQUIRE_DATA=1 or CI=true); see ../shared/data/README.md"),
    Requirement(ffmpeg_builds.SKIP_PREFIX, "OVERDASH_REQUIRE_BUILDS",
                "the ffmpeg builds are required here (OVERDASH_REQUIRE_BUILDS=1 or CI=true): make ffmpeg-builds"),
    Requirement(paths.GRID_SKIP_PREFIX, "OVERDASH_REQUIRE_GRID",
                "the EGM96 geoid grid is required here (OVERDASH_REQUIRE_GRID=1 or CI=true): make setup "
                "installs proj-data"),
    Requirement(browser.SKIP_PREFIX, "OVERDASH_REQUIRE_BROWSER",
                "headless Chromium is required here (OVERDASH_REQUIRE_BROWSER=1 or CI=true): make setup "
                "installs chromium and chromium-driver"),
    Requirement(RAY_SKIP_PREFIX, "OVERDASH_REQUIRE_RAY",
                "Ray is required here (OVERDASH_REQUIRE_RAY=1 or CI=true): make test installs the ray extra"),
)


def required(requirement: Requirement) -> bool:
    explicit = os.environ.get(requirement.variable, "").strip()
    if explicit:
        return explicit not in ("0", "false", "no")
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def _fail_if_required(report) -> None:
    if not report.skipped or not isinstance(report.longrepr, tuple) or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2]).removeprefix("Skipped: ")
    for requirement in REQUIREMENTS:
        if reason.startswith(requirement.prefix) and required(requirement):
            report.outcome = "failed"
            report.longrepr = f"{reason}\n{requirement.note}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_if_required(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_if_required(outcome.get_result())  # a module skipped as a whole (allow_module_level=True)
