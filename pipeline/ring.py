"""The shared-memory ring: K overlay frames that workers draw into and the writer reads.

One process (main) creates and unlinks it; children attach by name. Slots are
64-byte aligned so numpy and Pillow get aligned rows. A slot holds one raw
frame exactly as ffmpeg reads it: packed RGBA, or planar yuva420p (Y, U, V at
half size, then A) when the workers convert the overlay themselves.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

_ALIGN = 64


@dataclass(frozen=True)
class RingSpec:
    """Everything a child needs to attach: picklable, tiny."""

    name: str
    slots: int
    width: int
    height: int
    pix_fmt: str = "rgba"      # or "yuva420p" (even width and height)

    @property
    def channels(self) -> int:
        """Bytes per pixel of a packed RGBA slot."""
        return 4

    @property
    def frame_bytes(self) -> int:
        if self.pix_fmt == "yuva420p":
            return self.width * self.height * 2 + (self.width // 2) * (self.height // 2) * 2
        return self.width * self.height * 4

    @property
    def stride(self) -> int:
        return -(-self.frame_bytes // _ALIGN) * _ALIGN

    @property
    def total_bytes(self) -> int:
        return self.stride * self.slots


class Ring:
    """A mapped ring; `create` in the main process, `attach` in children."""

    def __init__(self, spec: RingSpec, shm: shared_memory.SharedMemory, owner: bool):
        self.spec = spec
        self._shm = shm
        self._owner = owner

    @classmethod
    def create(cls, slots: int, width: int, height: int, pix_fmt: str = "rgba") -> "Ring":
        if pix_fmt not in ("rgba", "yuva420p"):
            raise ValueError(f"ring pixel format {pix_fmt!r} is not rgba or yuva420p")
        if pix_fmt == "yuva420p" and (width % 2 or height % 2):
            raise ValueError(f"a yuva420p ring needs an even size, not {width}x{height}")
        name = f"overdash-{os.getpid()}-{secrets.token_hex(4)}"  # the pid names the owner of a leak
        spec = RingSpec(name, slots, width, height, pix_fmt)
        shm = shared_memory.SharedMemory(name=name, create=True, size=spec.total_bytes)
        return cls(spec, shm, owner=True)

    @classmethod
    def attach(cls, spec: RingSpec) -> "Ring":
        shm = _attach_untracked(spec.name)
        return cls(spec, shm, owner=False)

    def buffer(self, slot: int) -> memoryview:
        start = slot * self.spec.stride
        return self._shm.buf[start:start + self.spec.frame_bytes]

    def array(self, slot: int) -> np.ndarray:
        """(height, width, 4) uint8 view of an RGBA slot: no copy."""
        s = self.spec
        if s.pix_fmt != "rgba":
            raise ValueError(f"slot of a {s.pix_fmt} ring is planar: use planes()")
        return np.ndarray((s.height, s.width, 4), np.uint8, self._shm.buf, slot * s.stride)

    def planes(self, slot: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(Y, U, V, A) uint8 views of a yuva420p slot, in ffmpeg's plane order: no copy."""
        s = self.spec
        if s.pix_fmt != "yuva420p":
            raise ValueError(f"slot of a {s.pix_fmt} ring is packed: use array()")
        w, h, cw, ch = s.width, s.height, s.width // 2, s.height // 2
        base = slot * s.stride
        y = np.ndarray((h, w), np.uint8, self._shm.buf, base)
        u = np.ndarray((ch, cw), np.uint8, self._shm.buf, base + w * h)
        v = np.ndarray((ch, cw), np.uint8, self._shm.buf, base + w * h + cw * ch)
        a = np.ndarray((h, w), np.uint8, self._shm.buf, base + w * h + 2 * cw * ch)
        return y, u, v, a

    def close(self) -> None:
        """Unmap; the owner also unlinks. Safe to call twice."""
        shm, self._shm = self._shm, None
        if shm is None:
            return
        try:
            shm.close()
        except BufferError:
            pass  # a view is still alive; the mapping goes with the process
        if self._owner:
            try:
                shm.unlink()
            except FileNotFoundError:
                pass


def _attach_untracked(name: str) -> shared_memory.SharedMemory:
    """Attach without giving this process a say in the segment's lifetime.

    Python 3.13+ says so with track=False. Before that, attaching registers the
    name with the resource tracker too, which is harmless here: spawned children
    share main's tracker, whose registry is a set, so the name stays registered
    once and main's unlink is the one that removes it.
    """
    try:
        return shared_memory.SharedMemory(name=name, track=False)  # 3.13+
    except TypeError:
        return shared_memory.SharedMemory(name=name)
