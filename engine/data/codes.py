"""Text columns to integer codes, exactly and fast: the costly part of loading ten million rows.

Hashing ten million strings is the slowest step of a load, so each column takes the cheapest
exact route. Ids of up to 8 bytes, as they are or past a prefix they all share (``C`` of
``C0000042``, ``O`` of ``O000001589``), are packed into integers (``engine.data.packing``):
customer ids are then ranked as numbers where their bytes span few values (engine.data.dense_keys)
or else hashed as integers on both cores, and order ids coded per run of equal ids with no hash
table at all. Other ids (UUIDs, say) are hashed as text: customer ids on both
cores with the (much smaller) dictionaries merged after, order ids only at the first row of
each run, keeping their codes alone (never millions of ids as Python text). Canonical UUIDs,
all in one case, are read as the 128-bit numbers they spell (engine.data.uuids) and coded as
integers too.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.dense_keys import dense_ranks
from engine.data.key_codes import factorized, factorized_holding
from engine.data.packing import Packed, pack
from engine.data.tabular import dictionary
from engine.data.uuids import Uuids, keys_of, lo_of, parse


def customer_codes(ids: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """intp codes 0..n-1 in the sort order of the ids (so output order is stable and
    readable), and the sorted distinct ids. ``ids`` has no nulls (checked before)."""
    uuids = parse(ids)
    if uuids is not None:
        coded = uuid_customer_codes(uuids, ids.type)
        if coded is not None:
            return coded
    packed, prefix = _pack_past_prefix(ids)
    if packed is not None:  # short ids: integer hashing on both cores, no strings
        packed_codes, distinct = _packed_customer_codes(packed)
        if prefix:
            distinct = pc.binary_join_element_wise(pa.scalar(prefix, distinct.type), distinct,
                                                   pa.scalar("", distinct.type))
        return packed_codes, distinct
    halves = _halves(ids)
    with ThreadPoolExecutor(max_workers=2) as pool:  # Arrow releases the GIL
        parts = list(pool.map(lambda part: pc.dictionary_encode(part).combine_chunks(), halves))
    first = parts[0].dictionary
    # ids of the first half keep their positions in ``union``: unique() keeps first occurrence
    union = pc.unique(pa.concat_arrays([p.dictionary for p in parts])) if len(parts) > 1 \
        else first
    order = np.asarray(pc.sort_indices(union).to_numpy(), dtype=np.int64)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    codes = [rank[_indices(parts[0])]]
    if len(parts) > 1:
        in_union = np.asarray(pc.index_in(parts[1].dictionary, value_set=union).to_numpy(),
                              dtype=np.int64)
        codes.append(rank[in_union][_indices(parts[1])])
    return np.concatenate(codes), union.take(pa.array(order))


def _pack_past_prefix(text: pa.ChunkedArray) -> tuple[Packed | None, str]:
    """The values packed, as they are or past the prefix they all share (only when needed:
    setting it aside copies the text)."""
    packed = pack(text)
    if packed is not None:
        return packed, ""
    prefix = common_prefix(text)
    return (pack(text, skip=len(prefix.encode())) if prefix else None), prefix


def common_prefix(text: pa.ChunkedArray) -> str:
    """The prefix all values share (``C`` of ``C000042``, ``ORD-`` of ``ORD-2024-001``), short
    of the whole of any value: set aside, equal values stay equal and the order stays the
    text's (so ``C0000001`` to ``C9999999`` fit 8 bytes and are packed). All values lie between
    the least and the greatest, so the prefix those two share is everyone's. No nulls."""
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)) \
            or len(text) == 0:
        return ""
    low, high = (v.as_py() for v in pc.min_max(text).values())
    if low is None or high is None:
        return ""
    size = 0
    for a, b in zip(low, high, strict=False):
        if a != b:
            break
        size += 1
    return str(low[:min(size, len(low) - 1)])  # the least may be the prefix itself: keep one


def _packed_customer_codes(packed: Packed) -> tuple[np.ndarray, pa.Array]:
    """Ranked without hashing when the keys' bytes span few values (engine.data.dense_keys:
    customer numbers of one width), else hashed; either at the first row of each run."""
    keys = packed.keys
    heads = _run_heads(keys)
    firsts = keys if heads is None else keys[heads]
    ranked = dense_ranks(firsts)
    if ranked is not None:
        codes, distinct = ranked
    else:
        codes, union = factorized(firsts)
        order = np.argsort(union, kind="stable")  # packed keys sort as the text does
        codes, distinct = _ranked(order)[codes], union[order]
    if heads is not None:
        codes = np.repeat(codes, np.diff(heads, append=len(keys)))
    return codes, packed.text(distinct)


def uuid_customer_codes(uuids: Uuids, kind: pa.DataType) -> tuple[np.ndarray, pa.Array] | None:
    """As for packed ids, hashing one 64-bit key per UUID; None when two UUIDs share a key."""
    coded = _uuid_codes(uuids.hi, uuids.lo)
    if coded is None:
        return None
    codes, hi, lo = coded
    order = np.lexsort((lo, hi))  # the numbers' order is the text's
    return _ranked(order)[codes], uuids.text(hi[order], lo[order], kind)


def _uuid_codes(hi: np.ndarray, lo: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Codes of UUIDs into their distinct values (in no particular order), and those values;
    None when two share a key. When a customer's rows mostly lie together (an export sorted by
    customer), only the first row of each run of equal UUIDs is looked up: the hash table is
    visited once per customer, not once per row (at 3M customers its 28.5M look-ups, in a table
    larger than the caches, took 2.7 s). A code is checked to name one UUID as its part is
    coded (``factorized_holding``), not by two passes over every row after."""
    keys = keys_of(hi, lo)
    heads = _run_heads(keys, hi)
    coded = factorized_holding(keys, hi) if heads is None \
        else factorized_holding(keys[heads], hi[heads])
    if coded is None:
        return None
    codes, union, union_hi = coded
    if heads is not None:
        codes = np.repeat(codes, np.diff(heads, append=len(keys)))
    return codes, union_hi, lo_of(union, union_hi)


def _run_heads(keys: np.ndarray, words: np.ndarray | None = None) -> np.ndarray | None:
    """Where each run of equal keys (and ``words``) starts, when the runs are at most half the
    keys."""
    if len(keys) < _RUNS_FROM:
        return None
    change = keys[1:] != keys[:-1]
    if words is not None:
        change |= words[1:] != words[:-1]
    heads = np.flatnonzero(change) + 1
    if len(heads) >= len(keys) // 2:
        return None
    return np.concatenate([[0], heads])


def _ranked(order: np.ndarray) -> np.ndarray:
    """Each value's place in ``order``."""
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order), dtype=np.intp)
    return rank


def order_codes(text: pa.ChunkedArray) -> np.ndarray:
    """int64 codes for order ids (equal ids, equal codes); -1 where empty or blank.

    An order's lines are usually listed together, so only the first row of each run of equal
    ids is coded. Short ids (up to 8 bytes, as most order numbers are) are packed into one
    integer each (past a prefix they all share) and coded without a hash table: runs that keep
    increasing are new orders, and the others (refund lines listed later, say) are looked up
    among those by binary search. Other ids are dictionary-encoded. Either way the codes are
    exact.
    """
    if len(text) == 0:
        return np.zeros(0, dtype=np.int64)
    uuids = parse(text)
    coded = uuid_order_codes(uuids) if uuids is not None else None
    if coded is not None:
        return coded
    blank_free = text.null_count == 0 and not pc.any(pc.utf8_is_space(text)).as_py()
    packed = _pack_past_prefix(text)[0] if blank_free else None
    if packed is not None:
        keys = packed.keys
        starts = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=starts[1:])
        heads = keys[starts]
        head_codes = _integer_codes(heads)
        if packed.width == 7 and heads.min() == 0:  # the empty id (length 0): no order
            head_codes = np.where(heads == 0, -1, head_codes)
        return np.repeat(head_codes, np.diff(np.append(np.flatnonzero(starts), len(keys))))
    arr = text.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    starts = np.ones(len(arr), dtype=bool)
    starts[1:] = np.asarray(pc.not_equal(arr[1:], arr[:-1]).to_numpy(zero_copy_only=False),
                            dtype=bool)
    heads = arr.filter(pa.array(starts))
    del arr
    # the codes alone: the ids as Python text (labelled_codes) would cost seconds at millions
    head_codes = np.asarray(pc.fill_null(dictionary(heads).indices, -1).to_numpy(),
                            dtype=np.int64)
    blank = pc.or_(pc.equal(pc.binary_length(heads), 0), pc.utf8_is_space(heads))
    if pc.any(blank).as_py():  # an empty or blank id: no order
        head_codes = np.where(np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool),
                              -1, head_codes)
    return np.asarray(head_codes[np.cumsum(starts) - 1], dtype=np.int64)


def uuid_order_codes(uuids: Uuids) -> np.ndarray | None:
    """Order codes of UUIDs, a code per run of equal ids; None when two share a key."""
    hi, lo = uuids.hi, uuids.lo
    starts = np.ones(len(hi), dtype=bool)
    starts[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    head_hi = hi[starts]
    coded = factorized_holding(keys_of(head_hi, lo[starts]), head_hi)
    if coded is None:
        return None
    head_codes = coded[0]
    return np.repeat(head_codes.astype(np.int64),
                     np.diff(np.append(np.flatnonzero(starts), len(hi))))


def _integer_codes(keys: np.ndarray) -> np.ndarray:
    """Codes for integer keys: equal keys, equal codes. Keys that rise above every earlier key
    are new and sorted; the rest are found among them by binary search."""
    rising = np.ones(len(keys), dtype=bool)
    rising[1:] = keys[1:] > np.maximum.accumulate(keys)[:-1]
    record = keys[rising]
    codes = np.empty(len(keys), dtype=np.int64)
    codes[rising] = np.arange(len(record))
    rest = np.flatnonzero(~rising)
    if len(rest):
        pos = np.minimum(np.searchsorted(record, keys[rest]), len(record) - 1)
        found = record[pos] == keys[rest]
        codes[rest[found]] = pos[found]
        unseen = rest[~found]
        if len(unseen):  # in a shuffled file most keys: coded part by part (key_codes)
            extra, _ = factorized(keys[unseen])
            codes[unseen] = len(record) + extra
    return codes


def labelled_codes(text: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, tuple[str, ...]]:
    """int32 codes and the label of each code; empty or blank values get -1."""
    encoded = dictionary(text)
    codes = np.asarray(pc.fill_null(encoded.indices, -1).to_numpy(), dtype=np.int32)
    labels = encoded.dictionary
    blank = _blank(labels)
    if blank.any():  # blank text counts as no value; labels keep their codes
        remap = np.where(blank, -1, np.arange(len(labels))).astype(np.int32)
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)
    return codes, tuple(str(x) for x in labels.to_pylist())


def _blank(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.equal(pc.utf8_trim_whitespace(values), "").to_numpy(
        zero_copy_only=False), dtype=bool)


def _indices(encoded: pa.DictionaryArray) -> np.ndarray:
    return np.asarray(encoded.indices.to_numpy(), dtype=np.int64)


_RUNS_FROM = 1_000  # fewer keys: no runs looked for
_T = TypeVar("_T", pa.ChunkedArray, np.ndarray)


def _halves(values: _T) -> list[_T]:
    """The values cut into two parts of about equal rows (one part when they are few)."""
    n = len(values)
    if n < 200_000:
        return [values]
    return [values[:n // 2], values[n // 2:]]
