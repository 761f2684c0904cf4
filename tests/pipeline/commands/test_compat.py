"""gopro-dashboard-overlay's command line on `overdash render`: each option parsed and honoured,
each refusal one line with exit status 2, on a one-second GoPro-like clip (demo.make_sample)."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from overlay.telemetry.gopro import load_gopro
from pipeline.commands.cli import build_parser
from pipeline.commands.compat import parse_render_args
from pipeline.commands.demo import make_sample
from pipeline.commands.render import config_from_args, plan_render

pytestmark = pytest.mark.e2e
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]
LAT_SHIFT = 0.01  # the ride file's track lies ~1.1 km north of the camera's
LAYOUT = ('<layout width="320" height="180"><component type="metric" x="10" y="10" metric="lat" dp="6" size="16"/>'
          '<component type="metric" x="10" y="40" metric="hr" size="16"/></layout>')


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_sample(tmp_path_factory.mktemp("clip"), 1, (320, 180))


@pytest.fixture(scope="module")
def files(clip, tmp_path_factory):
    """(ride GPX on the camera's clock with its track moved north and an hr, small layout XML)."""
    folder = tmp_path_factory.mktemp("files")
    gps = load_gopro(clip)["gps"]
    points = []
    for i, (lat, lon, ts) in enumerate(zip(gps["lat"], gps["lon"], gps["timestamp"])):
        when = dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        points.append(f'<trkpt lat="{lat + LAT_SHIFT:.7f}" lon="{lon:.7f}"><ele>400</ele><time>{when}</time>'
                      f'<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{120 + i}</gpxtpx:hr>'
                      f'</gpxtpx:TrackPointExtension></extensions></trkpt>')
    gpx = folder / "ride.gpx"
    gpx.write_text('<?xml version="1.0"?><gpx version="1.1" creator="test" '
                   'xmlns="http://www.topografix.com/GPX/1/1" '
                   'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"><trk><trkseg>'
                   + "".join(points) + "</trkseg></trk></gpx>")
    layout = folder / "small.xml"
    layout.write_text(LAYOUT)
    return gpx, layout


def config(*argv):
    args = parse_render_args(build_parser("render"), ["render", *map(str, argv)])
    return config_from_args(args)


def run(*args, env=None):
    return subprocess.run([*OVERDASH, *map(str, args)], capture_output=True, text=True, timeout=300, env=env)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("overdash: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0]


def table(cfg):
    return plan_render(cfg).painter.table


# ------------------------------------------------------------------ parsing: each option → RenderConfig

def test_options_translate_to_overdash_settings(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "ffmpeg-profiles.json").write_text(json.dumps({"mine": {"input": [], "output": ["-vcodec", "libx264"]}}))
    (conf / "map-api-keys.json").write_text(json.dumps({"thunderforest": "tf-key-123"}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ffmpeg").write_text("")
    c = config("--layout", "xml", "--layout-xml", "my.xml", "--gpx", "r.gpx", "--use-fit-only",
               "--video-time-end", "file-modified", "--generate", "overlay", "--show-ffmpeg",
               "--config-dir", conf, "--cache-dir", tmp_path / "c", "--bg", "0,255,0,128", "--profiler",
               "--privacy", "52,-0.4,0.5km", "--map-style", "tf-cycle", "--profile", "mine",
               "--ffmpeg-dir", bin_dir, "--overlay-size", "640x360", "in.mp4", "out.mov")
    assert c.layout == "my.xml" and c.gpx == Path("r.gpx") and c.use_file_only
    assert c.video_time == ("end", "file-modified") and c.generate == "overlay" and c.show_ffmpeg
    assert c.cache_dir == tmp_path / "c" / "overdash-tiles" and c.bg == (0, 255, 0, 128) and c.profile_widgets
    assert c.privacy == ("52,-0.4,500",) and c.map_style == "thunderforest-cycle"
    assert c.map_api_key == "tf-key-123"  # from CONFIG_DIR/map-api-keys.json
    assert c.profile == f"{conf / 'ffmpeg-profiles.json'}:mine" and c.ffmpeg == str(bin_dir / "ffmpeg")
    assert c.overlay_size == (640, 360)
    c = config("--gpx-merge", "OVERWRITE", "--gpx", "r.gpx", "in.mp4", "out.mp4")
    assert c.merge == "replace" and config("--gpx", "r.gpx", "in.mp4", "out.mp4").merge == "extend"
    assert config("--gpx-merge", "Extend", "--gpx", "r.gpx", "in.mp4", "out.mp4").merge == "extend"
    c = config("--gps-dop-max", "3", "--gps-speed-max", "36", "--gps-speed-max-units", "kph",
               "--gps-bbox-lon-lat=-1,50,1,52", "in.mp4", "out.mp4")
    assert c.gps_limits.max_dop == 3 and c.gps_limits.max_reported_speed == pytest.approx(10.0)
    assert c.gps_limits.bbox == (-1, 50, 1, 52)
    assert config("--gps-speed-max", "10", "--gps-speed-max-units", "mph", "in.mp4",
                  "out.mp4").gps_limits.max_reported_speed == pytest.approx(4.4704)
    assert config("--layout-xml", "x.xml", "in.mp4", "out.mp4").layout == "x.xml"


def test_its_builtin_profile_names_map_to_ours():
    assert config("--profile", "nvgpu", "in.mp4", "out.mp4").profile == "nvenc"
    assert config("--profile", "nnvgpu", "in.mp4", "out.mp4").profile == "nvenc-full"
    c = config("--profile", "vp8", "--generate", "overlay", "in.mp4", "out.webm")
    assert c.profile == "vp9-alpha" and any("no VP8" in n for n in c.notices)
    assert config("--profile", "mov", "--generate", "overlay", "in.mp4", "out.mov").profile == "png"
    assert config("--profile", "vp9", "--use-gpx-only", "--gpx", "r.gpx", "out.webm").profile == "vp9-alpha"


def test_nvgpu_renders_with_the_nvenc_argv(clip, tmp_path):
    from encoders.command import OverlaySpec, build_command
    from encoders.probe import probe_video
    from encoders.profiles import load_profile

    profile = load_profile(config("--profile", "nvgpu", clip, tmp_path / "o.mp4").profile)
    overlay = OverlaySpec(x=0, y=0, width=64, height=32, fps_num=30000, fps_den=1001)
    argv = build_command(profile, probe_video(clip), overlay, tmp_path / "o.mp4")
    assert argv[argv.index("-c:v") + 1] == "h264_nvenc" and "cuda" in argv


def test_its_form_without_a_video_parses():
    args = parse_render_args(build_parser("render"), ["render", "--use-gpx-only", "--gpx", "r.gpx",
                                                      "--overlay-size", "64x48", "out.mov"])
    c = config_from_args(args)
    assert c.input == Path("r.gpx") and c.gpx is None and c.overlay_size == (64, 48)
    assert config("--gpx", "r.gpx", "--generate", "overlay", "-", "out.mov").input == Path("r.gpx")
    # IN and OUT still go anywhere among the options
    assert config("in.mp4", "--gpx", "r.gpx", "--use-gpx-only", "out.mp4").input == Path("in.mp4")


# ------------------------------------------------------------------ refusals: one line, exit 2

@pytest.mark.parametrize("argv, needle", [
    (["--layout", "speed-awareness"], "speed-awareness"),
    (["--layout", "xml"], "--layout-xml"),
    (["--gpx-merge", "BOB", "--gpx", "{gpx}"], "EXTEND or OVERWRITE"),
    (["--sync", "auto"], "--gpx FILE"),
    (["--offset", "3"], "--offset"),
    (["--merge", "replace"], "--merge"),
    (["--start", "2024-05-01T09:30:00Z"], "--start"),
    (["--video-time-start", "file-modified"], "--video-time-start"),
    (["--use-gpx-only"], "--gpx FILE"),
    (["--use-gpx-only", "--gpx", "{gpx}", "--gps-dop-max", "4"], "--gps-dop-max"),
    (["--profile", "vp9"], "--generate overlay"),
    (["--bg", "0,255,0,255"], "--bg"),
    (["--overlay-size", "640x360"], "larger than the video"),
    (["--output-size", "720"], "--output-size"),
    (["--debug-metadata"], "overdash info"),
    (["--privacy", "46.5,6.6,0.5"], "km"),
    (["--gps-speed-max", "30", "--gps-speed-max-units", "furlongs"], "furlongs"),
    (["--show-ffmpeg", "--generate", "none"], "--show-ffmpeg"),
    (["--map-style", "cyclosm"], "no tile map"),   # the default layout has a track, no tile map
    (["--offline"], "no tile map"),
    (["--cache-dir", "{tmp}"], "no tile map"),
])
def test_refusals(clip, files, tmp_path, argv, needle):
    gpx, _ = files
    out = tmp_path / "o.mp4"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = run("render", clip, out, "--workers", "1", *[a.format(gpx=gpx, tmp=scratch) for a in argv])
    one_line_error(proc, needle)
    assert list(tmp_path.iterdir()) == [scratch] and not list(scratch.iterdir())


def test_ride_file_in_refuses_what_it_would_ignore(files, tmp_path):
    gpx, _ = files
    for extra, needle in ((["--sync", "auto"], "--sync"), (["--keep-gpmf"], "--keep-gpmf"),
                          (["--gps-bbox-lon-lat", "0,0,1,1"], "--gps-bbox-lon-lat")):
        one_line_error(run("render", gpx, tmp_path / "o.mov", *extra), needle)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ honoured, end to end

def test_bbox_that_excludes_everything_leaves_no_position(clip, files, tmp_path):
    _, layout = files
    inside = table(config(clip, tmp_path / "o.mp4", "--layout", layout, "--gps-bbox-lon-lat", "6,46,7,47"))
    assert np.isfinite(inside.columns["lat"]).all()
    outside = table(config(clip, tmp_path / "o.mp4", "--layout", layout, "--gps-bbox-lon-lat=-1,50,1,52"))
    assert np.isnan(outside.columns["lat"]).all()


def test_gps_speed_max_distrusts_fast_fixes(clip, files, tmp_path):
    from overlay.telemetry.quality import SPEED, counts

    _, layout = files
    speed = load_gopro(clip)["gps"]["speed"]
    limit_kph = float(np.median(speed)) * 3.6  # about half the fixes report more
    cfg = config(clip, tmp_path / "o.mp4", "--layout", layout, "--gps-speed-max", f"{limit_kph}")
    gps = load_gopro(clip, cfg.gps_limits)["gps"]
    fast = speed > limit_kph / 3.6
    assert 0 < fast.sum() < len(speed)
    assert np.array_equal((gps["gps-flags"] & SPEED) > 0, fast)
    assert counts(gps)["reported speed too high"] == fast.sum()


def test_gpx_merge_overwrite_equals_merge_replace(clip, files, tmp_path):
    gpx, layout = files
    a = table(config(clip, tmp_path / "o.mp4", "--layout", layout, "--gpx", gpx, "--gpx-merge", "OVERWRITE"))
    b = table(config(clip, tmp_path / "o.mp4", "--layout", layout, "--gpx", gpx, "--merge", "replace"))
    camera = table(config(clip, tmp_path / "o.mp4", "--layout", layout, "--gpx", gpx))
    assert np.array_equal(a.columns["lat"], b.columns["lat"], equal_nan=True)
    assert np.nanmean(a.columns["lat"] - camera.columns["lat"]) == pytest.approx(LAT_SHIFT, abs=1e-4)


def test_use_gpx_only_ignores_the_camera(clip, files, tmp_path):
    from pipeline.commands.sources import load_source

    gpx, layout = files
    cfg = config(clip, tmp_path / "o.mp4", "--layout", layout, "--gpx", gpx, "--use-gpx-only", "-q")
    source = load_source(cfg, say=lambda text: None)
    assert "accl" not in source.telemetry.streams  # nothing read from the GPMF
    cam = load_gopro(clip)["gps"]
    lat = plan_render(cfg).painter.table.columns["lat"]
    assert lat[0] == pytest.approx(cam["lat"][0] + LAT_SHIFT, abs=1e-6)  # ride's first point = first frame


def test_video_time_start_aligns_by_the_file_time(clip, files, tmp_path):
    gpx, layout = files
    copy = tmp_path / "clip.mp4"
    copy.write_bytes(clip.read_bytes())
    cam = load_gopro(clip)["gps"]
    start = float(cam["timestamp"][0]) + 0.5
    os.utime(copy, (start, start))
    cfg = config(copy, tmp_path / "o.mp4", "--layout", layout, "--gpx", gpx, "--use-gpx-only",
                 "--video-time-start", "file-modified", "-q")
    lat = plan_render(cfg).painter.table.columns["lat"]
    want = np.interp(start, cam["timestamp"], cam["lat"]) + LAT_SHIFT
    assert lat[0] == pytest.approx(want, abs=2e-6)
    assert abs(lat[0] - (cam["lat"][0] + LAT_SHIFT)) > 2e-5  # not the ride's first point
    cfg = config(copy, tmp_path / "o.mp4", "--layout", layout, "--gpx", gpx, "--use-gpx-only",
                 "--video-time-end", "file-modified", "-q")
    plan = plan_render(cfg)
    lat, video_start = plan.painter.table.columns["lat"], start - plan.video.duration  # the video ends at `start`
    assert np.isnan(lat[0])  # it starts half a second before the ride
    last = video_start + (len(lat) - 1) * 1001 / 30000
    assert lat[-1] == pytest.approx(np.interp(last, cam["timestamp"], cam["lat"]) + LAT_SHIFT, abs=2e-6)


def test_overlay_size_draws_at_the_top_left(clip, tmp_path):
    plan = plan_render(config(clip, tmp_path / "o.mp4", "--overlay-size", "160x90", "-q"))
    assert plan.overlay.placements()
    assert all(r.x + r.width <= 160 and r.y + r.height <= 90 for r in plan.overlay.placements())


def test_generate_overlay_writes_the_dashboard_alone_at_the_video_size(clip, tmp_path):
    out = tmp_path / "dash.mov"
    proc = run("render", clip, out, "--generate", "overlay", "--workers", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json",
                                       str(out)], check=True, capture_output=True, text=True).stdout)
    video = [s for s in probe["streams"] if s["codec_type"] == "video"]
    assert len(probe["streams"]) == 1 and (video[0]["width"], video[0]["height"]) == (320, 180)
    assert "a" in video[0]["pix_fmt"].replace("yuv", "").replace("p", "")  # yuva…: has alpha
    assert video[0]["nb_read_frames"] == "30"


def test_bg_fills_an_overlay_only_output(clip, tmp_path):
    out = tmp_path / "dash.mov"
    proc = run("render", clip, out, "--generate", "overlay", "--profile", "png", "--bg", "0,255,0,255",
               "--workers", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-frames:v", "1", "-f", "rawvideo",
                          "-pix_fmt", "rgba", "-"], check=True, capture_output=True).stdout
    frame = np.frombuffer(raw, np.uint8).reshape(180, 320, 4)
    green = np.all(frame == (0, 255, 0, 255), axis=2)
    assert green.mean() > 0.5  # where the dashboard does not draw
    assert not green.all()     # and the dashboard on top


def test_generate_none_writes_nothing(clip, tmp_path):
    out = tmp_path / "o.mp4"
    proc = run("render", clip, out, "--generate", "none", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    assert "30 frames" in proc.stderr and "nothing written" in proc.stderr
    assert not list(tmp_path.iterdir())


def test_show_ffmpeg_prints_the_command(clip, tmp_path):
    out = tmp_path / "o.mp4"
    proc = run("render", clip, out, "--show-ffmpeg", "--workers", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if "ffmpeg command:" in x)
    assert " -c:v libx264 " in line and f" -i {clip} " in line and ".o.partial-" in line
    assert " -filter_complex " in line and "overlay=" in line  # the graph it ran, written inline
    assert "pipe:3" not in line
    assert out.is_file()


def test_ride_alone_in_its_form_without_a_video(files, tmp_path):
    gpx, _ = files
    out = tmp_path / "dash.mov"
    proc = run("render", "--use-gpx-only", "--gpx", gpx, "--overlay-size", "64x48", out, "--workers", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    size = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0",
                           str(out)], check=True, capture_output=True, text=True).stdout.strip()
    assert size == "64,48"
