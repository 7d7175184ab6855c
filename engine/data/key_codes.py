"""Integer keys coded by hash tables that fit the caches.

Coding millions of 64-bit keys (packed or UUID ids) with one hash table spends most of its
time waiting for memory: at 3.5M distinct keys in random order the table is larger than the
caches and pandas' factorize takes 0.9 s. Split first by a few bits of a mixed copy of each
key, the keys of one part meet only each other, so each part is coded with a small table of
its own and the parts' codes follow one another: 0.12-0.15 s for the same keys, both cores
used (pandas hashes integers without Python's lock). The parts are taken by a stable sort on
a 16-bit part number (numpy's radix sort: linear time).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

_MIX = np.uint64(0x9E3779B97F4A7C15)  # an odd constant (2^64 / golden ratio)
_SPLIT_FROM = 1 << 18  # fewer keys: one table (it fits the caches)
_PART_ROWS = 1 << 17  # keys per part, about (2^7 parts at 9.5M keys)
_MAX_BITS = 10


def factorized(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (intp) of integer ``keys`` into their distinct values: ``uniques[codes]`` is
    ``keys``. The order of the distinct values is not specified (callers sort them)."""
    coded = _factorized(keys, None)
    assert coded is not None  # without words nothing is checked
    return coded[0], coded[1]


def factorized_holding(keys: np.ndarray, words: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """As ``factorized``, with the word each distinct key's rows hold (``held[codes]`` is
    ``words``), checked part by part while the part is in the caches; None when the rows of
    one key hold different words. (UUIDs: the key mixes both halves and the word is the first
    half, which together spell the whole UUID: engine.data.uuids.)"""
    return _factorized(keys, words)


_Coded = tuple[np.ndarray, np.ndarray, np.ndarray]  # codes, uniques, held (empty: no words)


def _factorized(keys: np.ndarray, words: np.ndarray | None) -> _Coded | None:
    n = len(keys)
    if n < _SPLIT_FROM:
        one = _code(keys, words)
        if one is None:
            return None
        codes, uniques, held = one
        return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=keys.dtype), held
    bits = min(_MAX_BITS, (n // _PART_ROWS).bit_length())
    with np.errstate(over="ignore"):
        part = ((keys.astype(np.uint64, copy=False) * _MIX) >> np.uint64(64 - bits)) \
            .astype(np.uint16)
    order = np.argsort(part, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(part, minlength=1 << bits))])
    del part
    ordered = keys[order]
    ordered_words = None if words is None else words[order]
    half = int(np.searchsorted(bounds, n // 2))  # the parts split in two runs of rows
    groups = [range(0, half), range(half, 1 << bits)]

    def code(group: range) -> list[_Coded | None]:
        return [_code(ordered[bounds[i]:bounds[i + 1]],
                      None if ordered_words is None else ordered_words[bounds[i]:bounds[i + 1]])
                for i in group]

    with ThreadPoolExecutor(max_workers=2) as pool:
        coded = [one for done in pool.map(code, groups) for one in done]
    parts = [one for one in coded if one is not None]
    if len(parts) < len(coded):
        return None
    codes = np.empty(n, dtype=np.intp)
    base = 0
    for i, (part_codes, part_uniques, _) in enumerate(parts):
        codes[order[bounds[i]:bounds[i + 1]]] = part_codes + base
        base += len(part_uniques)
    uniques = np.concatenate([u for _, u, _ in parts])  # at least 4 parts here
    held = np.concatenate([h for _, _, h in parts])
    return codes, np.asarray(uniques, dtype=keys.dtype), held


def _code(keys: np.ndarray, words: np.ndarray | None) -> _Coded | None:
    codes, uniques = pd.factorize(keys)
    if words is None:
        return codes, uniques, uniques[:0]
    held = np.empty(len(uniques), dtype=words.dtype)
    held[codes] = words
    return (codes, uniques, held) if np.array_equal(held[codes], words) else None
