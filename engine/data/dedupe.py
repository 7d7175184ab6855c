"""Exact duplicate rows: rows equal in every loaded column to an earlier row.

A 64-bit hash of each row is filtered through a count table (a row whose bucket holds no other
row cannot be a duplicate; the table has about four buckets per row, at most 2^25), again with
another slice of the hash for the rows left, until a few percent of the rows are candidates;
only those are grouped by hash, and rows with equal hashes are then compared value by value, so a
hash collision can never drop a row. Linear time, no sort of all the rows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

_BUCKET_BITS = 25  # at most a count table of 33.6M entries (256 MB)
_MIN_BUCKET_BITS = 8
_PASSES = 6
_MIX = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
        0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3)


def duplicate_rows(columns: list[np.ndarray]) -> np.ndarray:
    """True for each row equal in every column to an earlier row (the first is kept).
    Floats are compared bit for bit, so an empty (NaN) value equals another empty value."""
    n = len(columns[0])
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    h = np.empty(n, dtype=np.uint64)
    _on_halves(n, lambda lo, hi: _row_hash([c[lo:hi] for c in columns], out=h[lo:hi]))
    rows, h = _candidates(h)
    suspect = pd.Series(h).duplicated(keep=False).to_numpy()
    idx = rows[suspect]
    if not len(idx):
        return out
    frame = pd.DataFrame({f"c{i}": _bits(c[idx]) for i, c in enumerate(columns)})
    out[idx[frame.duplicated(keep="first").to_numpy()]] = True
    return out


def _candidates(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows (and their hashes) that share a bucket with another in every pass of the
    filter, each pass another slice of the hash (multiplied by its own odd constant), until
    they are few (a 64th of the rows) or the passes are done: with more rows than buckets
    (28.5M rows at 3M customers) one or two passes leave most of them."""
    n = len(h)
    rows: np.ndarray | None = None  # all rows, not made (28.5M row numbers: 230 MB)
    for mix in _MIX[:_PASSES]:
        if len(h) < 2 or len(h) <= n // 64 < n:
            break
        shared = _in_shared_bucket(h, np.uint64(mix), _bucket_bits(len(h)))
        rows = np.flatnonzero(shared) if rows is None else rows[shared]
        h = h[shared]
    return (np.arange(n, dtype=np.intp) if rows is None else rows), h


def _bucket_bits(rows: int) -> int:
    """Bits of the hash that name a bucket: about four buckets per row, so that the table is
    sized to the data (a table of 2^25 counts costs a fifth of a second to fill and read,
    whatever the rows) and the filter leaves as few candidates at any size."""
    return min(_BUCKET_BITS, max(_MIN_BUCKET_BITS, (rows - 1).bit_length() + 2))


def _in_shared_bucket(h: np.ndarray, mix: np.uint64, bits: int) -> np.ndarray:
    """True where another row falls in the same bucket: the top ``bits`` bits of the hash
    times ``mix``."""
    shift = np.uint64(64 - bits)
    with np.errstate(over="ignore"):
        bucket = ((h * mix) >> shift).astype(np.intp)
    counts = np.bincount(bucket, minlength=1 << bits)
    del bucket
    shared = np.empty(len(h), dtype=bool)

    def look_up(lo: int, hi: int) -> None:
        with np.errstate(over="ignore"):
            part = ((h[lo:hi] * mix) >> shift).astype(np.intp)
        np.greater(counts[part], 1, out=shared[lo:hi])

    _on_halves(len(h), look_up)
    return shared


def _on_halves(n: int, work: Callable[[int, int], object]) -> None:
    """Run ``work(lo, hi)`` on the two halves of 0..n at once (numpy releases the GIL)."""
    if n < 100_000:
        work(0, n)
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda bounds: work(*bounds), [(0, n // 2), (n // 2, n)]))


def _bits(col: np.ndarray) -> np.ndarray:
    """The column as 64-bit integers: floats by their bits, other numbers by value."""
    col = np.ascontiguousarray(col)
    if col.dtype.itemsize == 8:
        return col.view(np.uint64)
    return col.astype(np.int64).view(np.uint64)


def _row_hash(columns: list[np.ndarray], out: np.ndarray) -> np.ndarray:
    """A sum of each column's bits times its own odd constant, then one final mix: two passes
    over memory per column, into preallocated buffers."""
    h = out
    h[:] = 0
    term = np.empty(len(h), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, col in enumerate(columns):
            if col.dtype.itemsize == 8:
                np.multiply(np.ascontiguousarray(col).view(np.uint64), np.uint64(_MIX[i % 8]),
                            out=term)
            else:
                term[:] = col
                term *= np.uint64(_MIX[i % 8])
            h += term
        for multiplier in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):  # MurmurHash3's finaliser
            np.right_shift(h, np.uint64(33), out=term)
            h ^= term
            h *= np.uint64(multiplier)
        np.right_shift(h, np.uint64(33), out=term)
        h ^= term
    return h
