"""Monthly customer-equity figures from the checked transactions (defined in the README).

Months are calendar months, from the month of the first transaction to the month of the day
before the as-of date. A month runs from its first day S to its end E (the first day of the next
month, or the as-of date for a last, partial month); "at the end of the month" means the state
on day E, counting purchases before E.

    active at day E     bought (amount > 0) on a day in [E - W, E), W = active_window_days;
                        with subscriptions: a contract runs on day E - 1 (start < E <= end)
    new                 first purchase (first contract start) ever in [S, E)
    arrived             not active at S, bought (started a contract) in [S, E)
    reactivated         arrived, bought before S (a lapsed customer back)
    retained            active at S and at E
    churned             active at S, not active at E (churn rate = churned / active at S)
    new and left        new, not active at E; reactivated and left: reactivated, not active
                        at E (with purchases both are 0, W >= 31: whoever buys in a month is
                        active at its end; a contract can start and end within a month)
    end = start + new + reactivated - churned - new and left - reactivated and left
    m_i(E)              margin per active period of customer i from purchases before E (0 for
                        a one-time buyer), as the value table's margin_per_active_period
    r(E)                overall retention rate measured as of E (as ``cvm score`` measures it)
    clv_i(E)            m_i(E) x r(E) / (1 + d - r(E))
    customer equity     sum of clv_i(E) over the customers active at E
    avg CLV             customer equity / customers active at E
    acquisition equity  new x avg CLV - acquisition cost
    retention equity    retained x avg CLV - retention cost
    R = N x V x L       N = active at S + new + reactivated, L = active at E / N,
                        V = revenue / active at E; the change in R split by Shapley values

Purchase occasions, orders, active periods and the pooled retention rate come from the same
functions as the value table's (``engine.value.occasions``, ``engine.value.retention``).
Everything is a numpy pass over rows sorted by day: the cost grows with months x (rows + customers).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.data.load import Transactions
from engine.output import writers as output
from engine.value.occasions import active_periods, first_of_day, first_of_order
from engine.value.retention import pairs_available, pooled

FIGURE_COLUMNS = (
    "month", "month_start", "month_end", "partial_month",
    "customers_start", "new_customers", "reactivated_customers", "retained_customers",
    "churned_customers", "customers_end", "churn_rate",
    "buyers", "orders", "revenue", "gross_margin", "avg_order_value",
    "retention_rate", "avg_clv", "customer_equity",
    "acquisition_cost", "retention_cost", "acquisition_equity", "retention_equity",
    "base_customers", "revenue_per_active_customer", "loyalty",
    "revenue_change", "change_from_customers", "change_from_value", "change_from_loyalty",
)
# with contracts only (with purchases both are always 0, and the purchase mode's file keeps its
# columns): who arrived in the month and holds no contract at its end
LEFT_WITHIN_MONTH = ("new_and_left", "reactivated_and_left")
CONTRACT_COLUMNS = (*FIGURE_COLUMNS[:FIGURE_COLUMNS.index("customers_end")], *LEFT_WITHIN_MONTH,
                    *FIGURE_COLUMNS[FIGURE_COLUMNS.index("customers_end"):])
# to the cent; avg_clv and revenue_per_active_customer, factors the equities and revenue are
# products of, are written to 6 decimals as the rates are, so that the products recomputed
# from the file agree with the figures written (to the cent they missed by 85.13 on 23,500
# customers)
MONEY_COLUMNS = ("revenue", "gross_margin", "avg_order_value", "customer_equity",
                 "acquisition_cost", "retention_cost", "acquisition_equity", "retention_equity",
                 "revenue_change", "change_from_customers", "change_from_value",
                 "change_from_loyalty")


@dataclass(frozen=True)
class EquitySettings:
    """What the figures depend on besides the transactions (all from cvm.yaml)."""

    period_days: int  # L
    discount_rate_per_period: float  # d
    lookback_periods: int  # as for the retention rate of ``cvm score``
    active_window_days: int  # W (at least 31: a buyer in a month is active at its end)


def month_bounds(first_day: int, as_of_day: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Month labels (YYYY-MM), start days and end days (exclusive) in days since 1970-01-01."""
    first = np.datetime64(int(first_day), "D").astype("datetime64[M]")
    last = np.datetime64(int(as_of_day) - 1, "D").astype("datetime64[M]")
    one = np.timedelta64(1, "M")  # numpy 2.5 deprecates adding a bare integer to a date
    months = np.arange(first, last + one)
    starts = months.astype("datetime64[D]").astype(np.int64)
    ends = np.minimum((months + one).astype("datetime64[D]").astype(np.int64), as_of_day)
    return [str(m) for m in months], starts, ends


def shapley_nvl(n0: np.ndarray, v0: np.ndarray, l0: np.ndarray, n1: np.ndarray, v1: np.ndarray,
                l1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split N1V1L1 - N0V0L0 into the parts due to N, V and L (Shapley values).

    Each part is the change in R when that factor moves from its old to its new value, averaged
    over the six orders in which the three factors can be changed one at a time. The parts add
    up exactly to the change, and unlike a log (LMDI) split they need no positive values.
    """
    def part(dx: np.ndarray, a0: np.ndarray, b0: np.ndarray, a1: np.ndarray, b1: np.ndarray
             ) -> np.ndarray:
        return np.asarray(dx * ((a0 * b0 + a1 * b1) / 3.0 + (a0 * b1 + a1 * b0) / 6.0))

    return (part(n1 - n0, v0, l0, v1, l1), part(v1 - v0, n0, l0, n1, l1),
            part(l1 - l0, n0, v0, n1, v1))


def retention_as_of(occ_code: np.ndarray, occ_day: np.ndarray, end: int, n: int, *,
                    period_days: int, lookback_periods: int) -> float:
    """The overall retention rate r as ``engine.value.retention.measure`` computes it at as-of
    ``end``.

    ``occ_*``: purchase occasions (distinct customer and day, amount > 0), sorted by day.
    Period j is the days [end - (j+1)L, end - jL). NaN when the purchases before ``end`` span
    less than two periods (nothing to measure yet).
    """
    upto = int(np.searchsorted(occ_day, end, side="left"))
    if upto == 0:
        return float("nan")
    pairs = pairs_available(int(occ_day[0]), end, period_days=period_days,
                            lookback=lookback_periods)
    if pairs < 1:
        return float("nan")

    def active(j: int) -> np.ndarray:
        lo = np.searchsorted(occ_day[:upto], end - (j + 1) * period_days, side="left")
        hi = np.searchsorted(occ_day[:upto], end - j * period_days, side="left")
        mask = np.zeros(n, dtype=bool)
        mask[occ_code[lo:hi]] = True
        return mask

    total, kept = pooled([active(j) for j in range(pairs + 1)])
    return int(kept[0]) / int(total[0]) if total[0] else 0.0


def monthly_figures(tx: Transactions, settings: EquitySettings,
                    spend: Mapping[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """One row per month with the columns of ``FIGURE_COLUMNS`` (``CONTRACT_COLUMNS`` with
    contracts), at full precision.

    ``spend``: month (YYYY-MM) -> (acquisition cost, retention cost); missing months cost 0,
    a partial last month the share of its month's costs its days are.
    Figures that cannot be computed (no retention rate yet, no customers) are NaN.
    """
    n = len(tx.customer_ids)
    L, W, d = settings.period_days, settings.active_window_days, settings.discount_rate_per_period
    if W < 31 and tx.contracts is None:
        raise ValueError("active_window_days must be at least 31")
    order = np.argsort(tx.day, kind="stable")
    code, day = tx.code[order].astype(np.int64), tx.day[order].astype(np.int64)
    amount, margin = tx.amount[order], tx.margin[order]
    buy = amount > 0
    code_b, day_b = code[buy], day[buy]
    occ = first_of_day(code_b, day_b, n)  # rows by day: each occasion's earliest row
    occ_code, occ_day = code_b[occ], day_b[occ]
    orders_b = None if tx.order is None else tx.order[order][buy]
    ord_day = day_b[first_of_order(code_b, day_b, orders_b, n)]  # counted at their first row
    months, starts, ends = month_bounds(int(day[0]), tx.as_of_day)
    margin_cum = np.zeros(n)
    days_cum = np.zeros(n, dtype=np.int64)  # purchase occasions so far
    active, first, started = activity(tx, occ_code, occ_day, W)

    def rows(values: np.ndarray, lo: int, hi: int) -> slice:
        a, b = np.searchsorted(values, [lo, hi], side="left")
        return slice(int(a), int(b))

    records: list[dict[str, object]] = []
    active_start = active(int(starts[0]))
    for label, start, end in zip(months, starts.tolist(), ends.tolist(), strict=True):
        rs, os_, ds = rows(day, start, end), rows(occ_day, start, end), rows(ord_day, start, end)
        margin_cum += np.bincount(code[rs], weights=margin[rs], minlength=n)
        days_cum += np.bincount(occ_code[os_], minlength=n)
        active_end = active(end)
        # every customer of the month is in one flow: active at its start (retained or
        # churned), or arrived in it (new or reactivated, each still active at the end or not)
        arrived = started(start, end) & ~active_start
        new = (first >= start) & (first < end)
        reactivated = arrived & (first < start)
        retained = active_start & active_end
        churned = active_start & ~active_end
        r = retention_as_of(occ_code, occ_day, end, n, period_days=L,
                            lookback_periods=settings.lookback_periods)
        ids = np.flatnonzero(active_end & (days_cum > 1))  # one-time buyers have m = 0
        periods = active_periods(occ_code[:os_.stop], occ_day[:os_.stop], end, L, n)
        m = margin_cum[ids] / periods[ids]
        equity = float(m.sum() * r / (1.0 + d - r))
        buyers = np.unique(code[rs][buy[rs]])
        # a partial last month is charged the share of its month's spend its days are
        share = (end - start) / _month_days(start)
        acq, ret = (x * share for x in (spend or {}).get(label, (0.0, 0.0)))
        records.append({
            "month": label,
            "month_start": _date(start), "month_end": _date(end - 1),
            "partial_month": share < 1,
            "customers_start": int(active_start.sum()), "new_customers": int(new.sum()),
            "reactivated_customers": int(reactivated.sum()),
            "retained_customers": int(retained.sum()),
            "churned_customers": int(churned.sum()),
            "new_and_left": int((new & ~active_end).sum()),
            "reactivated_and_left": int((reactivated & ~active_end).sum()),
            "customers_end": int(active_end.sum()),
            "buyers": len(buyers), "orders": int(ds.stop - ds.start),
            "revenue": float(amount[rs].sum()), "gross_margin": float(margin[rs].sum()),
            "retention_rate": r, "customer_equity": equity,
            "acquisition_cost": float(acq), "retention_cost": float(ret),
        })
        active_start = active_end
    columns = FIGURE_COLUMNS if tx.contracts is None else CONTRACT_COLUMNS
    return _derived(pd.DataFrame.from_records(records))[list(columns)]


def activity(tx: Transactions, occ_code: np.ndarray, occ_day: np.ndarray, window: int
             ) -> tuple[Callable[[int], np.ndarray], np.ndarray,
                        Callable[[int, int], np.ndarray]]:
    """``active(E)``, who is active at the month end E (per customer code), each customer's
    first day as a customer, and ``started(S, E)``, who bought (started a contract) in [S, E).

    Purchases: bought on a day in [E - W, E); first: the first purchase occasion
    (``occ_*``: occasions sorted by day). Contracts (``tx.contracts``): a contract runs on
    the month's last day E - 1 (start < E <= end; at the as-of date that is the value
    model's ``active``); first: the first contract's start."""
    n = len(tx.customer_ids)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    contracts = tx.contracts
    if contracts is None:
        np.minimum.at(first, occ_code, occ_day)

        def active(at: int) -> np.ndarray:
            return _codes(occ_code, occ_day, at - window, at, n)

        return active, first, lambda lo, hi: _codes(occ_code, occ_day, lo, hi, n)
    np.minimum.at(first, contracts.code, contracts.start)

    def began(lo: int, hi: int) -> np.ndarray:
        mask = np.zeros(n, dtype=bool)
        mask[contracts.code[(contracts.start >= lo) & (contracts.start < hi)]] = True
        return mask

    def running(at: int) -> np.ndarray:
        mask = np.zeros(n, dtype=bool)
        mask[contracts.code[(contracts.start < at) & (contracts.end >= at)]] = True
        return mask

    return running, first, began


def equity_customers(tx: Transactions, window: int) -> np.ndarray:
    """Per customer code, whether the last month's ``customer_equity`` (at the as-of date)
    counts them: active then, with purchases on more than one day (m = 0 otherwise). No sort:
    the first and last purchase day of each customer say both."""
    n = len(tx.customer_ids)
    buy = tx.amount > 0
    code, day = tx.code[buy], tx.day[buy].astype(np.int64)
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, code, day)
    np.maximum.at(last, code, day)
    if tx.contracts is None:
        active = last >= tx.as_of_day - window
    else:
        active = activity(tx, code[:0], day[:0], window)[0](tx.as_of_day)
    return np.asarray(active & (last > first))


def _derived(f: pd.DataFrame) -> pd.DataFrame:
    """The ratios and the N x V x L split, from the counts and sums of each month."""
    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        return (num / den.where(den != 0)).astype(np.float64)

    f["churn_rate"] = ratio(f["churned_customers"], f["customers_start"])
    f["avg_order_value"] = ratio(f["revenue"], f["orders"])
    f.loc[f["retention_rate"].isna(), "customer_equity"] = np.nan
    f["avg_clv"] = ratio(f["customer_equity"], f["customers_end"])
    f["acquisition_equity"] = f["new_customers"] * f["avg_clv"] - f["acquisition_cost"]
    f["retention_equity"] = f["retained_customers"] * f["avg_clv"] - f["retention_cost"]
    n = f["customers_start"] + f["new_customers"] + f["reactivated_customers"]
    f["base_customers"] = n.astype(np.int64)
    f["revenue_per_active_customer"] = ratio(f["revenue"], f["customers_end"])
    f["loyalty"] = ratio(f["customers_end"], n)
    nv = [f[c].to_numpy(np.float64)
          for c in ("base_customers", "revenue_per_active_customer", "loyalty")]
    prev = [np.concatenate([[np.nan], x[:-1]]) for x in nv]
    dn, dv, dl = shapley_nvl(prev[0], prev[1], prev[2], nv[0], nv[1], nv[2])
    ok = ~np.isnan(dn + dv + dl)
    f["revenue_change"] = np.where(ok, f["revenue"].diff().to_numpy(), np.nan)
    f["change_from_customers"], f["change_from_value"], f["change_from_loyalty"] = dn, dv, dl
    return f


def _codes(code: np.ndarray, day: np.ndarray, lo: int, hi: int, n: int) -> np.ndarray:
    """Per customer code, whether a row of ``code`` (sorted by ``day``) is on a day in
    [lo, hi)."""
    a, b = np.searchsorted(day, [lo, hi], side="left")
    mask = np.zeros(n, dtype=bool)
    mask[code[a:b]] = True
    return mask


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def _month_days(start: int) -> int:
    month = np.datetime64(int(start), "D").astype("datetime64[M]")
    following = month + np.timedelta64(1, "M")
    return int((following.astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int))


def rounded(figures: pd.DataFrame) -> pd.DataFrame:
    """The figures as written to CSV: money to cents, other decimals to 6 places."""
    return output.rounded(figures, MONEY_COLUMNS)
