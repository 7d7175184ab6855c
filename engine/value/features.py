"""Stage 2a, features: one row per customer from the checked transactions, as of the as-of date.

All aggregations are numpy passes over integer customer codes (``bincount``, ``minimum.at``)
and exact distinct counts by slot tables: linear time, no Python loop over customers or rows,
and no hashing unless the data is unusual (orders shared between customers, say). Purchase
occasions, orders and active periods are defined once, in ``engine.value.occasions``.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from engine.data.load import EPOCH, Transactions
from engine.value.occasions import (
    active_periods,
    distinct_counts,
    first_of_day,
    flags_fit,
    order_counts,
)
from engine.value.periods import PeriodTotals, bought_to_date, period_totals, settled

CODE = "_code"  # internal column: the customer's code in Transactions, dropped on output
REFERRER = "_referrer"  # internal column: the code of who referred the customer, or -1
REPEAT_SPEND = "_repeat_spend"  # internal: mean purchase value of the repeat purchase days
PURCHASE_MARGIN = "_purchase_margin"  # internal: margin of purchases, refunds not deducted
SECOND_DAY = "_second_day"  # internal: day of the second purchase occasion, NO_DAY without
# internal: margin of the purchases of the last H periods, refunds not deducted (the side of
# growth_headroom that looks back: a refund must not make room to grow)
CURRENT_PURCHASE_MARGIN = "_current_purchase_margin"
NO_DAY = np.iinfo(np.int32).max
INTERNAL = (CODE, REFERRER, REPEAT_SPEND, PURCHASE_MARGIN, SECOND_DAY,
            CURRENT_PURCHASE_MARGIN)  # never written out


def _pairs_count(code: np.ndarray, other: np.ndarray, n: int) -> np.ndarray:
    """Distinct values of ``other`` per customer (``other`` >= 0 and < 2**32), by hashing."""
    key = (code.astype(np.int64) << np.int64(32)) | other.astype(np.int64)
    uniq = pd.unique(key)
    return np.bincount((uniq >> np.int64(32)).astype(np.intp), minlength=n)


def _category_breadth(code: np.ndarray, cat: np.ndarray, n: int, n_cat: int) -> np.ndarray:
    """Distinct categories per customer: a customers x categories table of flags while it is
    small beside the rows (any number of customers for a few categories), else the pairs
    hashed (many categories, few rows each)."""
    ok = cat >= 0
    if flags_fit(n, n_cat, len(code)):
        return distinct_counts(code[ok], cat[ok], n, max(n_cat, 1))
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

    def occasions() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        occ = first_of_day(code_b, day_b, n)
        code_o, day_o = code_b[occ], day_b[occ]
        return code_o, day_o, active_periods(code_o, day_o, as_of, period_days, n)

    with ThreadPoolExecutor(max_workers=1) as pool:  # numpy releases the GIL: both cores
        occ_job = pool.submit(occasions)
        breadth_job = pool.submit(_category_breadth, code_b, tx.category[buy], n,
                                  len(tx.categories)) if tx.category is not None else None
        first32 = np.full(n, np.iinfo(np.int32).max, dtype=np.int32)  # the days' dtype:
        last32 = np.full(n, -1, dtype=np.int32)  # ufunc.at is 8x slower when it casts
        np.minimum.at(first32, code_b, day_b)
        np.maximum.at(last32, code_b, day_b)
        first, last = first32.astype(np.int64), last32.astype(np.int64)
        order_b = None if tx.order is None else tx.order[buy]
        orders = None if order_b is None else order_counts(code_b, day_b, order_b, n)
        on_first = day_b == first[code_b]
        first_day = settled(np.bincount(code_b, weights=np.where(on_first, amount_b, 0.0),
                                        minlength=n))
        # refunds as a positive sum: never -0
        refunds = settled(np.bincount(tx.code, weights=np.maximum(-tx.amount, 0.0),
                                      minlength=n))
        code_o, day_o, active = occ_job.result()
        purchase_days = np.bincount(code_o, minlength=n)
        if orders is None:  # no order ids: an order is a purchase day
            orders = purchase_days
        later = day_o > first32[code_o]
        second = np.full(n, NO_DAY, dtype=np.int32)
        np.minimum.at(second, code_o[later], day_o[later])
        breadth = breadth_job.result() if breadth_job is not None \
            else np.zeros(n, dtype=np.int64)

    revenue = settled(totals.amount.sum(axis=1))
    bought = revenue + refunds
    margin = settled(totals.margin.sum(axis=1))
    purchase_margin = bought_to_date(totals)[:, 0]  # the retention bands' own sum
    rev_recent = totals.amount[:, 0]
    rev_previous = totals.amount[:, 1]
    current = settled(totals.margin[:, :horizon_periods].sum(axis=1))
    current_bought = settled(totals.purchase_margin[:, :horizon_periods].sum(axis=1))

    has_purchase = purchase_days > 0
    tx.report.customers_refund_only = int((~has_purchase).sum())
    # their refunds, in no customer's revenue, counted as the load counts refund rows (with
    # contracts: the payments of a negative price)
    left = ~has_purchase
    tx.report.refund_rows_left_out = int(np.count_nonzero(left[tx.code[tx.amount < 0]]))
    tx.report.refund_amount_left_out = float(refunds[left].sum())
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
        # over the sizes, so that a net revenue made negative by refunds keeps the sign
        total = np.abs(rev_recent) + np.abs(rev_previous)
        trend = np.where(total > 1e-12, (rev_recent - rev_previous) / total, 0.0)
        trend = np.clip(trend, -1.0, 1.0)  # rounding only
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
        "active_periods": pick(active).astype(np.int64),
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
        PURCHASE_MARGIN: pick(purchase_margin),
        SECOND_DAY: pick(second).astype(np.int64),
        CURRENT_PURCHASE_MARGIN: pick(current_bought),
    }, copy=False)  # each column its own block: not copied into one 2-D block per dtype
    return frame


def last_purchase_day(table: pd.DataFrame) -> dt.date | None:
    """The data's last purchase day, from a value table's ``last_purchase`` column (None
    without a purchase)."""
    last = table["last_purchase"].max() if "last_purchase" in table else None
    return None if last is None or pd.isna(last) else pd.Timestamp(last).date()
