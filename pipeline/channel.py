"""A many-writers, one-reader message channel whose read end the main process can
`multiprocessing.connection.wait` on together with the children's sentinels —
that is how a dead child is noticed at once instead of hanging a blocking get().
"""
from __future__ import annotations

from multiprocessing.connection import Connection


class Channel:
    """Pipe read end + write end + a lock so concurrent writers never interleave."""

    def __init__(self, ctx):
        self._reader, self._writer = ctx.Pipe(duplex=False)
        self._lock = ctx.Lock()

    @property
    def reader(self) -> Connection:
        return self._reader

    def put(self, msg) -> None:
        with self._lock:
            self._writer.send(msg)

    def get(self):
        return self._reader.recv()

    def poll(self, timeout: float = 0.0) -> bool:
        return self._reader.poll(timeout)

    def drain(self) -> list:
        """Every message already waiting, without blocking."""
        out = []
        while self._reader.poll():
            out.append(self._reader.recv())
        return out

    def close(self) -> None:
        self._reader.close()
        self._writer.close()
