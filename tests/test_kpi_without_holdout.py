"""A campaign without a holdout (holdout_share 0) whose KPIs compare with one ("retention rate
vs holdout"): its brief said there is no holdout and listed the KPI all the same (session 44's
note), and cvm measure has nothing to compare with. validate warns at the KPI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def _warned(project: Path) -> list[str]:
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    return [line for i, line in enumerate(lines) if "holdout" in line and (
        line.startswith("warning") or (i and lines[i - 1].startswith("warning")
                                      and "holdout" in lines[i - 1]))]


def test_a_kpi_against_a_holdout_the_campaign_has_not_is_warned(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    campaigns = project / "policies" / "campaigns.yaml"
    text = campaigns.read_text()
    old = "    budget: 2000\n    value_at_stake: clv_discounted\n"
    assert text.count(old) == 1
    campaigns.write_text(text.replace(old, old + "    holdout_share: 0\n"))
    assert _warned(project) == [
        "warning: policies/campaigns.yaml:13:12: campaigns.retain_high_value.kpis[0]: campaign "
        "'retain_high_value' has no holdout (holdout_share 0), but its KPI 'retention rate of "
        "the audience vs holdout' compares with one: cvm measure has nothing to compare with",
        "  hint: set holdout_share for the campaign (e.g. 0.1), or measure the KPI another way"]
    # the default share 0: every campaign without its own, each KPI against a holdout
    campaigns.write_text(text.replace("holdout_share: 0.10 ", "holdout_share: 0    "))
    said = [line for line in _warned(project) if line.startswith("warning")]
    assert len(said) == 5 and all(": campaign '" in line for line in said), said
    assert said[0].startswith("warning: policies/campaigns.yaml:12:12: "
                              "campaigns.retain_high_value.kpis[0]: "), said


def test_no_warning_with_a_holdout(tmp_path: Path) -> None:
    assert _warned(copy_example_project(tmp_path)) == []
