"""`make gpu-check`: does overdash's CUDA path work on this machine, and match the CPU's pixels?

The unit tests prove what the argv says; only a GPU proves that ffmpeg runs it. On
a machine with an NVIDIA GPU this renders the project's own argv (encoders.command,
the render's builder) and checks, printing a PASS/FAIL line each:

* the filters the CUDA graphs use exist (overlay_cuda, scale_cuda, hwupload, hwdownload);
* NVDEC decodes 8-bit H.264 and 10-bit HEVC into CUDA frames (hwdownload fails on
  software frames, so a silent software fallback cannot pass);
* nvenc-full (NVDEC, hwupload of the regions, scale_cuda, overlay_cuda) and nvenc
  (NVDEC, CPU blend) render every frame, on a GoPro-like full-range H.264 source, a
  10-bit HEVC one and a 4:2:2 H.264 one NVDEC cannot decode (the software-decode +
  upload path); where the GPU has no NVENC (H100, H200) the encoder is libx264 and
  the graph ends in hwdownload;
* each region matches the `cpu` profile's render (PSNR >= 40 dB) and the output's
  range is the cpu render's;
* the capability check passes nvenc-full for the 4:2:2 source, and what `auto` picks.

Without a CUDA GPU it says so in one line and exits 0 at once; `--self-test` runs
the parts that need none (argv building, the PSNR helper on two CPU renders).
Exit status: 0 all passed (or no GPU), 1 a check failed.
"""
from __future__ import annotations

import argparse
import dataclasses
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from encoders import nut
from encoders.command import OverlaySpec, Region, build_command
from encoders.probe import VideoInfo, probe_video
from encoders.profiles import Profile, builtin_profiles

MIN_PSNR = 40.0
X264 = ("-preset", "veryfast", "-crf", "12")
REGIONS = (Region(32, 32, 400, 200), Region(1488, 32, 400, 400), Region(32, 848, 600, 200))
SOURCES = {  # name → (ffmpeg encoder options, pix_fmt, extra tags)
    "gopro": (("-c:v", "libx264", "-preset", "ultrafast"), "yuvj420p", ("-color_range", "pc", "-colorspace", "bt709")),
    "hevc10": (("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"), "yuv420p10le", ()),
    "h422": (("-c:v", "libx264", "-preset", "ultrafast"), "yuv422p", ()),
}


class Report:
    """PASS/FAIL lines as they happen; failed() for the exit status."""

    def __init__(self):
        self.failures = 0

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        print(("PASS " if ok else "FAIL ") + what + (f" — {detail}" if detail else ""), flush=True)
        self.failures += not ok
        return ok


def cuda_gpu() -> str | None:
    """The first GPU nvidia-smi lists, or None when there is no usable NVIDIA driver and GPU."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        done = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = [line for line in done.stdout.splitlines() if line.startswith("GPU ")]
    return lines[0] if done.returncode == 0 and lines else None


def make_source(workdir: Path, name: str, seconds: float = 2.0, size: str = "1920x1080") -> Path:
    """A test clip of kind `name` (SOURCES) at 29.97 fps."""
    encoder, pix_fmt, tags = SOURCES[name]
    path = workdir / f"{name}.mp4"
    _run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi",
          "-i", f"testsrc2=size={size}:rate=30000/1001:duration={seconds}", *encoder, "-pix_fmt", pix_fmt,
          *tags, str(path)])
    return path


def overlay_stream(frames: int, fps, regions) -> bytes:
    """What the writer sends, in RGBA: a NUT stream per region, a frame only when it changes
    (region i every 10·(i+1) frames), with an alpha ramp so semi-transparency is compared, and
    the writer's tail (every region's last frame again at pts = frames)."""
    out = [nut.header([(r.width, r.height) for r in regions], fps.numerator, fps.denominator, "rgba")]
    for k in range(frames + 1):
        for i, r in enumerate(regions):
            if k < frames and k % (10 * (i + 1)):
                continue
            shown = k if k < frames else (frames - 1) // (10 * (i + 1)) * (10 * (i + 1))
            n = r.width * r.height
            alpha = (bytes(range(256)) * (n // 256 + 1))[:n]
            red = (40 + 7 * shown + 60 * i) % 256
            data = bytearray(n * 4)
            data[0::4] = bytes([red]) * n
            data[1::4] = bytes([200]) * n
            data[2::4] = bytes([90]) * n
            data[3::4] = alpha
            out += [nut.frame_head(k, len(data), i), bytes(data)]
    return b"".join(out)


def without_nvenc(profile: Profile) -> Profile:
    """The profile with libx264 in place of NVENC (same decode and graph)."""
    return dataclasses.replace(profile, encoder="libx264", output_options=X264)


def download_at_end(argv: list[str]) -> list[str]:
    """A CUDA graph's output brought back to system memory for a software encoder."""
    argv = list(argv)
    i = argv.index("-filter_complex") + 1
    argv[i] = argv[i].replace("[vout]", "[vgpu];[vgpu]hwdownload,format=yuv420p[vout]")
    return argv


def render_argv(profile: Profile, source: Path, output: Path, regions=REGIONS) -> tuple[list[str], VideoInfo, tuple]:
    """(argv, the source's VideoInfo, the regions that fit it) of a render with the project's builder."""
    video = probe_video(source)
    regions = tuple(r for r in regions if r.x + r.width <= video.width and r.y + r.height <= video.height)
    spec = OverlaySpec(0, 0, regions[0].width, regions[0].height, video.fps_num, video.fps_den, "rgba", regions)
    argv = build_command(profile, video, spec, output)
    if profile.compositor == "cuda" and not profile.encoder.endswith("_nvenc"):
        argv = download_at_end(argv)
    return argv, video, regions


def render(report: Report, tag: str, profile: Profile, source: Path, output: Path, regions=REGIONS) -> bool:
    argv, video, used = render_argv(profile, source, output, regions)
    frames = video.frame_count
    done = subprocess.run(argv, input=overlay_stream(frames, video.fps, used), capture_output=True)
    counted = _count_frames(output) if done.returncode == 0 else None
    error = done.stderr.decode(errors="replace").strip().splitlines()
    return report.check(done.returncode == 0 and counted == frames, f"render {tag} ({profile.name}, {source.name})",
                        f"rc={done.returncode} frames={counted}/{frames}"
                        + (f" {error[0]}\n  $ {' '.join(argv)}" if done.returncode else ""))


def region_psnr(a: Path, b: Path, regions=REGIONS) -> list[float]:
    """Average PSNR (dB, all planes) of each region of video a against video b, in 8-bit 4:2:0."""
    scores = []
    for r in regions:
        crop = f"crop={r.width}:{r.height}:{r.x}:{r.y},format=yuv420p"
        done = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(a), "-i", str(b), "-lavfi",
                               f"[0:v]{crop}[a];[1:v]{crop}[b];[a][b]psnr", "-f", "null", "-"],
                              capture_output=True, text=True)
        found = re.findall(r"average:(\S+)", done.stderr)
        value = found[-1] if found else "0"
        scores.append(float("inf") if value == "inf" else float(value))
    return scores


def color_range(path: Path) -> str:
    """The stream's range tag; untagged 4:2:0 video is limited range to every player."""
    value = _probe(path, "stream=color_range")
    return "tv" if value in ("", "unknown") else value


def gpu_checks(report: Report, workdir: Path) -> None:
    from encoders.capability import available_filters, choose_profile, encoder_works, profile_works

    filters = available_filters("ffmpeg")
    for name in ("overlay_cuda", "scale_cuda", "hwupload", "hwdownload"):
        report.check(name in filters, f"ffmpeg has {name}")
    sources = {name: make_source(workdir, name) for name in SOURCES}
    for name, fmt in (("gopro", "nv12"), ("hevc10", "p010le")):
        done = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-hwaccel", "cuda", "-hwaccel_output_format",
                               "cuda", "-i", str(sources[name]), "-vf", f"hwdownload,format={fmt}", "-f", "null", "-"],
                              capture_output=True, text=True)
        report.check(done.returncode == 0, f"NVDEC decodes {name} into CUDA frames", _first(done.stderr))
    nvenc, why = encoder_works("ffmpeg", "h264_nvenc")
    print(f"h264_nvenc: {'works' if nvenc else 'unavailable (' + why + '): libx264 stands in'}")
    profiles = builtin_profiles()
    # Pixels are compared with one encoder (libx264, CRF 12) everywhere: the compositors differ, not encoders.
    full, plain = (without_nvenc(profiles[name]) for name in ("nvenc-full", "nvenc"))
    if nvenc:
        for name in ("nvenc-full", "nvenc-full-hevc", "nvenc"):
            render(report, "with NVENC", profiles[name], sources["gopro"], workdir / f"{name}-nvenc.mp4")
    for src in ("gopro", "hevc10", "h422"):
        ref = workdir / f"cpu-{src}.mp4"
        if not render(report, f"cpu reference {src}", without_nvenc(profiles["cpu"]), sources[src], ref):
            continue
        for profile in (full, plain):
            out = workdir / f"{profile.name}-{src}.mp4"
            if render(report, src, profile, sources[src], out):
                scores = region_psnr(out, ref)
                report.check(min(scores) >= MIN_PSNR, f"{profile.name} {src}: regions match cpu (>= {MIN_PSNR} dB)",
                             ", ".join(f"{s:.1f}" for s in scores))
                report.check(color_range(out) == color_range(ref), f"{profile.name} {src}: output range",
                             f"{color_range(out)} vs cpu {color_range(ref)}")
    video422 = probe_video(sources["h422"])
    ok, reason = profile_works(full, video=video422, refresh=True)
    report.check(ok, "capability check passes nvenc-full for a 4:2:2 source (software decode + upload)", reason)
    choice = choose_profile("auto", video=probe_video(sources["gopro"]))
    print(f"auto -> {choice.profile.name}" + (f" ({choice.reason})" if choice.reason else ""))
    expected = "nvenc-full" if nvenc else None
    report.check(expected is None or choice.profile.name == expected, "auto picks nvenc-full where NVENC works",
                 choice.profile.name)


def self_test(report: Report, workdir: Path) -> None:
    """What runs without a GPU: argv building for the CUDA profiles, the PSNR helper."""
    profiles = builtin_profiles()
    src = make_source(workdir, "gopro", seconds=0.5, size="640x360")
    small = (Region(16, 16, 200, 100),)
    argv, _, _ = render_argv(without_nvenc(profiles["nvenc-full"]), src, workdir / "x.mp4", small)
    graph = argv[argv.index("-filter_complex") + 1]
    report.check("hwdownload,format=yuv420p[vout]" in graph and "overlay_cuda" in graph,
                 "nvenc-full argv with libx264 ends its CUDA graph in hwdownload", graph)
    a, b = workdir / "a.mp4", workdir / "b.mp4"
    render(report, "cpu a", without_nvenc(profiles["cpu"]), src, a, small)
    render(report, "cpu b", without_nvenc(profiles["cpu"]), src, b, small)
    scores = region_psnr(a, b, small)
    report.check(min(scores) >= MIN_PSNR, "PSNR helper: two cpu renders of the same frames agree",
                 ", ".join(map(str, scores)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="gpu-check", description=__doc__.split("\n")[0])
    parser.add_argument("--self-test", action="store_true", help="only the checks that need no GPU")
    parser.add_argument("--keep", action="store_true", help="keep the clips (printed folder)")
    args = parser.parse_args(argv)
    gpu = cuda_gpu()
    if gpu is None and not args.self_test:
        print("gpu-check: no CUDA GPU here (nvidia-smi lists none): nothing to check")
        return 0
    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="overdash-gpu-check-"))
    try:
        if args.self_test:
            self_test(report, workdir)
        else:
            print(gpu)
            gpu_checks(report, workdir)
    finally:
        if args.keep:
            print(f"clips kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"gpu-check: {report.failures} failed" if report.failures else "gpu-check: all passed")
    return 1 if report.failures else 0


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"gpu-check: {' '.join(argv)} failed: {_first(done.stderr)}")


def _probe(path: Path, entry: str) -> str:
    done = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", entry,
                           "-of", "csv=p=0", str(path)], capture_output=True, text=True)
    return done.stdout.strip()


def _count_frames(path: Path) -> int | None:
    if not path.exists():
        return None
    text = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                           "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
                          capture_output=True, text=True).stdout.strip()
    return int(text) if text.isdigit() else None


def _first(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


if __name__ == "__main__":
    sys.exit(main())
