"""Money is rounded to the cent half up on its decimal value, as a spreadsheet's ROUND does and
as README "Value" says ("computed at full precision, then rounded as the value table shows it:
money to cents, half up"). A finance analyst's trial recomputed every figure by hand: an
exact half cent came out up, down or to even as its binary form fell (0.3 x 57.05 = 17.115
written 17.11; an average order of 63.295 written 63.29), the summary's gross margin was the
sum of those rounded figures (30 cents off the data's on CDNOW), the growth headroom was
computed from unrounded parts (6.58 where potential 10.25 less current 3.68 is 6.57), and
``--json`` printed 456968.82999999996."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.decimals import round_half_up

runner = CliRunner()

CONFIG = """\
name: test
data:
  transactions: tx.csv
  columns:
    customer_id: cust
    date: day
    amount: amount
as_of: 2024-07-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0.1
margin_rate: 0.3
models:
  use: none
"""
# margins at 30%: 57.05 -> 17.115 (a and b, once each), c's two orders average 63.295
TX = """\
cust,day,amount
a,2024-06-01,57.05
b,2024-06-02,57.05
c,2024-05-01,63.29
c,2024-06-03,63.30
"""


def test_half_cents_and_halves_of_the_last_place_go_up() -> None:
    values = np.array([17.115, 63.295, 75.975, 0.125, -17.115, 2.675, 1.005, 0.0, np.nan,
                       1e12 + 0.125, 17.114999])
    assert round_half_up(values, 2).tolist()[:8] == [17.12, 63.30, 75.98, 0.13, -17.12, 2.68,
                                                      1.01, 0.0]
    assert np.isnan(round_half_up(values, 2)[8])
    assert round_half_up(values, 2)[10] == 17.11
    assert round_half_up(np.array([0.0000005, 14.9074545]), 6).tolist() == [0.000001, 14.907455]
    assert str(round_half_up(np.array([-0.001]), 2)[0]) == "0.0"  # never -0
    # a review: beyond 2^31 units of the last place nothing was snapped (66543.4318825 at six
    # places went down), and a figure too large to scale became inf
    assert round_half_up(np.array([66543.4318825, 1e17 + 8, 1e303]), 6).tolist() == [
        66543.431883, 1e17 + 8, 1e303]


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project(CONFIG, TX)


def test_the_value_table_rounds_money_half_up(project: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.stderr
    t = pd.read_csv(tmp_path / "o" / "customers.csv").set_index("customer_id")
    assert t.loc["a", "gross_margin"] == 17.12  # 17.11 before
    assert t.loc["a", "historic_value"] == 17.12
    assert t.loc["c", "avg_order_value"] == 63.30  # 63.29 before
    # the headroom from the figures as written, as the total value is
    assert (t["growth_headroom"] == (t["potential_value"] - t["current_value"]).round(2)).all()
    # the summary's totals are the data's, rounded once: 0.3 x 177.69 = 53.307 -> 53.31
    assert "  revenue EUR 240.69, gross margin EUR 72.21 (30.0%)\n" in res.stdout


def test_the_json_summary_carries_the_totals_as_shown(project: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["score", "-p", str(project), "-o", str(tmp_path / "o"),
                              "--json"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert (doc["revenue"], doc["gross_margin"]) == (240.69, 72.21)


def test_a_tier_cut_is_printed_as_the_lowest_figure_in_the_tier() -> None:
    """A trial: the platinum cut 1,574.6905 printed 1,574.69, where a customer at 1,574.69 is
    gold; a re-trial: a cut of 1,532.27000017 printed 1,532.27 at six decimals."""
    from engine.commands.score import _cut

    assert [_cut(v, 2) for v in (1574.6905, 524.13, 1500.0, 1532.27000017, 153227 / 100)] == [
        "1,574.70", "524.13", "1,500.00", "1,532.28", "1,532.27"]
    assert _cut(0.1234567, 6) == "0.123457"


@pytest.mark.parametrize(("template", "value", "shown"), [
    ("{{ x | money('EUR') }}", 63.295, "EUR 63.30"),
    ("{{ x | money('EUR') }}", 17.115, "EUR 17.12"),
    ("{{ x | pct }}", 0.1725, "17.3%"),  # a trial: the report showed 17.2%
    ("{{ x | pct }}", 0.0045, "0.5%"),   # and 0.4%
    ("{{ x | pct(2) }}", 0.123456, "12.35%"),
    ("{{ x | num }}", 2.5, "3"),
    ("{{ x | num }}", 1234.5, "1,235"),
])
def test_the_templates_filters_round_half_up(tmp_path: Path, template: str, value: float,
                                              shown: str) -> None:
    from engine.project.templates import Templates
    from engine.render.sandbox import sandbox

    env = sandbox(Templates(tmp_path), trim=True)
    assert env.from_string(template).render(x=value) == shown


def test_the_other_outputs_round_half_up_too() -> None:
    """A review of the change: the allocation summary's shares (Python's round: 45 of 100,000
    written 0.0004), the report's cells (2.675 shown 2.67, 0.1725 as 17.2%) and explain's
    figures (113.145 printed 113.14) rounded the binary value to even."""
    from engine.report.html import _cell
    from engine.run.explain_allocation import _two
    from engine.run.pipeline import _summary_row

    part = pd.DataFrame({"cost": [0.01] * 45})
    row = _summary_row("channel", "(all)", "app_push", part, 100.0, 100_000,
                       {"cost": 0.45, "expected_value": 1.0})
    assert (row["capacity_used_share"], row["budget_used_share"]) == (0.0005, 0.0045)
    assert [_cell(2.675, "money2", "EUR"), _cell(0.1725, "percent", "EUR"),
            _cell(2.5, "money0", "EUR")] == ["2.68", "17.3%", "3"]
    assert (_two(113.145), _two(None)) == ("113.15", "")


def test_a_percentage_in_a_summary_rounds_half_up_as_the_files_do() -> None:
    """Session 41 left the summaries' percentages to Python's format: 0.1725 was 17.2% in
    `cvm score`'s retention line and 17.3% in the report's cells and the briefs' pct."""
    from engine.decimals import percent

    assert f"{0.1725:.1%}" == "17.2%"  # Python's: half even on the binary value
    assert [percent(0.1725), percent(0.125, 0), percent(1 / 3), percent(0.0)] == [
        "17.3%", "13%", "33.3%", "0.0%"]


def test_score_s_retention_line_says_the_percentages_half_up(tmp_path: Path) -> None:
    from engine.commands import score as score_command

    segments = [SimpleNamespace(name="band 1", rate=0.1725, pooled=False)]
    retention = SimpleNamespace(overall=0.6165, retained=6165, active=10000, pairs=3,
                                segments=segments)
    line = score_command.retention_line(retention)
    assert line == ("  retention per period: 61.7% overall (6,165 of 10,000 over 3 period "
                    "pairs); band 1 17.3%")
