"""Refunds lower value, never raise it (the formulas path): twin customers with the same
purchases, one of whom refunds most of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.project.config import load_config
from engine.value.score import score

CONFIG = """\
name: twins
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount, cost: cost}
as_of: 2024-07-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0.1
retention: {by: value_band, bands: 2, lookback_periods: 4, min_customers: 1}
models: {use: none}
"""
MONTHS = ("02", "03", "04", "05", "06")


def _tx() -> str:
    rows = ["cust,day,amount,cost"]
    # small loyal customers buy every period: the low value band is retained well
    rows += [f"s{i},2024-{m}-15,40,20" for i in range(6) for m in MONTHS]
    # big customers buy in periods that never follow each other: the high band is not
    rows += [f"b{i},2024-{m}-{20 + i},200,100" for i in range(6) for m in ("02", "05")]
    # twins: the same five purchases; the refunder returns four of them
    for twin in ("keep", "refund"):
        rows += [f"{twin},2024-{m}-10,120,60" for m in MONTHS]
    rows += [f"refund,2024-{m}-12,-120,-60" for m in MONTHS[:4]]
    # one-time twins: one purchase, most of it refunded by the second
    rows += ["keep1,2024-06-05,300,100", "refund1,2024-06-05,300,100",
             "refund1,2024-06-08,-250,-80"]
    return "\n".join(rows) + "\n"


VALUE = ("revenue", "gross_margin", "historic_value", "margin_per_purchase",
         "margin_per_period", "margin_per_active_period", "retention_rate", "clv_simple",
         "clv_discounted", "potential_value", "current_value", "total_value", "value_score")


@pytest.mark.parametrize("keeper,refunder", [("keep", "refund"), ("keep1", "refund1")])
def test_refunds_never_raise_a_value_column_or_the_tier(make_project: Callable[..., Path],
                                                        keeper: str, refunder: str) -> None:
    scored = score(load_config(make_project(CONFIG, _tx())))
    table = scored.table.set_index("customer_id")
    keep, refund = table.loc[keeper], table.loc[refunder]
    assert refund["gross_margin"] < keep["gross_margin"]
    for column in VALUE:
        assert refund[column] <= keep[column] + 1e-9, column
    tiers = list(scored.tiers.names)  # highest first
    assert tiers.index(refund["value_tier"]) >= tiers.index(keep["value_tier"])


def test_refunds_do_not_move_a_customer_to_another_retention_band(
        make_project: Callable[..., Path]) -> None:
    """The band is set by the margin of purchases, so a refund cannot buy a better rate."""
    table = score(load_config(make_project(CONFIG, _tx()))).table.set_index("customer_id")
    assert table.loc["refund", "retention_segment"] == table.loc["keep", "retention_segment"]
