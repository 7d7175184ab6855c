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

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.commands import report as report_cmd
from engine.data.contracts import NO_END
from engine.data.load import load_transactions
from engine.errors import InputError, UsageError
from engine.project.config import load_config
from engine.report.equity import EquitySettings, monthly_figures
from engine.report.html import Report, build_report
from engine.report.retention_curve import curve_chart, retention_curve
from engine.report.spend import Spend
from engine.run.build import load_project
from engine.value.score import Scored, score

ROOT = Path(__file__).resolve().parents[1]

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
    assert f[FLOWS].values.tolist() == [
        ["2024-01", 0, 3, 0, 0, 0, 0, 0, 3],  # a, b, d start
        ["2024-02", 3, 1, 0, 2, 1, 1, 0, 2],  # b ends without renewal; c new and gone; d runs
        ["2024-03", 2, 1, 1, 1, 1, 0, 0, 3],  # e new, b back, d gone
        ["2024-04", 3, 1, 0, 3, 0, 0, 0, 4],  # f new; e's first contract ends, its second runs
    ]
    # of those active at the start, the share not active at the end (c was not there at the
    # start of February: it is counted in new_and_left, not in the rate)
    assert f["churn_rate"].tolist()[1:] == [1 / 3, 1 / 2, 0.0]
    # at the as-of date the report's active customers are the value model's (no contract ended)
    assert tx.active is not None and int(tx.active.sum()) == 4
    assert_flows_add_up(f)


FLOWS = ["month", "customers_start", "new_customers", "reactivated_customers",
         "retained_customers", "churned_customers", "new_and_left", "reactivated_and_left",
         "customers_end"]


def assert_flows_add_up(f: pd.DataFrame) -> None:
    """end = start + new + reactivated - churned - new and left - reactivated and left, the
    churn rate is churned / start (never above 1), and N counts each customer of the month
    once (start + new + reactivated)."""
    for row in f.itertuples():
        assert row.customers_end == (row.customers_start + row.new_customers
                                     + row.reactivated_customers - row.churned_customers
                                     - row.new_and_left - row.reactivated_and_left)
        assert row.customers_start == row.retained_customers + row.churned_customers
        assert row.base_customers == (row.customers_start + row.new_customers
                                      + row.reactivated_customers)
        if row.customers_start:
            assert row.churn_rate == row.churned_customers / row.customers_start <= 1


TRIALS = """\
cust,start,end,price
A,2024-01-05,,10
T1,2024-02-03,2024-02-20,10
T2,2024-02-03,2024-02-20,10
T3,2024-02-05,2024-02-25,10
R,2023-12-01,2024-01-10,10
R,2024-03-03,2024-03-20,10
"""


def test_customers_who_arrive_and_leave_within_a_month_are_not_churn_of_its_start(
        make_project: Callable[..., Path]) -> None:
    """The review's case: A from Jan 5; three trials within February (the rate was 3.0, 300%
    of the one customer active at its start); R leaves on Jan 10 and comes back for a contract
    within March (it was in no flow at all: neither reactivated nor churned)."""
    config = CONFIG.replace("as_of: 2024-05-01", "as_of: 2024-04-10")
    tx = load_transactions(load_config(make_project(config, tx=TRIALS)))
    f = monthly_figures(tx, EquitySettings(30, D, 2, 60))
    assert f[FLOWS].values.tolist() == [
        ["2023-12", 0, 1, 0, 0, 0, 0, 0, 1],  # R starts
        ["2024-01", 1, 1, 0, 0, 1, 0, 0, 1],  # A new, R gone
        ["2024-02", 1, 3, 0, 1, 0, 3, 0, 1],  # T1-T3 new and gone within the month
        ["2024-03", 1, 0, 1, 1, 0, 0, 1, 1],  # R back and gone within the month
        ["2024-04", 1, 0, 0, 1, 0, 0, 0, 1],
    ]
    assert f["churn_rate"].tolist()[1:] == [1.0, 0.0, 0.0, 0.0]
    assert f["base_customers"].tolist() == [1, 2, 4, 2, 1]  # everyone with a contract in it
    assert_flows_add_up(f)


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


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Scored]:
    """``cvm report``'s page on the hand-made contracts, and the value table behind it."""
    folder = tmp_path_factory.mktemp("contracts")
    (folder / "rules").mkdir()
    shutil.copy(ROOT / "rules" / "value_tiers.yaml", folder / "rules" / "value_tiers.yaml")
    (folder / "cvm.yaml").write_text(CONFIG)
    (folder / "tx.csv").write_text(TX)
    project = load_project(folder, None, scope="report")
    built = build_report(project, spend=Spend(None), active_window_days=60,
                         run_folder=folder / "output")
    return built, score(project.config, tiers=project.tiers)


def test_the_page_says_how_contracts_are_counted_and_not_the_window(
        report: tuple[Report, Scored]) -> None:
    html = report[0].html
    assert "churn is 0 until" not in html and "bought in the 60 days" not in html
    assert ("a customer counts as active at a month end if one of their contracts runs on its "
            "last day, and as churned in a month if one ran at its start and none runs at its "
            "end; one who starts, or comes back, and leaves within a month is new and left, or "
            "reactivated and left (the active window is not used)") in html
    assert "Churned (left)" in report[0].charts["customer_flows"]


def test_the_page_and_the_file_show_who_arrived_and_left_within_a_month(
        report: tuple[Report, Scored]) -> None:
    built = report[0]
    columns = list(built.figures.columns)
    at = columns.index("churned_customers")
    assert columns[at:at + 4] == ["churned_customers", "new_and_left", "reactivated_and_left",
                                  "customers_end"]
    flows = built.charts["customer_flows"]
    assert "New, left within the month" in flows and "Back, left within the month" in flows
    html = " ".join(built.html.split())
    assert ("At end = at start + new + reactivated &minus; churned &minus; new and left "
            "&minus; reactivated and left.") in html
    assert "<th>New, left</th><th>Back, left</th>" in html


def test_the_retention_curve_is_the_kaplan_meier_estimate_against_the_sbg(
        report: tuple[Report, Scored], contracts: Path) -> None:
    """Renewals (payments - 1) and left: a 3 no, b 2 no, c 0 yes, d 1 yes, e 1 no, f 0 no.
    Decision 1: 5 at risk (f has not faced it), c leaves: 4/5; decision 2: a, b and d at
    risk, d leaves: 4/5 x 2/3; decision 3: a alone, stays."""
    scored = report[1]
    tx = load_transactions(load_config(contracts))
    curve = retention_curve(scored.model, tx, scored.table, projection=4, min_at_risk=1)
    assert curve is not None and curve.last_observed == 3
    assert curve.at_risk.tolist() == [6, 5, 3, 1, 0, 0, 0, 0]
    assert curve.observed[:4].tolist() == pytest.approx([1, 4 / 5, 8 / 15, 8 / 15])
    assert np.isnan(curve.observed[4:]).all()
    a, b = scored.model.params["sbg"]["alpha"], scored.model.params["sbg"]["beta"]
    assert (curve.alpha, curve.beta) == (a, b)
    # S(t) = B(a, b + t) / B(a, b) = prod_{k < t} (b + k) / (a + b + k)
    want = np.concatenate([[1.0], np.cumprod([(b + k) / (a + b + k) for k in range(7)])])
    assert curve.fitted == pytest.approx(want, rel=1e-10)
    svg = curve_chart(curve, 30)
    assert f"sBG alpha = {a:.3g}, beta = {b:.3g}" in svg
    assert "Observed (at least 20 customers at risk), after renewal decision 2: 53.3%" in svg
    assert f"sBG projection, after renewal decision 7: {want[7]:.1%}" in svg
    assert "sBG fit, after renewal decision 4" not in svg  # past the observed: projection only
    assert svg.count('stroke-dasharray="7 5"') == 1
    # the page draws it with the default 20 customers at risk: decision 0 only is observed
    page = report[0].charts["retention_curve"]
    assert "after renewal decision 1: 80.0%" not in page and \
        "Observed (at least 20 customers at risk), after renewal decision 0: 100.0%" in page


def test_the_formula_equity_and_the_model_total_are_reconciled_on_the_same_customers(
        report: tuple[Report, Scored]) -> None:
    """The formula counts a, b and e (active at the as-of date, more than one payment day;
    f has paid once): the model's total splits into those three and everyone else."""
    built, scored = report
    table = scored.table.set_index("customer_id")
    assert scored.model.equity is not None
    same = table.loc[["a", "b", "e"], "clv_model"].sum()
    others = table.loc[["c", "d", "f"], "clv_model"].sum()
    formula = float(built.figures["customer_equity"].iloc[-1])
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>",
                      built.html[built.html.index('id="two-equities"'):])[:5]
    total = scored.model.equity[0]
    assert rows == [
        ("Formula (the customer equity KPI)", "3", f"{formula:,.0f}", ""),
        ("Model, the same customers", "3", f"{same:,.0f}", rows[1][3]),
        ("Model, every other customer", "3", f"{others:,.0f}", rows[2][3]),
        ("Model total (sum of clv_model)", "6", f"{total:,.0f}",
         f"{scored.model.equity[1]:,.0f} to {scored.model.equity[2]:,.0f}"),
        ("Difference: model total - formula", "", f"{total - formula:+,.0f}",
         f"{same - formula:+,.0f} on the same customers, {others:+,.0f} from the others")]
    assert same + others == pytest.approx(total, abs=0.005 * 6)  # the table's each to the cent


def test_an_active_window_setting_is_refused_with_subscriptions(
        make_project: Callable[..., Path]) -> None:
    project = make_project(CONFIG + "report:\n  active_window_days: 90\n", tx=TX)
    with pytest.raises(InputError) as caught:
        load_config(project)
    assert caught.value.format().splitlines() == [
        "cvm.yaml:13:23: report.active_window_days: not used with subscriptions (a customer "
        "is active while a contract of theirs runs)",
        "  hint: remove it from cvm.yaml"]


def test_the_active_window_option_is_refused_with_subscriptions(contracts: Path) -> None:
    """An option value the project does not allow is a usage error, exit 2 (README "Exit
    codes", as --calibration-end outside the data)."""
    with pytest.raises(UsageError) as caught:
        report_cmd.run(project=contracts, config_file=None, out=contracts / "output",
                       spend=None, quiet=True, active_window=90)
    assert caught.value.format().splitlines() == [
        "--active-window: found 90, which is not used with subscriptions (a customer is "
        "active while a contract of theirs runs)",
        "  hint: leave --active-window out"]
    assert not (contracts / "output").exists()


def test_the_active_window_option_says_it_is_not_used_with_subscriptions() -> None:
    from typer.testing import CliRunner

    from engine.cli import app

    result = CliRunner().invoke(app, ["report", "--help"])
    text = " ".join(result.stdout.split())
    assert ("--active-window <int range> Days without a purchase after which a customer no "
            "longer counts as active. Default: 2 x period_days. Not used with subscriptions (a "
            "customer is active while a contract of theirs runs). [31<=x<=3660]") in text


def test_the_page_says_a_contract_s_end_is_the_first_day_it_does_not_cover(
        report: tuple[Report, Scored]) -> None:
    html = " ".join(report[0].html.split())
    assert ("Holds a contract that runs on the last day of the month (started on or before it, "
            "and its end, the first day it no longer covers, is after it;") in html
    assert "not ended before it" not in html
