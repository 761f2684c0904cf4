"""The writer's relay thread: coded frames from the encoding ffmpeg, each sent to the muxing one
once for every overlay frame it stands for (encoders.repeat has the whole picture).

    writer loop ──start(frame) per distinct picture, end()──▶ starts queue
    encoding ffmpeg ──ProRes frame u──▶ relay ──frame u as NUT pts f_u … f_(u+1)-1──▶ muxing ffmpeg

The writer puts a distinct picture's first frame index in the queue before it sends the
picture: the relay, holding frame u, waits only for the writer to find picture u+1, never for
ffmpeg, so the three never wait on each other in a circle. A relay that fails closes the
encoder's stdout (which then dies on its next write, so the writer's own write breaks) and
keeps the first error for finish() to raise.
"""
from __future__ import annotations

import os
import queue
import threading
from multiprocessing.connection import Connection

from encoders.nut import frame_head
from encoders.repeat import read_frame
from overdash import RenderError


class Relay:
    """Started by the writer with the pipes main handed over (pipeline.encoder.EncoderChain)."""

    def __init__(self, packets: Connection, mux: Connection, count: int, header: bytes):
        self._packets, self._mux, self._count, self._header = packets, mux, count, header
        self._starts: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._error: BaseException | None = None
        # A ffmpeg ended early (the muxer stopped reading, or the encoder's frames stopped):
        # main asks them why, from their exit statuses.
        self.stopped = False
        self._thread = threading.Thread(target=self._run, name="overdash-relay", daemon=True)
        self._thread.start()

    def start(self, frame: int) -> None:
        """Overlay frame `frame` begins a distinct picture (the writer sends it next)."""
        self._starts.put(frame)

    def finish(self) -> None:
        """After the encoder's stdin closed: wait for every frame to be relayed; raise what went wrong
        other than a ffmpeg ending early (`stopped`)."""
        self._starts.put(self._count)  # the end of the last picture's run
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            write_all(self._mux.fileno(), self._header)
            first = self._starts.get()
            while first < self._count:
                frame = read_frame(self._packets.fileno())
                if frame is None:
                    self.stopped = True
                    return
                end = self._starts.get()
                for pts in range(first, end):
                    write_all(self._mux.fileno(), frame_head(pts, len(frame)))
                    write_all(self._mux.fileno(), frame)
                first = end
            if read_frame(self._packets.fileno()) is not None:
                raise RenderError("the encoder gave more frames than pictures were sent")
        except (BrokenPipeError, EOFError):  # the muxer stopped reading, the encoder died mid-frame
            self.stopped = True
        except BaseException as exc:  # noqa: BLE001 - kept for finish(), the writer reports it
            self._error = exc
        finally:
            self._packets.close()  # an encoder still writing dies of it rather than blocking
            self._mux.close()      # the muxer sees the end


def write_all(fd: int, data) -> None:
    """All of `data` (bytes or a memoryview of any format) to a blocking pipe."""
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view):]
