"""Customer ids read without their surrounding spaces (the customer with the same id written
without them), counted and said: an id changed, never silently. ``engine.data.load`` says it of
the file or folder it reads; on Dask each routed file counts its own, added up in file order."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from engine.data.tabular import Source, is_text


@dataclass(frozen=True)
class Spaced:
    column: str  # the user's column
    count: int
    first: str  # the first such id, as written
    where: str  # its file and line (a Parquet file: its row)
    read_as: str

    def plus(self, later: Spaced) -> Spaced:
        """This file's and a later one's: the counts added, the first kept."""
        return Spaced(self.column, self.count + later.count, self.first, self.where,
                      self.read_as)

    def note(self) -> str:
        return (f"{self.count:,} row{'s' if self.count > 1 else ''} with a {self.column!r} "
                f"with surrounding spaces (first {self.first!r} at {self.where}): read "
                f"without them, as {self.read_as!r}")


def spaced_ids(src: Source, raw: pa.ChunkedArray, trimmed: pa.ChunkedArray,
               column: str) -> Spaced | None:
    """The rows whose id (``raw``, as read) differs from the id read (``trimmed``)."""
    if pa.types.is_dictionary(raw.type):
        raw = raw.cast(raw.type.value_type)
    elif not is_text(raw.type):
        return None
    spaced = pc.fill_null(pc.not_equal(raw, trimmed), False)
    count = pc.sum(spaced).as_py() or 0
    if not count:
        return None
    row = pc.index(spaced, True).as_py()
    # its file (of a folder) and its line, or its row in that file, as errors say them
    return Spaced(column, count, raw[row].as_py(), src.place(row, column), trimmed[row].as_py())
