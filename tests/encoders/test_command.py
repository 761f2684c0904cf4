"""encoders.command: properties of the argv for every built-in profile, without running ffmpeg."""
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from encoders.command import (
    GPU_OVERLAY,
    MUXERS,
    OverlaySpec,
    Region,
    build_command,
    build_transcode_command,
    composite_nut_input,
    output_container,
    overlay_frames_needed,
    overlay_graph,
    render_input_options,
)
from encoders.probe import VideoInfo
from encoders.profiles import builtin_profiles
from overdash import InputError

PROFILES = builtin_profiles()
GOPRO = VideoInfo(
    path=Path("/videos/GX010001.MP4"), width=848, height=480, fps_num=30000, fps_den=1001,
    frame_count=315, duration=10.5105, start_time=0.0, has_audio=True, audio_codec="aac",
    video_codec="h264", pix_fmt="yuvj420p", creation_time="2019-11-18T15:45:32.000000Z",
    rotation=0, gpmd_stream=3, video_stream=0, format_start_time=0.0,
)
RGBA = OverlaySpec(x=16, y=300, width=400, height=160, fps_num=30000, fps_den=1001)
YUVA = OverlaySpec(x=16, y=300, width=400, height=160, fps_num=10, pix_fmt="yuva420p")
# a stream per region (what render sends), in either pixel format: NUT on the pipe, nothing to crop
STREAMS = OverlaySpec(x=0, y=0, width=200, height=60, fps_num=30000, fps_den=1001, pix_fmt="yuva420p",
                      regions=(Region(16, 16, 200, 60), Region(600, 16, 120, 40), Region(16, 400, 160, 60)))
RGBA_STREAMS = OverlaySpec(x=0, y=0, width=200, height=60, fps_num=30000, fps_den=1001,
                           regions=(Region(16, 16, 200, 60), Region(600, 16, 120, 40), Region(16, 400, 160, 59)))
COMPOSITING = {n: p for n, p in PROFILES.items() if not p.overlay_only}
FLAG = re.compile(r"^-[A-Za-z]")
REPEATABLE = {"-map"}  # one per output stream, by design


def assert_no_duplicated_flags(groups):
    for group in groups:
        flags = [tok for tok in group if FLAG.match(tok) and tok not in REPEATABLE]
        assert not [f for f, n in Counter(flags).items() if n > 1], f"duplicated flags in {group}"


def split(argv):
    """(groups, inputs, output): options before each -i, options before the output, and the rest.

    groups[0] also holds the global options: they are positionally indistinguishable
    from input 0's, and a duplicate there is just as wrong.
    """
    groups, inputs, current = [], [], []
    i = 1
    while i < len(argv) - 1:
        if argv[i] == "-i":
            groups.append(current)
            inputs.append(argv[i + 1])
            current, i = [], i + 2
        else:
            current.append(argv[i])
            i += 1
    groups.append(current)
    return groups, inputs, argv[-1]


def option(group, flag):
    values = [group[i + 1] for i, tok in enumerate(group[:-1]) if tok == flag]
    assert len(values) == 1, f"{flag} appears {len(values)} times in {group}"
    return values[0]


def labels(graph):
    """(defined, used) label lists of a filter graph: outputs and inputs of its chains."""
    defined, used = [], []
    for chain in graph.split(";"):
        head = re.match(r"^((?:\[[^\]]+\])*)", chain).group(1)
        tail = re.search(r"((?:\[[^\]]+\])*)$", chain).group(1)
        used += re.findall(r"\[([^\]]+)\]", head)
        defined += re.findall(r"\[([^\]]+)\]", tail)
    return defined, used


CASES = [(name, ext, spec) for name, profile in COMPOSITING.items()
         for ext in profile.extensions for spec in (RGBA, YUVA, RGBA_STREAMS, STREAMS)]


@pytest.mark.parametrize("name, ext, spec", CASES, ids=[
    f"{n}-{e}-{s.pix_fmt}-{len(s.placements())}" for n, e, s in CASES])
def test_overlay_argv_properties(name, ext, spec, tmp_path):
    profile = PROFILES[name]
    temp = tmp_path / f".ride.partial-ab12.{'mp4' if ext != 'mp4' else 'mov'}"
    argv = build_command(profile, GOPRO, spec, temp, final_path=tmp_path / f"ride.{ext}")
    assert argv[0] == "ffmpeg" and argv[-1] == str(temp)
    groups, inputs, output = split(argv)
    assert inputs == [str(GOPRO.path), "pipe:0"]
    assert_no_duplicated_flags(groups)
    # exactly one video encoder, the profile's
    assert argv.count("-c:v") == 1 and option(groups[-1], "-c:v") == profile.encoder
    assert not {"-vcodec", "-codec:v", "-c", "-codec"} & set(argv)
    # the pipe input is NUT, whose header describes its streams (one per region)
    pipe = groups[1]
    assert option(pipe, "-f") == "nut" and not {"-pix_fmt", "-s", "-framerate"} & set(pipe)
    # decoder options belong to the source input, right before its -i
    decoding = render_input_options(profile, GOPRO)
    assert groups[0][len(groups[0]) - len(decoding):] == list(decoding)
    # filter labels: each defined once, used once; stream references point at real inputs
    out = groups[-1]
    graph = option(out, "-filter_complex")
    defined, used = labels(graph)
    maps = [out[i + 1] for i, tok in enumerate(out) if tok == "-map"]
    used += [m[1:-1] for m in maps if m.startswith("[")]
    assert sorted(defined) == sorted(set(defined)), "a label is defined twice"
    streams = [u for u in used if re.match(r"^\d+:", u)]
    assert sorted(u for u in used if u not in streams) == sorted(defined), "labels unused or undefined"
    assert sorted(streams) == sorted(set(streams))
    assert all(int(s.split(":")[0]) < len(inputs) for s in streams)
    # explicit maps: composited video and optional audio, nothing implicit
    assert maps == ["[vout]", "0:a?"]
    assert option(out, "-c:a") == "copy" and option(out, "-map_metadata") == "0"
    if profile.gpu_frames:  # GPU surfaces: the graph sets the format, a -pix_fmt would break it
        assert "-pix_fmt" not in out
    else:
        assert option(out, "-pix_fmt") == profile.pix_fmt
    assert option(out, "-fps_mode") == "passthrough"
    # container from the final name, not the temporary one
    assert option(out, "-f") == MUXERS[ext]
    assert ("-movflags" in out) == (ext in ("mp4", "mov"))
    # logging for a pipe-fed ffmpeg: no -nostdin, quiet, overwrite the temp file
    assert "-nostdin" not in argv
    assert {"-hide_banner", "-nostats", "-y"} <= set(argv) and option(groups[0], "-loglevel") == "error"
    # every region blended once, at its place, by the profile's compositor
    blender = "overlay" if profile.compositor == "cpu" else GPU_OVERLAY[profile.compositor]
    assert graph.count(f"]{blender}=") == len(spec.placements())
    for r in spec.placements():
        assert f"{blender}=x={r.x}:y={r.y}" in graph
    assert "split=" not in graph and "crop=" not in graph, "a stream per region: nothing to cut out"
    assert sorted(s for s in streams if s.startswith("1:")) == [f"1:{i}" for i in range(len(spec.placements()))]
    # frames beyond those needed, should any come, are dropped by pts (315 at 29.97 fps, 105 at 10),
    # but for the writer's tail frame (pts = needed) where the blend drops an ended region
    needed = overlay_frames_needed(GOPRO, spec) + (profile.compositor == "cpu")
    assert all(f"[1:{i}]trim=end_pts={needed},settb=AVTB," in graph for i in range(len(spec.placements())))
    if profile.compositor == "cpu":
        # a yuv420p source blends in yuv420 (never `auto`, which converts far more than the
        # overlay), from an overlay converted once to yuva420p unless it arrives that way
        assert GOPRO.pix_fmt in ("yuv420p", "yuvj420p")
        # a region no sync input of the blend (BLEND_REGION_END): the picture is not copied for it
        assert graph.count(":eof_action=pass:format=yuv420[") == len(spec.placements())
        assert ("format=yuva420p" in graph) == (spec.pix_fmt == "rgba")
        assert ("hwupload" in graph) == (profile.hwupload is not None)
    else:
        # each region is uploaded once; the source is converted/uploaded once, before the blends
        # each region uploaded, and the source: hwupload passes NVDEC's CUDA frames through
        assert graph.count("hwupload") == len(spec.placements()) + 1
        assert graph.count("[base]") == 2


@pytest.mark.parametrize("name", sorted(COMPOSITING))
def test_transcode_argv_properties(name):
    profile = PROFILES[name]
    argv = build_transcode_command(profile, GOPRO, "/out/plain.mp4")
    groups, inputs, output = split(argv)
    assert inputs == [str(GOPRO.path)] and output == "/out/plain.mp4"
    assert_no_duplicated_flags(groups)
    assert argv.count("-c:v") == 1 and "-filter_complex" not in argv and "-nostdin" in argv
    out = groups[-1]
    assert [out[i + 1] for i, t in enumerate(out) if t == "-map"] == ["0:0", "0:a?"]
    # same encoder settings as the overlay run: the benchmark compares the two
    overlay_out = split(build_command(profile, GOPRO, RGBA, "/out/o.mp4"))[0][-1]
    tail = out[out.index("-c:v"):]
    assert overlay_out[overlay_out.index("-c:v"):] == tail


def test_nvenc_argv_needs_no_gpu():
    argv = build_command(PROFILES["nvenc"], GOPRO, RGBA, "/out/x.mp4", ffmpeg="/opt/ffmpeg")
    assert argv[0] == "/opt/ffmpeg"
    assert argv[argv.index("-hwaccel") + 1] == "cuda" and argv.index("-hwaccel") < argv.index("-i")
    assert argv[argv.index("-c:v") + 1] == "h264_nvenc"
    assert argv[argv.index("-cq") + 1] == "21" and argv[argv.index("-preset") + 1] == "p4"


# What render starts ffmpeg with before the layout is measured: any overlay will do.
UNKNOWN = OverlaySpec(x=0, y=0, width=2, height=2, pix_fmt="yuva420p", fps_num=30000, fps_den=1001)
ONE_STREAM = OverlaySpec(x=0, y=0, width=320, height=320, fps_num=30000, fps_den=1001, pix_fmt="yuva420p",
                         regions=(Region(500, 120, 320, 320),))


@pytest.mark.parametrize("name", sorted(COMPOSITING))
@pytest.mark.parametrize("option", ["-/filter_complex", "-filter_complex_script"])
def test_the_overlay_leaves_only_the_graph_to_the_layout(name, option, tmp_path):
    """ffmpeg starts with the argv for UNKNOWN regions and gets the graph later: that argv must be
    exactly the one the measured regions give, and argv + graph must say what the inline argv says."""
    profile = PROFILES[name]
    temp, final = tmp_path / ".ride.partial-ab12.mp4", tmp_path / "ride.mp4"
    via = (option, "pipe:7")
    early = build_command(profile, GOPRO, UNKNOWN, temp, final_path=final, graph_via=via)
    assert "-filter_complex" not in early and early.count(option) == 1
    assert early[early.index(option) + 1] == "pipe:7"
    for spec in (STREAMS, ONE_STREAM, RGBA_STREAMS, RGBA):  # the regions and their sizes: the NUT header says them
        # the overlay's pixel format is known before the layout (it sizes ffmpeg's packet queue)
        started = early if spec.pix_fmt == UNKNOWN.pix_fmt else build_command(
            profile, GOPRO, replace(UNKNOWN, pix_fmt=spec.pix_fmt), temp, final_path=final, graph_via=via)
        later = build_command(profile, GOPRO, spec, temp, final_path=final, graph_via=via)
        assert later == started
        inline = build_command(profile, GOPRO, spec, temp, final_path=final)
        i = inline.index("-filter_complex")
        assert inline[i + 1] == overlay_graph(profile, GOPRO, spec)
        assert inline[:i] + list(via) + inline[i + 2:] == later


def test_the_overlay_queue_is_sized_for_the_largest_packet_there_can_be():
    """ffmpeg's reader may hold -thread_queue_size overlay packets ahead (read-ahead past regions sent
    only at keepalives): up to 64, within 256 MiB even if one region were the whole video, never
    under ffmpeg's own 8. The option is an input option of the overlay, before its -i."""
    def queue(w, h, pix):
        args = composite_nut_input(w, h, pix)
        assert args[-4:] == ("-f", "nut", "-i", "pipe:0") and "-thread_queue_size" in args[:-4]
        return int(args[args.index("-thread_queue_size") + 1])

    assert queue(1280, 720, "yuva420p") == queue(848, 480, "rgba") == 64
    assert queue(1920, 1080, "yuva420p") == 51 and queue(1920, 1080, "rgba") == 32
    assert queue(3840, 2160, "yuva420p") == 12 and queue(3840, 2160, "rgba") == queue(5312, 2988, "yuva420p") == 8
    for w, h, pix in ((1920, 1080, "rgba"), (3840, 2160, "yuva420p"), (2704, 1520, "yuva420p")):
        assert queue(w, h, pix) * w * h * (4 if pix == "rgba" else 2.5) <= 256 << 20
    argv = build_command(PROFILES["cpu"], GOPRO, STREAMS, "/o.mp4")
    nut = list(composite_nut_input(GOPRO.display_width, GOPRO.display_height, "yuva420p"))
    assert any(argv[i:i + len(nut)] == nut for i in range(len(argv)))


def test_the_graph_names_the_video_before_any_overlay_stream():
    """ffmpeg 5.1 asks an unconfigured graph's inputs for a first frame in the order the graph names
    them, and sleeps 10 ms whenever the one asked is a pipe with nothing queued: the video (a file,
    read blocking) named first is decoded while the first overlay frame is still being drawn."""
    for name, profile in PROFILES.items():
        if profile.overlay_only or not profile.compositor:
            continue
        graph = next(t for t in build_command(profile, GOPRO, STREAMS, "/o.mp4") if "overlay" in t)
        inputs = re.findall(r"\[(\d+:\d+)\]", graph)
        assert inputs[0] == "0:0", (name, graph)
        assert sorted(inputs[1:]) == [f"1:{i}" for i in range(len(STREAMS.placements()))], (name, graph)


def test_overlay_timing_in_graph():
    graph = next(t for t in build_command(PROFILES["cpu"], GOPRO, RGBA, "/o.mp4") if "overlay=" in t)
    assert "[1:0]trim=end_pts=316,settb=AVTB,setpts=PTS-STARTPTS-0.001000/TB," in graph
    late = VideoInfo(**{**GOPRO.__dict__, "start_time": 0.5, "format_start_time": 0.0})
    graph = next(t for t in build_command(PROFILES["cpu"], late, RGBA, "/o.mp4") if "overlay=" in t)
    assert "setpts=PTS-STARTPTS+0.499000/TB" in graph


def test_overlay_frames_needed():
    assert overlay_frames_needed(GOPRO, RGBA) == 315
    assert overlay_frames_needed(GOPRO, YUVA) == 105  # 10 fps: frames at 0.0 … 10.4 s
    assert overlay_frames_needed(GOPRO, OverlaySpec(0, 0, 2, 2, 60)) == 629


def test_threads():
    argv = build_command(PROFILES["cpu"], GOPRO, RGBA, "/o.mp4", threads=2)
    assert argv[argv.index("-threads") + 1] == "2" and argv.index("-threads") > argv.index("-c:v")
    assert argv[argv.index("-filter_complex_threads") + 1] == "2"


@pytest.mark.parametrize("name", sorted(COMPOSITING))
def test_a_cpu_encoder_composites_in_one_filter_thread(name):
    """libx264/libx265 keep every core busy: the blend runs without slice threads.
    A hardware encoder leaves ffmpeg's default (one filter thread per core)."""
    profile = PROFILES[name]
    argv = build_command(profile, GOPRO, STREAMS, "/o.mp4")
    if profile.needs_gpu:
        assert "-filter_complex_threads" not in argv
    else:
        assert profile.encoder in ("libx264", "libx265")
        assert argv[argv.index("-filter_complex_threads") + 1] == "1"
        assert argv.index("-filter_complex_threads") < argv.index("-i")  # a global option


def test_output_names():
    assert output_container("a/B.MP4") == "mp4" and output_container("x.m4v") == "mp4"
    with pytest.raises(InputError, match=r"ride\.avi: unsupported output format '\.avi'"):
        build_command(PROFILES["cpu"], GOPRO, RGBA, "/o.avi", final_path="ride.avi")
    argv = build_command(PROFILES["cpu"], GOPRO, RGBA, "/tmp/a:b.mp4")
    assert argv[-1] == "file:/tmp/a:b.mp4"


def test_profile_extension_allow_list():
    only_mp4 = PROFILES["cpu"].__class__(**{**PROFILES["cpu"].__dict__, "extensions": ("mp4",)})
    with pytest.raises(InputError, match=r"ride\.mov: profile 'cpu' cannot write \.mov"):
        build_command(only_mp4, GOPRO, RGBA, "/t.mp4", final_path="ride.mov")


def test_audio_that_mp4_cannot_hold_is_reencoded():
    pcm = VideoInfo(**{**GOPRO.__dict__, "audio_codec": "pcm_s16le"})
    argv = build_command(PROFILES["cpu"], pcm, RGBA, "/o.mp4")
    assert argv[argv.index("-c:a") + 1] == "aac"
    argv = build_command(PROFILES["cpu"], pcm, RGBA, "/o.mov")
    assert argv[argv.index("-c:a") + 1] == "copy"


def test_overlay_geometry_checks():
    with pytest.raises(ValueError, match="exceeds the 848x480 video"):
        build_command(PROFILES["cpu"], GOPRO, OverlaySpec(800, 0, 64, 32, 30), "/o.mp4")
    rotated = VideoInfo(**{**GOPRO.__dict__, "rotation": 90})
    build_command(PROFILES["cpu"], rotated, OverlaySpec(0, 800, 64, 32, 30), "/o.mp4")  # 480x848 display
    with pytest.raises(ValueError, match="even"):
        OverlaySpec(1, 0, 64, 32, 30, pix_fmt="yuva420p")
    with pytest.raises(ValueError, match="pix_fmt"):
        OverlaySpec(0, 0, 64, 32, 30, pix_fmt="rgb24")
    with pytest.raises(ValueError):
        OverlaySpec(0, 0, 0, 32, 30)
    assert RGBA.frame_bytes == 400 * 160 * 4 and YUVA.frame_bytes == 400 * 160 * 5 // 2


@pytest.mark.parametrize("pix_fmt, rng, space, height, blend, convert", [
    ("yuv420p", None, None, 1080, "yuv420", "scale=out_range=limited:out_color_matrix=bt709,format=yuva420p"),
    ("yuv420p", "tv", None, 480, "yuv420", "scale=out_range=limited:out_color_matrix=bt601,format=yuva420p"),
    ("yuvj420p", "pc", "bt709", 480, "yuv420", "scale=out_range=full:out_color_matrix=bt709,format=yuva420p"),
    ("yuv420p", "pc", "smpte170m", 1080, "yuv420", "scale=out_range=full:out_color_matrix=bt601,format=yuva420p"),
    # 10-bit GoPro HEVC stays 10-bit
    ("yuv420p10le", "tv", "bt2020nc", 2160, "yuv420p10",
     "scale=out_range=limited:out_color_matrix=bt2020,format=yuva420p10le"),
    ("yuv422p", None, None, 1080, "yuv422", "format=yuva422p"),
    ("gbrp", None, None, 1080, "auto", None),                    # unusual sources: ffmpeg decides
])
def test_blend_format_follows_the_source(pix_fmt, rng, space, height, blend, convert):
    from dataclasses import replace

    video = replace(GOPRO, pix_fmt=pix_fmt, color_range=rng, color_space=space, height=height)
    spec = OverlaySpec(x=16, y=300, width=320, height=160, fps_num=30000, fps_den=1001)
    graph = next(t for t in build_command(PROFILES["cpu"], video, spec, "/out/x.mp4") if "overlay=" in t)
    assert f"format={blend}[vout]" in graph
    assert (convert in graph) if convert else (",format=" not in graph)


def test_chapters_are_read_through_the_concat_demuxer():
    from dataclasses import replace
    from pathlib import Path

    from encoders.chapters import concat_list

    video = replace(GOPRO, parts=(Path("/v/GX010001.MP4"), Path("/v/it's GX020001.MP4")), part_frames=(300, 15),
                    part_offsets=(0.0, 0.0), frame_count=315)
    spec = OverlaySpec(x=16, y=300, width=320, height=160, fps_num=30000, fps_den=1001)
    argv = build_command(PROFILES["cpu"], video, spec, "/out/x.mp4", concat_path="/tmp/list.ffconcat")
    i = argv.index("/tmp/list.ffconcat")
    assert argv[i - 5:i + 1] == ["-f", "concat", "-safe", "0", "-i", "/tmp/list.ffconcat"]
    assert str(GOPRO.path) not in argv
    text = concat_list(video)
    assert "file '/v/it'\\''s GX020001.MP4'" in text          # quoting per the concat demuxer's rules
    assert "duration 10.010000" in text and "duration 0.500500" in text  # 300 and 15 frames at 29.97
    with pytest.raises(ValueError, match="concat_path"):
        build_command(PROFILES["cpu"], video, spec, "/out/x.mp4")


def test_gpu_profile_graphs():
    """nvenc-full on a limited-range source: NVDEC's CUDA frames pass hwupload, software frames
    (what NVDEC cannot decode) are uploaded by it; scale_cuda, blend and encode on the GPU."""
    from dataclasses import replace
    limited = replace(GOPRO, pix_fmt="yuv420p", color_range="tv", color_space="bt709")
    for name in ("nvenc-full", "nvenc-full-hevc"):
        argv = build_command(PROFILES[name], limited, RGBA_STREAMS, "/o.mp4")
        i = argv.index("-i")
        assert argv[i - 10:i] == ["-init_hw_device", "cuda=gpu:0", "-filter_hw_device", "gpu", "-hwaccel", "cuda",
                                  "-hwaccel_device", "gpu", "-hwaccel_output_format", "cuda"]
        graph = argv[argv.index("-filter_complex") + 1]
        assert "[0:0]hwupload,scale_cuda=format=yuv420p[base]" in graph  # hwupload before scale_cuda
        # each region's stream is converted to the output's (limited) range and the source's matrix
        convert = "scale=out_range=limited:out_color_matrix=bt709,format=yuva420p"
        assert f"[1:0]trim=end_pts=315,settb=AVTB,setpts=PTS-STARTPTS-0.001000/TB,{convert},hwupload[r0]" in graph
        assert graph.count(",hwupload[r") == 3
        assert "[base][r0]overlay_cuda=x=16:y=16:eof_action=repeat[v0]" in graph
        assert "[v1][r2]overlay_cuda=x=16:y=400:eof_action=repeat[vout]" in graph.split(";")
        assert "-pix_fmt" not in argv[argv.index("-c:v"):]
        # the upload uses the profile's CUDA device (-filter_hw_device gpu, created by -init_hw_device)
        device = argv[argv.index("-init_hw_device") + 1]  # cuda=gpu:0 → the device named gpu
        assert argv[argv.index("-filter_hw_device") + 1] == device.split("=")[1].split(":")[0]


def test_nvenc_full_writes_limited_range_on_the_gpu_from_ffmpeg_6():
    """colorspace_cuda (6.0+) turns NVDEC's full-range frames limited without leaving the GPU."""
    from dataclasses import replace

    from encoders.features import FFMPEG_7

    argv = build_command(PROFILES["nvenc-full"], GOPRO, RGBA_STREAMS, "/o.mp4", features=FFMPEG_7)
    assert argv[argv.index("-hwaccel_output_format") + 1] == "cuda"
    graph = argv[argv.index("-filter_complex") + 1]
    assert "[0:0]hwupload,scale_cuda=format=yuv420p,colorspace_cuda=range=tv[base]" in graph
    assert "in_range=full" not in graph and "out_range=full" not in graph
    limited = replace(GOPRO, pix_fmt="yuv420p", color_range="tv")
    graph = next(t for t in build_command(PROFILES["nvenc-full"], limited, RGBA_STREAMS, "/o.mp4",
                                          features=FFMPEG_7) if "overlay_cuda" in t)
    assert "colorspace_cuda" not in graph, "a limited-range source needs no conversion"


def test_nvenc_full_writes_limited_range_from_a_full_range_source():
    """A GoPro file is full range; every profile writes limited range. 5.1 has no CUDA range
    conversion, so NVDEC's frames come to system memory and swscale converts before the upload."""
    from encoders.features import FFMPEG_5

    argv = build_command(PROFILES["nvenc-full"], GOPRO, RGBA_STREAMS, "/o.mp4", features=FFMPEG_5)
    assert "-hwaccel_output_format" not in argv and argv[argv.index("-hwaccel") + 1] == "cuda"
    graph = argv[argv.index("-filter_complex") + 1]
    assert ("[0:0]scale=in_range=full:out_range=limited:in_color_matrix=bt601:out_color_matrix=bt601,"
            "format=yuv420p,hwupload[base]") in graph
    assert "scale_cuda" not in graph and "out_range=full" not in graph
    assert graph.count("scale=out_range=limited:out_color_matrix=bt601,format=yuva420p,hwupload[r") == 3
    # the workers' yuva420p is limited range too for this compositor, full range for the CPU blend
    from encoders.blend import blend_full_range
    assert not blend_full_range(PROFILES["nvenc-full"], GOPRO) and blend_full_range(PROFILES["cpu"], GOPRO)


def test_qsv_premultiplies_and_states_the_matrix():
    """Intel VPP blends premultiplied alpha and converts the RGB overlay with the matrix the main
    frames state: premultiply before the upload, the base tagged limited + the source's matrix."""
    graph = next(t for t in build_command(PROFILES["qsv"], GOPRO, RGBA, "/o.mp4") if "overlay_qsv" in t)
    assert "format=bgra,premultiply=inplace=1,hwupload=extra_hw_frames=64[r0]" in graph
    assert ("[0:0]scale=in_range=full:out_range=limited:in_color_matrix=bt601:out_color_matrix=bt601,"
            "format=nv12,setparams=range=tv:colorspace=smpte170m,hwupload=extra_hw_frames=64[base]") in graph
    assert "[base][r0]overlay_qsv=x=16:y=300:eof_action=repeat[vout]" in graph.split(";")
    from dataclasses import replace
    hd = replace(GOPRO, pix_fmt="yuv420p", height=1080, width=1920, color_space="bt709")
    graph = next(t for t in build_command(PROFILES["qsv"], hd, RGBA, "/o.mp4") if "overlay_qsv" in t)
    assert "[0:0]format=nv12,setparams=range=tv:colorspace=bt709,hwupload=extra_hw_frames=64[base]" in graph


def test_vaapi_graphs():
    # vaapi: CPU blend (5.1's overlay_vaapi has no per-pixel alpha), then upload for h264_vaapi
    argv = build_command(PROFILES["vaapi"], GOPRO, RGBA, "/o.mp4")
    graph = argv[argv.index("-filter_complex") + 1]
    assert ":eof_action=pass:format=yuv420[vblend];[vblend]format=nv12,hwupload[vout];" in graph
    assert argv[argv.index("-vaapi_device") + 1] == "/dev/dri/renderD128"
    # a user profile with the vaapi compositor: overlay_vaapi, overlay uploaded as rgba
    from dataclasses import replace
    user = replace(PROFILES["vaapi"], compositor="vaapi", hwupload=None)
    graph = next(t for t in build_command(user, GOPRO, RGBA, "/o.mp4") if "overlay_vaapi" in t)
    assert "format=rgba,hwupload[r0]" in graph and "overlay_vaapi=x=16:y=300[vout]" in graph
    # the transcode baseline uploads the same way
    plain = build_transcode_command(PROFILES["vaapi"], GOPRO, "/p.mp4")
    assert plain[plain.index("-vf") + 1] == "format=nv12,hwupload"
    # rotated sources cannot be auto-rotated on GPU surfaces: refused before rendering
    with pytest.raises(InputError, match="rotated video .* cannot be composited on the GPU"):
        build_command(PROFILES["nvenc-full"], replace(GOPRO, rotation=90), OverlaySpec(0, 0, 8, 8, 30), "/o.mp4")


def test_each_region_stream_is_converted_on_its_own_or_blended_as_it_is():
    """A stream per region in either pixel format: the CPU blend takes the workers' yuva420p
    as is (no scale/format filter anywhere); RGBA regions are converted each in its own chain,
    so only the frames that cross are converted, with the source's range and matrix."""
    timing = "trim=end_pts=316,settb=AVTB,setpts=PTS-STARTPTS-0.001000/TB"
    graph = next(t for t in build_command(PROFILES["cpu"], GOPRO, STREAMS, "/o.mp4") if "overlay=" in t)
    assert all(f"[1:{i}]{timing}[r{i}]" in graph for i in range(3))
    assert "scale=" not in graph and "format=yuva" not in graph
    graph = next(t for t in build_command(PROFILES["cpu"], GOPRO, RGBA_STREAMS, "/o.mp4") if "overlay=" in t)
    convert = "scale=out_range=full:out_color_matrix=bt601,format=yuva420p"
    assert all(f"[1:{i}]{timing},{convert}[r{i}]" in graph for i in range(3))
    assert "[v1][r2]overlay=x=16:y=400:eof_action=pass:format=yuv420[vout]" in graph
    with pytest.raises(ValueError, match="even"):
        OverlaySpec(x=0, y=0, width=320, height=120, fps_num=30, pix_fmt="yuva420p",
                    regions=(Region(16, 16, 200, 61),))
    with pytest.raises(ValueError, match="invalid"):
        OverlaySpec(x=0, y=0, width=320, height=120, fps_num=30, regions=(Region(-2, 16, 200, 60),))


@pytest.mark.parametrize("name, pix_fmt, takes", [
    ("cpu", "yuvj420p", True), ("cpu", "yuv420p", True), ("cpu-hevc", "yuv420p", True),
    ("cpu", "yuv420p10le", False), ("cpu", "yuv422p", False), ("cpu", "gbrp", False),
    ("nvenc", "yuv420p", True), ("nvenc-full", "yuv420p10le", True), ("vaapi", "yuv420p", True),
    ("qsv", "yuv420p", False), ("prores-alpha", "yuv420p", False),
])
def test_which_blends_take_yuva420p(name, pix_fmt, takes):
    from dataclasses import replace

    from encoders.blend import blends_yuva420p

    assert blends_yuva420p(PROFILES[name], replace(GOPRO, pix_fmt=pix_fmt)) is takes
