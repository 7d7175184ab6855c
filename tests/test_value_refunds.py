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
         "clv_discounted", "potential_value", "current_value", "total_value", "value_score",
         "growth_headroom")


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


def test_a_refund_does_not_make_growth_headroom(make_project: Callable[..., Path]) -> None:
    """The reviewer's twins: the same two purchases, one refunded. On main the keeper's headroom
    was -46.88 and the refunder's +6.56 (a refund lowered current_value more than the
    potential), so only the refunder matched `growth_headroom: {gt: 0}`."""
    tx = ("cust,day,amount,cost\nkeep,2023-01-10,120,60\nkeep,2024-06-10,120,60\n"
          "refund,2023-01-10,120,60\nrefund,2024-06-10,120,60\nrefund,2024-06-12,-120,-60\n"
          "o1,2024-01-05,10,5\no1,2024-02-05,10,5\no2,2024-02-05,10,5\no2,2024-03-05,10,5\n")
    config = CONFIG.replace("by: value_band, bands: 2", "by: none")
    table = score(load_config(make_project(config, tx))).table.set_index("customer_id")
    keep, refund = table.loc["keep"], table.loc["refund"]
    # both bought a margin of 60 in the last H periods; the refunder's potential is half
    assert (keep["current_value"], refund["current_value"]) == (60.0, 0.0)
    assert refund["potential_value"] == pytest.approx(keep["potential_value"] / 2)
    assert keep["growth_headroom"] == pytest.approx(keep["potential_value"] - 60)
    assert refund["growth_headroom"] == pytest.approx(refund["potential_value"] - 60)
    assert round(keep["growth_headroom"], 2) == -46.88
    assert round(refund["growth_headroom"], 2) == -53.44
