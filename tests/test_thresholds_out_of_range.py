"""A threshold outside what an attribute can be: ``churn_risk: {gte: 50}`` (a percentage for
a probability) held for no customer and ``{lt: 80}`` for everyone, and validate passed without
a word (a new user's trial), where ``margin_rate: 30`` in cvm.yaml is told to write 0.3."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project

runner = CliRunner()


def with_condition(project: Path, when: str) -> None:
    """The bundled retain_high_value's churn_risk condition replaced by ``when`` (lines)."""
    policy = project / "policies" / "retain_high_value.yaml"
    text = policy.read_text()
    old = "        - churn_risk: {gte: 0.5}     # only once a churn model ran; missing is simply " \
        "false\n"
    assert old in text
    policy.write_text(text.replace(old, when))


def _validate(tmp_path: Path, when: str) -> list[str]:
    project = copy_example_project(tmp_path)
    with_condition(project, when)
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    return [line for i, line in enumerate(lines) if "from 0 to" in line or "from -1 to" in line
            or (i and line.startswith("  hint:") and (
                "from 0 to" in lines[i - 1] or "from -1 to" in lines[i - 1]))]


def test_a_percentage_for_a_probability_is_warned_at_its_line(tmp_path: Path) -> None:
    assert _validate(tmp_path, "        - churn_risk: {gte: 50}\n") == [
        "warning: policies/retain_high_value.yaml:14:11: when.all[2].any[2].churn_risk: policy "
        "'retain_high_value': churn_risk gte 50 holds for no customer: churn_risk is from 0 to 1",
        "  hint: churn_risk is a fraction: write 0.5 for 50%"]


def test_a_threshold_above_the_range_that_holds_for_everyone(tmp_path: Path) -> None:
    assert _validate(tmp_path, "        - churn_risk: {lt: 80}\n        - purchase_trend: "
                     "{between: [20, 50]}\n        - value_score: {gt: 100}\n") == [
        "warning: policies/retain_high_value.yaml:14:11: when.all[2].any[2].churn_risk: policy "
        "'retain_high_value': churn_risk lt 80 holds for every customer who has one: "
        "churn_risk is from 0 to 1",
        "  hint: churn_risk is a fraction: write 0.8 for 80%",
        "warning: policies/retain_high_value.yaml:15:11: when.all[2].any[3].purchase_trend: "
        "policy 'retain_high_value': purchase_trend between 20 and 50 holds for no customer: "
        "purchase_trend is from -1 to 1",
        "  hint: purchase_trend is a fraction: write 0.2 for 20%",
        "warning: policies/retain_high_value.yaml:16:11: when.all[2].any[4].value_score: "
        "policy 'retain_high_value': value_score gt 100 holds for no customer: value_score is "
        "from 0 to 100", "  hint: value_score is a percentile: at most 100"]


def test_thresholds_within_the_range_and_at_its_ends_are_no_warning(tmp_path: Path) -> None:
    assert _validate(tmp_path, "        - churn_risk: {gte: 0}\n        - p_alive: {lte: 1}\n"
                     "        - purchase_trend: {between: [-1, -0.5]}\n"
                     "        - recency_days: {gte: 0}\n") == []


def test_no_percentage_guess_for_a_small_trend_below_its_range(tmp_path: Path) -> None:
    """A review: purchase_trend gt -2 was hinted "write -0.02 for -2%"."""
    assert _validate(tmp_path, "        - purchase_trend: {gt: -2}\n") == [
        "warning: policies/retain_high_value.yaml:14:11: when.all[2].any[2].purchase_trend: "
        "policy 'retain_high_value': purchase_trend gt -2 holds for every customer who has one: "
        "purchase_trend is from -1 to 1"]

