"""The transactions' rows in day order, for the window sums of ``cvm measure`` and learning
(engine.history.measured): where each day starts, and each row's place (a stable counting
sort), so that a column is put in day order by one scatter.

Ten million rows: every fresh array of that length costs its pages on this machine, so the
work is done a block of rows at a time (small temporaries, their memory reused), and the only
array of ten million rows made here is the places (int32 below two billion rows).
"""

from __future__ import annotations

import numpy as np

BLOCK = 1 << 20  # rows counted or placed at a time: small temporaries, their memory reused


def starts(day: np.ndarray, low: int, keep: np.ndarray | None) -> np.ndarray:
    """Where each day starts among the rows in day order (of the rows ``keep`` marks, if
    given): the rows per day, counted a block at a time, summed up."""
    size = int(day.max()) - low + 1 if len(day) else 0
    counts = np.zeros(size, dtype=np.int64)
    for at in range(0, len(day), BLOCK):
        part = day[at:at + BLOCK] if keep is None else day[at:at + BLOCK][keep[at:at + BLOCK]]
        counts += np.bincount(part - low, minlength=size)
    return np.concatenate([[0], np.cumsum(counts)])


def places(day: np.ndarray, low: int, day_starts: np.ndarray) -> np.ndarray:
    """Each row's place among the rows in day order, ties as they come (a stable counting
    sort), a block of rows at a time: the block's rows sorted by day (a radix sort of the days
    counted from the first: 16 bits cover 179 years of days; numpy's stable sort beyond) go
    after the earlier blocks' rows of their day. The temporaries are a block's (their memory
    reused), not a sort's index and buffer of ten million rows (fresh pages), and a column is
    then put in day order by a scatter (``placed``), whose writes go forward in a stream per
    day, rather than a gather whose reads jump across the whole column."""
    n = len(day)
    place = np.empty(n, dtype=np.int32 if n < np.iinfo(np.int32).max else np.int64)
    cursor = day_starts[:-1].copy()  # where the next row of each day goes (``starts``)
    narrow = len(cursor) <= 1 << 16
    for at in range(0, n, BLOCK):
        part = day[at:at + BLOCK]
        days = np.empty(len(part), dtype=np.uint16 if narrow else np.int64)
        np.subtract(part, low, out=days, casting="unsafe")
        order = np.argsort(days, kind="stable")
        counts = np.bincount(days, minlength=len(cursor))
        ranked, first = days[order], np.cumsum(counts) - counts  # first: where a day starts
        # the block's k-th row in day order: its day's cursor + its rank among the block's
        # rows of that day (k - first)
        place[order + at] = cursor[ranked] + (np.arange(len(part)) - first[ranked])
        cursor += counts
    return place


def placed(values: np.ndarray, place: np.ndarray) -> np.ndarray:
    """``values`` in day order: each written at its row's place."""
    out = np.empty(len(values), dtype=values.dtype)
    out[place] = values
    return out
