"""Ids longer than 8 bytes (UUIDs, long order numbers) coded exactly, as integers, not as text.

Hashing ten million strings in a hash table of strings costs seconds (each probe compares text
in memory far from the last one). Here each id's bytes are read from Arrow's buffers into a
few 64-bit words (big-endian, zero-padded: ``ceil(length / 8)`` words, at most
``MAX_BYTES`` bytes), mixed into one 64-bit hash, and the hashes are coded by an integer hash
table on both cores. Exact: every row's words and length are then compared with those of the
first row of its code, and when two different ids share a hash (about one chance in 10^7 at
ten million ids) the caller is told (None) and codes the text instead.

The words also sort as the text does (byte by byte, a prefix before the longer value: words,
then length), which gives the customers their order without comparing strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_BYTES = 64  # longer ids (rare) are dictionary-encoded as text
_SLICE = 1 << 20  # rows turned into words at a time: bounds the memory of the words
_MUL = np.uint64(0x9E3779B97F4A7C15)
_MUL2 = np.uint64(0xBF58476D1CE4E5B9)
_SHIFT = np.uint64(31)


@dataclass(frozen=True)
class WideCodes:
    codes: np.ndarray  # int64 per row, 0..k-1: equal ids, equal codes (first occurrence order)
    first: np.ndarray  # int64 per code: the first row with that id
    words: np.ndarray  # uint64 (k, w): the words of each code's id
    lengths: np.ndarray  # int64 per code: its id's length in bytes

    def text_order(self) -> np.ndarray:
        """The codes sorted as their ids' text sorts (byte by byte, a prefix first)."""
        return text_order(self.words, self.lengths)


def wide_codes(text: pa.ChunkedArray | pa.Array, *,
               mix: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
               ) -> WideCodes | None:
    """Codes for text ``text`` (no nulls), or None when an id is longer than MAX_BYTES or two
    ids share a hash. ``mix``: the hash (words, lengths) -> uint64, for tests only."""
    mix = mix or _mix
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    n = len(text)
    if n == 0:
        return None
    high = pc.max(pc.binary_length(text)).as_py()
    if high is None or high > MAX_BYTES:
        return None
    width = max(1, -(-int(high) // 8))
    parts = list(_slices(chunks))
    hashes = np.empty(n, dtype=np.uint64)

    def hash_part(part: tuple[int, pa.Array]) -> None:
        start, arr = part
        hashes[start:start + len(arr)] = mix(*_words(arr, width, ordered=False))

    with ThreadPoolExecutor(max_workers=2) as pool:  # numpy releases the GIL: both cores
        list(pool.map(hash_part, parts))
        codes = _factorize(hashes, pool)
        first = np.empty(int(codes.max()) + 1, dtype=np.int64)
        first[codes[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)  # the first row wins
        firsts = text.take(pa.array(first))
        firsts = firsts.combine_chunks() if isinstance(firsts, pa.ChunkedArray) else firsts
        native, lengths = _words(firsts, width, ordered=False)

        def same(part: tuple[int, pa.Array]) -> bool:
            start, arr = part
            part_words, part_lengths = _words(arr, width, ordered=False)
            mine = codes[start:start + len(arr)]
            return bool(np.array_equal(part_lengths, lengths[mine])
                        and np.array_equal(part_words, native[mine]))

        if not all(pool.map(same, parts)):
            return None
    return WideCodes(codes, first, _words(firsts, width)[0], lengths)


def text_order(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices that sort the ids given as words and lengths as their text sorts. The first
    word settles nearly every comparison of random ids; only ids that share it are sorted on
    every word (``lexsort``)."""
    order = np.argsort(words[:, 0], kind="stable")
    lead = words[order, 0]
    tied = np.zeros(len(order), dtype=bool)
    equal = lead[1:] == lead[:-1]
    tied[1:] |= equal
    tied[:-1] |= equal
    at = np.flatnonzero(tied)
    if len(at):  # tied rows sit together, grouped by their first word: sort them in place
        sub = order[at]
        keys = [lengths[sub], *(words[sub, j] for j in range(words.shape[1] - 1, -1, -1))]
        order[at] = sub[np.lexsort(keys)]
    return order


def _slices(chunks: list[pa.Array]) -> Iterator[tuple[int, pa.Array]]:
    start = 0
    for chunk in chunks:
        for lo in range(0, len(chunk), _SLICE):
            part = chunk.slice(lo, _SLICE)
            yield start + lo, part
        start += len(chunk)


def _words(arr: pa.Array, width: int, *, ordered: bool = True
           ) -> tuple[np.ndarray, np.ndarray]:
    """Each value's bytes as ``width`` words, zero-padded, and its length. ``ordered``:
    big-endian words, which sort as the text; else the machine's own (equal as the text is
    equal, one copy fewer), for hashing and comparing."""
    kind = np.int64 if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(
        arr.type) else np.int32
    m = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=kind, count=m + 1,
                            offset=arr.offset * np.dtype(kind).itemsize).astype(np.int64)
    data = np.frombuffer(arr.buffers()[2] or b"\0", dtype=np.uint8)
    lengths = np.diff(offsets)
    body = data[offsets[0]:offsets[-1]]
    if m and lengths.min() == lengths.max():  # one length (UUIDs): a reshape, no gather
        size = int(lengths[0])
        grid = np.empty((m, 8 * width), dtype=np.uint8)
        grid[:, size:] = 0
        grid[:, :size] = body.reshape(m, size)
    else:
        grid = np.zeros((m, 8 * width), dtype=np.uint8)
        if m:
            row = np.repeat(np.arange(m, dtype=np.int64), lengths)
            col = np.arange(len(body), dtype=np.int64) - np.repeat(offsets[:-1] - offsets[0],
                                                                   lengths)
            grid[row, col] = body
    if ordered:
        return grid.view(">u8").astype(np.uint64), lengths
    return grid.view(np.uint64), lengths


def _mix(words: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's words and length (multiply and xor-shift per word)."""
    h: np.ndarray = lengths.astype(np.uint64) * _MUL
    for j in range(words.shape[1]):
        h ^= words[:, j]
        h *= _MUL2
        h ^= h >> _SHIFT
    return h


def _factorize(keys: np.ndarray, pool: ThreadPoolExecutor) -> np.ndarray:
    """Dense int64 codes of integer keys in order of first occurrence, each half of the rows
    hashed on its own core and the (smaller) distinct keys merged after."""
    n = len(keys)
    if n < 200_000:
        return np.asarray(pd.factorize(keys)[0], dtype=np.int64)
    halves = [keys[:n // 2], keys[n // 2:]]
    coded = list(pool.map(pd.factorize, halves))
    inverse, _ = pd.factorize(np.concatenate([u for _, u in coded]))
    out = np.empty(n, dtype=np.int64)
    start = offset = 0
    for part_codes, part_uniques in coded:
        out[start:start + len(part_codes)] = inverse[offset:offset + len(part_uniques)][
            part_codes]
        start += len(part_codes)
        offset += len(part_uniques)
    return out
