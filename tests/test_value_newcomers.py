"""One-time buyers' potential value under the formulas: what comparable earlier one-time buyers
went on to earn (README "One-time buyers"), recomputed by hand.

As of 2024-07-01, L = 30 days, H = 2, lookback_periods = 2: the reference dates are
c0 = as-of - 2L = May 2 and c1 = as-of - 3L = Apr 2. A one-time buyer at c (all purchases before
c on one day f) is in group min((c - 1 - f) // L, H); their outcome is the margin of the next H
periods after c, period t discounted by (1 + d)^t. Purchases (margin):

    n1  Apr 20 10, May 20 30       c0: group 0, outcome 30 in period 1
    n2  Apr 25 20                  c0: group 0, outcome 0
    n3  Mar 10 15, Jun 10 40       c1: group 0, outcome 0;  c0: group 1, 40 in period 2
    n4  Mar 20 25                  c1: group 0;             c0: group 1 (outcomes 0)
    n5  Jan 5 50, Apr 10 20, refund Apr 20 -10
                                   c1: group 2, outcome 20 - 10 in period 1
    n6  Jan 20 30                  c1: group 2; c0: group 3, pooled into 2 (outcomes 0)
    t4  2023-06-01 80              c1 and c0: group 2 (outcome 0)
    t1  Jun 15 500, t2 Jun 20 5, t3 May 15 12: first purchase after both reference dates

Group 0: 4 observations, total 30/(1+d); group 1: 2, total 40/(1+d)^2; group 2: 5, total
10/(1+d).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.api import run as api_run
from engine.project.config import load_config
from engine.value.score import score
from tests.conftest import copy_example_project
from tests.shown import shown

D = 1.1 ** (30 / 365) - 1

CONFIG = """\
name: newcomers
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount, cost: cost}
as_of: 2024-07-01
currency: EUR
period_days: 30
horizon_periods: 2
discount_rate: 0.1
retention: {by: none, lookback_periods: 2, min_customers: MIN}
models: {use: none}
"""
TX = """\
cust,day,amount,cost
n1,2024-04-20,20,10
n1,2024-05-20,50,20
n2,2024-04-25,30,10
n3,2024-03-10,30,15
n3,2024-06-10,60,20
n4,2024-03-20,50,25
n5,2024-01-05,80,30
n5,2024-04-10,40,20
n5,2024-04-20,-20,-10
n6,2024-01-20,60,30
t4,2023-06-01,100,20
t1,2024-06-15,900,400
t2,2024-06-20,10,5
t3,2024-05-15,20,8
"""
G0, G1, G2 = 30 / (1 + D), 40 / (1 + D) ** 2, 10 / (1 + D)  # outcome totals per group


def _potential(make_project: Callable[..., Path], min_customers: int) -> dict[str, float]:
    config = load_config(make_project(CONFIG.replace("MIN", str(min_customers)), TX))
    table = score(config).table.set_index("customer_id")
    return {str(k): float(v) for k, v in table["potential_value"].items()}


def test_groups_by_hand(make_project: Callable[..., Path]) -> None:
    got = _potential(make_project, 3)
    v0 = G0 / 4
    v1 = (G1 + G2) / (2 + 5)  # 2 observations < 3: pooled with the older group
    v2 = G2 / 5
    # today's one-time buyers: group min((Jun 30 - f) // 30, 2)
    assert got["t1"] == shown(v0) and got["t2"] == shown(v0)
    assert got["t3"] == shown(v1)
    for cid in ("t4", "n2", "n4", "n6"):
        assert got[cid] == shown(v2), cid
    assert got["t1"] == got["t2"]  # 900 or 10: high spend alone does not make them valuable


def test_small_groups_pool_with_older_ones_then_fall_to_zero(
        make_project: Callable[..., Path]) -> None:
    got = _potential(make_project, 6)
    assert got["t1"] == shown((G0 + G1 + G2) / 11)  # 4 < 6: groups 0, 1 and 2
    assert got["t3"] == shown((G1 + G2) / 7)
    assert got["t4"] == 0.0  # the oldest group has 5 < 6 and nothing older to pool with


def test_repeat_buyers_keep_their_own_formula(make_project: Callable[..., Path]) -> None:
    got = _potential(make_project, 3)
    # n1: margin 40 over 2 purchase days, 1 repeat in max(72 / 30, 1) periods
    m = 40 / 2 * 1 / (72 / 30)
    assert got["n1"] == shown(m / (1 + D) + m / (1 + D) ** 2)


def test_welcome_campaign_has_value_at_stake_without_models(tmp_path: Path) -> None:
    """The bundled example with the models off: new customers are worth what comparable new
    customers went on to earn, so the welcome campaign contacts some of them."""
    project = copy_example_project(tmp_path)
    yaml = (project / "cvm.yaml").read_text()
    (project / "cvm.yaml").write_text(yaml + "models: {use: none}\n")
    result = api_run(project, out=tmp_path / "out")
    welcome = result.actions[result.actions["campaign"] == "welcome_new"]
    assert len(welcome) > 0 and (welcome["value_at_stake"] > 0).all()
    assert (welcome["status"] == "allocated").sum() > 0
    config = load_config(project)
    table = score(config).table
    once = table[table["frequency"] == 0]
    # recent one-time buyers are worth more than those who bought once years ago
    recent = once.loc[once["tenure_days"] <= config.period_days, "potential_value"]
    lapsed = once.loc[once["tenure_days"] > 730, "potential_value"]
    assert recent.min() > 3 * lapsed.max() >= 0
    # within a group the value is the same, whatever the one purchase was
    group = np.minimum((once["tenure_days"] - 1) // config.period_days,
                       config.horizon_periods)
    assert (once.groupby(group)["potential_value"].nunique() == 1).all()
