"""Any column read as text: a Parquet column of bytes (BYTE_ARRAY without the text annotation,
as some writers store text) is text where its bytes are UTF-8; a value that is not is said at
its row, not an internal error."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from engine.data.tabular import Source
from engine.errors import InputError, clip


def as_string(src: Source, col: pa.ChunkedArray, theirs: str) -> pa.ChunkedArray:
    """Any column as text; bytes that are not UTF-8 (a Parquet column of bytes) said at the
    first such row."""
    try:
        return pc.cast(col, pa.string())
    except pa.ArrowInvalid:
        if not (pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type)):
            raise
    for row, value in enumerate(col.to_pylist()):  # the error's path only
        try:
            if value is not None:
                value.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(src.row_problem(
                row, theirs, f"found bytes that are not UTF-8 text ({clip(value)}), "
                "expected text", "the column holds binary values: map a column of text (a "
                "column of the UUID type is read as the UUIDs' text)")) from None
    raise AssertionError("a cast refused, with every value UTF-8")
