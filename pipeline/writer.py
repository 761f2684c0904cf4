"""Writer process: the only process that writes to ffmpeg.

Workers finish out of order; the writer holds a small reorder map and streams
slots to ffmpeg's stdin strictly in frame order, then hands each slot back to
main. The stream is NUT (encoders.nut), in either pixel format: each region is a
stream of its own, and a region that repeats the frame before is not sent at all
(the worker says which differ): ffmpeg keeps showing a stream's last frame until
its next timestamp. With `tail`, every region goes once more after the last frame, at
pts = count: a blend that drops a region once its stream ends
(encoders.command.BLEND_REGION_END) then keeps it to the video's end, and the graphs that
repeat a region trim the tail away. ffmpeg itself is main's
(pipeline.encoder): the writer gets the write end of its stdin, and says how the
stream ended — all sent (Finished) or ffmpeg stopped reading (Stopped).
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

from encoders.nut import frame_head, syncpoint
from pipeline.messages import STOP, Failed, Finished, Stopped, Written
from pipeline.procs import child_setup
from pipeline.relay import Relay, write_all
from pipeline.ring import Ring, RingSpec

# An unchanged region is still sent after this many frames. To know that a region
# has not changed at frame k, ffmpeg must read that region's next frame, and it holds every
# frame of the other regions read on the way: this bounds that read-ahead (memory), and how
# far the writer (and the progress bar) can run ahead of the encoder. ffmpeg's reader queue is
# sized for that read-ahead (encoders.command.composite_nut_input).
KEEPALIVE_FRAMES = 10


def report_batch(slots: int) -> int:
    """Written frames go back to main this many slots at a time, half the ring (and all of them
    before the writer would wait for a worker): a message wakes main, and main hands each worker
    its share of them in one message, so the fewer the messages the fewer the wake-ups. The
    other half of the ring keeps the workers busy meanwhile."""
    return max(1, slots // 2)


@dataclass(frozen=True)
class WriterArgs:
    ring: RingSpec
    stdin: Connection          # write end of ffmpeg's stdin (pipeline.encoder.Encoder.stdin_for_writer)
    count: int
    # encoders.nut.header: one stream per ring region. Frames follow it with pts = frame index, a
    # region only when it differs from the frame before or `keepalive` frames have passed.
    nut_header: bytes
    keepalive: int = KEEPALIVE_FRAMES  # 1: every region of every frame
    tail: bool = False  # after the last frame, every region again at pts = count (module doc)
    # Repeated frames (encoders.repeat, pipeline.relay): the encoding ffmpeg's stdout, the muxing
    # ffmpeg's stdin and its NUT header. The stdin stream then has a clock as stream 0 and pts
    # counts distinct pictures: a frame where nothing changed is not sent at all.
    packets: Connection | None = None
    muxer: Connection | None = None
    mux_header: bytes = b""
    clock: bytes = b""  # stream 0's one pixel, in the encoder's own pixel format


def writer_main(args: WriterArgs, drawn, events) -> None:
    child_setup("overdash-writer")
    nxt = 0
    try:
        ring = Ring.attach(args.ring)
        fd = args.stdin.fileno()
        pending: dict[int, tuple[int, int]] = {}
        last_sent = [0] * len(ring.spec.region_sizes)
        relay = (Relay(args.packets, args.muxer, args.count, args.mux_header)
                 if args.packets is not None and args.muxer is not None else None)
        first_stream = 1 if relay else 0
        pts = 0  # of what ffmpeg reads: the frame, or with a relay the distinct picture
        unreported: list[int] = []  # slots written and not yet handed back
        batch = report_batch(ring.spec.slots)

        def report() -> None:
            events.put(Written(nxt - 1, tuple(unreported)))
            unreported.clear()

        try:
            # Frame 0's syncpoint goes with the header: ffmpeg's NUT demuxer reads on to it before the
            # input counts as open, and the compositing ffmpeg, which asks no more of the overlay
            # (encoders.command.COMPOSITE_NUT_INPUT), opens its decoder and output meanwhile.
            write_all(fd, args.nut_header + syncpoint(0))
            synced = True  # the next frame header follows that syncpoint
            while nxt < args.count:
                # Before waiting for a worker, every written slot goes back: a worker may need it.
                if unreported and (len(unreported) >= batch or drawn.empty()):
                    report()
                msg = drawn.get()
                if msg is STOP:
                    return
                pending[msg.frame] = (msg.slot, msg.changed)
                while nxt in pending:
                    slot, changed = pending.pop(nxt)
                    if relay is None or changed or nxt == 0:
                        if relay is not None:
                            relay.start(nxt)
                            write_all(fd, frame_head(pts, len(args.clock), 0, synced=synced) + args.clock)
                            synced = False
                        for region, sent in enumerate(last_sent):
                            if changed & (1 << region) or pts == 0 or pts - sent >= args.keepalive:
                                _send(fd, ring, slot, region, pts, first_stream + region, synced)
                                last_sent[region] = pts
                                synced = False
                        pts += 1
                    unreported.append(slot)
                    nxt += 1
            if args.tail and relay is None and args.count:  # the last frame's regions, at pts = count
                for region in range(len(last_sent)):
                    _send(fd, ring, slot, region, pts, region, synced)
                    synced = False
        except BrokenPipeError:
            # ffmpeg stopped reading: main asks ffmpeg whether that was the end or a failure.
            if unreported:
                report()
            args.stdin.close()
            if relay is not None:
                relay.finish()
            events.put(Stopped(nxt))
            return
        if unreported:
            report()
        args.stdin.close()  # ffmpeg sees the end of the overlay
        if relay is not None:
            relay.finish()
            if relay.stopped:
                events.put(Stopped(nxt))
                return
        events.put(Finished(nxt))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach main
        events.put(Failed("writer", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        raise SystemExit(1)


def _send(fd: int, ring: Ring, slot: int, region: int, pts: int, stream: int, synced: bool) -> None:
    """One region of the slot as NUT frame `pts` of `stream` (`synced`: its syncpoint is out). The
    slot's memoryview lives only here: one outliving the ring would stop its mapping from closing."""
    data = ring.buffer(slot, region)
    write_all(fd, frame_head(pts, len(data), stream, synced=synced))
    write_all(fd, data)
