"""Per customer and period totals, shared by the features and the retention measurement.

Periods are counted back from the as-of date: period 0 is the ``period_days`` days before it,
period 1 the ones before that, and so on; the last column gathers all older periods. Two
``bincount`` passes over the rows give revenue and margin for every customer and period at
once, a table of flags the periods with a purchase; a third pass over the refund rows alone
gives the margin of purchases (refunds not deducted), which sets the retention value bands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.load import Transactions


@dataclass(frozen=True)
class PeriodTotals:
    period_days: int
    amount: np.ndarray  # (customers, periods + 1) float64: net amount per period
    margin: np.ndarray  # (customers, periods + 1) float64: gross margin per period
    active: np.ndarray  # (customers, periods + 1) bool: a purchase (amount > 0) in the period
    purchase_margin: np.ndarray  # (customers, periods + 1) float64: margin of purchase rows

    @property
    def periods(self) -> int:
        """Periods with a column of their own (the last column holds all older ones)."""
        return int(self.amount.shape[1]) - 1


SUM_DECIMALS = 6  # per-customer sums are rounded to this: see ``settled``


def settled(sums: np.ndarray) -> np.ndarray:
    """Sums rounded to 1e-6: far finer than any currency, and the same whatever the row order.
    Float addition is not associative, so a shuffled file would otherwise differ in the last
    bits: enough to flip a margin rate where revenue nets to zero, or move a customer sitting
    exactly on a band limit."""
    return np.round(sums, SUM_DECIMALS)


def bought_to_date(totals: PeriodTotals) -> np.ndarray:
    """Per customer and period j, the margin of purchases up to the end of period j (period j
    and all older ones; column 0: to date), refunds not deducted. The one sum, oldest period
    first, behind both the retention band limits and each customer's own figure: summed in
    two orders, a customer at a limit could differ from it in the last bit and change band."""
    return settled(np.cumsum(totals.purchase_margin[:, ::-1], axis=1)[:, ::-1])


def period_of(tx: Transactions, period_days: int) -> np.ndarray:
    """The period of each row, 0 for the most recent."""
    return (tx.as_of_day - 1 - tx.day.astype(np.int64)) // period_days


def period_totals(tx: Transactions, period_days: int, periods: int) -> PeriodTotals:
    n, k = len(tx.customer_ids), periods + 1
    key = np.minimum(period_of(tx, period_days), periods)
    key += tx.code * k
    # one pass after the other: two passes at once, each scattering into its own table of
    # customers x periods, thrash the caches they share (3M customers: 1.0 s in turn against
    # 1.9-2.7 s at once, benchmarks/RESULTS.md)
    amount = settled(np.bincount(key, weights=tx.amount, minlength=n * k).reshape(n, k))
    margin = settled(np.bincount(key, weights=tx.margin, minlength=n * k).reshape(n, k))
    active = np.zeros(n * k, dtype=bool)  # one byte a slot, not a float sum of purchase rows
    active[key[tx.amount > 0]] = True
    refund = np.flatnonzero(tx.amount < 0)
    purchase_margin = margin  # the same array unless there are refunds
    if len(refund):
        refunded = np.bincount(key[refund], weights=tx.margin[refund], minlength=n * k)
        purchase_margin = settled(margin - refunded.reshape(n, k))
    return PeriodTotals(period_days, amount, margin, active.reshape(n, k), purchase_margin)
