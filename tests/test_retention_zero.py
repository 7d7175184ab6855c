"""A measured retention of 0 (no customer active in a period was active in the next) makes
clv_simple and clv_discounted 0 for every customer, and with them the default value at
stake of every campaign: the summary printed "0.0%" and nothing else (the audit). `cvm score`
and `cvm run` now warn, at period_days' line, with a hint from the customers' own gaps."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

runner = CliRunner()
TX = """\
cust,day,amount,cost
a,2024-01-05,100.00,60.00
b,2024-02-01,200.00,150.00
c,2024-05-15,30.00,20.00
d,2024-06-02,40.00,25.00
a,2024-06-20,80.00,40.00
"""


def test_cvm_score_warns_that_no_customer_was_retained(make_project: object,
                                                       tmp_path: Path) -> None:
    project = make_project(tx=TX)  # type: ignore[operator]
    result = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: cvm.yaml:11:14: period_days: retention measured 0%: none of the 1 "
        "customer-period active over 4 period pairs was active again in the next period of "
        "period_days=30 days, so clv_simple and clv_discounted are 0 for every customer (and "
        "so is a campaign's value at stake where it is clv_discounted)\n"
        "  hint: the median of the customers' average days between purchase days is 167: a "
        "period_days at least that long measures how many come back\n")
    table = pd.read_csv(tmp_path / "out" / "customers.csv")
    assert (table["clv_discounted"] == 0).all() and (table["clv_simple"] == 0).all()
    quiet = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "q"), "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_cvm_run_warns_too_and_one_time_buyers_get_their_own_hint(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    rows = pd.read_csv(ROOT / "examples/retail/transactions.csv")
    rows = rows[rows["NetAmount"] > 0].drop_duplicates("CustomerID")  # one purchase each
    rows.to_csv(tmp_path / "once.csv", index=False)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        f"{ROOT}/examples/retail/transactions.csv", str(tmp_path / "once.csv")))
    result = runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "out"),
                                 "--no-history"])
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if "period_days" in line]
    assert len(said) == 2 and said[0].startswith("warning: ") and " retention measured 0%" in \
        said[0]
    assert said[1] == ("  hint: no customer bought on more than one day: retention needs "
                       "repeat purchases (more history, or a longer period_days)")


def test_a_retention_above_0_is_no_warning(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", "-p", str(ROOT), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "retention measured" not in result.stderr


def test_customers_coming_back_within_a_period_are_not_told_to_lengthen_it(
        make_project: object, tmp_path: Path) -> None:
    """A median of 5 days between purchase days with period_days 30: the first version's
    hint said "a period_days at least that long (5) measures how many come back"."""
    project = make_project(tx="cust,day,amount,cost\na,2024-05-05,100.00,60.00\n"  # type: ignore
                           "a,2024-05-10,50.00,30.00\nb,2024-06-01,200.00,150.00\n"
                           "c,2024-06-25,30.00,20.00\n")
    result = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[1] == (
        "  hint: the median of the customers' average days between purchase days is 5, within "
        "a period: more history, or a higher retention.lookback_periods, measures more period "
        "pairs")
