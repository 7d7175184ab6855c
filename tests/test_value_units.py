"""Units of the value formulas: one purchase occasion (a customer's purchase day) throughout.

Every figure is recomputed here by hand from the rows, following README "The value model",
without calling the engine's formulas: customers with several orders a day, files that mix
rows with and without order ids, and a refund.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.data.load import load_transactions
from engine.output.writers import rounded, write_csv
from engine.project.config import load_config
from engine.report.equity import EquitySettings, monthly_figures
from engine.value.score import output_frame, score
from tests.shown import shown

AS_OF = dt.date(2024, 7, 1)
L, H = 30, 4
D = 1.1 ** (L / 365) - 1

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

# five: five orders on each of three days (order margin 10).
# mixed: order ids and blank ids on the same days, two lines of one order, a refund of M3.
# one: two orders on one day (a one-time buyer); p, q: other customers.
_FIVE = "".join(f"five,{day},20,10,F{day[5:7]}{i}\n"
                for day in ("2024-01-15", "2024-04-10", "2024-06-20") for i in range(5))
TX = "cust,day,amount,cost,order\n" + _FIVE + """\
mixed,2024-02-01,25,12,M1
mixed,2024-02-01,15,8,M1
mixed,2024-02-01,30,18,
mixed,2024-02-01,10,5,
mixed,2024-02-01,20,10,M2
mixed,2024-05-05,50,30,
mixed,2024-05-05,60,40,M3
mixed,2024-05-20,-60,-40,M3
mixed,2024-06-25,25,15,
one,2024-06-10,30,20,O1
one,2024-06-10,15,10,O2
p,2024-03-05,10,5,
q,2024-05-10,20,10,
q,2024-06-12,20,10,
"""


def _period(day: dt.date) -> int:
    """Period of a day counted back from the as-of date (0 = the last L days)."""
    return (AS_OF - dt.timedelta(days=1) - day).days // L


def _by_hand(rows: pd.DataFrame, r: float) -> dict[str, float]:
    """The README's formulas for one customer's rows."""
    buys = rows[rows.amount > 0]
    days = sorted(set(buys.day))
    occasions = len(days)
    frequency = occasions - 1
    ids = set(buys.order.dropna())
    blank_days = set(buys[buys.order.isna()].day)
    margin = float((rows.amount - rows.cost).sum())
    tenure = (AS_OF - days[0]).days
    repeat_rate = frequency / max(tenure / L, 1)
    per_purchase = margin / occasions
    m = per_purchase * repeat_rate
    active_periods = len({_period(day) for day in days})
    m_active = margin / active_periods if frequency > 0 else 0.0
    current = float(sum(row.amount - row.cost for row in rows.itertuples()
                        if _period(row.day) < H))
    # what was bought in that span, refunds not deducted: a refund must not make headroom
    bought_lately = float(sum(row.amount - row.cost for row in rows.itertuples()
                              if row.amount > 0 and _period(row.day) < H))
    potential = sum(m / (1 + D) ** t for t in range(1, H + 1))
    return {
        "frequency": frequency, "orders": len(ids) + len(blank_days),
        "revenue": float(rows.amount.sum()), "refunds": float(-rows.amount[rows.amount < 0].sum()),
        "gross_margin": margin, "historic_value": margin, "active_periods": active_periods,
        "avg_order_value": float(rows.amount.sum()) / (len(ids) + len(blank_days)),
        "margin_per_purchase": per_purchase, "repeat_rate": repeat_rate,
        "margin_per_period": m, "expected_repeat_purchases": repeat_rate * H,
        "margin_per_active_period": m_active,
        "clv_simple": m_active * sum(r ** t for t in range(1, H + 1)),
        "clv_discounted": m_active * r / (1 + D - r),
        "potential_value": potential, "current_value": current,
        "total_value": margin + potential, "growth_headroom": potential - bought_lately,
    }


def _rows() -> pd.DataFrame:
    from io import StringIO

    rows = pd.read_csv(StringIO(TX), dtype={"order": str})
    rows["day"] = pd.to_datetime(rows["day"]).dt.date
    return rows


def test_retention_rate_by_hand(make_project: Callable[..., Path]) -> None:
    scored = score(load_config(make_project(CONFIG, TX)))
    # p2 [Apr 2, May 2) {five}; p1 [May 2, Jun 1) {mixed, q}; p0 [Jun 1, Jul 1) {five, mixed,
    # one, q}; the refund of May 20 is not a purchase. Pairs: five 0 of 1, then 2 of 2.
    rows = _rows()
    active = [{r.cust for r in rows.itertuples() if r.amount > 0 and _period(r.day) == j}
              for j in range(3)]
    kept = len(active[1] & active[0]) + len(active[2] & active[1])
    assert kept / (len(active[1]) + len(active[2])) == 2 / 3
    assert scored.retention.overall == pytest.approx(2 / 3)


@pytest.mark.parametrize("cid", ["five", "mixed", "one", "p", "q"])
def test_every_formula_by_hand(make_project: Callable[..., Path], cid: str) -> None:
    table = score(load_config(make_project(CONFIG, TX))).table.set_index("customer_id")
    rows = _rows()
    expected = _by_hand(rows[rows.cust == cid], 2 / 3)
    if cid in ("one", "p"):  # one-time buyers: too few comparable earlier ones to measure
        expected["growth_headroom"] -= expected["potential_value"]
        expected["potential_value"] = 0.0
        expected["total_value"] = expected["gross_margin"]
    got = table.loc[cid]
    for column, value in expected.items():
        assert got[column] == shown(value, column), column


def test_several_orders_a_day_are_one_purchase_occasion(make_project: Callable[..., Path]
                                                        ) -> None:
    """Five orders on each of three days: the margin of a purchase day, not of an order, times
    repeat purchase days per period."""
    five = score(load_config(make_project(CONFIG, TX))).table.set_index("customer_id").loc["five"]
    assert five["orders"] == 15 and five["frequency"] == 2 and five["active_periods"] == 3
    assert five["margin_per_purchase"] == 50.0
    assert five["margin_per_period"] == shown(50 * 2 / (168 / 30))
    assert five["margin_per_active_period"] == 50.0


def test_orders_count_blank_ids_per_purchase_day(make_project: Callable[..., Path]) -> None:
    """Rows without an order id count one order per purchase day, also mixed with ids."""
    table = score(load_config(make_project(CONFIG, TX))).table.set_index("customer_id")
    # mixed: ids M1, M2, M3 and blank-id purchase days Feb 1, May 5, Jun 25
    assert table.loc["mixed", "orders"] == 6
    assert table.loc["p", "orders"] == 1 and table.loc["q", "orders"] == 2
    blank = TX.replace(",M1\n", ",\n").replace(",M2\n", ",\n").replace(",M3\n", ",\n")
    table = score(load_config(make_project(CONFIG, blank))).table.set_index("customer_id")
    assert table.loc["mixed", "orders"] == 3  # every id blank: one order per purchase day


def test_report_counts_orders_as_the_value_table(make_project: Callable[..., Path]) -> None:
    """The report's orders of a month use the same definition: ids, and blank-id days."""
    config = load_config(make_project(CONFIG, TX))
    settings = EquitySettings(L, D, 2, 60)
    figures = monthly_figures(load_transactions(config), settings).set_index("month")
    # Jan: five F0..F4; Feb: mixed M1, M2 and one blank-id day; Mar: p (blank);
    # Apr: five x5; May: mixed M3 + blank day, q (blank); Jun: five x5, mixed, one O1 O2, q
    assert figures["orders"].to_dict() == {"2024-01": 5, "2024-02": 3, "2024-03": 1,
                                           "2024-04": 5, "2024-05": 3, "2024-06": 9}
    table = score(config).table
    assert figures["orders"].sum() == table["orders"].sum()


def test_report_clv_uses_margin_per_active_period(make_project: Callable[..., Path]) -> None:
    """At the as-of date the report's CLV is the table's clv_discounted (retention by none)."""
    config = load_config(make_project(CONFIG, TX))
    last = monthly_figures(load_transactions(config), EquitySettings(L, D, 2, 60)).iloc[-1]
    # active at Jul 1 (a purchase in the last 60 days): five, mixed, one, q
    k = (2 / 3) / (1 + D - 2 / 3)
    assert last["customer_equity"] == pytest.approx(k * (150 / 3 + 77 / 3 + 0 + 20 / 2))


def test_no_money_column_is_written_as_minus_zero(make_project: Callable[..., Path],
                                                  tmp_path: Path) -> None:
    table = output_frame(score(load_config(make_project(CONFIG, TX))).table)
    assert table.set_index("customer_id").loc["five", "refunds"] == 0.0
    floats = table.select_dtypes("float")
    assert not (np.signbit(floats.to_numpy()) & (floats.to_numpy() == 0)).any()
    write_csv(table, tmp_path / "out.csv")
    cells = (tmp_path / "out.csv").read_text().replace("\n", ",").split(",")
    assert "-0" not in cells and "-0.0" not in cells
    # a tiny negative amount rounds to 0 cents, never to -0
    tiny = rounded(pd.DataFrame({"refunds": [-0.001], "rate": [-1e-9]}), ("refunds",))
    assert not np.signbit(tiny.to_numpy()).any()


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


def test_no_csv_cell_reads_minus_zero(tmp_path: Path) -> None:
    """Whatever table is written (decisions, actions, summaries), a zero is written 0."""
    frame = pd.DataFrame({"x": [-0.0, 1.5, -2.0], "y": ["a", "b", "c"]})
    write_csv(frame, tmp_path / "t.csv")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1.5", "-2"]


def test_value_score_by_hand(make_project: Callable[..., Path]) -> None:
    """value_score = 100 x (rank - 1) / (n - 1), rank by total_value, ties at the lowest."""
    table = score(load_config(make_project(CONFIG, TX))).table.set_index("customer_id")
    rows = _rows()
    total = {}
    for cid in ("five", "mixed", "one", "p", "q"):
        hand = _by_hand(rows[rows.cust == cid], 2 / 3)
        once = hand["frequency"] == 0  # no comparable earlier one-time buyers: potential 0
        total[cid] = hand["gross_margin"] if once else hand["total_value"]
    for cid, value in total.items():
        rank = 1 + sum(other < value for other in total.values())
        assert table.loc[cid, "value_score"] == pytest.approx(100 * (rank - 1) / 4), cid
