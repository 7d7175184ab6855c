"""An as-of date set long after the data's last purchase is warned about by the commands that
score: every customer then looks lapsed by the days the export does not cover (the trial:
as_of 2026-11-30 on data ending 2025-12-31 ran without a word)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

LATE = (
    "warning: cvm.yaml:32:8: as_of: 2026-11-30 is 334 days after the last purchase in the data "
    "(2025-12-31): 333 days without data, more than a period (period_days 90): recency, "
    "P(alive) and the stages count them as days without purchases\n"
    "  hint: if the export ends on 2025-12-31, set as_of to 2026-01-01 or remove it (the day "
    "after the last transaction)\n")


def _project(tmp_path: Path, as_of: str) -> Path:
    project = copy_example_project(tmp_path)
    config = (project / "cvm.yaml").read_text()
    assert "as_of: null " in config
    (project / "cvm.yaml").write_text(config.replace("as_of: null ", f"as_of: {as_of}"))
    return project


@pytest.mark.parametrize("command", ["score", "run", "decide", "fit", "explain", "report"])
def test_an_as_of_date_long_after_the_data_is_warned_about(tmp_path: Path, command: str) -> None:
    project = _project(tmp_path, "2026-11-30")
    args = [command, "--project", str(project)]
    args += ["C000001"] if command == "explain" else ["--out", str(project / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert LATE in result.stderr


@pytest.mark.parametrize("as_of", ["2026-01-01", "2026-03-31", "2026-04-01"])
def test_within_a_period_of_the_data_nothing_is_said(tmp_path: Path, as_of: str) -> None:
    """2026-04-01: 90 days without data (2026-01-01 .. 2026-03-31), not more than the period
    of 90 days."""
    project = _project(tmp_path, as_of)
    result = CliRunner().invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    assert "after the last purchase" not in result.stderr


def test_a_month_without_active_customers_shows_no_nan(tmp_path: Path) -> None:
    """With no active customer at the end of the last month (as_of long after the data), the
    averages have no figure: 'n/a', as the churn rate beside them says, not 'EUR nan'."""
    project = _project(tmp_path, "2026-11-30")
    result = CliRunner().invoke(app, ["report", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    assert "(0 active customers, average CLV n/a)" in result.stdout
    page = (project / "output" / "report" / "report.html").read_text()
    assert "nan" not in page.replace("nano", "")


def test_plan_warns_about_each_sides_as_of_date_once(tmp_path: Path) -> None:
    """cvm plan scores both versions: a late as_of on the baseline's side is said once (the
    proposal shares it), a late as_of only the proposal sets is said at the proposal's file."""
    project = _project(tmp_path, "2026-11-30")
    proposed = tmp_path / "proposed" / "policies"
    proposed.mkdir(parents=True)
    result = CliRunner().invoke(app, ["plan", "--project", str(project), "--proposed",
                                      str(proposed.parent), "--overlay", "--json"])
    assert result.exit_code == 0, result.stderr
    # each side's cvm.yaml named by its path: the plan compares two
    assert result.stderr == LATE.replace("cvm.yaml:", f"{project / 'cvm.yaml'}:")

    (tmp_path / "base").mkdir()
    base = _project(tmp_path / "base", "2026-01-01")
    late = tmp_path / "late"
    shutil.copytree(project, late)
    result = CliRunner().invoke(app, ["plan", "--project", str(base), "--proposed", str(late),
                                      "--json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == LATE.replace("cvm.yaml:", f"{late / 'cvm.yaml'}:"), result.stderr


def test_validate_audience_warns_about_a_late_as_of(tmp_path: Path) -> None:
    project = _project(tmp_path, "2026-11-30")
    result = CliRunner().invoke(app, ["validate", "--project", str(project), "--audience"])
    assert result.exit_code == 0, result.stderr
    assert LATE in result.stderr


def test_the_report_page_says_where_the_data_end(tmp_path: Path) -> None:
    """The new user's find: with as_of four months after the export, the saved page showed
    'Revenue in Apr 2026 EUR 0' and a churn of 21% with nothing on the page saying the data
    stop at 2025-12-31 (the warning is on the terminal only)."""
    project = _project(tmp_path, "2026-05-01")
    result = CliRunner().invoke(app, ["report", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    page = (project / "output" / "report" / "report.html").read_text()
    assert ("the transactions end on 2025-12-31, 121 days before the as-of date 2026-05-01: "
            "the days after it show no purchases because the export ends there, not because "
            "customers stopped buying") in page
    (tmp_path / "plain").mkdir()
    plain = _project(tmp_path / "plain", "2026-01-01")
    CliRunner().invoke(app, ["report", "--project", str(plain)])
    assert "the transactions end on" not in (
        plain / "output" / "report" / "report.html").read_text()


def test_validate_audience_says_the_as_of_date_before_what_it_causes(tmp_path: Path) -> None:
    """A late as_of leaves lifecycle rules giving no stage: the cause (the date) comes first
    (a new user read the rule's warning first)."""
    project = _project(tmp_path, "2026-11-30")
    result = CliRunner().invoke(app, ["validate", "--project", str(project), "--audience"])
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings[0].startswith("warning: cvm.yaml:32:8: as_of: 2026-11-30 is 334 days"), \
        warnings
