"""Short text values packed into one 64-bit integer each, one to one and order-preserving.

Most ids are short (``C000042``, ``100234``, ``O0001589``). Packed, they are compared, sorted
and hashed as integers, several times faster than as strings, and exactly: two values get
the same key only when they are the same text, and keys sort as the text sorts (byte by byte,
a prefix before the longer value).

Width 8: every value is exactly 8 bytes, and the key is those bytes. Width 7: every value has
at most 7 bytes; the key is the bytes, zero-padded to 7, then the length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Packed:
    keys: np.ndarray  # uint64, one per value
    width: int  # 8 or 7, see the module docstring

    def text(self, keys: np.ndarray) -> pa.Array:
        """The text values of ``keys`` (packed the same way)."""
        grid = keys.astype(">u8").view(np.uint8).reshape(len(keys), 8)
        if self.width == 8:
            lengths = np.full(len(keys), 8, dtype=np.int64)
            data = grid.ravel()
        else:
            lengths = grid[:, 7].astype(np.int64)
            data = grid[:, :7][np.arange(7)[None, :] < lengths[:, None]]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        return pa.Array.from_buffers(
            pa.large_string(), len(keys),
            [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data).tobytes())],
        ).cast(pa.string())


def pack(text: pa.ChunkedArray, skip: int = 0) -> Packed | None:
    """The values as keys, or None when they do not fit (a value longer than 8 bytes, or
    lengths up to 8 that differ). ``text`` has no nulls. ``skip``: bytes left out at the start
    of every value (a prefix they all share, set aside by the caller), with no copy of the
    text."""
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        return None
    if any(text_bytes(chunk) > (8 + skip) * len(chunk) for chunk in text.chunks):
        return None  # a value longer than 8 bytes: no pass over the lengths (UUIDs, say)
    low, high = (v.as_py() for v in pc.min_max(pc.binary_length(text)).values())
    if high is None:
        return None
    low, high = low - skip, high - skip
    if high > 8 or (high == 8 and low != 8):
        return None
    width = 8 if high == 8 else 7
    parts = [_pack_chunk(chunk, width, skip) for chunk in text.chunks if len(chunk)]
    keys = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    return Packed(keys, width)


def offsets_of(chunk: pa.Array) -> np.ndarray:
    """A text chunk's value offsets as they lie in its buffer (its slice's own, no copy):
    value i is the bytes offsets[i] to offsets[i + 1] of the data buffer."""
    kind = np.dtype(np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
    return np.frombuffer(chunk.buffers()[1], dtype=kind, count=len(chunk) + 1,
                         offset=chunk.offset * kind.itemsize)


def text_bytes(chunk: pa.Array) -> int:
    """The bytes of text a chunk's values hold together (its offsets' last less its first)."""
    if not len(chunk):
        return 0
    offsets = offsets_of(chunk)
    return int(offsets[-1]) - int(offsets[0])


def _pack_chunk(chunk: pa.Array, width: int, skip: int) -> np.ndarray:
    offsets = offsets_of(chunk).astype(np.int64)
    data = np.frombuffer(chunk.buffers()[2] or b"\0", dtype=np.uint8)
    lengths = np.diff(offsets) - skip
    if width == 8 and not skip:  # every value is 8 bytes: the bytes are the key
        return data[offsets[0]:offsets[-1]].view(">u8").astype(np.uint64)
    grid = np.zeros((len(chunk), 8), dtype=np.uint8)
    if lengths.min() == lengths.max():  # one width: a reshape, no gather
        w = int(lengths[0])
        grid[:, :w] = data[offsets[0]:offsets[-1]].reshape(len(chunk), w + skip)[:, skip:]
    else:
        take = offsets[:-1, None] + skip + np.arange(7)[None, :]
        inside = np.arange(7)[None, :] < lengths[:, None]
        grid[:, :7] = np.where(inside, data[np.minimum(take, len(data) - 1)], 0)
    if width == 8:
        return grid.view(">u8").ravel().astype(np.uint64)
    grid[:, 7] = lengths
    return grid.view(">u8").ravel().astype(np.uint64)
