"""Stage 2a, features: one row per customer from the checked transactions, as of the as-of date.

All aggregations are numpy passes over integer customer codes (``bincount``, ``minimum.at``)
and exact distinct counts by slot tables: linear time, no Python loop over customers or rows,
and no hashing unless the data is unusual (orders shared between customers, say).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from engine.load import EPOCH, Transactions
from engine.periods import PeriodTotals, period_totals, settled

CODE = "_code"  # internal column: the customer's code in Transactions, dropped on output
REFERRER = "_referrer"  # internal column: the code of who referred the customer, or -1
REPEAT_SPEND = "_repeat_spend"  # internal: mean purchase value of the repeat purchase days
_TABLE_SLOTS = 16_000_000  # largest customers x values table for exact distinct counts


def _pairs_count(code: np.ndarray, other: np.ndarray, n: int) -> np.ndarray:
    """Distinct values of ``other`` per customer (``other`` >= 0 and < 2**32), by hashing."""
    key = (code.astype(np.int64) << np.int64(32)) | other.astype(np.int64)
    uniq = pd.unique(key)
    return np.bincount((uniq >> np.int64(32)).astype(np.intp), minlength=n)


def _first_of_day(code: np.ndarray, day: np.ndarray, n: int) -> np.ndarray:
    """True for the first row of each (customer, day) pair: exact, without hashing.

    A table with one slot per customer and day would be too large for years of data, so the
    days are taken in windows of ``width`` days (a table of at most 16M slots). In each window
    every row writes its position into its slot, the first row of a pair last, and a row is
    the first of its pair when it reads its own position back.
    """
    if len(code) == 0:
        return np.zeros(0, dtype=bool)
    rel = day.astype(np.int64) - int(day.min())
    width = max(1, min(int(rel.max()) + 1, _TABLE_SLOTS // max(n, 1)))
    window = rel // width
    ordered = bool(np.all(window[1:] >= window[:-1]))
    perm = None if ordered else np.argsort(
        window.astype(np.uint16) if window.max() < 2**16 else window, kind="stable")
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


def _orders(code: np.ndarray, order: np.ndarray, n: int) -> np.ndarray:
    """Distinct order ids per customer. Order codes are dense (0..), -1 without an id; when
    every order belongs to one customer, counting orders per owner needs no hashing."""
    valid = order >= 0
    if valid.all() and len(order):
        owner = np.full(int(order.max()) + 1, -1, dtype=np.intp)
        owner[order] = code
        if np.array_equal(owner[order], code):
            return np.bincount(owner[owner >= 0], minlength=n)
    # rows without an order id count as one order per customer, as do shared ids per owner
    return _pairs_count(code, np.where(valid, order, 2**31), n)


def _category_breadth(code: np.ndarray, cat: np.ndarray, n: int, n_cat: int) -> np.ndarray:
    ok = cat >= 0
    if n * max(n_cat, 1) <= _TABLE_SLOTS:  # a customers x categories count matrix fits
        counts = np.bincount(code[ok] * n_cat + cat[ok], minlength=n * n_cat)
        return np.asarray(np.count_nonzero(counts.reshape(n, n_cat), axis=1), dtype=np.int64)
    return _pairs_count(code[ok], cat[ok], n)


def build_features(tx: Transactions, *, period_days: int, horizon_periods: int,
                   totals: PeriodTotals | None = None) -> pd.DataFrame:
    """The feature columns of the value table, for every customer with at least one purchase.

    Customers whose only rows are refunds have no purchase and are left out; the count is
    recorded in ``tx.report.customers_refund_only``. ``totals`` (per customer and period)
    are computed here unless given with at least ``horizon_periods`` periods.
    """
    n = len(tx.customer_ids)
    as_of = tx.as_of_day
    if totals is None or totals.periods < max(horizon_periods, 2) \
            or totals.period_days != period_days:
        totals = period_totals(tx, period_days, max(horizon_periods, 2))
    buy = tx.amount > 0
    code_b, day_b, amount_b = tx.code[buy], tx.day[buy], tx.amount[buy]

    with ThreadPoolExecutor(max_workers=1) as pool:  # numpy releases the GIL: both cores
        day_job = pool.submit(_first_of_day, code_b, day_b, n)
        breadth_job = pool.submit(_category_breadth, code_b, tx.category[buy], n,
                                  len(tx.categories)) if tx.category is not None else None
        first32 = np.full(n, np.iinfo(np.int32).max, dtype=np.int32)  # the days' dtype:
        last32 = np.full(n, -1, dtype=np.int32)  # ufunc.at is 8x slower when it casts
        np.minimum.at(first32, code_b, day_b)
        np.maximum.at(last32, code_b, day_b)
        first, last = first32.astype(np.int64), last32.astype(np.int64)
        orders_per = None if tx.order is None else _orders(code_b, tx.order[buy], n)
        on_first = day_b == first[code_b]
        first_day = settled(np.bincount(code_b, weights=np.where(on_first, amount_b, 0.0),
                                        minlength=n))
        refunds = -settled(np.bincount(tx.code, weights=np.minimum(tx.amount, 0.0),
                                       minlength=n))
        purchase_days = np.bincount(code_b[day_job.result()], minlength=n)
        breadth = breadth_job.result() if breadth_job is not None \
            else np.zeros(n, dtype=np.int64)
    orders = purchase_days if orders_per is None else orders_per

    revenue = settled(totals.amount.sum(axis=1))
    bought = revenue + refunds
    margin = settled(totals.margin.sum(axis=1))
    rev_recent = totals.amount[:, 0]
    rev_previous = totals.amount[:, 1]
    current = settled(totals.margin[:, :horizon_periods].sum(axis=1))

    has_purchase = purchase_days > 0
    tx.report.customers_refund_only = int((~has_purchase).sum())
    keep = np.flatnonzero(has_purchase)

    frequency = purchase_days - 1
    recency = as_of - last
    tenure = as_of - first
    span = (last - first).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(frequency > 0, span / np.maximum(frequency, 1), np.nan)
        gap = np.where(gap > 0, gap, np.nan)  # several purchase days always span > 0 days
        ratio = recency / gap
        margin_rate = np.where(revenue > 0, margin / revenue, np.nan)
        total = rev_recent + rev_previous
        trend = np.where(np.abs(total) > 1e-12, (rev_recent - rev_previous) / total, 0.0)
        trend = np.clip(trend, -1.0, 1.0)
        repeat_spend = np.where(frequency > 0, (bought - first_day) / np.maximum(frequency, 1),
                                0.0)
        aov = revenue / np.maximum(orders, 1)

    def pick(values: np.ndarray) -> np.ndarray:
        return values[keep]

    days_to_date = np.datetime64(EPOCH.isoformat(), "D")
    frame = pd.DataFrame({
        "customer_id": pd.array(tx.customer_ids[keep], dtype="object"),
        "first_purchase": (days_to_date + pick(first).astype("timedelta64[D]")).astype(
            "datetime64[s]"),
        "last_purchase": (days_to_date + pick(last).astype("timedelta64[D]")).astype(
            "datetime64[s]"),
        "recency_days": pick(recency).astype(np.int64),
        "tenure_days": pick(tenure).astype(np.int64),
        "frequency": pick(frequency).astype(np.int64),
        "orders": pick(orders).astype(np.int64),
        "revenue": pick(revenue),
        "refunds": pick(refunds),
        "avg_order_value": pick(aov),
        "gross_margin": pick(margin),
        "margin_rate": pick(margin_rate),
        "revenue_recent": pick(rev_recent),
        "revenue_previous": pick(rev_previous),
        "purchase_trend": pick(trend),
        "avg_interpurchase_days": pick(gap),
        "recency_ratio": pick(ratio),
        "category_breadth": pick(breadth).astype(np.int64),
        "current_value": pick(current),
        CODE: keep,
        REPEAT_SPEND: pick(repeat_spend),
    })
    return frame
