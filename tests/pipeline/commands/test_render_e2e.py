"""`overdash render` end to end on the real GoPro file: real processes, real ffmpeg."""
from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import gpmf_reference as ref
from tests.support.paths import SHARED_DATA, needs_device_file
from tests.support.scipy_free_dilate import dilate

SAMPLE = SHARED_DATA / "gopro" / "max-heromode.mp4"
pytestmark = [pytest.mark.e2e, pytest.mark.slow, needs_device_file("gopro/max-heromode.mp4")]  # each renders it
OVERDASH = [sys.executable, "-m", "pipeline.commands.cli"]


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format",
                          "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def frame_rgb(path: Path, index: int, size: tuple[int, int]) -> np.ndarray:
    """Decoded frame `index` (by count, not by time) as an RGB array."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{index})",
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(np.int16)


def full_frame_overlay(plan, frame: int) -> np.ndarray:
    """What the workers draw for `frame`, placed region by region on a video-sized RGBA canvas."""
    places = plan.overlay.placements()
    views = tuple(Image.new("RGBA", (r.width, r.height)) for r in places)
    plan.painter()(frame, views)
    canvas = np.zeros((plan.video.height, plan.video.width, 4), np.int16)
    for r, view in zip(places, views):
        canvas[r.y:r.y + r.height, r.x:r.x + r.width] = np.asarray(view)
    return canvas


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "dash.mp4"
    proc = subprocess.run([*OVERDASH, "render", str(SAMPLE), str(out), "--workers", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def video_stream(info):
    return next(s for s in info["streams"] if s["codec_type"] == "video")


def test_output_matches_input_timing_and_keeps_audio(rendered):
    out, proc = rendered
    src, dst = ffprobe(SAMPLE), ffprobe(out)
    sv, dv = video_stream(src), video_stream(dst)
    assert dv["nb_read_frames"] == sv["nb_read_frames"] == "315"
    assert Fraction(dv["avg_frame_rate"]) == Fraction(sv["avg_frame_rate"]) == Fraction(30000, 1001)
    assert float(dv["duration"]) == pytest.approx(float(sv["duration"]), abs=0.035)
    assert (dv["width"], dv["height"]) == (sv["width"], sv["height"])
    audio = [s for s in dst["streams"] if s["codec_type"] == "audio"]
    assert len(audio) == 1 and audio[0]["codec_name"] == "aac"
    assert dst["format"]["tags"].get("creation_time") == src["format"]["tags"]["creation_time"]
    assert not list(out.parent.glob(".*partial*"))
    assert "wrote" in proc.stderr and "315 frames" in proc.stderr


def test_dashboard_where_the_layout_draws_source_elsewhere(rendered):
    """Pixels the overlay covers opaquely show the dashboard; untouched ones show the source."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    out, _ = rendered
    plan = plan_render(RenderConfig(input=SAMPLE, output=out.parent / "unused.mp4", workers=1))
    w, h = plan.video.width, plan.video.height
    k = 150
    assert len(plan.overlay.placements()) > 1, "the default layout's corners travel as separate regions"
    canvas = full_frame_overlay(plan, k)
    alpha, rgb = canvas[:, :, 3], canvas[:, :, :3]

    src, dst = frame_rgb(SAMPLE, k, (w, h)), frame_rgb(out, k, (w, h))
    # Away from any drawing (8 px margin for chroma subsampling and blur), the source survives the re-encode.
    far = ~dilate(alpha > 0, 8)
    assert far.mean() > 0.4, "most of the picture is left to the source"
    assert np.abs(dst[far] - src[far]).mean() < 4.0
    # Where the dashboard is opaque, the output shows the dashboard, not the source.
    solid = alpha == 255
    solid &= ~dilate(~solid, 2)
    assert solid.sum() > 500
    assert np.abs(dst[solid] - rgb[solid]).mean() < 12.0
    assert np.abs(dst[solid] - src[solid]).mean() > 20.0


def test_speed_drawn_is_gps5_speed_at_the_frame_time(tmp_path):
    """Frame k's speed, drawn by the real layout path, equals GPS5 speed at k·1001/30000 s,
    computed independently from the payload bytes and the sample table."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    def overlay_of(layout_xml: str, frame: int) -> Image.Image:
        path = tmp_path / f"l{abs(hash(layout_xml))}.xml"
        path.write_text(layout_xml)
        plan = plan_render(RenderConfig(input=SAMPLE, output=tmp_path / "o.mp4", workers=1, layout=str(path)))
        return full_frame_overlay(plan, frame)

    head = '<layout width="848" height="480">'
    for k in (0, 37, 200, 314):
        expected = ref.gps5_speed_at(SAMPLE, k * 1001 / 30000) * 3.6
        drawn = overlay_of(f'{head}<component type="metric" x="300" y="200" metric="speed" '
                           f'units="kph" dp="2" size="48"/></layout>', k)
        want = overlay_of(f'{head}<component type="text" x="300" y="200" size="48">'
                          f'{expected:.2f}</component></layout>', k)
        assert drawn[:, :, 3].any(), f"frame {k}: nothing drawn"
        assert np.abs(drawn - want).max() == 0, f"frame {k}: drawn speed is not {expected:.2f} km/h"


def test_lower_overlay_fps_keeps_every_video_frame(tmp_path):
    """--overlay-fps 10: a third of the overlay frames are drawn, ffmpeg repeats each
    until the next, and the output still has every one of the source's 315 frames."""
    out = tmp_path / "dash10.mp4"
    proc = subprocess.run([*OVERDASH, "render", str(SAMPLE), str(out), "--overlay-fps", "10", "--workers", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # overlay frames covering the video: floor((315 - 1) * 1001/30000 * 10) + 1
    assert "105 overlay frames at 10.000 fps" in proc.stderr
    assert video_stream(ffprobe(out))["nb_read_frames"] == "315"


def test_telemetry_from_a_raw_gpmf_track(tmp_path):
    """--gpmf: the track extracted to a raw .gpmd (as `ffmpeg -map 0:3 -c copy -f rawvideo` writes it)
    drives the same dashboard; its timing then comes from the payloads' own timestamps."""
    from pipeline.commands.config import RenderConfig
    from pipeline.commands.render import plan_render

    raw = tmp_path / "track.gpmd"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(SAMPLE), "-map", "0:3", "-c", "copy", "-f", "rawvideo",
                    str(raw)], check=True)
    from_raw = plan_render(RenderConfig(input=SAMPLE, output=tmp_path / "a.mp4", workers=1, gpmf=raw))
    from_mp4 = plan_render(RenderConfig(input=SAMPLE, output=tmp_path / "b.mp4", workers=1))
    a, b = from_raw.painter.table.columns["speed"], from_mp4.painter.table.columns["speed"]
    ok = np.isfinite(a) & np.isfinite(b)
    assert ok.mean() > 0.9
    assert np.abs(a[ok] - b[ok]).max() < 0.1  # m/s: same fixes, timing within a few ms
