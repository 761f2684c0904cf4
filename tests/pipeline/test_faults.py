"""Faults injected into real renders at a random frame: every way a run can be cut short ends
with the right exit status and one line, and leaves no output, no partial file, no process and
no shared memory; the same render then succeeds (tests/support/faults.py does the work, and
`make soak` runs the same cases in a loop)."""
from __future__ import annotations

import os
import random

import pytest

from tests.support import faults
from tests.support.paths import needs_device_file

pytestmark = [pytest.mark.e2e, needs_device_file("gopro/max-heromode.mp4")]
SEED = int(os.environ.get("OVERDASH_FAULT_SEED", "18"))


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    faults.make_clip(folder)
    return folder


def _run(name, work):
    rng = random.Random(f"{SEED}-{name}")  # each case its own frame, the same on every run
    outcome = faults.run_case(faults.CASES[name], work / name, rng)
    assert outcome.ok, f"{name} at frame {outcome.frame}: " + "; ".join(outcome.problems)


@pytest.mark.parametrize("name", ["kill-worker", "kill-writer", "kill-ffmpeg", "kill-prores-encoder",
                                  "kill-prores-muxer"])
def test_a_killed_child_is_named_with_the_likely_cause(name, work):
    _run(name, work)


@pytest.mark.parametrize("name", ["main-SIGINT", "main-SIGTERM", "main-SIGTERM-group", "main-SIGHUP",
                                  "terminal-closed", "prores-SIGTERM"])
def test_a_termination_signal_ends_the_render_like_ctrl_c(name, work):
    _run(name, work)


def test_main_killed_outright_leaves_a_partial_that_the_next_run_removes(work):
    _run("main-SIGKILL", work)


def test_a_full_disk(work):
    why = faults.can_mount()
    if why:
        pytest.skip(why)
    _run("disk-full", work)


def test_the_output_folder_removed_during_the_render(work):
    _run("folder-removed", work)


@pytest.mark.parametrize("name", ["tiles-500", "tiles-garbage", "tiles-truncated",
                                  pytest.param("tiles-stall", marks=pytest.mark.slow)])
def test_a_misbehaving_tile_server_only_costs_the_map(name, work):
    _run(name, work)
