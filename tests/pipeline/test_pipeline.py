"""The scheduler/worker/writer pipeline with real processes, real shared memory and real ffmpeg."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from encoders import nut
from encoders.command import NUT_INPUT
from overdash import RenderError
from pipeline.ring import Ring
from pipeline.scheduler import PipelineJob, partial_path, run_pipeline
from pipeline.worker import slot_image
from tests.support import painters
from tests.support.paths import ROOT, device_file

pytestmark = pytest.mark.e2e
W, H = 64, 48


def raw_job(tmp_path: Path, count: int, workers: int, *, argv_extra=()) -> PipelineJob:
    """A job whose ffmpeg stores the overlay frames (one NUT stream, as the writer sends it) as raw
    RGBA, so tests can read them back. Its painters have no keys: every frame is sent."""
    out = tmp_path / "frames.mkv"
    partial = partial_path(out)
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostats",
            *NUT_INPUT, *argv_extra, "-c:v", "rawvideo", "-f", "matroska", "-y", str(partial)]
    return PipelineJob(count=count, width=W, height=H, argv=tuple(argv), partial=partial,
                       output=out, workers=workers, nut_header=nut.header([(W, H)], 30, 1, "rgba"))


def read_frames(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 4)


def shm_segments() -> set[str]:
    """Rings created by this test process (their names carry the creator's pid)."""
    return {p for p in os.listdir("/dev/shm") if p.startswith(f"overdash-{os.getpid()}-")}


def test_slot_image_writes_through_to_shared_memory():
    ring = Ring.create(2, W, H)
    try:
        im = slot_image(ring, 1)
        im.paste((10, 20, 30, 40), (0, 0, 8, 8))
        arr = ring.array(1)
        assert tuple(arr[0, 0]) == (10, 20, 30, 40)
        assert tuple(arr[10, 10]) == (0, 0, 0, 0)
        assert not ring.array(0).any(), "slot 0 untouched"
        del im, arr
    finally:
        ring.close()


@pytest.mark.parametrize("workers, start_method", [(1, ""), (3, ""), (2, "spawn")])
def test_frames_arrive_in_order(tmp_path, workers, start_method):
    """Also with spawned children: the writer then gets ffmpeg's stdin through multiprocessing."""
    job = dataclasses.replace(raw_job(tmp_path, count=40, workers=workers), start_method=start_method)
    seen = []
    stats = run_pipeline(job, painters.Stamp(jitter=0.01 if workers > 1 else 0.0), progress=seen.append)
    frames = read_frames(job.output)
    assert len(frames) == 40
    assert [int(f[0, 0, 0]) for f in frames] == list(range(40))
    assert seen[-1] == 40 and seen == sorted(seen)
    assert stats.frames == 40
    assert not job.partial.exists()


def _assert_nothing_written(job):
    assert not job.output.exists()
    assert not job.partial.exists()
    assert not list(job.output.parent.glob(".*partial*"))


def test_forked_children_share_an_anonymous_ring(tmp_path):
    """Under fork the ring is an inherited anonymous mapping: a child's writes reach main,
    and nothing appears in /dev/shm that a crash could leave behind."""
    import multiprocessing as mp

    ring = Ring.create(2, W, H, inherited=True)
    try:
        assert shm_segments() == set()

        def child():
            Ring.attach(ring.spec).array(1)[5, 7] = (1, 2, 3, 4)

        proc = mp.get_context("fork").Process(target=child)
        proc.start()
        proc.join(10)
        assert proc.exitcode == 0
        assert tuple(ring.array(1)[5, 7]) == (1, 2, 3, 4) and not ring.array(0).any()
    finally:
        ring.close()


@pytest.mark.parametrize("start_method", ["", "spawn"])
def test_worker_exception_stops_the_run(tmp_path, start_method):
    """Also with spawned children, whose ring is a named segment main must unlink (tests/conftest.py checks)."""
    from dataclasses import replace

    job = replace(raw_job(tmp_path, count=60, workers=2), start_method=start_method)
    with pytest.raises(RenderError) as err:
        run_pipeline(job, painters.RaiseAt(17))
    msg = str(err.value)
    assert "worker" in msg and "ValueError: widget exploded at frame 17" in msg
    assert "\n" not in msg
    assert "Traceback" in str(err.value.__cause__)  # shown with --debug
    _assert_nothing_written(job)


def test_killed_worker_stops_the_run(tmp_path):
    job = raw_job(tmp_path, count=60, workers=2)
    start = time.monotonic()
    with pytest.raises(RenderError, match=r"worker \d died unexpectedly \(killed by SIGKILL\)"):
        run_pipeline(job, painters.KillAt(9))
    assert time.monotonic() - start < 30
    _assert_nothing_written(job)


def test_ffmpeg_failure_reports_its_stderr(tmp_path):
    job = raw_job(tmp_path, count=30, workers=2, argv_extra=["-vf", "nosuchfilter"])
    with pytest.raises(RenderError, match=r"ffmpeg: .*exit status [1-9].*No such filter.*nosuchfilter"):
        run_pipeline(job, painters.Stamp())
    _assert_nothing_written(job)


def test_ctrl_c_leaves_nothing(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it."""
    script = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}]
from pathlib import Path
from tests.support import painters
from tests.pipeline import test_pipeline
from pipeline.scheduler import run_pipeline
job = test_pipeline.raw_job(Path({str(tmp_path)!r}), count=2000, workers=2)
print("started", flush=True)
try:
    run_pipeline(job, painters.Slow(0.01))
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in out
    assert not list(tmp_path.iterdir()), "no output, no partial file"
    time.sleep(0.2)
    leftovers = [p for p in psutil.process_iter(["cmdline"])
                 if p.info["cmdline"] and str(tmp_path) in " ".join(p.info["cmdline"])]
    assert not leftovers, "ffmpeg or a worker survived Ctrl-C"


@pytest.mark.parametrize("pix_fmt", ["rgba", "yuva420p"])
def test_each_region_crosses_only_when_it_changed_and_exactly(tmp_path, pix_fmt):
    """A slot holds one frame per region, and the writer sends each region as its own NUT
    stream, only when it differs from the frame before (its keys changed) or KEEPALIVE_FRAMES
    passed: an unchanged region is not sent again, in either pixel format. RGBA regions are
    drawn in place (only the box that changed since the frame the slot held); yuva420p ones
    into the workers' own canvases, converted where they changed and copied into slots. At
    every frame k, what ffmpeg shows of each region (its frame at pts k, or the last one sent
    before it) must equal frame k drawn from scratch (and converted by the reference converter)."""
    from dataclasses import replace

    from PIL import Image

    from overlay.yuva import convert_numpy
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render
    from pipeline.writer import KEEPALIVE_FRAMES

    sample = device_file("gopro/max-heromode.mp4")
    plan = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True,
                                    overlay_pix_fmt=pix_fmt))
    job = plan.job
    assert job.pix_fmt == pix_fmt and (job.yuva is not None) == (pix_fmt == "yuva420p") and job.nut_header
    assert len(job.regions) == 3, "the default layout at 1080p: three clusters"
    out = tmp_path / "regions.nut"
    argv = ("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "nut", "-i", "pipe:0",
            "-map", "0", "-c:v", "copy", "-f", "nut", "-y")
    partial = partial_path(out)
    job = replace(job, argv=argv + (str(partial),), partial=partial, output=out)
    run_pipeline(job, plan.painter)

    paint = plan.painter()
    keys = [paint.keys(k) for k in range(job.count)]
    sent, frames = [], []  # per region: the pts of each frame sent, and the frames as ffmpeg decodes them
    for region, (rw, rh) in enumerate(job.regions):
        read = ("ffmpeg", "-v", "error", "-i", str(out), "-map", f"0:{region}", "-fps_mode", "passthrough")
        crc = subprocess.run([*read, "-f", "framecrc", "-"], check=True, capture_output=True).stdout.decode()
        pts = [int(line.split(",")[2]) for line in crc.splitlines() if line and not line.startswith("#")]
        expected = [0]
        for k in range(1, job.count):
            if keys[k][region] != keys[k - 1][region] or k - expected[-1] >= KEEPALIVE_FRAMES:
                expected.append(k)
        # then the tail (pipeline.writer): every region once more at pts = count, for a blend that
        # drops a region once its stream ends
        assert job.tail
        expected.append(job.count)
        assert pts == expected, f"region {region}: sent when it changed or KEEPALIVE_FRAMES passed, never else"
        raw = subprocess.run([*read, "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"], check=True,
                             capture_output=True).stdout
        size = rw * rh * 4 if pix_fmt == "rgba" else rw * rh * 5 // 2
        assert len(raw) == size * len(pts)
        sent.append(pts)
        frames.append(np.frombuffer(raw, np.uint8).reshape(len(pts), size))
    # The map's marker moves on many frames, the top-left clock far less: regions cross on their own.
    counts = [len(pts) for pts in sent]
    assert max(counts) > 0.4 * job.count and min(counts) < 0.5 * max(counts), counts

    views = tuple(Image.new("RGBA", size) for size in job.regions)
    for k in range(job.count + 1):  # the tail frame (pts = count) repeats frame count - 1
        paint(min(k, job.count - 1), views)  # from scratch: every region cleared and drawn
        for region, ((rw, rh), view) in enumerate(zip(job.regions, views)):
            shown = max(i for i, pts in enumerate(sent[region]) if pts <= k)  # what ffmpeg shows at frame k
            want = np.asarray(view)
            if pix_fmt == "yuva420p":
                planes = (np.empty((rh, rw), np.uint8), np.empty((rh // 2, rw // 2), np.uint8),
                          np.empty((rh // 2, rw // 2), np.uint8), np.empty((rh, rw), np.uint8))
                convert_numpy(job.yuva, np.ascontiguousarray(want), *planes)
                want = np.concatenate([p.reshape(-1) for p in planes])
            assert np.array_equal(frames[region][shown], want.reshape(-1)), \
                f"region {region}, frame {k} (shown: its frame {sent[region][shown]}) differs from a fresh drawing"


def test_auto_sends_yuva420p_that_ffmpeg_blends_without_converting(tmp_path):
    """On a GoPro file (yuvj420p, full range) `auto` has the workers convert: the pipe carries
    yuva420p in the source's range and matrix, a NUT stream per region, and ffmpeg's graph only blends.
    With --overlay-pix-fmt rgba the streams are RGBA and ffmpeg converts each region's; a 10-bit
    source falls back to rgba."""
    from dataclasses import replace as dc_replace

    from encoders.probe import probe_video
    from encoders.profiles import load_profile
    from overlay.yuva import YuvaFormat, native_available
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import overlay_pix_fmt, plan_render

    assert native_available(), "the C converter (overlay/_yuva.c) must be built by make setup"
    sample = device_file("gopro/max-heromode.mp4")
    plan = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True))
    job = plan.job
    video = probe_video(sample)
    assert job.pix_fmt == "yuva420p"
    assert job.yuva == YuvaFormat(matrix=video.color_matrix, full_range=video.full_range)
    graph = job.argv[job.argv.index("-filter_complex") + 1]
    i = job.argv.index("pipe:0")
    assert list(job.argv[i - 3:i + 1]) == ["-f", "nut", "-i", "pipe:0"]
    assert b"Y4\x0b\x08" in job.nut_header, "the NUT stream header says yuva420p"
    assert "scale=" not in graph and "crop=" not in graph and "split" not in graph
    assert graph.count("overlay=") == len(job.regions) == job.nut_header.count(b"Y4\x0b\x08") > 1
    assert all(f"[1:{i}]trim=end_pts={job.count + 1},settb=AVTB" in graph for i in range(len(job.regions)))
    rgba = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True,
                                    overlay_pix_fmt="rgba")).job
    graph = rgba.argv[rgba.argv.index("-filter_complex") + 1]
    i = rgba.argv.index("pipe:0")
    assert rgba.pix_fmt == "rgba" and list(rgba.argv[i - 3:i + 1]) == ["-f", "nut", "-i", "pipe:0"]
    assert rgba.regions == job.regions and rgba.nut_header.count(b"RGBA") == len(rgba.regions)
    assert graph.count("scale=out_range=full") == len(rgba.regions) and "crop=" not in graph
    ten_bit = dc_replace(video, pix_fmt="yuv420p10le")
    assert overlay_pix_fmt("auto", load_profile("cpu"), ten_bit) == "rgba"
    with pytest.raises(Exception, match="cannot blend a yuva420p"):
        overlay_pix_fmt("yuva420p", load_profile("cpu"), ten_bit)
