"""The shared-memory ring: K overlay frames that workers draw into and the writer reads.

One process (main) creates it. Forked children inherit an anonymous shared mapping:
nothing is named, so nothing can leak, and no resource-tracker process has to start
(~12 ms of start-up, and as much CPU taken from ffmpeg). Spawned children attach by
name to a POSIX shared-memory segment, which main unlinks, also on failure. Slots are
64-byte aligned so numpy and Pillow get aligned rows. A slot holds one raw
frame per dashboard region, back to back, each exactly as ffmpeg
reads it: packed RGBA, or planar yuva420p (Y, U, V at half size, then A) when
the workers convert the overlay themselves. Each region crosses to ffmpeg as a
NUT stream of its own (encoders.nut), and only when it changed.

The mapping ends with one spare row of the widest RGBA region: a Pillow view of a box
inside a region (pipeline.canvas) spans whole rows of the region, so one whose box starts
right of x = 0 in the region's last rows reaches past its end. Nothing is written there.
"""
from __future__ import annotations

import mmap
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

RegionSize = tuple[int, int]  # (width, height) of a dashboard region: a slice of every slot, a NUT stream
_ALIGN = 64
# Anonymous rings this process created, by name: a forked child finds its inherited
# mapping here (process-local: each process sees the dict as it was when it was forked).
_INHERITED: dict[str, mmap.mmap] = {}


@dataclass(frozen=True)
class RingSpec:
    """Everything a child needs to attach: picklable, tiny."""

    name: str                  # of the named segment, or the key of an inherited anonymous mapping
    slots: int
    width: int
    height: int
    pix_fmt: str = "rgba"      # or "yuva420p" (even width and height)
    # (width, height) of each region, frames back to back; () = one region, width x height
    regions: tuple[RegionSize, ...] = ()

    @property
    def region_sizes(self) -> tuple[RegionSize, ...]:
        return self.regions or ((self.width, self.height),)

    def region_span(self, region: int) -> tuple[int, int]:
        """(offset in the slot, bytes) of a region."""
        sizes = [self._bytes(w, h) for w, h in self.region_sizes]
        return sum(sizes[:region]), sizes[region]

    @property
    def frame_bytes(self) -> int:
        """Bytes of all regions of a slot."""
        return sum(self._bytes(w, h) for w, h in self.region_sizes)

    @property
    def stride(self) -> int:
        return -(-self.frame_bytes // _ALIGN) * _ALIGN

    @property
    def total_bytes(self) -> int:
        """The slots, then the spare row that views of boxes of RGBA regions may reach into."""
        spare = max(w * 4 for w, _ in self.region_sizes) if self.pix_fmt == "rgba" else 0
        return self.stride * self.slots + -(-spare // _ALIGN) * _ALIGN

    def _bytes(self, width: int, height: int) -> int:
        return _yuva_bytes(width, height) if self.pix_fmt == "yuva420p" else width * height * 4


class Ring:
    """A mapped ring; `create` in the main process, `attach` in children."""

    def __init__(self, spec: RingSpec, mapping, owner: bool, shm=None):
        self.spec = spec
        self._map = mapping          # mmap.mmap, or the SharedMemory's memoryview
        self._buf: Any = memoryview(mapping)  # a memoryview; None once closed
        self._owner = owner
        self._shm = shm              # multiprocessing.shared_memory.SharedMemory, when named

    @classmethod
    def create(cls, slots: int, width: int, height: int, pix_fmt: str = "rgba",
               regions: tuple[RegionSize, ...] = (), inherited: bool = False) -> "Ring":
        """inherited: the children are forked (they inherit an anonymous mapping);
        otherwise they attach to a named segment."""
        if pix_fmt not in ("rgba", "yuva420p"):
            raise ValueError(f"ring pixel format {pix_fmt!r} is not rgba or yuva420p")
        for w, h in regions or ((width, height),):
            if w <= 0 or h <= 0:
                raise ValueError(f"a ring needs positive sizes, not {w}x{h}")
            if pix_fmt == "yuva420p" and (w % 2 or h % 2):
                raise ValueError(f"a yuva420p ring needs even sizes, not {w}x{h}")
        name = f"overdash-{os.getpid()}-{os.urandom(4).hex()}"  # the pid names the owner of a leak
        spec = RingSpec(name, slots, width, height, pix_fmt, tuple(regions))
        if inherited:
            _INHERITED[name] = mapping = mmap.mmap(-1, spec.total_bytes, flags=mmap.MAP_SHARED)
            return cls(spec, mapping, owner=True)
        from multiprocessing import shared_memory

        shm = shared_memory.SharedMemory(name=name, create=True, size=spec.total_bytes)
        return cls(spec, shm.buf, owner=True, shm=shm)

    @classmethod
    def attach(cls, spec: RingSpec) -> "Ring":
        inherited = _INHERITED.get(spec.name)
        if inherited is not None:
            return cls(spec, inherited, owner=False)
        shm = _attach_untracked(spec.name)
        return cls(spec, shm.buf, owner=False, shm=shm)

    def buffer(self, slot: int, region: int | None = None) -> memoryview:
        """The slot's bytes, or those of one region of it (one region's frame, as it crosses the pipe)."""
        start = slot * self.spec.stride
        if region is None:
            return self._buf[start:start + self.spec.frame_bytes]
        offset, size = self.spec.region_span(region)
        return self._buf[start + offset:start + offset + size]

    def tail(self, slot: int, region: int, offset: int) -> memoryview:
        """The mapping from byte `offset` of one region of a slot to its end (the spare row
        included): room for a Pillow view of any box of an RGBA region, rows a region's width apart."""
        return self._buf[slot * self.spec.stride + self.spec.region_span(region)[0] + offset:]

    def array(self, slot: int, region: int = 0) -> np.ndarray:
        """(height, width, 4) uint8 view of one region of an RGBA slot: no copy."""
        s = self.spec
        if s.pix_fmt != "rgba":
            raise ValueError(f"slot of a {s.pix_fmt} ring is planar: use planes()")
        w, h = s.region_sizes[region]
        return np.ndarray((h, w, 4), np.uint8, self._buf, slot * s.stride + s.region_span(region)[0])

    def planes(self, slot: int, region: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(Y, U, V, A) uint8 views of one region of a yuva420p slot, in ffmpeg's plane order: no copy."""
        s = self.spec
        if s.pix_fmt != "yuva420p":
            raise ValueError(f"slot of a {s.pix_fmt} ring is packed: use array()")
        w, h = s.region_sizes[region]
        cw, ch = w // 2, h // 2
        base = slot * s.stride + s.region_span(region)[0]
        y = np.ndarray((h, w), np.uint8, self._buf, base)
        u = np.ndarray((ch, cw), np.uint8, self._buf, base + w * h)
        v = np.ndarray((ch, cw), np.uint8, self._buf, base + w * h + cw * ch)
        a = np.ndarray((h, w), np.uint8, self._buf, base + w * h + 2 * cw * ch)
        return y, u, v, a

    def close(self) -> None:
        """Unmap; the owner also unlinks a named segment. Safe to call twice."""
        buf, self._buf = self._buf, None
        if buf is None:
            return
        shm, mapping = self._shm, self._map
        self._shm = self._map = None
        if self._owner and shm is None:
            _INHERITED.pop(self.spec.name, None)
        try:
            buf.release()
            if shm is not None:
                shm.close()
            elif self._owner:
                mapping.close()
        except BufferError:
            pass  # a view is still alive; the mapping goes with the process
        if shm is not None and self._owner:
            try:
                shm.unlink()
            except FileNotFoundError:
                pass


def _yuva_bytes(width: int, height: int) -> int:
    return width * height * 2 + (width // 2) * (height // 2) * 2


def _attach_untracked(name: str):
    """Attach without giving this process a say in the segment's lifetime.

    Python 3.13+ says so with track=False. Before that, attaching registers the
    name with the resource tracker too, which is harmless here: spawned children
    share main's tracker, whose registry is a set, so the name stays registered
    once and main's unlink is the one that removes it.
    """
    from multiprocessing import shared_memory

    try:
        return shared_memory.SharedMemory(name=name, track=False)  # type: ignore[call-arg]  # 3.13+
    except TypeError:
        return shared_memory.SharedMemory(name=name)
