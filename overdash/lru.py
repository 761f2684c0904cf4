"""The one least-recently-used cache: by entry count, by a byte budget, or both.

Widgets cache rasters by the value they show (the text "23", the needle at 41°):
a long ride shows thousands of values, so each cache is bounded, by count where
entries are alike and by bytes where their sizes differ widely.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")

_MISSING = object()


class LRU(Generic[V]):
    """`get(key, make)` builds a value once per key while it stays cached.

    `maxsize`: most entries kept; `budget`: most bytes kept, each entry weighing
    `size_of(value)` (or the `nbytes` given to `put`). The newest entry is always
    kept, however large.
    """

    def __init__(self, maxsize: int | None = None, *, budget: int | None = None,
                 size_of: Callable[[V], int] | None = None):
        self.maxsize, self.budget, self.size_of = maxsize, budget, size_of
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.used = 0
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], V] | None = None) -> V | None:
        """The cached value (now most recent); else `make()` cached, or None without `make`."""
        hit = self._items.get(key, _MISSING)
        if hit is not _MISSING:
            self._items.move_to_end(key)
            return hit[0]  # type: ignore[index]
        if make is None:
            return None
        self.misses += 1
        value = make()
        self.put(key, value)
        return value

    def put(self, key: Hashable, value: V, nbytes: int | None = None) -> None:
        if nbytes is None:
            nbytes = self.size_of(value) if self.size_of is not None else 1
        old = self._items.pop(key, None)
        if old is not None:
            self.used -= old[1]
        self._items[key] = (value, nbytes)
        self.used += nbytes
        while len(self._items) > 1 and (
                (self.maxsize is not None and len(self._items) > self.maxsize)
                or (self.budget is not None and self.used > self.budget)):
            _, (_, n) = self._items.popitem(last=False)
            self.used -= n

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


def image_bytes(image) -> int:
    """What an RGBA raster (or None) weighs in a byte-budgeted cache."""
    return 64 if image is None else image.width * image.height * 4
