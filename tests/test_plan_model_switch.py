"""cvm plan names a change of the value model (a new user's proposal changed horizon_periods
only; models.use auto moved from MBG/NBD to Pareto/NBD, 595 customers changed, and the plan's
"What changed" listed the horizon alone)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import copy_example_project
from tests.test_plan import full_copy

runner = CliRunner()


def test_a_plan_names_the_value_model_each_side_used(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = full_copy(project, tmp_path / "proposed")
    config = proposed / "cvm.yaml"
    config.write_text(config.read_text() + "models:\n  use: bgnbd\n")
    result = runner.invoke(app, ["plan", "-p", str(project), "--proposed", str(proposed),
                                 "--no-history", "--json"])
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = json.loads(result.stdout)["definitions"]
    model = [r["change"] for r in rows if r["what"] == "value model"]
    assert len(model) == 1, rows
    assert model[0].startswith("MBG/NBD -> BG/NBD (models.use bgnbd)"), model


def test_a_changed_date_format_is_one_change(make_project) -> None:
    """A reviewer: customers_date_format stored as date_format's when not set made a plan
    that changed date_format list customers_date_format as changed too."""
    from engine.plan.diff import fields_changed
    from engine.project.config import load_config
    from tests.conftest import BASE_CONFIG

    a = load_config(make_project(BASE_CONFIG))  # read now: the same folder is written again
    b = load_config(make_project(BASE_CONFIG.replace(
        "  transactions: tx.csv\n", "  transactions: tx.csv\n  date_format: '%Y-%m-%d'\n")))
    assert fields_changed(a.data, b.data) == ["date_format: (none) -> %Y-%m-%d"]


def test_a_customer_suppressed_on_both_sides_has_not_changed() -> None:
    """A new user raised monthly_total from 4 to 8: 'customers changed 281, of which not served
    reason 281', where 264 stayed suppressed (only the contact policies named changed)."""
    import pandas as pd

    from engine.plan.dry_run import FIELDS, changed_fields

    same = {f"{f}_{side}": "x" for f in FIELDS for side in ("before", "after")}
    rows = pd.DataFrame([
        {**same, "status_before": "suppressed", "status_after": "suppressed",
         "not_served_reason_before": "email_weekly; monthly_total",
         "not_served_reason_after": "email_weekly"},
        {**same, "status_before": "not_served", "status_after": "not_served",
         "not_served_reason_before": "capacity: the allowed channels are full",
         "not_served_reason_after": "budget: the allowed channels' budgets are spent"},
        {**same, "status_before": "not_served", "status_after": "suppressed",
         "not_served_reason_before": "no consented channel",
         "not_served_reason_after": "monthly_total"}])
    flags = changed_fields(rows)
    assert flags["not_served_reason"].tolist() == [False, True, True]
    assert flags["status"].tolist() == [False, False, True]
