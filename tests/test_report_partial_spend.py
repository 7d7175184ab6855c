"""A partial last month (the as-of date 2025-12-06: 1 to 5 December) is charged its share of the
month's spend, and the page's headline says the month is partial instead of setting its five
days against the whole month before (a new user's find: acquisition equity -1,944.68 from a
whole month's 3,090.00 of spend, and 'Revenue in Dec 2025 EUR 12,401, -EUR 62,176 vs previous
month: ... value per customer -62,476')."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

TILE = re.compile(r'<div class="kpi"><div class="label">(.*?)</div><div class="value">(.*?)'
                  r'</div>\s*<div class="note">(.*?)</div></div>', re.S)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The report of the bundled example (its spend file beside the transactions: December
    2025 costs 3,090.00 to acquire and 3,180.00 to retain) as of a partial and a whole month."""
    out = {}
    for as_of in ("2025-12-06", "2026-01-01"):
        tmp = tmp_path_factory.mktemp(as_of)
        project = copy_example_project(tmp)
        config = project / "cvm.yaml"
        config.write_text(config.read_text().replace("as_of: null ", f"as_of: {as_of}"))
        result = CliRunner().invoke(app, ["report", "-p", str(project), "-o", str(tmp / "o")])
        assert result.exit_code == 0, result.output
        out[as_of] = tmp / "o" / "report"
        (tmp / "o" / "report" / "said.txt").write_text(result.stdout)
    return out


def _last(folder: Path) -> pd.Series:
    return pd.read_csv(folder / "monthly_figures.csv").iloc[-1]


def test_a_partial_month_is_charged_the_share_of_its_spend_its_days_are(
        reports: dict[str, Path]) -> None:
    dec = _last(reports["2025-12-06"])
    assert (dec["month"], dec["partial_month"]) == ("2025-12", True)
    assert (dec["acquisition_cost"], dec["retention_cost"]) == (498.39, 512.9)  # x 5 / 31
    assert dec["acquisition_equity"] == pytest.approx(
        dec["new_customers"] * dec["avg_clv"] - 498.39, abs=0.01)
    whole = _last(reports["2026-01-01"])
    assert (whole["month"], bool(whole["partial_month"])) == ("2025-12", False)
    assert (whole["acquisition_cost"], whole["retention_cost"]) == (3090.0, 3180.0)


def _tiles(folder: Path) -> list[tuple[str, str, str]]:
    page = (folder / "report.html").read_text()
    def text(x: str) -> str:
        return html.unescape(" ".join(x.split()))

    return [(text(a), text(b), text(c)) for a, b, c in TILE.findall(page)]


def test_the_headline_says_a_month_is_partial_and_does_not_set_it_against_a_whole_one(
        reports: dict[str, Path]) -> None:
    tiles = _tiles(reports["2025-12-06"])
    labels = [t[0] for t in tiles]
    assert labels == ["Customer equity on 2025-12-06, the as-of date", "Active customers",
                      "Churn rate in Dec 2025 (1-5 Dec)", "Revenue in Dec 2025 (1-5 Dec)",
                      "Average order value", "Average CLV of an active customer"]
    revenue = tiles[3]
    assert revenue[1:] == ("EUR 12,401", "5 of its 31 days; Nov 2025: EUR 74,577"), revenue
    whole = _tiles(reports["2026-01-01"])
    assert [t[0] for t in whole][:4] == ["Customer equity, end of Dec 2025", "Active customers",
                                         "Churn rate in Dec 2025", "Revenue in Dec 2025"]
    assert "vs previous month: customers" in whole[3][2]
    said = [(reports[d] / "said.txt").read_text().splitlines()[2] for d in reports]
    assert [s.split(", churn")[0] for s in said] == ["  2025-12 (1-5 Dec): revenue EUR 12,401",
                                                     "  2025-12: revenue EUR 63,191"]
