"""Contracts and subscriptions as data (``subscriptions:`` in cvm.yaml): a contracts file
becomes payments.

The transactions file holds one row per contract: the customer (``data.columns.customer_id``),
the start (``date``), the price per billing period (``amount``; ``cost`` or ``margin`` per period
as for transactions) and the end (the column named by ``subscriptions.end``; empty while the
contract runs). Each contract is expanded into one payment per billing period of
``subscriptions.billing_days``, on the day the period starts, from the start while the period
starts before both the end and the as-of date; every later stage (features, value, lifecycle,
policies, allocation, plan, report) then sees ordinary purchases. The value model for contracts
is ``engine.value.subscriptions``; the expansion into payments is
``engine.data.load.expand_contracts`` (beside the ``Transactions`` it makes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import InputError
from engine.words import counted

if TYPE_CHECKING:
    from engine.data.tabular import Source

NO_END = np.iinfo(np.int32).max
NOT_BOOKED = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Contracts:
    """The contract rows used, as read (before they became payments): what the report needs
    to say who holds a running contract at a month end (engine/report/equity.py)."""

    code: np.ndarray  # intp customer code per contract
    start: np.ndarray  # int64 day of the start (days since 1970-01-01)
    end: np.ndarray  # int64 first day not covered (NO_END while it runs): start <= day < end
    amount: np.ndarray  # float64 price per billing period (negative: a refund, a discount)
    # per customer code, the contracts of a positive price starting on or after the as-of
    # date (left out of the value): their first start and last end (NO_END: one runs on)
    # (NOT_BOOKED: none), what tells a renewal booked from a cancellation (booked_after)
    booked_start: np.ndarray | None = None
    booked_end: np.ndarray | None = None


def end_days(src: Source, column: str, end_seconds: np.ndarray, day: np.ndarray,
             no_date: int) -> np.ndarray:
    """Days of the contracts' ends (NO_END where empty); an end before its start is an error
    at its row."""
    empty = end_seconds == no_date
    end = np.where(empty, NO_END, end_seconds // 86_400).astype(np.int64)
    bad = np.flatnonzero(~empty & (end < day))
    if len(bad):
        i = int(bad[0])
        epoch = dt.date(1970, 1, 1)
        raise InputError(src.row_problem(
            i, column, f"found the end {epoch + dt.timedelta(days=int(end[i]))} before the start "
            f"{epoch + dt.timedelta(days=int(day[i]))} ({_such(src, len(bad))}), expected an end "
            "on or after the start", "leave the end empty while the contract runs"))
    return end


def ends_after(end_day: np.ndarray, as_of: dt.date) -> tuple[int, int]:
    """How many contracts end on or after ``as_of`` (so run at it) and the latest of their
    end days (-1: none): what ``ends_after_note`` says, and what partitions add up."""
    as_of_day = (as_of - dt.date(1970, 1, 1)).days
    later = end_day[(end_day != NO_END) & (end_day >= as_of_day)]  # as expand_contracts
    return len(later), int(later.max()) if len(later) else -1


def ends_after_note(count: int, latest_day: int, as_of: dt.date) -> str | None:
    """The note for a default as-of date (the day after the last contract start): the
    ``count`` contracts whose end falls on or after it (the latest on ``latest_day``), which
    therefore count as running at it."""
    if not count:
        return None
    latest = dt.date(1970, 1, 1) + dt.timedelta(days=latest_day)
    return (f"{counted(count, 'contract')} end{'s' * (count == 1)} on or after the as-of "
            f"date {as_of} (latest end {latest}): {'it is' if count == 1 else 'they are'} "
            "running at it; set as_of to value at a later date (the "
            "default is the day after the last contract start)")


def _such(src: Source, count: int) -> str:
    """'3 such rows', or among the first rows `cvm validate` read of a longer file."""
    rows = "row" if count == 1 else "rows"
    return f"{count:,} such {rows}" if src.first_rows is None else \
        f"{count:,} such {rows} in the first {src.first_rows:,}"


def booked_after(code: np.ndarray, day: np.ndarray, amount: np.ndarray, end: np.ndarray,
                 as_of_day: int, customers: int) -> tuple[np.ndarray, np.ndarray]:
    """Per customer code: the first start and the last end (NO_END when one has none) of the
    contracts of a positive price starting on or after the as-of date (NOT_BOOKED, -1: none):
    a renewal or a plan change already booked, which the value leaves out."""
    later = (day >= as_of_day) & (amount > 0)
    first = np.full(customers, NOT_BOOKED, dtype=np.int64)
    last = np.full(customers, -1, dtype=np.int64)
    np.minimum.at(first, code[later], day[later].astype(np.int64))
    np.maximum.at(last, code[later], end[later].astype(np.int64))
    return first, last

