"""Customer ids written in more than one letter case (``C000123`` and ``c000123``): a common
defect of exports merged from two systems. Ids are read as written, so each spelling is a
customer of its own; that is said, never silent (a first-day trial found 282 such customers
split in two, three of them left out with only a refund under the other spelling)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from engine.data.tabular import is_text


def case_note(ids: pa.Array | pa.ChunkedArray, column: str) -> str | None:
    """The note for ``ids`` (each customer's id once) where some differ only in letter case;
    None where none do. Ids that lower-casing leaves as they are (most UUIDs) cannot collide:
    one comparison; else the lower-cased ids are hashed once (0.2-0.4 s at 1M, on the second
    core while the features are made: engine.value.score)."""
    if not is_text(ids.type) or len(ids) < 2:
        return None
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    lower = pc.utf8_lower(ids)
    if not pc.any(pc.not_equal(lower, ids)).as_py():
        return None
    if len(lower.dictionary_encode().dictionary) == len(ids):
        return None
    counted = pc.value_counts(lower)
    shared = counted.field("values").filter(pc.greater(counted.field("counts"), 1))
    first = ids.filter(pc.equal(lower, shared[0])).to_pylist()[:2]
    n = len(shared)
    return (f"{n:,} {column!r} value{'s are' if n > 1 else ' is'} written in more than one "
            f"letter case (first {first[0]!r} and {first[1]!r}): each spelling is read as a "
            "customer of its own; if they are one customer, make the ids' case consistent in "
            "the export")
