"""Text columns to integer codes, exactly and fast: the costly part of loading ten million rows.

Hashing ten million strings is the slowest step of a load, so each column takes the cheapest
exact route: customer ids are hashed on both cores and the (much smaller) dictionaries merged;
order ids, which exports usually list in order with each order's lines together, are coded
by comparing neighbours, and hashed only when the file is not in that order.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.tabular import dictionary


def customer_codes(ids: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """intp codes 0..n-1 in the sort order of the ids (so output order is stable and
    readable), and the sorted distinct ids. ``ids`` has no nulls (checked before)."""
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


def order_codes(text: pa.ChunkedArray) -> np.ndarray:
    """int64 codes for order ids (equal ids, equal codes); -1 where empty or blank.

    An order's lines are usually listed together, so only the first row of each run of equal
    ids is coded. Short ids (up to 8 bytes, as most order numbers are) are packed into one
    integer each and coded without a hash table: runs that keep increasing are new orders, and
    the others (refund lines listed later, say) are looked up among those by binary search.
    Longer ids are dictionary-encoded. Either way the codes are exact.
    """
    arr = text.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.ones(len(arr), dtype=bool)
    starts[1:] = np.asarray(pc.not_equal(arr[1:], arr[:-1]).to_numpy(zero_copy_only=False),
                            dtype=bool)
    heads = arr.filter(pa.array(starts))
    keys = _packed(heads)
    head_codes = _integer_codes(keys) if keys is not None \
        else labelled_codes(heads)[0].astype(np.int64)
    blank = _blank(heads)
    if blank.any():
        head_codes = np.where(blank, -1, head_codes)
    return np.asarray(head_codes[np.cumsum(starts) - 1], dtype=np.int64)


def _packed(values: pa.Array) -> np.ndarray | None:
    """Each text value as one uint64, one to one (bytes and length), or None when too long."""
    values = values.cast(pa.large_string())
    lengths = np.asarray(pc.binary_length(values).to_numpy(), dtype=np.int64)
    if len(lengths) == 0 or lengths.max() > 8:
        return None
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64, count=len(values) + 1,
                            offset=values.offset * 8)
    data = np.frombuffer(values.buffers()[2] or b"\0", dtype=np.uint8)
    if len(data) == 0:
        data = np.zeros(1, dtype=np.uint8)
    width = int(lengths.max())
    if lengths.min() == width and width == 8:
        return data[offsets[0]:offsets[-1]].view(">u8").astype(np.uint64)
    if width == 8:  # lengths differ and one id fills all eight bytes: no room for the length
        return None
    take = offsets[:-1, None] + np.arange(7)[None, :]
    inside = np.arange(7)[None, :] < lengths[:, None]
    grid = np.zeros((len(values), 8), dtype=np.uint8)
    grid[:, :7] = np.where(inside, data[np.minimum(take, len(data) - 1)], 0)
    grid[:, 7] = lengths
    return grid.view(">u8").ravel().astype(np.uint64)


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
        if len(unseen):
            extra, _ = pd.factorize(keys[unseen])
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


def _halves(ids: pa.ChunkedArray) -> list[pa.ChunkedArray]:
    """The column cut into two parts of about equal rows (one part when it is small)."""
    n = len(ids)
    if n < 200_000:
        return [ids]
    return [ids.slice(0, n // 2), ids.slice(n // 2)]
