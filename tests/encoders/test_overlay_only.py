"""build_overlay_only_command with regions: the argv, and what ffmpeg makes of sparse region streams.

The writer sends a region only when it changed (and every KEEPALIVE_FRAMES frames); the
graph must still give exactly one output frame per overlay frame, each showing every
region's latest frame at its place over a transparent picture. Checked here with
hand-made NUT streams and lossless outputs, so every pixel can be compared.
"""
from __future__ import annotations

import subprocess
from fractions import Fraction

import numpy as np
import pytest

from encoders import nut
from encoders.alpha import build_overlay_only_command, overlay_only_graph
from encoders.command import Region
from encoders.features import FfmpegFeatures
from encoders.profiles import builtin_profiles
from tests.encoders.test_command import assert_no_duplicated_flags, split
from tests.encoders.test_run import feed, ffprobe_json

PROFILES = builtin_profiles()
W, H = 64, 48
REGIONS = (Region(4, 6, 16, 10), Region(30, 20, 24, 20))
# The second region on the picture's bottom-right pixel: blended (overlay), not pasted (xstack).
CORNER = (Region(4, 6, 16, 10), Region(40, 28, 24, 20))
ROUTES = pytest.mark.parametrize("regions", [REGIONS, CORNER], ids=["pasted", "blended"])


def region_frame(region: Region, k: int, alpha: int) -> np.ndarray:
    """A region's frame k: a colour of its own per k, a transparent left column, `alpha` elsewhere."""
    f = np.zeros((region.height, region.width, 4), np.uint8)
    f[:, 1:] = (10 * k % 256, 255 - 7 * k % 256, region.x * 3, alpha)
    return f


def sparse_stream(sends: dict[int, list[int]], count: int, alpha: int = 255, regions=REGIONS):
    """NUT bytes as the writer sends them: region i's frame k at each k in sends[i], in pts order,
    and the writer's tail: a region with no frame at pts = count gets its last frame again there."""
    yield nut.header([(r.width, r.height) for r in regions], 30, 1, "rgba")
    events = sorted([(k, i, k) for i, ks in sends.items() for k in ks] +
                    [(count, i, max(k for k in ks if k < count)) for i, ks in sends.items() if count not in ks])
    for pts, i, k in events:
        data = region_frame(regions[i], k, alpha).tobytes()
        yield nut.frame_head(pts, len(data), i) + data


def expected(sends: dict[int, list[int]], count: int, alpha: int = 255, regions=REGIONS) -> np.ndarray:
    """Each output frame: every region's latest frame sent at or before it, over transparency."""
    out = np.zeros((count, H, W, 4), np.uint8)
    for k in range(count):
        for i, r in enumerate(regions):
            latest = max(j for j in sends[i] if j <= k)
            out[k, r.y:r.y + r.height, r.x:r.x + r.width] = region_frame(r, latest, alpha)
    return out


def decode(path, pix_fmt: str = "rgba") -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-fps_mode", "passthrough", "-f", "rawvideo",
                          "-pix_fmt", pix_fmt, "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W, 4)


@pytest.mark.e2e
@ROUTES
@pytest.mark.parametrize("count", [12, 9])
def test_sparse_regions_give_one_exact_frame_per_overlay_frame(tmp_path, count, regions):
    """Region 0 sent at frames 0, 5 and 10 only, region 1 every frame (one beyond the end, which the
    graph drops): qtrle, lossless, shows every region's latest frame in each of exactly `count` frames."""
    sends = {0: [0, 5, 10], 1: list(range(13))}
    out = tmp_path / "dash.mov"
    argv = build_overlay_only_command(PROFILES["qtrle"], (W, H), 30, out, regions=regions, count=count)
    assert ("xstack=" in argv[argv.index("-filter_complex") + 1]) == (regions == REGIONS)
    feed(argv, sparse_stream(sends, count, regions=regions))
    frames = decode(out)
    assert len(frames) == count
    assert np.array_equal(frames, expected(sends, count, regions=regions))
    video = ffprobe_json(out)["streams"][0]
    assert Fraction(video["r_frame_rate"]) == 30 and int(video["nb_read_frames"]) == count


@pytest.mark.e2e
@ROUTES
def test_half_transparent_regions_keep_their_straight_alpha_and_colour(tmp_path, regions):
    """Over the transparent picture a half-transparent pixel keeps its own colour and alpha
    (not darkened towards the picture's black): lossless png shows both exactly."""
    sends = {0: [0, 2], 1: [0, 1, 2, 3]}
    folder = tmp_path / "frames"
    folder.mkdir()
    argv = build_overlay_only_command(PROFILES["png"], (W, H), 30, folder / "f-%03d.png", regions=regions, count=4)
    feed(argv, sparse_stream(sends, 4, alpha=128, regions=regions))
    frames = np.stack([decode(f)[0] for f in sorted(folder.iterdir())])
    assert np.array_equal(frames, expected(sends, 4, alpha=128, regions=regions))


@pytest.mark.e2e
@ROUTES
def test_prores_alpha_with_regions_is_4444_with_the_sent_alpha(tmp_path, regions):
    sends = {0: [0, 3], 1: [0, 1, 2, 3, 4, 5]}
    out = tmp_path / "dash.mov"
    argv = build_overlay_only_command(PROFILES["prores-alpha"], (W, H), 30, out, regions=regions, count=6)
    feed(argv, sparse_stream(sends, 6, alpha=200, regions=regions))
    video = ffprobe_json(out)["streams"][0]
    assert (video["profile"], video["codec_tag_string"], video["color_space"]) == ("4444", "ap4h", "bt709")
    assert video["pix_fmt"] in ("yuva444p10le", "yuva444p12le") and int(video["nb_read_frames"]) == 6
    decoded = decode(out)
    want = expected(sends, 6, alpha=200, regions=regions)
    assert np.abs(decoded[..., 3].astype(int) - want[..., 3]).max() <= 1


def test_region_argv_properties(tmp_path):
    argv = build_overlay_only_command(PROFILES["prores-alpha"], (1920, 1080), Fraction(30000, 1001),
                                      tmp_path / ".p.mov", final_path=tmp_path / "o.mov", regions=REGIONS, count=300)
    groups, inputs, _ = split(argv)
    assert inputs == ["pipe:0"]
    assert_no_duplicated_flags(groups)
    graph = argv[argv.index("-filter_complex") + 1]
    assert graph == overlay_only_graph(PROFILES["prores-alpha"], (1920, 1080), Fraction(30000, 1001), REGIONS, 300)
    to_10bit = "scale=out_color_matrix=bt709:out_range=tv,format=yuva444p10le"
    assert graph.split(";") == [
        "color=c=black@0:s=1x1:r=30000/1001,format=yuva444p10le,trim=end_frame=300[clock]",
        f"[0:0]trim=end_pts=300,{to_10bit}[r0]", f"[0:1]trim=end_pts=300,{to_10bit}[r1]",
        "[clock][r0][r1]xstack=inputs=3:layout=1919_1079|4_6|30_20:fill=black@0[vout]"]
    assert argv[argv.index("-map") + 1] == "[vout]" and argv.count("-map") == 1
    out = groups[-1]
    assert out[out.index("-c:v") + 1] == "prores_aw" and out[out.index("-profile:v") + 1] == "4"
    assert out[out.index("-vendor") + 1] == "apl0"
    # The graph's own frames are every output frame: no -frames cap, no rate conversion.
    assert "-frames:v" not in argv and "-r" not in argv


def test_what_is_blended_rather_than_pasted():
    """A --bg colour, 4:2:0 output, overlapping regions or one on the bottom-right pixel: blended in RGBA."""
    bg = overlay_only_graph(PROFILES["png"], (W, H), Fraction(30), REGIONS, 5, background=(0, 128, 255, 255))
    assert bg.startswith(f"color=c=0x0080ffff:s={W}x{H}:r=30,format=rgba,trim=end_frame=5[base]")
    # the tail frame (pts = 5) reaches a blend that drops an ended region (BLEND_REGION_END)
    assert "[0:0]trim=end_pts=6[r0]" in bg.split(";")
    assert "[base][r0]overlay=x=4:y=6:eof_action=pass:format=rgb[v0]" in bg and bg.endswith("[v1]null[vout]")
    vp9 = overlay_only_graph(PROFILES["vp9-alpha"], (W, H), Fraction(30), REGIONS, 5)
    assert "overlay=" in vp9 and vp9.endswith("[v1]scale=out_color_matrix=bt709:out_range=tv,format=yuva420p[vout]")
    overlapping = (Region(0, 0, 20, 20), Region(10, 10, 20, 20))
    assert "overlay=" in overlay_only_graph(PROFILES["qtrle"], (W, H), Fraction(30), overlapping, 5)
    assert "overlay=" in overlay_only_graph(PROFILES["qtrle"], (W, H), Fraction(30), CORNER, 5)
    touching = (Region(0, 0, 20, 20), Region(20, 0, 20, 20))
    pasted = overlay_only_graph(PROFILES["qtrle"], (W, H), Fraction(30), touching, 5)
    assert "xstack=" in pasted and "[0:0]trim=end_pts=5,format=argb[r0]" in pasted
    assert overlay_only_graph(PROFILES["png"], (W, H), Fraction(30), touching, 5).count("format=") == 1  # the clock's
    old = FfmpegFeatures(version=(4, 2, 2))  # xstack without fill
    assert "xstack=" not in overlay_only_graph(PROFILES["qtrle"], (W, H), Fraction(30), touching, 5, features=old)
    assert "xstack=" in overlay_only_graph(PROFILES["qtrle"], (W, H), Fraction(30), touching, 5,
                                           features=FfmpegFeatures(version=None))  # a development build


def test_regions_must_fit_and_a_count_is_needed(tmp_path):
    with pytest.raises(ValueError, match="exceeds the 64x48 picture"):
        build_overlay_only_command(PROFILES["qtrle"], (W, H), 30, tmp_path / "x.mov",
                                   regions=(Region(50, 0, 20, 10),), count=3)
    with pytest.raises(ValueError, match="frame count"):
        build_overlay_only_command(PROFILES["qtrle"], (W, H), 30, tmp_path / "x.mov", regions=REGIONS)
