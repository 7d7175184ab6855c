"""Line items in a sampled export: two rows alike in every column ``cvm init`` maps that
differ in a column the engine does not read (two articles of one order at the same price).
``duplicates: drop`` would skip the second as an exact duplicate, so init keeps them."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence


def alike_rows(columns: Mapping[str, Sequence[str]], mapped: Collection[str]
               ) -> tuple[int, int, str] | None:
    """The first two sampled rows (numbered from 1, the header aside) alike in every column
    of ``mapped`` and differing in another, with that column; None when there are none."""
    keys = [name for name in columns if name in mapped]
    others = [name for name in columns if name not in mapped]
    if not keys or not others:
        return None
    for j, i in _repeats(columns, keys):
        for name in others:
            if columns[name][i] != columns[name][j]:
                return j + 1, i + 1, name
    return None


def same_rows(columns: Mapping[str, Sequence[str]]) -> tuple[int, int] | None:
    """The first two sampled rows identical in every column (numbered from 1), or None."""
    found = next(_repeats(columns, list(columns)), None)
    return None if found is None else (found[0] + 1, found[1] + 1)


def _repeats(columns: Mapping[str, Sequence[str]], names: Sequence[str]
             ) -> Iterator[tuple[int, int]]:
    """(j, i) for each sampled row i whose values in ``names`` row j < i had first."""
    rows = min((len(values) for values in columns.values()), default=0)
    first: dict[tuple[str, ...], int] = {}
    for i in range(rows):
        j = first.setdefault(tuple(columns[name][i] for name in names), i)
        if j != i:
            yield j, i
