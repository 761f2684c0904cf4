"""The scheduler/worker/writer pipeline with real processes, real shared memory and real ffmpeg."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from overdash import RenderError
from pipeline.ring import Ring
from pipeline.scheduler import PipelineJob, partial_path, run_pipeline
from pipeline.worker import slot_image

import painters

W, H = 64, 48


def raw_job(tmp_path: Path, count: int, workers: int, *, argv_extra=()) -> PipelineJob:
    """A job whose ffmpeg stores the overlay frames as raw RGBA, so tests can read them back."""
    out = tmp_path / "frames.mkv"
    partial = partial_path(out)
    argv = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostats",
            "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{W}x{H}", "-framerate", "30", "-i", "pipe:0",
            *argv_extra, "-c:v", "rawvideo", "-f", "matroska", "-y", str(partial)]
    return PipelineJob(count=count, width=W, height=H, argv=tuple(argv), partial=partial,
                       output=out, workers=workers)


def read_frames(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 4)


def shm_segments() -> set[str]:
    """Rings created by this test process (their names carry the creator's pid)."""
    return {p for p in os.listdir("/dev/shm") if p.startswith(f"overdash-{os.getpid()}-")}


@pytest.fixture
def clean_state():
    """Every test must leave no segment and no process behind."""
    before = shm_segments()
    yield
    time.sleep(0.05)
    assert shm_segments() - before == set(), "leaked shared memory"
    kids = psutil.Process().children(recursive=True)
    alive = [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE
             and "resource_tracker" not in " ".join(k.cmdline())]  # multiprocessing's own helper
    assert not alive, f"processes left behind: {[k.cmdline() for k in alive]}"


def test_slot_image_writes_through_to_shared_memory(clean_state):
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


@pytest.mark.parametrize("workers", [1, 3])
def test_frames_arrive_in_order(tmp_path, workers, clean_state):
    job = raw_job(tmp_path, count=40, workers=workers)
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


def test_worker_exception_stops_the_run(tmp_path, clean_state):
    job = raw_job(tmp_path, count=60, workers=2)
    with pytest.raises(RenderError) as err:
        run_pipeline(job, painters.RaiseAt(17))
    msg = str(err.value)
    assert "worker" in msg and "ValueError: widget exploded at frame 17" in msg
    assert "\n" not in msg
    assert "Traceback" in str(err.value.__cause__)  # shown with --debug
    _assert_nothing_written(job)


def test_killed_worker_stops_the_run(tmp_path, clean_state):
    job = raw_job(tmp_path, count=60, workers=2)
    start = time.monotonic()
    with pytest.raises(RenderError, match=r"worker \d died unexpectedly \(killed by SIGKILL\)"):
        run_pipeline(job, painters.KillAt(9))
    assert time.monotonic() - start < 30
    _assert_nothing_written(job)


def test_ffmpeg_failure_reports_its_stderr(tmp_path, clean_state):
    job = raw_job(tmp_path, count=30, workers=2, argv_extra=["-vf", "nosuchfilter"])
    with pytest.raises(RenderError, match=r"ffmpeg: .*exit status [1-9].*No such filter.*nosuchfilter"):
        run_pipeline(job, painters.Stamp())
    _assert_nothing_written(job)


def test_ctrl_c_leaves_nothing(tmp_path, clean_state):
    """SIGINT to the whole process group, as a terminal sends it."""
    script = f"""
import sys
sys.path[:0] = {[str(Path(__file__).parent), str(Path(__file__).parents[1])]!r}
from pathlib import Path
import painters, test_pipeline
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


def test_unchanged_regions_are_skipped_and_frames_stay_exact(tmp_path, clean_state):
    """Workers leave a region alone when nothing in it changed since the frame their slot
    last held; every frame that reaches ffmpeg must still equal one drawn from scratch."""
    from dataclasses import replace

    from PIL import Image

    from pipeline.config import RenderConfig
    from pipeline.render import plan_render

    sample = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gopro" / "max-heromode.mp4"
    plan = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True,
                                    overlay_pix_fmt="rgba"))
    job = plan.job
    assert job.pix_fmt == "rgba"
    out = tmp_path / "atlas.mkv"
    argv = ("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba",
            "-s", f"{job.width}x{job.height}", "-framerate", "30", "-i", "pipe:0", "-c:v", "rawvideo",
            "-f", "matroska", "-y")
    partial = partial_path(out)
    job = replace(job, argv=argv + (str(partial),), partial=partial, output=out)
    run_pipeline(job, plan.painter)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-f", "rawvideo", "-pix_fmt", "rgba", "-"],
                         check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, job.height, job.width, 4)
    assert len(frames) == job.count

    paint = plan.painter()
    bands = [(y, h) for _, y, _, h in job.places]
    for k in range(job.count):
        atlas = Image.new("RGBA", (job.width, job.height))
        views = tuple(atlas.crop((0, y, job.width, y + h)) for y, h in bands)
        paint(k, views)  # from scratch
        want = np.vstack([np.asarray(v) for v in views])
        assert np.array_equal(frames[k], want), f"frame {k} differs from a fresh drawing"
    # and the skipping does happen: the clock panel changes once a second
    from overlay.render import Renderer

    p = plan.painter
    r = Renderer(p.layout, p.table, p.video_size, p.unit_settings)
    views = [Image.new("RGBA", (job.width, h)) for _, h in bands]
    r.draw_regions(10, views, p.regions)
    skipped = len(bands) - r.draw_regions(11, views, p.regions, previous=10)
    assert skipped >= 1


def test_yuva_slots_hold_exactly_a_fresh_drawing_converted(tmp_path, clean_state):
    """yuva420p slots: workers draw each region into their own canvas, convert what changed
    and copy planes into slots; the writer sends (as NUT) only frames that differ from the one
    before. Every frame ffmpeg shows must equal frame k drawn from scratch and converted with
    the reference converter: a sent frame at pts k, a skipped one as the last sent before it."""
    from dataclasses import replace

    from PIL import Image

    from overlay.yuva import convert_numpy
    from pipeline.config import RenderConfig
    from pipeline.render import plan_render

    sample = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gopro" / "max-heromode.mp4"
    plan = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True,
                                    overlay_pix_fmt="yuva420p"))
    job = plan.job
    assert job.pix_fmt == "yuva420p" and job.yuva is not None and job.nut_header
    out = tmp_path / "atlas.nut"
    w, h = job.width, job.height
    argv = ("ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "nut", "-i", "pipe:0",
            "-c:v", "copy", "-f", "nut", "-y")
    partial = partial_path(out)
    job = replace(job, argv=argv + (str(partial),), partial=partial, output=out)
    run_pipeline(job, plan.painter)
    read = ("ffmpeg", "-v", "error", "-i", str(out), "-fps_mode", "passthrough")
    crc = subprocess.run([*read, "-f", "framecrc", "-"], check=True, capture_output=True).stdout.decode()
    sent = [int(line.split(",")[2]) for line in crc.splitlines() if line and not line.startswith("#")]
    raw = subprocess.run([*read, "-f", "rawvideo", "-pix_fmt", "yuva420p", "-"], check=True,
                         capture_output=True).stdout
    size = w * h * 2 + (w // 2) * (h // 2) * 2
    assert len(raw) == size * len(sent) and sent[0] == 0 and sent == sorted(set(sent))
    assert 0.3 * job.count < len(sent) < job.count, "unchanged frames are not sent, changed ones are"

    paint = plan.painter()
    for k in range(job.count):
        shown = max(i for i, pts in enumerate(sent) if pts <= k)  # what ffmpeg shows at frame k
        frame = np.frombuffer(raw, np.uint8, size, shown * size)
        y = frame[:w * h].reshape(h, w)
        u = frame[w * h:w * h + (w // 2) * (h // 2)].reshape(h // 2, w // 2)
        v = frame[w * h + (w // 2) * (h // 2):w * h + w * h // 2].reshape(h // 2, w // 2)
        a = frame[w * h + w * h // 2:].reshape(h, w)
        for (ax, ay, rw, rh) in job.places:
            canvas = np.zeros((rh, rw, 4), np.uint8)
            im = Image.frombuffer("RGBA", (rw, rh), canvas, "raw", "RGBA", 0, 1)
            im.readonly = 0
            views = [Image.new("RGBA", (pw, ph)) for (_, _, pw, ph) in job.places]
            views[[p[:2] for p in job.places].index((ax, ay))] = im
            paint(k, tuple(views))  # from scratch
            want = [np.empty((rh, rw), np.uint8), np.empty((rh // 2, rw // 2), np.uint8),
                    np.empty((rh // 2, rw // 2), np.uint8), np.empty((rh, rw), np.uint8)]
            convert_numpy(job.yuva, canvas, *want)
            got = (y[ay:ay + rh, ax:ax + rw], u[ay // 2:(ay + rh) // 2, ax // 2:(ax + rw) // 2],
                   v[ay // 2:(ay + rh) // 2, ax // 2:(ax + rw) // 2], a[ay:ay + rh, ax:ax + rw])
            for name, g, e in zip("YUVA", got, want):
                assert np.array_equal(g, e), f"frame {k} (shown: sent frame {sent[shown]}), region at atlas {ax},{ay}: plane {name} differs"


def test_auto_sends_yuva420p_that_ffmpeg_blends_without_converting(tmp_path, clean_state):
    """On a GoPro file (yuvj420p, full range) `auto` has the workers convert: the pipe carries
    yuva420p in the source's range and matrix, and ffmpeg's graph only crops and blends.
    With --overlay-pix-fmt rgba ffmpeg converts each region; a 10-bit source falls back to rgba."""
    from dataclasses import replace as dc_replace

    from encoders.probe import probe_video
    from overlay.yuva import YuvaFormat, native_available
    from pipeline.config import RenderConfig
    from pipeline.render import overlay_pix_fmt, plan_render
    from encoders.profiles import load_profile

    assert native_available(), "the C converter (overlay/_yuva.c) must be built by make setup"
    sample = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gopro" / "max-heromode.mp4"
    plan = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True))
    job = plan.job
    video = probe_video(sample)
    assert job.pix_fmt == "yuva420p"
    assert job.yuva == YuvaFormat(matrix=video.color_matrix, full_range=video.full_range)
    graph = job.argv[job.argv.index("-filter_complex") + 1]
    i = job.argv.index("pipe:0")
    assert list(job.argv[i - 3:i + 1]) == ["-f", "nut", "-i", "pipe:0"]
    assert b"Y4\x0b\x08" in job.nut_header, "the NUT stream header says yuva420p"
    assert "trim=end_frame" not in job.argv[job.argv.index("-filter_complex") + 1]
    assert "scale=" not in graph and graph.count("crop=") == len(job.places) == graph.count("overlay=")
    rgba = plan_render(RenderConfig(input=sample, output=tmp_path / "x.mp4", workers=2, quiet=True,
                                    overlay_pix_fmt="rgba")).job
    assert rgba.pix_fmt == "rgba" and "scale=out_range=" in rgba.argv[rgba.argv.index("-filter_complex") + 1]
    ten_bit = dc_replace(video, pix_fmt="yuv420p10le")
    assert overlay_pix_fmt("auto", load_profile("cpu"), ten_bit) == "rgba"
    with pytest.raises(Exception, match="cannot blend a yuva420p"):
        overlay_pix_fmt("yuva420p", load_profile("cpu"), ten_bit)
