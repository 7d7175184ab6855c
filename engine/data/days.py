"""The checks over every row that read only its day and whether it is a purchase: the as-of
date (the day after the last row, unless set), some row before it, some purchase before it.
``require_history`` and ``require_sample`` (engine.value.retention) then read the distinct
purchase days alone (``purchase_days``).

``as_of_over`` is the Dask engine's (each file's days gathered from its workers);
``purchase_days`` is shared with ``cvm validate`` (engine.value.every_row, which reads every
row's amount too and says "no purchase" in run's words, with its counts)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from engine.data.load import EPOCH, LoadReport, Transactions, all_after_as_of
from engine.errors import InputError, Problem
from engine.project.config import Config
from engine.project.location import config_shown


def as_of_over(config: Config, all_days: np.ndarray, buy_days: np.ndarray
               ) -> tuple[dt.date, np.ndarray]:
    """The as-of date over every row (as ``load_transactions`` decides it) and the distinct
    purchase days before it; ``all_days``, ``buy_days``: the distinct days of every row and
    of the rows with a positive amount, sorted. Raises when no row or no purchase is before
    it."""
    as_of = config.as_of or (EPOCH + dt.timedelta(days=int(all_days[-1]) + 1))
    as_of_day = (as_of - EPOCH).days
    if all_days[0] >= as_of_day:
        raise InputError(all_after_as_of(config, int(all_days[0]), as_of))
    buy = buy_days[buy_days < as_of_day]
    if not len(buy):
        raise InputError(Problem(
            "no purchase to score: no row has a positive amount before the as-of date "
            f"{as_of}", file=config.display(config.data.transactions),
            key=f"column {config.data.columns['amount']!r}",
            hint="a purchase is a row with a positive amount before the as-of date; check the "
            f"amount column mapped in data.columns and as_of in {config_shown()}"))
    return as_of, buy


def purchase_days(buy_days: np.ndarray, as_of: dt.date, report: LoadReport) -> Transactions:
    """The purchases reduced to their distinct days: all that ``require_history``,
    ``require_sample``, ``measure`` and ``holdout_split`` read of the rows (the first
    purchase day, the days in the retention periods); no customer."""
    n = len(buy_days)
    return Transactions(
        customer_ids=np.array([], dtype=object), id_array=pa.array([], pa.string()),
        code=np.zeros(n, dtype=np.intp), day=buy_days.astype(np.int32), amount=np.ones(n),
        margin=np.zeros(n), order=None, category=None, categories=(), as_of=as_of,
        report=report)
