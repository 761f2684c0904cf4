"""Long inputs: what grows with a video's length, measured (`make bench`; docs/performance.md,
"Long inputs").

Two measures, each in a fresh process so its peak resident size is its own:

* `ride_table_figures`: a synthetic 3-hour ride at a GoPro's rates (GPS 18 Hz, ACCL and GYRO
  200 Hz, GRAV/CORI/IORI 60 Hz, MAGN 24 Hz, TMPC 1 Hz), the derived columns added, and the
  frame table of the default layout at 60 fps (648,000 frames) built from it: table bytes,
  telemetry bytes and main's peak RSS. No video is needed: this is what main holds.
* `gpmf_track_figures`: the same ride written as a raw GPMF track (GPS5 18 Hz, ACCL and GYRO
  200 Hz, TMPC; 35 MB, made once and kept in the cache), then read as `overdash render` reads
  it (only the IMU streams the layout shows: sources.layout_streams) and the frame table built:
  main's peak including the parser's temporaries, for the default layout (no IMU) and the
  motor layout (reads ACCL).
* `render_figures`: `overdash render` of the demo sample (GPS 18 Hz + ACCL 200 Hz) at 1, 10
  and 60 minutes, 320x180, 2 workers, with each process's peak RSS (VmHWM) read from /proc
  while it runs: main, each worker, the writer (told apart by the names they give themselves)
  and ffmpeg. Samples are made once (pipeline.commands.demo.make_sample) and kept in the cache.

Run alone: `python -m benchmarks.test_long_inputs [table|render MINUTES...]` prints JSON.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.clips import cache_dir

ROOT = Path(__file__).resolve().parents[1]
RIDE_HOURS = 3.0
RIDE_FPS = 60
RENDER_MINUTES = (1, 10, 60)
RENDER_SIZE = (320, 180)
MAIN_BUDGET_MIB = 300  # issue 18: main's peak for a 3-hour 60 fps ride


def synthetic_ride(hours: float = RIDE_HOURS):
    """A GoPro-like Telemetry of `hours`: smooth speed and heading, noisy IMU, at the camera's rates."""
    import numpy as np

    from overlay.telemetry.derived import add_derived
    from overlay.telemetry.timeseries import Telemetry, Timeseries

    seconds = hours * 3600.0
    rng = np.random.default_rng(18)

    def axis(rate: float) -> np.ndarray:
        return np.arange(0.0, seconds, 1.0 / rate)

    def triple(name: str, rate: float, scale: float) -> Timeseries:
        t = axis(rate)
        return Timeseries(t, {f"{name}.{a}": rng.normal(0.0, scale, len(t)) for a in "xyz"})

    t = axis(18.0)
    speed = 8.0 + 4.0 * np.sin(t / 300.0)
    heading = np.cumsum(rng.normal(0.0, 0.002, len(t)))
    step = speed / 18.0
    lat = 51.5 + np.cumsum(step * np.cos(heading)) / 111_320.0
    lon = -0.1 + np.cumsum(step * np.sin(heading)) / (111_320.0 * np.cos(np.radians(51.5)))
    gps = Timeseries(t, {"lat": lat, "lon": lon, "alt": 50.0 + 20.0 * np.sin(t / 900.0), "speed": speed,
                         "speed3d": speed, "gps-lock": np.full(len(t), 3.0), "gps-dop": np.full(len(t), 1.2),
                         "timestamp": 1.7e9 + t, "gps-ok": np.ones(len(t), bool)})
    t60 = axis(60.0)
    quat = {f"cori.{a}": rng.normal(0.0, 0.1, len(t60)) for a in "wxyz"}
    quat.update({f"cori.{a}": rng.normal(0.0, 10.0, len(t60)) for a in ("roll", "pitch", "yaw")})
    streams = {"gps": gps, "accl": triple("accl", 200.0, 2.0), "gyro": triple("gyro", 200.0, 0.5),
               "grav": triple("grav", 60.0, 0.3), "magn": triple("magn", 24.0, 1e-5),
               "cori": Timeseries(t60, quat),
               "iori": Timeseries(t60, {f"iori.{a}": rng.normal(0.0, 0.1, len(t60)) for a in "wxyz"}),
               "temp": Timeseries(axis(1.0), {"temp": np.full(int(seconds), 20.0)})}
    return add_derived(Telemetry(streams, source="synthetic ride"))


def telemetry_bytes(telemetry) -> int:
    """Bytes of every time axis and column of `telemetry`."""
    return sum(s.t.nbytes + sum(c.nbytes for c in s.columns.values()) for s in telemetry.streams.values())


def _rss_mib() -> tuple[float, float]:
    """(current, peak) resident size of this process in MiB, from /proc (VmRSS, VmHWM)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def ride_table_figures(hours: float = RIDE_HOURS, fps: int = RIDE_FPS, layout: str = "default") -> dict:
    """Build the default layout's frame table for a synthetic ride, as a render does; run in a fresh process."""
    from fractions import Fraction

    from overlay.layout.units import UnitSettings
    from pipeline.commands.dashboard import build_dashboard

    _, imports = _rss_mib()
    telemetry = synthetic_ride(hours)
    _, with_telemetry = _rss_mib()
    count = int(hours * 3600 * fps)
    dash = build_dashboard(layout, telemetry, count, Fraction(fps), (1920, 1080), UnitSettings())
    now, peak = _rss_mib()
    table = dash.table
    return {"hours": hours, "fps": fps, "frames": count, "layout": layout,
            "columns": {k: str(v.dtype) for k, v in sorted(table.columns.items())},
            "table_mib": round(sum(v.nbytes for v in table.columns.values()) / 2**20, 1),
            "telemetry_mib": round(telemetry_bytes(telemetry) / 2**20, 1),
            "rss_imports_mib": round(imports), "peak_rss_telemetry_mib": round(with_telemetry),
            "rss_after_table_mib": round(now), "peak_rss_mib": round(peak)}


def gpmf_track(hours: float = RIDE_HOURS) -> Path:
    """A raw GPMF track of the synthetic ride, made once (in its own process: encoding holds it all)."""
    path = cache_dir() / f"ride-{hours:g}h.gpmd"
    if not path.exists():
        from overdash.files import atomic_write
        from overlay.telemetry.gpmfwrite import encode, raw_track

        atomic_write(path, raw_track(encode(synthetic_ride(hours), hours * 3600.0)))
    return path


def gpmf_track_figures(hours: float = RIDE_HOURS, fps: int = RIDE_FPS, layout: str = "default") -> dict:
    """Read the raw track as a render does and build the frame table; run in a fresh process."""
    from fractions import Fraction

    from overlay.layout.units import UnitSettings
    from overlay.telemetry.gopro import load_gopro
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.dashboard import build_dashboard
    from pipeline.commands.sources import layout_streams

    path = gpmf_track(hours)
    _, imports = _rss_mib()
    imu = layout_streams(RenderConfig(input=path, output=path.with_suffix(".mp4"), workers=1, layout=layout))
    telemetry = load_gopro(path, values_of=imu)
    _, with_telemetry = _rss_mib()
    count = int(hours * 3600 * fps)
    build_dashboard(layout, telemetry, count, Fraction(fps), (1920, 1080), UnitSettings())
    now, peak = _rss_mib()
    return {"hours": hours, "fps": fps, "frames": count, "layout": layout, "imu_read": sorted(imu or ()),
            "telemetry_mib": round(telemetry_bytes(telemetry) / 2**20, 1),
            "rss_imports_mib": round(imports), "peak_rss_telemetry_mib": round(with_telemetry),
            "rss_after_table_mib": round(now), "peak_rss_mib": round(peak)}


def _procs(root: int) -> dict[int, str]:
    """pid → role ('main', 'writer', 'worker-N', 'ffmpeg', or the name) of `root` and its descendants."""
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        out[pid] = "main" if pid == root else name.removeprefix("overdash-")
        todo += [int(k) for k in kids]
    return out


def _hwm_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def render_figures(minutes: float, workers: int = 2, overlay_fps: str | None = None) -> dict:
    """Render the demo sample of `minutes` and return wall time and each process's peak RSS (MiB)."""
    import tempfile

    from pipeline.commands.demo import make_sample

    sample = make_sample(cache_dir(), minutes * 60.0, RENDER_SIZE)
    with tempfile.TemporaryDirectory() as tmp:
        argv = [str(Path(sys.executable).with_name("overdash")), "render", str(sample), str(Path(tmp) / "out.mp4"),
                "--workers", str(workers), "--quiet"]
        argv += ["--overlay-fps", overlay_fps] if overlay_fps else []
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        peaks: dict[str, float] = {}
        while proc.poll() is None:
            for pid, role in _procs(proc.pid).items():
                hwm = _hwm_mib(pid)
                if hwm:  # (0 for a process caught between fork and exec)
                    peaks[role] = max(peaks.get(role, 0.0), hwm)
            time.sleep(0.05)
        wall = time.monotonic() - started
        output = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        raise RuntimeError(f"render of {sample} failed ({proc.returncode}): {output.strip()[-500:]}")
    return {"minutes": minutes, "workers": workers, "overlay_fps": overlay_fps, "wall_s": round(wall, 1),
            "peak_rss_mib": {k: round(v) for k, v in sorted(peaks.items())}}


def _in_fresh_process(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "benchmarks.test_long_inputs", *args], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_three_hour_ride_frame_table(benchmark):
    """The figure issue 18 bounds: main's peak for a 3-hour 60 fps ride, default layout."""
    benchmark.group = "long inputs"
    figures = benchmark.pedantic(lambda: _in_fresh_process("table"), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    assert figures["peak_rss_mib"] < MAIN_BUDGET_MIB, figures


@pytest.mark.parametrize("layout", ["default", "motor"])
def test_three_hour_gpmf_track(benchmark, layout):
    """The same bound with the parser in it: a real GPMF track of 3 hours read as a render reads it."""
    benchmark.group = "long inputs"
    _in_fresh_process("make-gpmf")
    figures = benchmark.pedantic(lambda: _in_fresh_process("gpmf", layout), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)
    assert figures["peak_rss_mib"] < MAIN_BUDGET_MIB, figures


@pytest.mark.parametrize("minutes", RENDER_MINUTES)
def test_long_render_memory(benchmark, minutes):
    """Peak RSS of main, workers and writer for 1, 10 and 60 minutes of video (overlay at 5 fps)."""
    benchmark.group = "long inputs"
    figures = benchmark.pedantic(lambda: _in_fresh_process("render", str(minutes)), rounds=1, iterations=1)
    benchmark.extra_info.update(figures)


def main(argv: list[str]) -> None:
    if argv[:1] == ["table"]:
        print(json.dumps(ride_table_figures(*(float(a) for a in argv[1:2]))))
        return
    if argv[:1] == ["make-gpmf"]:
        print(json.dumps({"track": str(gpmf_track())}))
        return
    if argv[:1] == ["gpmf"]:
        print(json.dumps(gpmf_track_figures(layout=argv[1] if len(argv) > 1 else "default")))
        return
    if argv[:1] == ["render"]:
        for minutes in argv[1:] or RENDER_MINUTES:
            print(json.dumps(render_figures(float(minutes), overlay_fps=os.environ.get("OVERLAY_FPS", "5"))),
                  flush=True)
        return
    raise SystemExit("usage: python -m benchmarks.test_long_inputs table [HOURS] | make-gpmf | gpmf [LAYOUT] "
                     "| render [MINUTES...]")


if __name__ == "__main__":
    main(sys.argv[1:])
