"""The test house itself: device-file and ffmpeg-build skips (and CI refusing them), home isolation, the leak check.

Each check runs a small test file in a pytest of its own (a subprocess, its own
--basetemp) with tests/conftest.py loaded as a plugin, and reads the outcome.
"""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import pytest

from tests.support.paths import ROOT, SKIP_PREFIX

INNER = '''
import os, subprocess, sys
from multiprocessing import shared_memory
from pathlib import Path

import pytest

from tests.support.paths import device_file, needs_device_file

def test_needs_a_device_file():
    device_file("no/such/file.mp4")

def test_needs_an_ffmpeg_build(ffmpeg_build):
    pass

@needs_device_file("no/such/other.fit")
def test_marked_for_a_device_file():
    pass

def test_skips_for_another_reason():
    pytest.skip("no ffmpeg")

def test_home_is_its_own(tmp_path):
    home = Path(os.environ["HOME"])
    assert home.is_dir() and not any(home.iterdir())
    assert home != Path("{real_home}") and Path(os.environ["XDG_CONFIG_HOME"]).parent == home
    assert not Path(os.environ["XDG_CACHE_HOME"]).is_relative_to("{real_home}")
    (home / "mine").touch()

def test_home_is_its_own_again(tmp_path):
    assert not (Path(os.environ["HOME"]) / "mine").exists()

def test_waits_for_its_process():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_leaves_a_process():
    subprocess.Popen(["sleep", "60"])

def test_leaves_a_ring_segment():
    shm = shared_memory.SharedMemory(name=f"overdash-{{os.getpid()}}-leaktest", create=True, size=4096)
    shm.close()
    from multiprocessing import resource_tracker
    resource_tracker.unregister(shm._name, "shared_memory")  # as if the process had been killed
'''


def run_inner(folder: Path, **env: str) -> tuple[str, dict[str, str]]:
    """Output and {test name: PASSED | FAILED | ERROR | SKIPPED} of INNER run in a pytest of its own."""
    folder.mkdir()
    (folder / "test_inner.py").write_text(INNER.format(real_home=Path.home()))
    environ = {k: v for k, v in os.environ.items()
               if k not in ("CI", "OVERDASH_REQUIRE_DATA", "OVERDASH_REQUIRE_BUILDS")}
    environ.update(PYTHONPATH=str(ROOT), OVERDASH_LEAK_GRACE_S="0.3",
                   OVERDASH_FFMPEG_BUILDS=str(folder / "no-builds"), **env)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider",
                           "-rA", "--basetemp", str(folder / "base"), "--rootdir", str(folder),
                           "--junitxml", str(folder / "junit.xml"), str(folder / "test_inner.py")],
                          capture_output=True, text=True, timeout=120, env=environ, cwd=folder)
    outcomes = {}
    for case in ET.parse(folder / "junit.xml").iter("testcase"):
        kinds = {child.tag for child in case}
        outcomes[case.get("name")] = ("ERROR" if "error" in kinds else "FAILED" if "failure" in kinds
                                      else "SKIPPED" if "skipped" in kinds else "PASSED")
    return proc.stdout, outcomes


@pytest.fixture(scope="module")
def relaxed(tmp_path_factory):
    """INNER where device files are not required."""
    return run_inner(tmp_path_factory.mktemp("inner") / "relaxed", OVERDASH_REQUIRE_DATA="0")


@pytest.fixture(scope="module")
def on_ci(tmp_path_factory):
    """INNER as CI runs it."""
    folder = tmp_path_factory.mktemp("inner") / "ci"
    return run_inner(folder, CI="true")


def test_device_file_skips_name_the_file(relaxed):
    out, outcomes = relaxed
    assert outcomes["test_needs_a_device_file"] == outcomes["test_marked_for_a_device_file"] == "SKIPPED", out
    assert f"{SKIP_PREFIX} ../shared/data/no/such/file.mp4" in out
    assert f"{SKIP_PREFIX} ../shared/data/no/such/other.fit" in out


def test_ci_fails_device_file_skips_and_only_those(on_ci):
    out, outcomes = on_ci
    assert outcomes["test_needs_a_device_file"] == "FAILED", out
    assert outcomes["test_marked_for_a_device_file"] in ("FAILED", "ERROR"), out  # a skipif mark: at setup
    assert "../shared/data/no/such/file.mp4" in out and "../shared/data/no/such/other.fit" in out
    assert outcomes["test_skips_for_another_reason"] == "SKIPPED", out
    builds = [name for name in outcomes if name.startswith("test_needs_an_ffmpeg_build")]
    assert len(builds) == 3 and {outcomes[n] for n in builds} <= {"FAILED", "ERROR"}, out
    assert "ffmpeg build missing: ffmpeg 4.2.2" in out and "run `make ffmpeg-builds`" in out


def test_missing_ffmpeg_builds_skip_naming_make_setup(relaxed):
    out, outcomes = relaxed
    builds = [name for name in outcomes if name.startswith("test_needs_an_ffmpeg_build")]
    assert len(builds) == 3 and {outcomes[n] for n in builds} == {"SKIPPED"}, out
    assert "ffmpeg build missing: ffmpeg 9.0.2 (imageio-ffmpeg 0.8.1 wheel in" in out
    assert "run `make ffmpeg-builds`" in out


def test_every_test_has_its_own_home(relaxed):
    out, outcomes = relaxed
    assert outcomes["test_home_is_its_own"] == outcomes["test_home_is_its_own_again"] == "PASSED", out


def test_leaked_process_and_segment_fail_their_test_and_are_cleaned_up(relaxed):
    out, outcomes = relaxed
    assert outcomes["test_waits_for_its_process"] == "PASSED", out
    assert outcomes["test_leaves_a_process"] == "ERROR", out
    assert "process left running: pid " in out and ": sleep 60" in out
    pid = int(out.split("process left running: pid ")[1].split(":")[0])
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert outcomes["test_leaves_a_ring_segment"] == "ERROR", out
    assert "shared memory left behind: /dev/shm/overdash-" in out
    assert not [n for n in os.listdir("/dev/shm") if n.endswith("-leaktest")]


def test_shared_data_folder_can_be_moved(tmp_path):
    code = "from tests.support.paths import SHARED_DATA; print(SHARED_DATA)"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OVERDASH_SHARED_DATA=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip() == str(tmp_path)
