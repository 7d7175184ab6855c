"""Stage 2a, features: one row per customer from the checked transactions, as of the as-of date.

All aggregations are numpy ``bincount`` passes over integer customer codes, or hash-based
unique counts: linear time, no Python loop over customers or rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.load import EPOCH, Transactions

CODE = "_code"  # internal column: the customer's code in Transactions, dropped on output
REFERRER = "_referrer"  # internal column: the code of who referred the customer, or -1
REPEAT_SPEND = "_repeat_spend"  # internal: mean purchase value of the repeat purchase days


def _pairs_count(code: np.ndarray, other: np.ndarray, n: int) -> np.ndarray:
    """Distinct values of ``other`` per customer (``other`` >= 0 and < 2**32)."""
    key = (code.astype(np.int64) << np.int64(32)) | other.astype(np.int64)
    uniq = pd.unique(key)
    return np.bincount((uniq >> np.int64(32)).astype(np.int64), minlength=n)


def _first_rows(values: np.ndarray, n_values: int) -> np.ndarray:
    """Index of the first row holding each value (values are codes 0..n_values-1; -1 skipped)."""
    first = np.full(n_values, -1, dtype=np.int64)
    ok = np.flatnonzero(values >= 0)
    first[values[ok][::-1]] = ok[::-1]  # later assignments win: reversed, the first row wins
    return first[first >= 0]


def _orders_and_days(code: np.ndarray, day: np.ndarray,
                     order: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct orders and distinct purchase days per customer.

    When every order id belongs to one customer on one day (the normal case, checked), each
    order is reduced to its first row, which makes both counts cheap; otherwise the exact
    pair counts are used.
    """
    if order is None or len(order) == 0:
        days = _pairs_count(code, day, n)
        return days, days
    first = _first_rows(order, int(order.max()) + 1)
    owner, when = code[first], day[first]
    valid = order >= 0
    pos = np.full(int(order.max()) + 1, -1, dtype=np.int64)
    pos[order[first]] = np.arange(len(first))
    row_pos = pos[np.where(valid, order, 0)]
    simple = bool(np.all(~valid | ((owner[row_pos] == code) & (when[row_pos] == day))))
    if not simple or not valid.all():
        return _pairs_count(code, np.where(valid, order, 2**31), n), _pairs_count(code, day, n)
    return np.bincount(owner, minlength=n), _pairs_count(owner, when, n)


def _category_breadth(code: np.ndarray, cat: np.ndarray, n: int, n_cat: int) -> np.ndarray:
    ok = cat >= 0
    if n * max(n_cat, 1) <= 64_000_000:  # a customers x categories count matrix fits
        counts = np.bincount(code[ok].astype(np.int64) * n_cat + cat[ok], minlength=n * n_cat)
        return np.asarray((counts.reshape(n, n_cat) > 0).sum(axis=1), dtype=np.int64)
    return _pairs_count(code[ok], cat[ok], n)


def _sum(code: np.ndarray, values: np.ndarray, n: int, mask: np.ndarray | None = None
         ) -> np.ndarray:
    if mask is not None:
        code, values = code[mask], values[mask]
    return np.bincount(code, weights=values, minlength=n)


def build_features(tx: Transactions, *, period_days: int, horizon_periods: int) -> pd.DataFrame:
    """The feature columns of the value table, for every customer with at least one purchase.

    Customers whose only rows are refunds have no purchase and are left out; the count is
    recorded in ``tx.report.customers_refund_only``.
    """
    n = len(tx.customer_ids)
    as_of = tx.as_of_day
    buy = tx.amount > 0
    code_b, day_b = tx.code[buy], tx.day[buy]

    first = np.full(n, np.iinfo(np.int32).max, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    grouped = pd.DataFrame({"c": code_b, "d": day_b}).groupby("c", sort=True)["d"]
    lo, hi = grouped.min(), grouped.max()
    first[lo.index.to_numpy()] = lo.to_numpy()
    last[hi.index.to_numpy()] = hi.to_numpy()

    orders, purchase_days = _orders_and_days(
        code_b, day_b, None if tx.order is None else tx.order[buy], n)
    if tx.category is not None:
        breadth = _category_breadth(code_b, tx.category[buy], n, len(tx.categories))
    else:
        breadth = np.zeros(n, dtype=np.int64)

    amount_b = tx.amount[buy]
    on_first = day_b == first[code_b]
    first_day = np.bincount(code_b[on_first], weights=amount_b[on_first], minlength=n)
    bought = np.bincount(code_b, weights=amount_b, minlength=n)
    revenue = _sum(tx.code, tx.amount, n)
    refunds = -_sum(tx.code, tx.amount, n, tx.amount < 0)
    margin = _sum(tx.code, tx.margin, n)
    recent = tx.day >= as_of - period_days
    previous = (tx.day >= as_of - 2 * period_days) & ~recent
    rev_recent = _sum(tx.code, tx.amount, n, recent)
    rev_previous = _sum(tx.code, tx.amount, n, previous)
    current = _sum(tx.code, tx.margin, n, tx.day >= as_of - horizon_periods * period_days)

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
