"""Ids of one table found among another's, and repeats found, by the numbers that stand for
them exactly: packed short ids (engine.data.packing) and UUIDs (engine.data.uuids).

Joining the customers file to the purchasers hashes a million ids of text twice (the file's
own repeat check, then the look-up); a million 64-bit numbers hash several times faster (at
1M customers with UUID ids 0.3 + 0.6 s of CPU -> 0.1 + 0.2 s; with short ids 0.13 + 0.28 s ->
0.01 + 0.02 s). Each function returns None where the numbers cannot stand for the text; the caller
then matches the text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.data.packing import pack
from engine.data.uuids import parse


def index_in(values: pa.Array, value_set: pa.Array) -> np.ndarray | None:
    """The position of each value in ``value_set`` (-1 where it is not there, and for a
    null): the text's exact match. None unless both are packed ids, or both canonical UUIDs
    with their letters in one case (or none: digits alone read the same in both cases), or
    when the set holds an id twice (or, for UUIDs, two that share a 64-bit key)."""
    if value_set.null_count:
        return None
    valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    present = _whole(values if values.null_count == 0 else values.filter(pa.array(valid)))
    if not len(present):
        return None
    found = _packed(present, _whole(value_set))
    if found is None:
        found = _uuids(present, _whole(value_set))
    if found is None:
        return None
    out = np.full(len(values), -1, dtype=np.int64)
    out[valid] = found
    return out


def all_distinct(ids: pa.Array) -> bool | None:
    """True when no id appears twice, read as numbers; None unless the ids are packed ids or
    canonical UUIDs in one case, or when two are equal (or two UUIDs share a key): the caller
    looks at the text, and names the repeat."""
    if ids.null_count:
        return None
    whole = _whole(ids)
    packed = pack(whole)
    keys = packed.keys if packed is not None else None
    if keys is None:
        parsed = parse(whole)
        keys = parsed.keys() if parsed is not None else None
    if keys is None:
        return None
    return True if pd.Index(keys).is_unique else None


def _whole(values: pa.Array) -> pa.ChunkedArray:
    return pa.chunked_array([values], type=values.type)


def _packed(values: pa.ChunkedArray, value_set: pa.ChunkedArray) -> np.ndarray | None:
    """By packed keys: one key per text, one text per key; two columns packed to different
    widths hold no text in common (one all of 8 bytes, the other all shorter)."""
    given, known = pack(values), pack(value_set)
    if given is None or known is None:
        return None
    if given.width != known.width:
        return np.full(len(values), -1, dtype=np.int64)
    index = pd.Index(known.keys)
    if not index.is_unique:
        return None
    return np.asarray(index.get_indexer(given.keys), dtype=np.int64)


def _uuids(values: pa.ChunkedArray, value_set: pa.ChunkedArray) -> np.ndarray | None:
    """By the 128-bit numbers, hashed as 64-bit keys and checked: one number is two texts
    when the columns' letters are in different cases, so then the text decides."""
    given, known = parse(values), parse(value_set)
    if given is None or known is None or (given.upper and known.lower) \
            or (given.lower and known.upper):
        return None
    index = pd.Index(known.keys())
    if not index.is_unique:
        return None
    position = np.asarray(index.get_indexer(given.keys()), dtype=np.int64)
    hit = position >= 0  # one key and one first half: one UUID (engine.data.uuids.keys_of)
    if not np.array_equal(known.hi[position[hit]], given.hi[hit]):
        return None  # a key shared by two different UUIDs: the text decides
    return position
