"""Customer ids looked up in a set of ids: each id's position, hashing each distinct column of
ids once (README "Contact policies").

The history gives ids per run (one Arrow chunk per run), and runs usually list the same
customers in the same order. A chunk may also be dictionary-coded: its rows are integer
indices into the run's whole id column (engine.history.columnar gives the contacts so, the
allocated rows of each run, without copying their text). So the text to hash is each chunk's
own text, or its dictionary; a text equal to an earlier one (a memory compare) is hashed once,
and every row is then an integer take: a look-up of ten million contacts against a million
customers costs one hash look-up of a million ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Ids", "id_texts", "positions", "positions_of"]

# customer ids: Arrow strings (or dictionary-coded strings) as the history gives them, or any
# sequence of texts
Ids: TypeAlias = "pa.Array | pa.ChunkedArray | np.ndarray"


def positions(found: Ids, value_set: pa.Array) -> np.ndarray:
    """Each of ``found`` as a position in ``value_set`` (distinct ids; -1: not there)."""
    return positions_of([found], value_set)[0]


def positions_of(groups: Sequence[Ids], value_set: pa.Array) -> list[np.ndarray]:
    """``positions`` of each of ``groups``, with one hash table of ``value_set`` for all (Arrow
    builds one per look-up: a million ids cost). A text equal to ``value_set`` itself (the
    same customers in the same order, as runs often list them) needs no look-up at all."""
    chunked = [_chunks(found) for found in groups]
    chunks = [c for group in chunked for c in group]
    if not len(value_set) or not sum(len(c) for c in chunks):
        return [np.full(sum(len(c) for c in group), -1, dtype=np.int64) for group in chunked]
    texts = [(c.dictionary if _coded(c) else c).cast(value_set.type) for c in chunks]
    first: list[int] = []  # per chunk: the earlier chunk whose text equals its (itself if none)
    for k, text in enumerate(texts):
        first.append(next((j for j in sorted(set(first)) if len(texts[j]) == len(text)
                           and texts[j].equals(text)), k))
    same = {j for j in set(first) if len(texts[j]) == len(value_set)
            and texts[j].equals(value_set)}
    distinct = sorted(set(first) - same)
    codes = np.zeros(0, dtype=np.int64)
    if distinct:
        codes = _index_in(pa.chunked_array([texts[j] for j in distinct], type=value_set.type),
                          value_set)
    starts = np.cumsum([0, *(len(texts[j]) for j in distinct)])
    # each distinct text's positions, with a spare -1 last (for a missing index)
    at = {j: np.append(codes[starts[i]:starts[i + 1]], -1) for i, j in enumerate(distinct)}
    at.update({j: np.append(np.arange(len(value_set), dtype=np.int64), -1) for j in same})
    out = []
    k = 0
    for group in chunked:
        # each chunk's positions written in place into the group's one array: no array per
        # chunk, then a concatenation (ten million rows: 80 MB of fresh pages each)
        group_out = np.empty(sum(len(c) for c in group), dtype=np.int64)
        row = 0
        for chunk in group:
            j = first[k]
            k += 1
            into = group_out[row:row + len(chunk)]
            row += len(chunk)
            if _coded(chunk):
                np.take(at[j], _indices(chunk), out=into)
            else:
                into[:] = at[j][:-1]
        out.append(group_out)
    return out


def _indices(chunk: pa.DictionaryArray) -> np.ndarray:
    """A coded chunk's indices, a missing one as the dictionary's length (the spare last
    slot); without a missing one, Arrow's own buffer (no copy)."""
    index = chunk.indices if not chunk.null_count else \
        chunk.indices.fill_null(len(chunk.dictionary))
    return np.asarray(index.to_numpy())


def _index_in(found: pa.ChunkedArray, value_set: pa.Array) -> np.ndarray:
    """Each of ``found`` as its first position in ``value_set`` (-1: not there). A few ids
    looked up in many (the responses in a million customers): their distinct texts hashed and
    the many probed, rather than a hash table of the many built for a few look-ups (the same
    positions, in about half the time)."""
    if len(found) * 4 > len(value_set) or value_set.null_count:
        return np.asarray(pc.index_in(found, value_set=value_set).fill_null(-1).to_numpy(),
                          dtype=np.int64)
    coded = pc.dictionary_encode(found).combine_chunks()
    texts = coded.dictionary
    at = np.asarray(pc.index_in(value_set, value_set=texts).fill_null(-1).to_numpy(),
                    dtype=np.int64)
    hit = np.flatnonzero(at >= 0)[::-1]  # reversed: the first position is written last
    first = np.full(len(texts) + 1, -1, dtype=np.int64)  # the spare last: a missing id
    first[at[hit]] = hit
    return first[np.asarray(coded.indices.fill_null(len(texts)).to_numpy(), dtype=np.int64)]


def id_texts(found: Ids, rows: np.ndarray) -> np.ndarray:
    """The ids at ``rows`` as Python strings (None: missing): only those rows are made."""
    if isinstance(found, np.ndarray):
        return np.asarray(found[rows], dtype=object)
    whole = found.cast(pa.string()) if isinstance(found, pa.Array) else \
        pa.chunked_array([c.cast(pa.string()) for c in found.chunks], type=pa.string())
    return np.asarray(whole.take(pa.array(rows, type=pa.int64())).to_numpy(
        zero_copy_only=False), dtype=object)


def _chunks(found: Ids) -> list[pa.Array]:
    if isinstance(found, pa.ChunkedArray):
        return list(found.chunks)
    if isinstance(found, pa.Array):
        return [found]
    return [pa.array(found, type=pa.string())] if len(found) else []


def _coded(chunk: pa.Array) -> bool:
    return isinstance(chunk, pa.DictionaryArray)
