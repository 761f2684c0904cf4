"""Segments back into one video: ffmpeg's concat demuxer, stream copy, the source's audio once.

    part-0000.mp4 ─┐
    part-0001.mp4 ─┼─ concat list (each file's exact duration) ─┐
    …             ─┘                                            ├─ -c:v copy ─▶ hidden partial ─▶ OUT
    source (or its chapters' list) ─ audio, GPMF, metadata ─────┘

The concat demuxer starts each file where the one before ends. Its durations are
written out, each the difference of the parts' start times rounded to the microsecond
(what the demuxer counts in), so part k starts exactly where frame `first` of the whole
starts: rounding never adds up over many parts. Audio is not cut at all: it is the
source's own stream, copied (or re-encoded where the profile says) over the whole, so it
stays in sync across every join.
"""
from __future__ import annotations

import math
import os
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Sequence

from encoders.command import MUXERS, audio_args, gpmf_maps, output_container
from encoders.probe import VideoInfo
from encoders.tools import first_error_line, path_arg
from overdash import RenderError
from overdash.files import PartialLock, partial_path, remove
from pipeline.distributed.segments import Part
from pipeline.procs import die_with_parent, prepare_die_with_parent, sigint_blocked


def _micro(seconds: Fraction) -> int:
    return math.floor(seconds * 1_000_000 + Fraction(1, 2))


def concat_text(files: Sequence[Path], parts: Sequence[Part], video: VideoInfo) -> str:
    """The concat demuxer's list: each segment file and its video duration."""
    lines = ["ffconcat version 1.0"]
    for path, part in zip(files, parts, strict=True):
        duration = _micro(part.end / video.fps) - _micro(part.first / video.fps)
        quoted = str(Path(path).resolve()).replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {duration / 1_000_000:.6f}"]
    return "\n".join(lines) + "\n"


def join_argv(ffmpeg: str, segments_list: Path, video: VideoInfo, profile, output: Path, final: Path, *,
              source_list: Path | None = None, keep_gpmf: bool = False) -> list[str]:
    """argv: the segments' video copied as is, the source's audio (and GPMF track with
    keep_gpmf) and metadata, into `output` (renamed to `final` afterwards; its extension
    picks the container). `source_list`: the chapters' concat list (encoders.chapters) when
    the source is several files."""
    container = output_container(final)
    source = (["-f", "concat", "-safe", "0", "-i", path_arg(source_list)] if source_list
              else ["-i", path_arg(video.path)])
    # Frame k of a one-machine render sits at timeline_offset + k / fps: so do the segments'.
    shift = ["-itsoffset", f"{video.timeline_offset:.6f}"] if video.timeline_offset else []
    gpmf = gpmf_maps(video, container, keep_gpmf, final)
    gpmf = [gpmf[0], "1" + gpmf[1][1:]] if gpmf else []  # the source is input 1 here
    return [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-nostats", "-nostdin", "-y",
        *shift, "-f", "concat", "-safe", "0", "-i", path_arg(segments_list), *source,
        "-map", "0:v", "-map", "1:a?", *gpmf,
        "-c:v", "copy", *audio_args(profile, video, container),
        *(["-c:d", "copy", "-copy_unknown", "-tag:d", "gpmd"] if gpmf else []),
        "-map_metadata", "1",
        *(["-movflags", "+faststart"] if container in ("mp4", "mov") else []),
        "-f", MUXERS[container], path_arg(output),
    ]


def join(ffmpeg: str, files: Sequence[Path], parts: Sequence[Part], video: VideoInfo, profile, final: Path, *,
         folder: Path, source_list_text: str | None = None, keep_gpmf: bool = False) -> None:
    """Join the segment files into `final`, written whole or not at all (a locked hidden
    partial file beside it, renamed at the end; overdash.files). `folder`: the run's
    hidden folder, for the lists."""
    segments_list = folder / "segments.ffconcat"
    segments_list.write_text(concat_text(files, parts, video))
    source_list = None
    if source_list_text is not None:
        source_list = folder / "source.ffconcat"
        source_list.write_text(source_list_text)
    partial = partial_path(final)
    lock = None
    ok = False
    try:
        with sigint_blocked():  # a Ctrl-C meanwhile comes once the file is this run's to remove
            lock = PartialLock.claim(partial)
        argv = join_argv(ffmpeg, segments_list, video, profile, partial, final, source_list=source_list,
                         keep_gpmf=keep_gpmf)
        prepare_die_with_parent()
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                              preexec_fn=die_with_parent)
        if proc.returncode != 0:
            raise RenderError(f"joining the segments: ffmpeg: {first_error_line(proc.stderr)}")
        os.replace(partial, final)
        ok = True
    finally:
        if lock is not None:  # else the name was another run's, or never made
            lock.release()
            if not ok:
                remove(partial)
