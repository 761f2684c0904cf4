"""Writer process: the only process that talks to ffmpeg.

Workers finish out of order; the writer holds a small reorder map and streams
slots to ffmpeg's stdin strictly in frame order, then hands each slot back to
main. The pipe is enlarged (MEASURED.md: 64 KiB → 1 MiB is 3× the throughput).
With a NUT header (yuva420p overlays) each region is a stream of its own, and a
region that repeats the frame before is not sent at all: ffmpeg keeps showing a
stream's last frame until its next timestamp.
"""
from __future__ import annotations

import os
import subprocess
import traceback
from dataclasses import dataclass

from encoders.nut import frame_head
from pipeline.messages import STOP, Failed, Finished, Started, Written
from pipeline.procs import child_setup, die_with_parent
from pipeline.ring import Ring, RingSpec

PIPE_BYTES = 1 << 20
# With NUT, an unchanged region is still sent after this many frames. To know that a region
# has not changed at frame k, ffmpeg must read that region's next frame, and it holds every
# frame of the other regions read on the way: this bounds that read-ahead (memory), and how
# far the writer (and the progress bar) can run ahead of the encoder.
KEEPALIVE_FRAMES = 10
_F_SETPIPE_SZ = 1031
STDERR_TAIL = 600


@dataclass(frozen=True)
class WriterArgs:
    ring: RingSpec
    argv: tuple[str, ...]
    count: int
    stderr_path: str
    env: tuple[tuple[str, str], ...] = ()  # added to ffmpeg's environment
    # NUT header (encoders.nut.header, one stream per ring part), or b"" for back-to-back raw
    # frames. With it, only regions that differ from the frame before are sent, pts = frame index.
    nut_header: bytes = b""


def writer_main(args: WriterArgs, drawn, events) -> None:
    child_setup("overdash-writer")
    proc = None
    try:
        ring = Ring.attach(args.ring)
        with open(args.stderr_path, "wb") as err:
            proc = subprocess.Popen(
                list(args.argv), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                env={**os.environ, **dict(args.env)} if args.env else None,
                start_new_session=True,  # Ctrl-C is main's to handle, not ffmpeg's
                preexec_fn=die_with_parent,
            )
        events.put(Started(proc.pid))
        fd = proc.stdin.fileno()
        _grow_pipe(fd)
        pending: dict[int, tuple[int, int]] = {}
        nxt = 0
        last_sent = [0] * len(ring.spec.part_sizes)
        try:
            if args.nut_header:
                _write_all(fd, memoryview(args.nut_header))
        except BrokenPipeError:
            events.put(_ffmpeg_failed(proc, args.stderr_path, "stopped reading before the first overlay frame"))
            raise SystemExit(1)
        while nxt < args.count:
            msg = drawn.get()
            if msg is STOP:
                proc.kill()
                return
            pending[msg.frame] = (msg.slot, msg.changed)
            while nxt in pending:
                slot, changed = pending.pop(nxt)
                try:
                    if not args.nut_header:
                        _write_all(fd, ring.buffer(slot))
                    else:
                        for part, sent in enumerate(last_sent):
                            if changed & (1 << part) or nxt == 0 or nxt - sent >= KEEPALIVE_FRAMES:
                                _send(fd, ring, slot, part, pts=nxt)
                                last_sent[part] = nxt
                except BrokenPipeError:
                    # ffmpeg stopped reading: fatal unless it then exits cleanly.
                    if _close_and_wait(proc) == 0:
                        events.put(Finished(nxt))
                        return
                    events.put(_ffmpeg_failed(proc, args.stderr_path, f"stopped reading at overlay frame {nxt}"))
                    raise SystemExit(1)
                events.put(Written(nxt, slot))
                nxt += 1
        proc.stdin.close()
        code = proc.wait()
        if code != 0:
            events.put(_ffmpeg_failed(proc, args.stderr_path, "failed"))
            raise SystemExit(1)
        events.put(Finished(nxt))
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure must reach main
        if proc is not None:
            proc.kill()
        events.put(Failed("writer", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        raise SystemExit(1)


def _send(fd: int, ring: Ring, slot: int, part: int, pts: int) -> None:
    """One region of the slot as NUT frame `pts` of stream `part`. The slot's memoryview
    lives only here: one outliving the ring would stop its mapping from closing."""
    data = ring.buffer(slot, part)
    _write_all(fd, memoryview(frame_head(pts, len(data), part)))
    _write_all(fd, data)


def _write_all(fd: int, buf: memoryview) -> None:
    view = buf.cast("B")
    while view:
        view = view[os.write(fd, view):]


def _grow_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, OSError):
        pass  # smaller pipe: slower, still correct


def _close_and_wait(proc: subprocess.Popen) -> int:
    try:
        proc.stdin.close()
    except OSError:
        pass
    return proc.wait()


def _ffmpeg_failed(proc: subprocess.Popen, stderr_path: str, what: str) -> Failed:
    code = _close_and_wait(proc)
    tail = stderr_tail(stderr_path)
    return Failed("ffmpeg", f"{what} (exit status {code}){': ' + tail if tail else ''}")


def stderr_tail(path: str, limit: int = STDERR_TAIL) -> str:
    """ffmpeg's complaint folded into one line: its first line names the cause, its last the effect."""
    try:
        with open(path, "rb") as f:
            text = f.read()[-8192:].decode("utf-8", "replace")
    except OSError:
        return ""
    lines = list(dict.fromkeys(ln.strip() for ln in text.splitlines() if ln.strip()))
    out = " | ".join(lines)
    if len(out) > limit and len(lines) > 2:
        out = f"{lines[0]} | … | {lines[-1]}"
    return out[:limit]
