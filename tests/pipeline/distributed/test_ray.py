"""On a local Ray cluster started here (2 CPUs, no dashboard): a render in three segments equals
the one-machine render; a Ray worker killed mid-segment is retried; a segment that cannot
render stops the run leaving nothing; a batch with a broken clip ends with the others done."""
from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.support.required_skips import RAY_SKIP_PREFIX

try:
    import ray
except ImportError:
    pytest.skip(f"{RAY_SKIP_PREFIX} pip install 'overdash[ray]' (make test installs it)", allow_module_level=True)

from tests.pipeline.distributed.clips import (  # noqa: E402
    MAX_DIFFERENT,
    audio_packets,
    frame_times,
    make_clip,
    overdash,
    worst_frame,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One local cluster for the module; the commands run in this process use it as it is."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _temp_dir=str(tmp_path_factory.mktemp("ray")))
    yield
    ray.shutdown()


def _is_ray(proc: psutil.Process) -> bool:
    """Ray's own processes (raylet, GCS, workers, idle or not): they belong to the module's cluster,
    which lives past each test. A render's child, its workers (named overdash-…) and ffmpeg do not."""
    try:
        name, cmdline = proc.name(), " ".join(proc.cmdline())
    except psutil.Error:
        return True
    return not name.startswith(("overdash", "ffmpeg")) and "pipeline.commands.child" not in cmdline and (
        "ray" in cmdline or name in ("raylet", "gcs_server"))


@pytest.fixture(autouse=True)
def no_leaks(cluster):
    """tests/conftest.py's check, less the cluster: no render child, worker or ffmpeg left running."""
    yield
    deadline = time.monotonic() + 5
    while True:
        left = [p for p in psutil.Process().children(recursive=True) if p.is_running() and not _is_ray(p)
                and p.status() != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not left, f"left running: {[' '.join(p.cmdline()) for p in left]}"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        return make_clip(tmp_path_factory.mktemp("clip"), 6, mp)


@pytest.fixture(scope="module")
def whole(clip, tmp_path_factory):
    """The one-machine render the distributed ones must equal."""
    out = tmp_path_factory.mktemp("whole") / "whole.mp4"
    run = overdash("render", clip, out, "-q")
    assert run.returncode == 0, run.stderr
    return out


def _render_split(clip: Path, out: Path, *extra: str) -> int:
    """`overdash render CLIP OUT --ray --segments 3`, in this process (on the module's cluster)."""
    from pipeline.commands.cli import main

    return main(["render", str(clip), str(out), "--ray", "--segments", "3", "-q", *extra])


def test_three_segments_equal_the_one_machine_render(clip, whole, tmp_path):
    out = tmp_path / "ray.mp4"
    assert _render_split(clip, out) == 0
    assert frame_times(out) == frame_times(whole)
    assert audio_packets(out) == audio_packets(whole)
    assert worst_frame(out, whole) < MAX_DIFFERENT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ray.mp4"]  # no segment folder left


def test_a_killed_ray_worker_is_retried(clip, whole, tmp_path):
    out = tmp_path / "ray.mp4"
    result: list[int] = []
    run = threading.Thread(target=lambda: result.append(_render_split(clip, out)))
    run.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and run.is_alive() and time.monotonic() < deadline:
        for proc in psutil.Process().children(recursive=True):
            try:
                if "pipeline.commands.child" in " ".join(proc.cmdline()):
                    killed = proc.parent()  # the Ray worker running the segment's task
                    killed.kill()
                    break
            except psutil.Error:
                continue
        time.sleep(0.05)
    run.join(120)
    assert killed is not None, "no segment render was seen running"
    assert not killed.is_running()
    assert result == [0]
    assert frame_times(out) == frame_times(whole)
    assert worst_frame(out, whole) < MAX_DIFFERENT


def test_a_segment_that_cannot_render_stops_the_run_and_leaves_nothing(clip, tmp_path, capsys):
    out = tmp_path / "ray.mp4"
    assert _render_split(clip, out, "--layout", str(tmp_path / "missing.xml")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("overdash: error: segment ") and "missing.xml" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_batch_on_ray_renders_the_good_clips_and_names_the_broken_one(clip, tmp_path, capsys):
    from pipeline.commands.cli import main

    ins = tmp_path / "in"
    ins.mkdir()
    for name in ("good.mp4", "also.mp4"):
        shutil.copy(clip, ins / name)
    (ins / "broken.mp4").write_bytes(b"\0" * 1000)
    out = tmp_path / "out"
    assert main(["batch", str(ins), "--out", str(out), "--ray", "-q"]) == 1
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows == {"also.mp4": "done", "broken.mp4": "failed", "good.mp4": "done"}
    assert len(frame_times(out / "good.mp4")) == len(frame_times(clip))
    assert main(["batch", str(ins), "--out", str(out), "--ray", "-q"]) == 1
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows == {"also.mp4": "skipped", "broken.mp4": "failed", "good.mp4": "skipped"}


def test_a_node_that_cannot_write_the_output_folder_is_named(clip, tmp_path):
    from overdash import InputError
    from pipeline.distributed.ray_backend import Cluster

    folder = tmp_path / "gone"
    with Cluster(None) as cluster, pytest.raises(InputError, match="cannot write in .*gone"):
        cluster.check_shared([clip], folder)
    with Cluster(None) as cluster, pytest.raises(InputError, match="nothing.mp4 not found"):
        cluster.check_shared([tmp_path / "nothing.mp4"], tmp_path)
