"""Facts about the source video, read once: from its MP4 index (encoders.mp4index) where
that settles them exactly, else with ffprobe.

Everything downstream (frame table, overlay geometry, ffmpeg argv) needs the
same handful of numbers; reading them once into a frozen VideoInfo keeps the
pipeline from re-probing and from disagreeing with itself. The JSON → VideoInfo
step is a pure function (`video_info_from_json`) so odd files can be tested
from recorded ffprobe output.
"""
from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from encoders.tools import first_error_line, path_arg, run_tool, start_tool
from overdash import InputError, OverdashError

PROBE_TIMEOUT = 60.0
# A frame rate beyond this is not a camera's; r_frame_rate shows such values
# (e.g. 90000/1) for files with irregular timestamps.
MAX_SANE_FPS = 1000


@dataclass(frozen=True)
class VideoInfo:
    """The source video as ffprobe sees it (stream values, container as fallback).

    start_time is the video stream's; format_start_time the container's. ffmpeg
    shifts every stream by -format_start_time, so inside a filter graph the
    first video frame sits at `timeline_offset` seconds, not at 0.
    rotation is the display-matrix angle (counter-clockwise, 0/90/180/270);
    ffmpeg auto-rotates when decoding, so filters see display_width x display_height.
    """

    path: Path
    width: int
    height: int
    fps_num: int
    fps_den: int
    frame_count: int
    duration: float
    start_time: float
    has_audio: bool
    audio_codec: str | None
    video_codec: str
    pix_fmt: str
    creation_time: str | None
    rotation: int
    gpmd_stream: int | None
    video_stream: int = 0
    format_start_time: float = 0.0
    color_range: str | None = None   # 'pc' (full) or 'tv' (limited), as tagged
    color_space: str | None = None   # 'bt709', 'smpte170m', 'bt2020nc', ... as tagged
    parts: tuple[Path, ...] = ()     # chapter files played as one video (encoders.chapters)
    part_frames: tuple[int, ...] = ()  # video frames of each part
    part_offsets: tuple[float, ...] = ()  # each part's first video frame, seconds into its own timeline
    timecode: str | None = None      # SMPTE start timecode ('15:44:35:10'), as the camera wrote it (tmcd)
    timecode_stream: int | None = None  # the timecode (tmcd) track's stream, copied as it is (encoders.repeat)

    @property
    def full_range(self) -> bool:
        """Full-range (0–255) YUV: tagged pc, or a JPEG-style pixel format (GoPro files are)."""
        return self.color_range == "pc" or self.pix_fmt.startswith("yuvj")

    @property
    def color_matrix(self) -> str:
        """The YUV matrix the picture is (or, untagged, will be shown) in: bt709 for HD."""
        tagged = {"bt709": "bt709", "smpte170m": "bt601", "bt470bg": "bt601",
                  "bt2020nc": "bt2020", "bt2020c": "bt2020"}.get(self.color_space or "")
        return tagged or ("bt709" if self.height >= 720 else "bt601")

    @property
    def fps(self) -> Fraction:
        return Fraction(self.fps_num, self.fps_den)

    @property
    def timeline_offset(self) -> float:
        """Seconds from the start of ffmpeg's timeline to the first video frame."""
        return max(0.0, self.start_time - self.format_start_time)

    @property
    def display_width(self) -> int:
        return self.height if self.rotation in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation in (90, 270) else self.height


def probe_video(path, *, ffprobe: str = "ffprobe") -> VideoInfo:
    """Probe a video file; InputError if it is missing or not a video, OverdashError if no ffprobe."""
    return start_probe(path, ffprobe=ffprobe).result()


class PendingProbe:
    """ffprobe of one file, running: `result` waits for it and returns (or raises) what probe_video
    would; `cancel` ends it unread. Lets the command line run ffprobe while it imports the rest."""

    def __init__(self, path: Path, ffprobe: str, proc: subprocess.Popen | None, error: Exception | None = None):
        self.path, self.ffprobe = path, ffprobe
        self._proc, self._error = proc, error
        self._value: VideoInfo | None = None

    @classmethod
    def settled(cls, path: Path, ffprobe: str, info: VideoInfo) -> "PendingProbe":
        """A probe whose answer is already known (from the file's index): nothing runs."""
        done = cls(path, ffprobe, None)
        done._value = info
        return done

    def result(self) -> VideoInfo:
        if self._value is None and self._error is None:
            try:
                self._value = self._read()
            except Exception as exc:  # noqa: BLE001 - kept, raised again to whoever asks
                self._error = exc
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value

    def answered(self) -> bool:
        """Whether result() returns without waiting: the index settled it, or ffprobe has exited."""
        return self._proc is None or self._value is not None or self._proc.poll() is not None

    def cancel(self) -> None:
        """Kill ffprobe if it is still running and nobody read it, and reap it."""
        proc, self._proc = self._proc, None
        if proc is not None and self._value is None and self._error is None:
            self._error = InputError(f"{self.path}: probe cancelled")
            proc.kill()
            proc.communicate()

    def _read(self) -> VideoInfo:
        proc, path = self._proc, self.path
        assert proc is not None
        try:
            stdout, stderr = proc.communicate(timeout=PROBE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise InputError(f"{path}: not a video file (ffprobe timed out)") from None
        if proc.returncode != 0:
            reason = first_error_line(stderr, strip_prefix=path_arg(path))
            if "moov atom not found" in reason and _starts_as_mp4(path):  # the index comes last, as it stops
                from overdash.isobmff import missing_index

                raise missing_index(path)
            raise InputError(f"{path}: not a video file ({reason})")
        try:
            data = json.loads(stdout)
        except json.JSONDecodeError:
            raise InputError(f"{path}: not a video file (unreadable ffprobe output)") from None
        return video_info_from_json(
            path, data, count_frames=lambda index: _count_packets(self.ffprobe, path, index))


def _starts_as_mp4(path: Path) -> bool:
    """Whether the file opens as a camera's MP4 does (an 'ftyp' or 'mdat' box): a text file named
    .mp4 gets the same 'moov atom not found' from ffprobe, and is not an unfinished recording."""
    try:
        with open(path, "rb") as f:
            return f.read(8)[4:8] in (b"ftyp", b"mdat")
    except OSError:
        return False


def start_probe(path, *, ffprobe: str = "ffprobe", index: bool = True) -> PendingProbe:
    """The facts of `path`: read from its MP4 index where that settles them (encoders.mp4index:
    H.264 in MP4/MOV, ~1 ms, no ffmpeg libraries to load), else ffprobe started now; or the
    reason neither can be had, kept for `result`. `index=False`: ffprobe always (the reference
    the index reader is tested against)."""
    path = Path(path)
    if not path.exists():
        return PendingProbe(path, ffprobe, None, InputError(f"{path}: no such file"))
    if path.is_dir():
        return PendingProbe(path, ffprobe, None, InputError(f"{path}: is a directory, not a video file"))
    if path.stat().st_size == 0:  # a failed copy; ffprobe would only say "moov atom not found"
        return PendingProbe(path, ffprobe, None, InputError(f"{path}: empty file (0 bytes), not a video"))
    if index:
        from encoders.mp4index import read_index_facts  # it builds on this module's VideoInfo

        facts = read_index_facts(path)
        if facts is not None:
            return PendingProbe.settled(path, ffprobe, facts)
    argv = [ffprobe, "-hide_banner", "-v", "error", "-of", "json",
            "-show_streams", "-show_format", path_arg(path)]
    try:
        return PendingProbe(path, ffprobe, start_tool(argv))
    except OverdashError as exc:
        return PendingProbe(path, ffprobe, None, exc)


class Prefetch:
    """The input's probe (start_probe: its index, else ffprobe) started before the imports planning
    needs (~0.1 s of numpy, Pillow and widgets), so the video's facts are ready when the telemetry is.

    Only a head start: `probe` answers from it for that one file and that ffprobe, and probes
    anything else itself.
    """

    def __init__(self, path, ffprobe: str):
        self.pending = start_probe(path, ffprobe=ffprobe)

    @property
    def path(self) -> Path:
        return self.pending.path

    @property
    def ffprobe(self) -> str:
        return self.pending.ffprobe

    def serves(self, path, ffprobe: str) -> bool:
        return Path(path) == self.path and ffprobe == self.ffprobe

    def probe(self, path, *, ffprobe: str) -> VideoInfo:
        if not self.serves(path, ffprobe):
            return probe_video(path, ffprobe=ffprobe)
        return self.pending.result()

    def answered(self) -> bool:
        """Whether probe() of the file it started on returns without waiting (PendingProbe.answered)."""
        return self.pending.answered()

    def join(self) -> None:
        """Reap ffprobe, whatever it found (the run is ending early)."""
        try:
            self.pending.result()
        except Exception:  # noqa: BLE001 - the caller is already failing for its own reason
            pass

    def cancel(self) -> None:
        """Kill ffprobe unread (its answer is not wanted), and reap it."""
        self.pending.cancel()


def video_info_from_json(path, data: dict, *,
                         count_frames: Callable[[int], int | None] | None = None) -> VideoInfo:
    """Build VideoInfo from `ffprobe -show_streams -show_format -of json` output."""
    path = Path(path)
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not (s.get("disposition") or {}).get("attached_pic")), None)
    if video is None:
        raise InputError(f"{path}: not a video file (no video stream)")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: not a video file (video stream has no frame size)")
    fps = _frame_rate(video)
    if fps is None:
        raise InputError(f"{path}: video stream has no usable frame rate")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    gpmd = next((s for s in streams if s.get("codec_tag_string") == "gpmd"), None)
    tmcd = next((s for s in streams if s.get("codec_tag_string") == "tmcd"), None)

    start = _float(video.get("start_time"), 0.0)
    format_start = _float(fmt.get("start_time"), start)
    duration = _float(video.get("duration"), None)
    if duration is None:  # e.g. Matroska: only the container knows its duration
        total = _float(fmt.get("duration"), None)
        duration = None if total is None else max(0.0, total - max(0.0, start - format_start))
    frame_count = _int(video.get("nb_frames"))
    if not frame_count and duration:
        frame_count = round(duration * fps)
    if not frame_count and count_frames is not None:
        frame_count = count_frames(int(video["index"]))
    if not frame_count:
        raise InputError(f"{path}: cannot tell how many frames the video has")
    if duration is None:
        duration = float(frame_count / fps)

    tags = {**(video.get("tags") or {}), **(fmt.get("tags") or {})}
    return VideoInfo(
        path=path, width=width, height=height,
        fps_num=fps.numerator, fps_den=fps.denominator,
        frame_count=int(frame_count), duration=duration, start_time=start,
        has_audio=audio is not None,
        audio_codec=audio.get("codec_name") if audio else None,
        video_codec=str(video.get("codec_name") or "unknown"),
        pix_fmt=str(video.get("pix_fmt") or "unknown"),
        creation_time=tags.get("creation_time"),
        rotation=_rotation(video),
        gpmd_stream=int(gpmd["index"]) if gpmd else None,
        video_stream=int(video.get("index", 0)),
        format_start_time=format_start,
        color_range=_tag_or_none(video.get("color_range")),
        color_space=_tag_or_none(video.get("color_space")),
        timecode=_timecode(video, streams, fmt),
        timecode_stream=int(tmcd["index"]) if tmcd else None,
    )


TIMECODE_FORMAT = re.compile(r"\d\d:\d\d:\d\d[:;.]\d\d")


def _timecode(video: dict, streams: list, fmt: dict) -> str | None:
    """The start timecode: the video stream's tag, else a timecode (tmcd) track's, else the file's.
    Editors line clips up by it; a malformed one is dropped rather than passed to ffmpeg."""
    for tags in (video.get("tags"), *(s.get("tags") for s in streams if s.get("codec_tag_string") == "tmcd"),
                 fmt.get("tags")):
        value = str((tags or {}).get("timecode") or "")
        if TIMECODE_FORMAT.fullmatch(value):
            return value
    return None


def _tag_or_none(value) -> str | None:
    return None if value in (None, "", "unknown", "unspecified") else str(value)


def _frame_rate(stream: dict) -> Fraction | None:
    """r_frame_rate when it agrees with avg_frame_rate (CFR camera footage: both are
    30000/1001, r is the clean ratio); otherwise avg_frame_rate, because r_frame_rate
    of a file with irregular timestamps can be a multiple (field rate, 90000/1)."""
    real, avg = _ratio(stream.get("r_frame_rate")), _ratio(stream.get("avg_frame_rate"))
    if real and avg:
        return real if abs(real - avg) <= avg / 1000 else avg
    return real or avg


def _ratio(text) -> Fraction | None:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None
    return value if 0 < value <= MAX_SANE_FPS else None


def _rotation(stream: dict) -> int:
    """Display-matrix rotation (as ffprobe prints it) normalised to 0/90/180/270.
    Older ffprobe versions only show the legacy clockwise 'rotate' tag."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return _quarter_turn(_float(side["rotation"], 0.0))
    legacy = (stream.get("tags") or {}).get("rotate")
    return _quarter_turn(-_float(legacy, 0.0)) if legacy is not None else 0


def _quarter_turn(degrees: float) -> int:
    return int(round(degrees / 90.0)) % 4 * 90


def _count_packets(ffprobe: str, path: Path, index: int) -> int | None:
    """Count the stream's packets (demux only, no decode): exact but reads the whole file."""
    done = run_tool([ffprobe, "-v", "error", "-select_streams", str(index), "-count_packets",
                     "-show_entries", "stream=nb_read_packets", "-of", "json", path_arg(path)],
                    timeout=None)
    try:
        return _int(json.loads(done.stdout)["streams"][0]["nb_read_packets"])
    except (json.JSONDecodeError, KeyError, IndexError):
        return None


def _float(value, default):
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
