"""Byte mutations for the fuzzer: each case is one seed changed a few times.

Deterministic from a random.Random, so a case is reproduced from (seed, target, index)
alone. The mutations aim at what breaks binary parsers: flipped bits, cut files,
length and count fields replaced by huge or off-by-one values, pieces of one file
spliced into another, runs of random bytes.
"""
from __future__ import annotations

import random
import struct
from typing import Callable, Sequence

# Values a corrupted length, count or size field takes: 0, off-by-one, sign bits, "4 GB".
INTERESTING_32 = (0, 1, 2, 7, 8, 9, 16, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
                  0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFF, 0x0FFFFFFF)
INTERESTING_16 = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF)
INTERESTING_8 = (0, 1, 2, 0x7F, 0x80, 0xFF)


def _pos(rng: random.Random, data: bytearray) -> int:
    return rng.randrange(len(data)) if data else 0


def bit_flip(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        if data:
            i = _pos(rng, data)
            data[i] ^= 1 << rng.randrange(8)
    return data


def byte_set(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    if data:
        data[_pos(rng, data)] = rng.choice(INTERESTING_8 + (rng.randrange(256),))
    return data


def truncate(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    if not data:
        return data
    cut = rng.randrange(len(data))
    return data[:cut] if rng.random() < 0.8 else data[cut:]


def length_field(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    """A 1-, 2-, 4- or 8-byte field, big- or little-endian, set to a size parsers trust."""
    width = rng.choice((1, 2, 4, 4, 4, 8))
    if len(data) < width:
        return data
    # Length fields sit at aligned offsets in MP4 boxes, GPMF KLV headers and FIT records.
    i = rng.randrange(len(data) - width + 1)
    if rng.random() < 0.6:
        i -= i % min(width, 4)
    order = ">" if rng.random() < 0.6 else "<"
    if width == 1:
        value = rng.choice(INTERESTING_8)
        data[i] = value
        return data
    if width == 2:
        data[i:i + 2] = struct.pack(order + "H", rng.choice(INTERESTING_16))
    elif width == 4:
        value = rng.choice(INTERESTING_32 + (len(data), len(data) - i, len(data) + 8))
        data[i:i + 4] = struct.pack(order + "I", value & 0xFFFFFFFF)
    else:
        data[i:i + 8] = struct.pack(order + "Q", rng.choice((0, 1, 2 ** 32, 2 ** 63 - 1, 2 ** 64 - 16)))
    return data


def arith(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    if data:
        i = _pos(rng, data)
        data[i] = (data[i] + rng.choice((-2, -1, 1, 2, 16, -16))) & 0xFF
    return data


def splice(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    other = rng.choice(pool) if pool else b""
    if not other:
        return data
    a, b = sorted(rng.randrange(len(other) + 1) for _ in range(2))
    at = rng.randrange(len(data) + 1)
    if rng.random() < 0.5:
        return data[:at] + other[a:b] + data[at:]
    return data[:at] + other[a:b] + data[at + (b - a):]


def duplicate(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    if not data:
        return data
    a = _pos(rng, data)
    b = min(len(data), a + rng.choice((1, 4, 8, 16, 64, 256)))
    at = rng.randrange(len(data) + 1)
    return data[:at] + data[a:b] * rng.choice((1, 2, 8)) + data[at:]


def delete(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    if not data:
        return data
    a = _pos(rng, data)
    del data[a:a + rng.choice((1, 2, 4, 8, 32, 256))]
    return data


def random_run(rng: random.Random, data: bytearray, pool: Sequence[bytes]) -> bytearray:
    n = rng.choice((1, 4, 16, 64))
    at = rng.randrange(len(data) + 1)
    junk = bytes(rng.randrange(256) for _ in range(n))
    return data[:at] + junk + data[at + n:] if rng.random() < 0.5 else data[:at] + junk + data[at:]


MUTATORS: tuple[Callable[[random.Random, bytearray, Sequence[bytes]], bytearray], ...] = (
    bit_flip, bit_flip, byte_set, truncate, length_field, length_field, length_field, arith,
    splice, duplicate, delete, random_run)


def mutate(rng: random.Random, seed: bytes, pool: Sequence[bytes], focus: tuple[int, int] | None = None) -> bytes:
    """One case: 1–8 mutations of `seed` (or, rarely, random bytes).

    `focus` (start, end): where the structure lives in a big seed (an MP4's moov): half the
    cases mutate only that span, so they are not spent on media bytes no parser reads."""
    roll = rng.random()
    if roll < 0.01:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
    if roll < 0.02:
        return seed[:rng.randrange(len(seed) + 1)]
    if focus is not None and rng.random() < 0.5:
        start, end = focus
        head, body, tail = seed[:start], bytearray(seed[start:end]), seed[end:]
        for _ in range(rng.choice((1, 1, 2, 3, 5))):
            body = rng.choice(MUTATORS)(rng, body, ())
        if len(body) != end - start:  # keep the file consistent with its own offsets as often as not
            body = body[:end - start] + bytes(max(0, end - start - len(body)))
        return head + bytes(body) + tail
    data = bytearray(seed)
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 8))):
        data = rng.choice(MUTATORS)(rng, data, pool)
    return bytes(data)
