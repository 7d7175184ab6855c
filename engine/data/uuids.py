"""Canonical UUIDs (``0f8fad5b-d9cb-469f-a165-70867728950e``) read as two 64-bit integers each.

Many exports identify customers and orders by UUIDs: 36 bytes of text per value, which Arrow
hashes several times slower than the short ids engine.data.packing packs into one integer
(at 1M customers, coding the 9.5M rows' customer and order ids took 10 s of CPU with UUIDs
against 1.7 s with short ids). When every value of a column is a canonical UUID (hex digits
with dashes at 8, 13, 18 and 23) and its letters are all in one case, the 128-bit numbers
they spell stand for them exactly: one number per text and one text per number, ordered as
the text sorts (digits come before letters in ASCII as in value). Anything else (a null, a
value of another length or form, both cases in one column) is left to the text route.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.data.packing import offsets_of, text_bytes

_DASHES = np.array([8, 13, 18, 23])
_DIGITS_AT = np.array([i for i in range(36) if i not in _DASHES])
_BLOCK = 1 << 13  # rows parsed at a time: work arrays of 256 KB, which stay in the caches
# an odd constant (2^64 / golden ratio): mixes the low word into the high one for hashing
_MIX = np.uint64(0x9E3779B97F4A7C15)
_UNMIX = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))  # _MIX * _UNMIX is 1 (mod 2^64)


@dataclass(frozen=True)
class Uuids:
    """A column's UUIDs as numbers: ``hi`` and ``lo`` the first and last 8 bytes."""

    hi: np.ndarray  # uint64, one per value
    lo: np.ndarray  # uint64
    upper: bool  # hex letters written in upper case
    lower: bool = False  # in lower case (neither: no letters at all)

    def keys(self) -> np.ndarray:
        """One 64-bit key per value, for hashing: equal UUIDs get equal keys; two different
        ones may too (rarely), so callers check that a key's rows hold one ``hi``."""
        return keys_of(self.hi, self.lo)

    def text(self, hi: np.ndarray, lo: np.ndarray, kind: pa.DataType) -> pa.Array:
        """The canonical text of the UUIDs ``hi``, ``lo`` in this column's case."""
        count = len(hi)
        raw = np.empty((count, 16), dtype=np.uint8)
        raw[:, :8] = hi.astype(">u8").view(np.uint8).reshape(count, 8)
        raw[:, 8:] = lo.astype(">u8").view(np.uint8).reshape(count, 8)
        alphabet = np.frombuffer(b"0123456789ABCDEF" if self.upper else b"0123456789abcdef",
                                 dtype=np.uint8)
        chars = np.full((count, 36), ord("-"), dtype=np.uint8)
        chars[:, _DIGITS_AT[0::2]] = alphabet[raw >> 4]
        chars[:, _DIGITS_AT[1::2]] = alphabet[raw & 15]
        offsets = np.arange(count + 1, dtype=np.int64) * 36
        text = pa.Array.from_buffers(pa.large_string(), count,
                                     [None, pa.py_buffer(offsets), pa.py_buffer(chars)])
        return text.cast(kind)


def keys_of(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """``hi ^ lo * _MIX``: two UUIDs with one key differ in both halves (equal ``hi`` and equal
    keys make equal ``lo``, ``_MIX`` being odd), so a key and ``hi`` name one UUID (``lo_of``)."""
    return np.asarray(np.bitwise_xor(hi, lo * _MIX), dtype=np.uint64)


def lo_of(keys: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The last 8 bytes of the UUIDs whose keys are ``keys`` and first 8 bytes ``hi``."""
    return np.asarray(np.bitwise_xor(keys, hi) * _UNMIX, dtype=np.uint64)


def parse(text: pa.ChunkedArray) -> Uuids | None:
    """The values as numbers, or None unless every one is a canonical UUID, all in one case."""
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)) \
            or len(text) == 0 or text.null_count:
        return None
    if any(text_bytes(chunk) != 36 * len(chunk) for chunk in text.chunks):
        return None  # most columns of other ids: no pass over their lengths
    low, high = (v.as_py() for v in pc.min_max(pc.binary_length(text)).values())
    if low != 36 or high != 36:
        return None
    hi = np.empty(len(text), dtype=np.uint64)
    lo = np.empty(len(text), dtype=np.uint64)
    lower = upper = False
    done = 0
    for chunk in text.chunks:
        if not len(chunk):
            continue
        first = int(offsets_of(chunk)[0])  # every value 36 bytes: they lie side by side
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        grid = data[first:first + 36 * len(chunk)].reshape(len(chunk), 36)
        for start in range(0, len(chunk), _BLOCK):
            block = grid[start:start + _BLOCK]
            if (block[:, _DASHES] != ord("-")).any():
                return None
            digits = np.take(block, _DIGITS_AT, axis=1)  # C order: pairs side by side
            # every step a pass of whole-array arithmetic: far faster than a table look-up
            is_lower, is_upper = (digits - ord("a")) < 6, (digits - ord("A")) < 6
            if not (((digits - ord("0")) < 10) | is_lower | is_upper).all():
                return None  # not a hex digit
            lower, upper = lower or bool(is_lower.any()), upper or bool(is_upper.any())
            if lower and upper:  # "A" and "a": one number, two texts
                return None
            nibbles = (digits & 15) + 9 * (digits >> 6)  # "0"-"9": 0-9; "a"-"f", "A"-"F": 10-15
            pairs = nibbles.view("<u2")  # two digits side by side: a byte's high, then low
            raw = (((pairs & 0xFF) << 4) | (pairs >> 8)).astype(np.uint8)
            words = raw.view(">u8")
            end = done + len(block)
            hi[done:end] = words[:, 0]
            lo[done:end] = words[:, 1]
            done = end
    return Uuids(hi, lo, upper, lower)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def is_uuid_bytes(kind: pa.DataType) -> bool:
    """Parquet's UUID type as Arrow reads it: ``arrow.uuid`` (pyarrow 18 and later), or the
    16 bytes it stores (older pyarrow)."""
    storage = kind.storage_type if isinstance(kind, pa.BaseExtensionType) else kind
    return bool(pa.types.is_fixed_size_binary(storage) and storage.byte_width == 16)


def uuid_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """16-byte UUIDs as their canonical text, lower case (as Python's ``str(uuid)``); nulls
    stay null."""
    return pa.chunked_array([_uuid_text(c) for c in col.chunks], pa.string())


def _uuid_text(chunk: pa.Array) -> pa.Array:
    if isinstance(chunk, pa.ExtensionArray):
        chunk = chunk.storage
    n = len(chunk)
    raw = np.frombuffer(chunk.buffers()[1], dtype=np.uint8)[chunk.offset * 16:][: n * 16]
    raw = raw.reshape(n, 16)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    out[:, _DIGITS_AT[0::2]] = _HEX[raw >> 4]
    out[:, _DIGITS_AT[1::2]] = _HEX[raw & 15]
    text = pa.StringArray.from_buffers(n, pa.py_buffer(np.arange(0, 36 * n + 1, 36,
                                                                 dtype=np.int32)),
                                       pa.py_buffer(out.tobytes()))
    return pc.if_else(chunk.is_valid(), text, pa.scalar(None, pa.string())) \
        if chunk.null_count else text
