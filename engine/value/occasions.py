"""Purchase occasions, orders and active periods: one definition for the value table and the
report (README "The value model").

- A **purchase occasion** is a day on which a customer has a purchase row (amount > 0): several
  orders on one day are one occasion, as in the BG/NBD literature. frequency = occasions - 1.
- An **order** is a distinct order id of the customer, or, for rows without an order id, a
  purchase day of the customer (also in files that mix rows with and without ids).
- An **active period** of a customer is a period of ``period_days`` days, counted back from a
  date, in which they have a purchase occasion.

Each function marks the first row of each occasion, order or customer-period among the rows it
is given (in their order), so a caller counts them per customer (``bincount`` of the marked
rows' customers) or per month (of a table sorted by day: the first row is the earliest).
Exact, linear time, no hashing unless order ids are shared between customers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TABLE_SLOTS = 16_000_000  # largest customers x values table for exact distinct pairs
FLAGS_PER_ROW = 8  # a table of one-byte flags may hold this many per row given (or TABLE_SLOTS)


def flags_fit(n: int, width: int, rows: int) -> bool:
    """Whether a customers x values table of flags (one byte each) is small beside the data:
    its size then grows with the rows, not with customers x values, at any scale."""
    return n * max(width, 1) <= max(TABLE_SLOTS, FLAGS_PER_ROW * rows)


def distinct_counts(code: np.ndarray, value: np.ndarray, n: int, width: int) -> np.ndarray:
    """Distinct values per customer (``value`` in 0..width-1) through a table of flags; give
    ``flags_fit(n, width, len(code))``. Any row order."""
    seen = np.zeros(n * width, dtype=bool)
    seen[code * width + value] = True
    return np.asarray(np.count_nonzero(seen.reshape(n, width), axis=1), dtype=np.int64)


def first_of_pair(code: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """True for the first row of each (customer, value) pair; ``value`` small integers.

    A table with one slot per customer and value would be too large for years of days, so the
    values are taken in windows of ``width`` (a table of at most 16M slots). In each window
    every row writes its position into its slot, the first row of a pair last, and a row is
    the first of its pair when it reads its own position back.
    """
    if len(code) == 0:
        return np.zeros(0, dtype=bool)
    low, high = int(np.min(value)), int(np.max(value))
    # 32-bit where the values' span fits (days do): half the memory to fault in and divide
    if high - low < 2**31:  # in the values' own type: no wrap within a span that fits
        rel = (value - value.dtype.type(low)).astype(np.int32, copy=False)
        span: type[np.signedinteger[Any]] = np.int32
    else:
        rel, span = value.astype(np.int64) - np.int64(low), np.int64
    width = max(1, min(high - low + 1, TABLE_SLOTS // max(n, 1)))
    window = rel // span(width)
    ordered = bool(np.all(window[1:] >= window[:-1]))
    perm = None if ordered else np.argsort(
        window.astype(np.uint16) if np.max(window) < 2**16 else window, kind="stable")
    if perm is not None:
        code, rel, window = code[perm], rel[perm], window[perm]
    bounds = np.flatnonzero(np.diff(window)) + 1
    kind = np.int32 if len(code) < 2**31 else np.int64
    table = np.empty(n * width, dtype=kind)
    first = np.empty(len(code), dtype=bool)
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(code)], strict=True):
        slot = code[lo:hi] * width + (rel[lo:hi] - int(window[lo]) * width)
        rows = np.arange(lo, hi, dtype=kind)
        table[slot[::-1]] = rows[::-1]  # the last write wins: reversed, the first row wins
        first[lo:hi] = table[slot] == rows
    if perm is None:
        return first
    out = np.empty(len(code), dtype=bool)
    out[perm] = first
    return out


def first_of_day(code: np.ndarray, day: np.ndarray, n: int) -> np.ndarray:
    """Purchase occasions: the first row of each customer and day (give purchase rows)."""
    return first_of_pair(code, day, n)


def first_of_order(code: np.ndarray, day: np.ndarray, order: np.ndarray | None,
                   n: int) -> np.ndarray:
    """Orders: the first row of each customer's order id, and of each customer's purchase day
    among rows without an id (order code -1). Give purchase rows."""
    if order is None:
        return first_of_day(code, day, n)
    has = order >= 0
    if has.all():
        return _first_of_id(code, order)
    out = np.zeros(len(code), dtype=bool)
    blank = np.flatnonzero(~has)
    out[blank] = first_of_day(code[blank], day[blank], n)
    if len(blank) < len(code):
        ided = np.flatnonzero(has)
        out[ided] = _first_of_id(code[ided], order[ided])
    return out


def order_counts(code: np.ndarray, day: np.ndarray, order: np.ndarray | None,
                 n: int) -> np.ndarray:
    """Orders per customer: the rows ``first_of_order`` marks, counted. When every row has an
    id and every id belongs to one customer (the usual export) each id's owner is counted
    directly, without marking rows."""
    if order is not None and len(order) and bool((order >= 0).all()):
        owner = _owners(code, order)
        if owner is not None:
            return np.bincount(owner[owner >= 0], minlength=n)
    return np.bincount(code[first_of_order(code, day, order, n)], minlength=n)


def _owners(code: np.ndarray, order: np.ndarray) -> np.ndarray | None:
    """The customer of each order code (-1: unused code), or None when an id is shared.
    Order codes are dense (0..)."""
    owner = np.full(int(order.max()) + 1, -1, dtype=np.intp)
    owner[order] = code
    return owner if np.array_equal(owner[order], code) else None


def _first_of_id(code: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The first row of each (customer, order id): a slot per order when every order belongs
    to one customer (the usual case), else the pairs are hashed."""
    if len(order) == 0:
        return np.zeros(0, dtype=bool)
    if _owners(code, order) is not None:
        rows = np.arange(len(order), dtype=np.int64)
        slot = np.empty(int(order.max()) + 1, dtype=np.int64)
        slot[order[::-1]] = rows[::-1]  # the last write wins: reversed, the first row wins
        return np.asarray(slot[order] == rows)
    key = (code.astype(np.int64) << np.int64(32)) | order.astype(np.int64)
    return np.asarray(~pd.Series(key).duplicated().to_numpy())


def active_periods(code: np.ndarray, day: np.ndarray, end: int, period_days: int,
                   n: int) -> np.ndarray:
    """Per customer, the periods of ``period_days`` days counted back from day ``end`` (period
    0 = [end - L, end)) with a purchase. Give purchase rows (or occasions) dated before end."""
    if len(code) == 0:
        return np.zeros(n, dtype=np.int64)
    period = (int(end) - 1 - day.astype(np.int64)) // period_days
    periods = int(np.max(period)) + 1
    if flags_fit(n, periods, len(code)):  # a customers x periods table of flags
        return distinct_counts(code, period, n, periods)
    # periods counted forward from the oldest, so rows listed by date stay in window order
    forward = periods - 1 - period
    return np.bincount(code[first_of_pair(code, forward, n)], minlength=n)
