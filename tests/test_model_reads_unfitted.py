"""With ``models.use: none`` the value table has no model column, so a condition on one
(``churn_risk: {gte: 0.5}``) never holds: validate says so at the condition's line (the trial
of session 44 found `--audience` showing 0 matches and validate silent)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project
from tests.test_thresholds_out_of_range import with_condition

runner = CliRunner()

HINT = ("  hint: set models.use: auto in cvm.yaml for the model's figures, or test a column of "
        "the formulas (recency_ratio, clv_discounted, potential_value)")


def _without_models(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text() + "models:\n  use: none\n")
    return project


def _warned(project: Path) -> list[str]:
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    return [line for i, line in enumerate(lines) if "model column" in line or (
        i and "model column" in lines[i - 1])]


def test_a_policy_on_a_model_column_is_warned_at_its_line(tmp_path: Path) -> None:
    project = _without_models(tmp_path)
    assert _warned(project) == [
        "warning: policies/retain_high_value.yaml:14:11: when.all[2].any[2].churn_risk: policy "
        "'retain_high_value' reads churn_risk, a model column, and models.use is none in "
        "cvm.yaml: no customer of the value table has it, so every comparison on it is false "
        "(unless cvm serve's request context sends one)", HINT]


def test_rules_and_triggers_too_and_each_attribute_once_per_condition(tmp_path: Path) -> None:
    project = _without_models(tmp_path)
    rules = project / "rules" / "lifecycle.yaml"
    text = rules.read_text()
    assert text.count("      tenure_days: {lte: 90}\n") == 1
    rules.write_text(text.replace("      tenure_days: {lte: 90}\n", "      all:\n"
                                  "        - tenure_days: {lte: 90}\n"
                                  "        - expected_purchases: {gte: 1}\n"))
    (project / "policies" / "retain_high_value.yaml").write_text(
        (project / "policies" / "retain_high_value.yaml").read_text().replace(
            "        - churn_risk: {gte: 0.5}     # only once a churn model ran; missing is "
            "simply false\n",
            "        - churn_risk: {gte: 0.5}\n        - not: {churn_risk: {lt: 0.2}}\n"
            "        - clv_model_lower: {gte: 300}\n"))
    shutil.copytree(ROOT / "triggers", project / "triggers")
    (project / "triggers" / "p_alive.yaml").write_text(
        "triggers:\n"
        "  - id: fading\n"
        "    description: A complaint from a fading customer.\n"
        "    event: {type: complaint}\n"
        "    customer:\n"
        "      p_alive: {lt: 0.3}\n"
        "    then: {action: retain, channel: call_centre, talking_point: Sorry.}\n")
    warned = _warned(project)
    said = [line.split(": ", 2)[1] for line in warned if line.startswith("warning")]
    assert said == ["rules/lifecycle.yaml:29:11", "policies/retain_high_value.yaml:14:11",
                    "policies/retain_high_value.yaml:16:11", "triggers/p_alive.yaml:6:7"], warned
    assert "lifecycle rule 'new_customer' reads expected_purchases, a model column" in warned[0]
    assert "policy 'retain_high_value' reads clv_model_lower, a model column" in warned[4]
    assert "trigger 'fading' reads p_alive, a model column" in warned[6]


def test_no_warning_when_a_model_runs(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    assert _warned(project) == []


def test_a_test_for_the_column_missing_is_no_warning(tmp_path: Path) -> None:
    """A review: `churn_risk: {missing: true}` holds for every customer without a model, as
    meant: no warning."""
    project = _without_models(tmp_path)
    with_condition(project, "        - churn_risk: {missing: true}\n")
    assert _warned(project) == []

