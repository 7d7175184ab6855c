"""Retention that cannot be measured is an input problem at the setting's line, never a rate of
0.0 reported as measured: with no purchase in the periods that retention starts from (an as-of
date far after the data, or a lookback that falls in a gap), r would be 0 of 0."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app

CONFIG = """\
name: unmeasurable
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount, cost: cost}
as_of: 2026-07-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0.1
retention: {by: value_band, bands: 2, lookback_periods: 4, min_customers: 1}
models: {use: none}
"""
TX = """\
cust,day,amount,cost
keep,2023-01-10,120,60
keep,2024-06-10,120,60
o1,2024-01-05,10,5
o1,2024-02-05,10,5
o2,2024-02-05,10,5
o2,2024-03-05,10,5
"""


def _score(project: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["score", "--project", str(project)])
    return result.exit_code, result.stderr


def test_an_as_of_date_far_after_the_data(make_project: Callable[..., Path]) -> None:
    """On main: "retention per period: 0.0% overall (0 of 0 over 4 period pairs)", exit 0, and
    every CLV 0."""
    code, err = _score(make_project(CONFIG, TX))
    assert (code, err) == (1, (
        "error: cvm.yaml:5:8: as_of: no purchase in the 4 periods of period_days=30 days that "
        "retention starts from (2026-02-01 to 2026-05-31, the periods before the last one), so "
        "retention (active in one period and again in the next) cannot be measured; the last "
        "purchase is on 2024-06-10\n"
        "  hint: set as_of closer to the data (the default is the day after the last purchase), "
        "or raise retention.lookback_periods to reach back to the purchases\n"))


def test_a_lookback_that_falls_in_a_gap(make_project: Callable[..., Path]) -> None:
    config = CONFIG.replace("as_of: 2026-07-01\n", "").replace("lookback_periods: 4",
                                                               "lookback_periods: 1")
    code, err = _score(make_project(config, TX))
    assert (code, err) == (1, (
        "error: cvm.yaml:9:57: retention.lookback_periods: no purchase in the 1 period of "
        "period_days=30 days that retention starts from (2024-04-12 to 2024-05-11, the periods "
        "before the last one), so retention (active in one period and again in the next) cannot "
        "be measured; the last purchase is on 2024-06-10\n"
        "  hint: set as_of closer to the data (the default is the day after the last purchase), "
        "or raise retention.lookback_periods to reach back to the purchases\n"))
