"""``cvm report`` in subscription mode (``subscriptions:`` in cvm.yaml): who is active is read
from the contracts, not from a purchase window; the sBG retention curve is charted.

The hand-made contracts (billing 30 days, as of 2024-05-01; an end is the first day not
covered, so a contract runs on days start <= day < end):

    a  Jan 10 -> (running)
    b  Jan 20 -> Feb 15, then again Mar 10 -> (running)       lapses in Feb, back in Mar
    c  Feb 5 -> Feb 20                                         new and gone within Feb
    d  Jan 5 -> Mar 1                                          runs on Feb 29, gone in Mar
    e  Mar 20 -> Apr 10, and Apr 5 -> (running)                a second contract: no churn
    f  Apr 25 -> (running)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.data.contracts import NO_END
from engine.data.load import load_transactions
from engine.project.config import load_config
from engine.report.equity import EquitySettings, monthly_figures

CONFIG = """\
name: contracts by hand
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: start, amount: price}
subscriptions: {end: end, billing_days: 30}
as_of: 2024-05-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0.1
retention: {by: none, lookback_periods: 2}
"""
TX = """\
cust,start,end,price
a,2024-01-10,,10
b,2024-01-20,2024-02-15,10
b,2024-03-10,,10
c,2024-02-05,2024-02-20,10
d,2024-01-05,2024-03-01,10
e,2024-03-20,2024-04-10,10
e,2024-04-05,,10
f,2024-04-25,,10
"""
D = 1.1 ** (30 / 365) - 1


@pytest.fixture
def contracts(make_project: Callable[..., Path]) -> Path:
    return make_project(CONFIG, tx=TX)


def test_subscription_customers_are_counted_by_their_contracts(contracts: Path) -> None:
    tx = load_transactions(load_config(contracts))
    # a 60-day window is what the purchase mode would use; with contracts it plays no part
    f = monthly_figures(tx, EquitySettings(30, D, 2, 60))
    columns = ["month", "customers_start", "new_customers", "reactivated_customers",
               "retained_customers", "churned_customers", "customers_end"]
    assert f[columns].values.tolist() == [
        ["2024-01", 0, 3, 0, 0, 0, 3],  # a, b, d start
        ["2024-02", 3, 1, 0, 2, 2, 2],  # c new; b and c end without renewal; d runs on Feb 29
        ["2024-03", 2, 1, 1, 1, 1, 3],  # e new, b back, d gone
        ["2024-04", 3, 1, 0, 3, 0, 4],  # f new; e's first contract ends, its second runs
    ]
    assert f["churn_rate"].tolist()[1:] == [2 / 3, 1 / 2, 0.0]
    # at the as-of date the report's active customers are the value model's (no contract ended)
    assert tx.active is not None and int(tx.active.sum()) == 4
    # the flows add up: end = start + new + reactivated - churned, and L = end / N
    for row in f.itertuples():
        assert row.customers_end == (row.customers_start + row.new_customers
                                     + row.reactivated_customers - row.churned_customers)


def test_the_window_minimum_does_not_apply_to_contracts(contracts: Path) -> None:
    tx = load_transactions(load_config(contracts))
    assert monthly_figures(tx, EquitySettings(30, D, 2, 1))["customers_end"].tolist() == \
        [3, 2, 3, 4]


def test_contracts_are_kept_beside_the_payments(contracts: Path) -> None:
    tx = load_transactions(load_config(contracts))
    assert tx.contracts is not None
    ids = tx.customer_ids[tx.contracts.code].tolist()
    rows = sorted(zip(ids, tx.contracts.start.tolist(), tx.contracts.end.tolist(), strict=True))
    # days since 1970-01-01: 2024-01-10 is 19732; an open end is NO_END
    assert rows[:3] == [("a", 19732, NO_END), ("b", 19742, 19768), ("b", 19792, NO_END)]
    assert len(rows) == 8
