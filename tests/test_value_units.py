"""Units of the value formulas: one purchase occasion (a customer's purchase day) throughout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.config import load_config
from engine.score import score

CONFIG = """\
name: units
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount, cost: cost, order_id: order}
as_of: 2024-07-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0.1
retention: {by: none, lookback_periods: 2}
models: {use: none}
"""


def test_a_margin_column_is_read(make_project: Callable[..., Path]) -> None:
    """`margin: <column>` instead of a cost: the margin is taken as given, blanks at
    margin_rate (the column arrives from Arrow read-only: it must not be written into)."""
    config = CONFIG.replace("cost: cost, order_id: order", "margin: margin")
    tx = "cust,day,amount,margin\na,2024-05-01,100,40\na,2024-06-01,50,20\n"
    table = score(load_config(make_project(config, tx))).table.set_index("customer_id")
    assert table.loc["a", "gross_margin"] == 40 + 20
    tx = "cust,day,amount,margin\na,2024-05-01,100,40\na,2024-06-01,50,\n"
    table = score(load_config(make_project(config, tx))).table.set_index("customer_id")
    assert table.loc["a", "gross_margin"] == 40 + 50 * 0.3
