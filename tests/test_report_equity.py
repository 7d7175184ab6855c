"""The monthly customer-equity figures, each checked against a hand computation.

Five customers over January to April 2024 (as of 2024-05-01, a leap year), period L = 30 days,
active window W = 60 days, retention pooled over 2 period pairs. Purchases (amount / margin):

    a  Jan 10 100/40   Feb 15 50/20   Apr 5 80/40
    b  Jan 20 200/50
    c  Feb 3 30/10 and 20/8 (one day: one purchase occasion, one order)   Mar 25 40/15
    d  Mar 2 60/20, refund Mar 10 -10/-4
    e  Jan 5 90/30   Apr 20 70/25
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from engine.data.load import load_transactions
from engine.project.config import load_config
from engine.report.equity import EquitySettings, monthly_figures, shapley_nvl
from engine.value.score import score

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
name: equity by hand
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount, cost: cost}
as_of: 2024-05-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0.1
retention: {by: none, lookback_periods: 2}
"""
TX = """\
cust,day,amount,cost
a,2024-01-10,100,60
a,2024-02-15,50,30
a,2024-04-05,80,40
b,2024-01-20,200,150
c,2024-02-03,30,20
c,2024-02-03,20,12
c,2024-03-25,40,25
d,2024-03-02,60,40
d,2024-03-10,-10,-6
e,2024-01-05,90,60
e,2024-04-20,70,45
"""
D = 1.1 ** (30 / 365) - 1  # discount rate per 30-day period
SPEND = {"2024-02": (10.0, 5.0), "2024-03": (20.0, 0.0), "2023-12": (99.0, 99.0)}


@pytest.fixture
def figures(make_project: Callable[..., Path]) -> dict[str, dict[str, float]]:
    tx = load_transactions(load_config(make_project(CONFIG, TX)))
    frame = monthly_figures(tx, EquitySettings(30, D, 2, 60), SPEND)
    return {row["month"]: row for row in frame.to_dict("records")}


def k(r: float) -> float:
    """CLV per unit of margin per period: r / (1 + d - r)."""
    return r / (1 + D - r)


def test_months_and_customer_counts(figures: dict[str, dict[str, float]]) -> None:
    assert list(figures) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    # active at day E = bought in [E - 60, E):
    #   Jan 1: nobody; Feb 1: a b e; Mar 1 (window from Jan 1): a b c e;
    #   Apr 1 (from Feb 1): a c d; May 1 (from Mar 2, so d's Mar 2 counts): a c d e
    expected = {  # start, new, reactivated, retained, churned, end
        "2024-01": (0, 3, 0, 0, 0, 3),   # new a b e
        "2024-02": (3, 1, 0, 3, 0, 4),   # new c
        "2024-03": (4, 1, 0, 2, 2, 3),   # new d; b and e lapse
        "2024-04": (3, 0, 1, 3, 0, 4),   # e comes back
    }
    cols = ("customers_start", "new_customers", "reactivated_customers", "retained_customers",
            "churned_customers", "customers_end")
    for month, values in expected.items():
        assert tuple(figures[month][c] for c in cols) == values, month
    assert math.isnan(figures["2024-01"]["churn_rate"])
    assert figures["2024-02"]["churn_rate"] == 0.0
    assert figures["2024-03"]["churn_rate"] == 2 / 4
    assert figures["2024-04"]["churn_rate"] == 0.0


def test_revenue_margin_orders(figures: dict[str, dict[str, float]]) -> None:
    revenue = {"2024-01": 100 + 200 + 90, "2024-02": 50 + 30 + 20, "2024-03": 40 + 60 - 10,
               "2024-04": 80 + 70}
    margin = {"2024-01": 40 + 50 + 30, "2024-02": 20 + 10 + 8, "2024-03": 15 + 20 - 4,
              "2024-04": 40 + 25}
    orders = {"2024-01": 3, "2024-02": 2, "2024-03": 2, "2024-04": 2}  # purchase days
    for month, row in figures.items():
        assert row["revenue"] == pytest.approx(revenue[month])
        assert row["gross_margin"] == pytest.approx(margin[month])
        assert row["orders"] == orders[month] and row["buyers"] == orders[month]
        assert row["avg_order_value"] == pytest.approx(revenue[month] / orders[month])


def test_retention_rate_as_of_each_month_end(figures: dict[str, dict[str, float]]) -> None:
    # Feb 1: all purchases lie in period 0 (Jan 2 - Feb 1): nothing to measure yet
    assert math.isnan(figures["2024-01"]["retention_rate"])
    # Mar 1: period 1 = [Jan 1, Jan 31) {a b e}, period 0 = [Jan 31, Mar 1) {a c}: 1 of 3
    assert figures["2024-02"]["retention_rate"] == pytest.approx(1 / 3)
    # Apr 1: periods [Jan 1, Jan 31) {a b e}, [Jan 31, Mar 2) {a c}, [Mar 2, Apr 1) {c d}:
    # (a of 3) + (c of 2) = 2 of 5
    assert figures["2024-03"]["retention_rate"] == pytest.approx(2 / 5)
    # May 1: [Jan 31, Mar 2) {a c}, [Mar 2, Apr 1) {c d}, [Apr 1, May 1) {a e}: 1 of 4
    assert figures["2024-04"]["retention_rate"] == pytest.approx(1 / 4)


def test_customer_equity_and_average_clv(figures: dict[str, dict[str, float]]) -> None:
    # m = margin so far / active periods so far (periods of 30 days counted back from E) for
    # customers with two purchase days or more; 0 for one-time buyers
    assert math.isnan(figures["2024-01"]["customer_equity"])
    # Mar 1: a = 60 over [Jan 1, Jan 31) and [Jan 31, Mar 1): 60/2; b, c, e one day: 0
    equity_feb = k(1 / 3) * (60 / 2)
    # Apr 1: a = 60/2 (Jan 10 and Feb 15 in two periods); c = 33/2 (Feb 3 and Mar 25); d 0
    equity_mar = k(0.4) * (60 / 2 + 33 / 2)
    # May 1: a = 100/3 (three periods); c = 33/2; d 0; e = 55/2 (Jan 5 and Apr 20)
    equity_apr = k(0.25) * (100 / 3 + 33 / 2 + 55 / 2)
    for month, equity, active in (("2024-02", equity_feb, 4), ("2024-03", equity_mar, 3),
                                  ("2024-04", equity_apr, 4)):
        assert figures[month]["customer_equity"] == pytest.approx(equity)
        assert figures[month]["avg_clv"] == pytest.approx(equity / active)


def test_acquisition_and_retention_equity(figures: dict[str, dict[str, float]]) -> None:
    feb, mar, apr = figures["2024-02"], figures["2024-03"], figures["2024-04"]
    assert (feb["acquisition_cost"], feb["retention_cost"]) == (10.0, 5.0)
    assert (apr["acquisition_cost"], apr["retention_cost"]) == (0.0, 0.0)  # no spend row: 0
    assert feb["acquisition_equity"] == pytest.approx(1 * feb["avg_clv"] - 10)
    assert feb["retention_equity"] == pytest.approx(3 * feb["avg_clv"] - 5)
    assert mar["acquisition_equity"] == pytest.approx(1 * mar["avg_clv"] - 20)
    assert mar["retention_equity"] == pytest.approx(2 * mar["avg_clv"])
    assert apr["acquisition_equity"] == 0.0
    assert apr["retention_equity"] == pytest.approx(3 * apr["avg_clv"])
    assert math.isnan(figures["2024-01"]["acquisition_equity"])  # no CLV yet


def test_revenue_decomposition_by_hand(figures: dict[str, dict[str, float]]) -> None:
    # N = start + new + reactivated, L = end / N, V = revenue / end
    nvl = {"2024-01": (3, 130.0, 1.0), "2024-02": (4, 25.0, 1.0), "2024-03": (5, 30.0, 0.6),
           "2024-04": (4, 37.5, 1.0)}
    for month, (n, v, loyalty) in nvl.items():
        row = figures[month]
        assert row["base_customers"] == n
        assert row["revenue_per_active_customer"] == pytest.approx(v)
        assert row["loyalty"] == pytest.approx(loyalty)
        assert n * v * loyalty == pytest.approx(row["revenue"])
    assert math.isnan(figures["2024-01"]["revenue_change"])
    feb = figures["2024-02"]  # N 3 -> 4, V 130 -> 25, L 1 -> 1
    assert feb["change_from_customers"] == pytest.approx(1 * ((130 + 25) / 3 + (130 + 25) / 6))
    assert feb["change_from_value"] == pytest.approx(-105 * ((3 + 4) / 3 + (3 + 4) / 6))
    assert feb["change_from_loyalty"] == 0.0
    assert feb["revenue_change"] == pytest.approx(100 - 390)
    mar = figures["2024-03"]  # N 4 -> 5, V 25 -> 30, L 1 -> 0.6
    assert mar["change_from_customers"] == pytest.approx((25 + 30 * 0.6) / 3
                                                         + (25 * 0.6 + 30) / 6)
    assert mar["change_from_value"] == pytest.approx(5 * ((4 + 5 * 0.6) / 3 + (4 * 0.6 + 5) / 6))
    assert mar["change_from_loyalty"] == pytest.approx(-0.4 * ((4 * 25 + 5 * 30) / 3
                                                               + (4 * 30 + 5 * 25) / 6))
    for row in list(figures.values())[1:]:
        parts = row["change_from_customers"] + row["change_from_value"] + \
            row["change_from_loyalty"]
        assert parts == pytest.approx(row["revenue_change"], abs=1e-9)


def test_last_month_matches_the_value_table(make_project: Callable[..., Path]) -> None:
    """At the as-of date, r is cvm score's overall rate and each CLV its clv_discounted."""
    config = load_config(make_project(CONFIG, TX))
    scored = score(config)
    frame = monthly_figures(load_transactions(config), EquitySettings(30, D, 2, 60))
    last = frame.iloc[-1]
    assert last["retention_rate"] == pytest.approx(scored.retention.overall) == 0.25
    active = scored.table[scored.table["recency_days"] <= 60]
    # (the table's each to the cent)
    assert last["customer_equity"] == pytest.approx(active["clv_discounted"].sum(),
                                                    abs=0.005 * len(active))


def test_shapley_split_is_the_average_of_the_six_orders() -> None:
    rng = np.random.default_rng(3)
    start, end = rng.normal(size=3) * 10, rng.normal(size=3) * 10  # any sign works
    parts = [0.0, 0.0, 0.0]
    for order in itertools.permutations(range(3)):
        now = list(start)
        for i in order:
            before = now[0] * now[1] * now[2]
            now[i] = end[i]
            parts[i] += (now[0] * now[1] * now[2] - before) / 6
    got = shapley_nvl(*(np.array([x]) for x in (*start, *end)))
    assert [float(g[0]) for g in got] == pytest.approx(parts)
    assert sum(parts) == pytest.approx(float(np.prod(end) - np.prod(start)))


def test_parts_add_up_on_the_bundled_example() -> None:
    config = load_config(ROOT)
    settings = EquitySettings(config.period_days, config.discount_rate_per_period,
                              config.retention.lookback_periods, 2 * config.period_days)
    frame = monthly_figures(load_transactions(config), settings)
    assert len(frame) == 36 and frame["month"].iloc[-1] == "2025-12"
    parts = frame[["change_from_customers", "change_from_value", "change_from_loyalty"]].sum(
        axis=1, min_count=3)
    both = frame["revenue_change"].notna()
    assert both.sum() == 35
    assert np.allclose(parts[both], frame["revenue_change"][both], atol=1e-6)
    # stocks and flows agree every month
    assert (frame["customers_end"] == frame["retained_customers"] + frame["new_customers"]
            + frame["reactivated_customers"]).all()
    assert (frame["customers_start"].iloc[1:].to_numpy()
            == frame["customers_end"].iloc[:-1].to_numpy()).all()


def test_the_written_figures_reproduce_the_equities_and_revenue(tmp_path: Path) -> None:
    """A finance analyst's trial: the file wrote avg_clv and revenue_per_active_customer to
    the cent, so retained x avg_clv - cost and N x V x L recomputed from it missed the
    written figures (CDNOW 1997-05: 50,995.00 for 50,909.87, 107,865.00 for 107,933.30):
    the factors are written to 6 decimals, and the products agree within a millionth of the
    figure and a cent per 10,000 customers (the factors' rounding)."""
    import pandas as pd

    from engine.report.equity import rounded

    config = load_config(ROOT)
    settings = EquitySettings(config.period_days, config.discount_rate_per_period,
                              config.retention.lookback_periods, 2 * config.period_days)
    frame = monthly_figures(load_transactions(config), settings)
    path = tmp_path / "m.csv"
    rounded(frame).to_csv(path, index=False)
    f = pd.read_csv(path).dropna(subset=["avg_clv"])
    assert len(f) > 20
    for column in ("avg_clv", "revenue_per_active_customer", "loyalty"):  # 6 decimals
        assert (f[column] * 1e6 - (f[column] * 1e6).round()).abs().max() < 1e-3
        assert (f[column] * 100 - (f[column] * 100).round()).abs().max() > 1e-3  # not cents
    cents = 0.01 * (1 + f["base_customers"] / 10_000)
    for got, want in ((f["retained_customers"] * f["avg_clv"] - f["retention_cost"],
                       f["retention_equity"]),
                      (f["new_customers"] * f["avg_clv"] - f["acquisition_cost"],
                       f["acquisition_equity"]),
                      (f["base_customers"] * f["revenue_per_active_customer"] * f["loyalty"],
                       f["revenue"])):
        assert ((got - want).abs() <= cents + 1e-6 * want.abs()).all(), \
            (got - want).abs().max()
