"""Units of the value formulas: one purchase occasion (a customer's purchase day) throughout.

Every figure is recomputed here by hand from the rows, following README "The value model",
without calling the engine's formulas: customers with several orders a day, files that mix
rows with and without order ids, and a refund.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from engine.config import load_config
from engine.output import rounded, write_csv
from engine.score import output_frame, score

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
