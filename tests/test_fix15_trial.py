"""What the new-user trial of issue 15 found (session 6), each failing before its fix."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.test_subscriptions import CONFIG

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def cdnow_with(tmp_path: Path, settings: str) -> Path:
    """The CDNOW example as a project of its own, its data read in place, ``settings``
    added to its cvm.yaml."""
    project = tmp_path / "cdnow"
    shutil.copytree(ROOT / "examples" / "cdnow" / "rules", project / "rules")
    text = (ROOT / "examples" / "cdnow" / "cvm.yaml").read_text()
    text = text.replace("CDNOW_master.txt", str(ROOT / "examples" / "cdnow" / "CDNOW_master.txt"))
    (project / "cvm.yaml").write_text(text + settings)
    return project

CONTRACTS = CONFIG  # tests/test_subscriptions.py's contracts project


def test_a_missing_end_column_names_the_setting_that_maps_it(
        make_project: Callable[..., Path]) -> None:
    project = make_project(CONTRACTS, tx="cust,start,end_date,price\na,2024-01-01,,10.00\n")
    result = runner.invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[1] == \
        "  hint: fix the column name under subscriptions.end in cvm.yaml"


@pytest.mark.parametrize(("models", "message"), [
    ("models:\n  use: pareto_nbd\n",
     "error: cvm.yaml:15:8: models.use: found 'pareto_nbd', which is not used with "
     "subscriptions, whose value model is the sBG: expected auto or none"),
    ("models:\n  time_unit_days: 1\n",
     "error: cvm.yaml:15:19: models.time_unit_days: not used with subscriptions (the unit "
     "of the sBG model is the billing period)"),
    ("models:\n  min_repeat_customers: 50\n",
     "error: cvm.yaml:15:25: models.min_repeat_customers: not used with subscriptions (the "
     "sBG model needs no repeat buyers)"),
    ("models:\n  max_holdout_error: 2\n",
     "error: cvm.yaml:15:22: models.max_holdout_error: not used with subscriptions (no "
     "purchase model is chosen: the value model is the sBG)"),
])
def test_a_models_setting_subscriptions_do_not_use_is_refused(
        make_project: Callable[..., Path], models: str, message: str) -> None:
    project = make_project(CONTRACTS + models, tx="cust,start,end,price\na,2024-01-01,,10.00\n")
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == message
    assert result.stderr.splitlines()[1] == "  hint: remove it from cvm.yaml"


def test_a_calibration_end_on_the_last_day_says_what_it_must_be_before(
        tmp_path: Path) -> None:
    result = runner.invoke(app, ["fit", "--project", str(ROOT / "examples" / "cdnow"),
                                 "--calibration-end", "1998-06-30", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "error: --calibration-end: found 1998-06-30, expected a day after the first purchase "
        "(1997-01-01) and before the last day of the data (1998-06-30)")


def test_fit_on_another_holdout_does_not_call_its_pick_the_value_table_s(
        tmp_path: Path) -> None:
    """cvm score chooses on the default holdout (CDNOW: after 1997-09-30); a fit to another
    calibration end may pick another model, and says that it is this holdout's pick."""
    result = runner.invoke(app, ["fit", "--project", str(ROOT / "examples" / "cdnow"),
                                 "--calibration-end", "1998-03-31", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert "value table model:" not in result.stdout
    line = next(t for t in result.stdout.splitlines() if "models.use: auto takes" in t)
    assert line.startswith("  on this holdout models.use: auto takes ")
    assert line.endswith("; the value table's model is chosen on the default holdout, after "
                         "1997-09-30 (models.holdout_days): cvm fit without --calibration-end "
                         "shows it")


def test_fit_with_models_use_none_says_the_value_table_keeps_the_formulas(
        tmp_path: Path) -> None:
    project = cdnow_with(tmp_path, "models:\n  use: none\n")
    result = runner.invoke(app, ["fit", "--project", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.stderr
    assert "value table model:" not in result.stdout
    line = next(t for t in result.stdout.splitlines() if "models.use: auto would take" in t)
    assert line.endswith("; models.use is none in cvm.yaml: the value table keeps the formulas")


def test_a_fit_that_fails_with_a_penalty_names_the_penalty(tmp_path: Path) -> None:
    project = cdnow_with(tmp_path, "models:\n  penalizer: 0.1\n")
    result = runner.invoke(app, ["fit", "--project", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.stderr
    assert "Pareto/NBD was not fitted on all the data: parameter s = 1e-09" in result.stderr
    assert ("  hint: models.penalizer is 0.1 in cvm.yaml: the penalty shrinks every parameter "
            "towards 0 and can itself make a fit fail; try it at 0 (or 0.0001) with cvm fit; "
            "else under models.use: auto in cvm.yaml the value table uses the purchase model") \
        in result.stderr


def test_a_value_table_that_falls_back_with_a_penalty_names_the_penalty(
        tmp_path: Path) -> None:
    project = cdnow_with(tmp_path, "models:\n  penalizer: 0.5\n")
    result = runner.invoke(app, ["score", "--project", str(project), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.stderr
    assert ("  value model: formulas (Gamma-Gamma q <= 1: infinite mean spend (q = 0.1984): spend "
            "per purchase day is too heavy-tailed for an expected value (with models.penalizer "
            "0.5: the penalty shrinks every parameter towards 0 and can itself make a fit "
            "fail))\n") in result.stdout
