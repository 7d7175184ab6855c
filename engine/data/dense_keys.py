"""Packed ids whose bytes each vary over a small range, ranked without hashing.

Customer numbers are mostly digits of one width (``0004217``, ``C3000000`` past its prefix):
each byte of their packed keys (engine.data.packing) takes one of ten values or fewer. Read as
digits of a mixed-radix number (each byte minus its least value, in a base of its range), the
keys map one to one, and in the same order, onto 0..R-1, where R is the product of the ranges.
When R is small (a few times the number of keys), a table of R flags marks the values present,
its running count ranks them, and each key's rank is a look-up: linear time, no hash table
(at 3M customers, 28.5M keys in random order: 1.3 s against 7 s hashed).
"""

from __future__ import annotations

import math

import numpy as np

_BLOCK = 1 << 16  # keys turned into numbers at a time: the work stays in the caches
_MAX_VALUES = 1 << 25  # R at most: a table of 32M flags and 32M running counts (160 MB)


def dense_ranks(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Each key's rank among the distinct keys (intp) and the distinct keys in order (uint64),
    or None when the keys' bytes span too many values (R above four per key, or 2^25)."""
    n = len(keys)
    if n == 0 or not np.little_endian:  # byte 0 of a key's memory is its lowest
        return None
    low, high = _byte_ranges(keys)
    radix = high.astype(np.int64) - low + 1
    values = math.prod(int(r) for r in radix)  # up to 256^8: Python ints, no overflow
    if values > min(max(4 * n, 1 << 16), _MAX_VALUES):
        return None
    weight = np.concatenate([[1], np.cumprod(radix)[:-1]])  # byte 0, the lowest, first
    grid = np.ascontiguousarray(keys, dtype=np.uint64).view(np.uint8).reshape(n, 8)
    number = np.empty(n, dtype=np.int64)
    varying = [int(j) for j in np.flatnonzero(radix > 1)]
    for start in range(0, n, _BLOCK):
        block = grid[start:start + _BLOCK]
        out = number[start:start + _BLOCK]
        out[:] = 0
        for j in varying:
            out += (block[:, j] - low[j]).astype(np.int64) * int(weight[j])
    present = np.zeros(values, dtype=bool)
    present[number] = True
    rank = np.cumsum(present, dtype=np.int32)
    rank -= 1
    codes = rank[number].astype(np.intp)
    distinct = np.zeros(int(rank[-1]) + 1, dtype=np.uint64)
    rest = np.flatnonzero(present)
    for j in range(8):
        digit = rest % radix[j]
        rest //= radix[j]
        distinct |= (digit + low[j]).astype(np.uint64) << np.uint64(8 * j)
    return codes, distinct


def _byte_ranges(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least and greatest value of each of the keys' 8 bytes (byte 0 the lowest), read as
    rows of 64 bytes so that each reduction runs over long rows."""
    raw = np.ascontiguousarray(keys, dtype=np.uint64).view(np.uint8)
    whole = len(keys) // 8 * 64
    low = np.full(8, 255, dtype=np.uint8)
    high = np.zeros(8, dtype=np.uint8)
    if whole:
        rows = raw[:whole].reshape(-1, 64)
        low = rows.min(axis=0).reshape(8, 8).min(axis=0)
        high = rows.max(axis=0).reshape(8, 8).max(axis=0)
    if whole < len(raw):
        rest = raw[whole:].reshape(-1, 8)
        low = np.minimum(low, rest.min(axis=0))
        high = np.maximum(high, rest.max(axis=0))
    return low, high
