"""ffmpeg's log, said to a user in one line.

The encoder's ffmpeg writes its complaints to a file (pipeline.encoder). When it fails, its
first lines usually name the cause and its last ones the effect ("Error marking filters as
finished", "Nothing was written into output file"). A damaged source buries both: the
decoder logs a line or two for every frame it cannot decode, thousands in a long clip, and
the effect names only ffmpeg's insides. So:

* `log_tail` (`one_line` for a log held in memory) folds the log into one line: its end, each
  line once, and if that is too long its first and last line;
* `undecodable` recognises the one failure a user can act on that ffmpeg words worst — no
  frame of the source decodes — and says it naming the file, the stream and the decoder's
  first complaint.

The log is read at its two ends only: a damaged three-hour recording can log ~100 MB.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from encoders.tools import first_error_line

TAIL_LIMIT = 600   # characters of ffmpeg's complaint in one message
_END_BYTES = 8192  # read from each end of the log

# No frame of input 0's stream N ever came out of its decoder, so the filter graph could not be
# configured. ffmpeg 5.1: "Cannot determine format of input stream 0:0 after EOF"; 7.0 and 9.0:
# "Cannot determine format of input 0:0 after EOF".
_NO_FRAME = re.compile(r"Cannot determine format of input (?:stream )?0:(\d+) after EOF")
# ffmpeg 4.2 words the same end differently: the decoder's errors, then the other streams'
# packets pile up waiting for the first picture.
_DECODE_FAILED_42 = re.compile(r"Error while decoding stream #0:(\d+)")
_PILED_UP_42 = "Too many packets buffered for output stream"


@dataclass(frozen=True)
class Source:
    """The source video as a failure message names it, and how ffmpeg tells its streams apart."""

    name: str                 # the file as the user gave it
    video_stream: int         # the picture's stream index (ffmpeg's input stream 0:N)
    video_codec: str          # ffprobe's codec name, the name of ffmpeg's own decoder for it
    audio_codec: str | None = None


def log_ends(path: str) -> tuple[str, str]:
    """(first, last) _END_BYTES of the log file, each cut to whole lines; the same text twice when it is short."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(_END_BYTES)
            if size > _END_BYTES:
                f.seek(size - _END_BYTES)
                return _whole_lines(head, f.read())
    except OSError:
        return "", ""
    return _whole_lines(head, None)


def text_ends(log: bytes) -> tuple[str, str]:
    """log_ends of a log held in memory (ffmpeg's stderr, captured)."""
    return _whole_lines(log[:_END_BYTES], log[-_END_BYTES:] if len(log) > _END_BYTES else None)


def _whole_lines(head: bytes, tail: bytes | None) -> tuple[str, str]:
    if tail is None:
        text = head.decode("utf-8", "replace")
        return text, text
    return (head.decode("utf-8", "replace").rsplit("\n", 1)[0],
            tail.decode("utf-8", "replace").split("\n", 1)[-1])  # from the first whole line


def one_line(text: str, limit: int = TAIL_LIMIT) -> str:
    """ffmpeg's complaint folded into one line: each line of `text` (the log's end) once; if too
    long, the first of those lines (the cause, when there are few) and the last (the effect)."""
    lines = list(dict.fromkeys(ln.strip() for ln in text.splitlines() if ln.strip()))
    out = " | ".join(lines)
    if len(out) > limit and len(lines) > 2:
        out = f"{lines[0]} | … | {lines[-1]}"
    return out[:limit]


def log_tail(path: str, limit: int = TAIL_LIMIT) -> str:
    """one_line of the log file's end."""
    return one_line(log_ends(path)[1], limit)


def undecodable(path: str, source: Source) -> str:
    """'<file>: no frame of its <codec> video decodes (<the decoder's first complaint>) …' when the
    log says that ffmpeg failed because a stream of the source never gave a frame; else ''."""
    head, tail = log_ends(path)
    found = _NO_FRAME.search(tail) or _NO_FRAME.search(head)
    if found:
        stream = int(found.group(1))
    elif _PILED_UP_42 in tail and (old := _DECODE_FAILED_42.search(tail) or _DECODE_FAILED_42.search(head)):
        stream = int(old.group(1))
    else:
        return ""
    if stream == source.video_stream:
        codec, what = source.video_codec, f"its {source.video_codec} video"
    else:  # the only other stream a render decodes: audio it re-encodes
        codec = source.audio_codec or ""
        what = f"its {codec} audio" if codec else f"its stream #{stream}"
    said = first_complaint(head, codec)
    return (f"{source.name}: no frame of {what} decodes{f' ({said})' if said else ''}; "
            f"the file is damaged, or this ffmpeg cannot decode it")


def first_complaint(text: str, codec: str) -> str:
    """The first line logged by `codec`'s decoder, without its "[name @ 0x…]" tags."""
    if not codec:
        return ""
    marks = (f"[{codec} @ ", f"[dec:{codec} @ ")
    said = "\n".join(ln for ln in text.splitlines() if any(m in ln for m in marks))
    return first_error_line(said)[:200].rstrip(".") if said.strip() else ""
