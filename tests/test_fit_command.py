"""``cvm fit`` and the probabilistic models inside the value table."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.project.config import load_config
from engine.value.score import score

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_fit_on_cdnow_prints_parameters_and_holdout(tmp_path: Path) -> None:
    project = tmp_path / "cdnow"
    shutil.copytree(ROOT / "examples" / "cdnow", project)
    result = runner.invoke(app, ["fit", "--project", str(project), "--out", str(tmp_path / "o"),
                                 "--calibration-end", "1997-09-30"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "\n  MBG/NBD      r 0.6" in out
    assert "\n  BG/NBD       r 0.2681" in out
    assert "\n  Pareto/NBD   r 0.61" in out
    assert "Holdout: each purchase model fitted to 1997-09-30" in out
    params = json.loads((tmp_path / "o" / "fit" / "params.json").read_text())
    assert set(params["models"]) == {"mbgnbd", "bgnbd", "pareto_nbd", "gamma_gamma"}
    # auto takes the smaller holdout error of MBG/NBD and Pareto/NBD (tests/test_model_choice.py)
    assert params["purchase_model"] == "pareto_nbd" and params["not_fitted"] == {}
    assert (tmp_path / "o" / "fit" / "holdout.svg").read_text().startswith("<svg")


def test_fit_on_the_example_reports_the_model_that_fails_and_writes_the_others(
        tmp_path: Path) -> None:
    """Every customer of the example has the same drop-out rate: Pareto/NBD has no finite
    estimate there. That is a warning, and the other models are printed and written."""
    result = runner.invoke(app, ["fit", "--project", str(ROOT), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        "warning: examples/retail/transactions.csv: Pareto/NBD was not fitted on all the data: "
        "the likelihood "
        "still rises at s = 20 (the upper bound of the search), with a mean drop-out rate "
        "s/beta = ")
    assert result.stderr.endswith(
        "\n  hint: under models.use: auto in cvm.yaml the value table uses the purchase "
        "model auto chooses on the holdout, with Gamma-Gamma, and keeps the formulas if that "
        "model cannot be fitted on all the data; when a model fails, check that "
        "models.time_unit_days (the unit of recency and T) suits how often customers buy, "
        "and that a few hundred customers bought more than once\n")
    out = result.stdout
    for line in ("\n  MBG/NBD      r 2.209 (se 0.15)", "\n  BG/NBD       r 0.4077 (se 0.017)",
                 "\n  Pareto/NBD   not fitted (see the warning)\n",
                 "\n  Gamma-Gamma  p 1.38 (se 0.16)", "\nHoldout: each purchase model fitted to ",
                 "\n  Pareto/NBD   not fitted: the likelihood still rises at s = 20",
                 "\n  value table model: MBG/NBD (MBG/NBD predicts 4,252 repeat purchases"):
        assert line in out
    params = json.loads((tmp_path / "fit" / "params.json").read_text())
    assert set(params["models"]) == {"mbgnbd", "bgnbd", "gamma_gamma"}
    assert list(params["not_fitted"]) == ["pareto_nbd"]
    assert params["not_fitted"]["pareto_nbd"].startswith("the likelihood still rises at s = 20")
    assert (tmp_path / "fit" / "holdout.csv").is_file()
    # the README shows this warning as it is
    assert f"```\n{result.stderr}```" in (ROOT / "README.md").read_text()


def test_fit_exits_1_when_no_model_can_be_fitted(make_project: Callable[..., Path]) -> None:
    project = make_project(tx="cust,day,amount,cost\n" + "".join(
        f"c{i},2024-0{1 + i % 6}-1{i % 9},{10 + i}.00,5.00\n" for i in range(40)))
    result = runner.invoke(app, ["fit", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stdout == ""
    reason = "no customer has a repeat purchase (all frequency == 0): the model cannot be fitted"
    assert result.stderr.splitlines()[:4] == [
        f"error: tx.csv: MBG/NBD could not be fitted: {reason}",
        f"error: tx.csv: BG/NBD could not be fitted: {reason}",
        f"error: tx.csv: Pareto/NBD could not be fitted: {reason}",
        "error: tx.csv: Gamma-Gamma could not be fitted: no customer has a repeat purchase (all "
        "frequency == 0): the Gamma-Gamma spend model cannot be fitted"]
    assert result.stderr.splitlines()[4].startswith("  hint: under models.use: auto in cvm.yaml ")
    assert not (project / "output" / "fit").exists()


def test_fit_rejects_bad_calibration_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fit", "--project", str(ROOT / "examples" / "cdnow"),
                                 "--calibration-end", "1997-31-01"])
    assert result.exit_code == 2  # a usage error (README "Exit codes")
    assert result.stderr.strip() == ("error: --calibration-end: found '1997-31-01', expected a "
                                     "date such as 2024-06-30\n  hint: there is no month 31: "
                                     "write the date as YYYY-MM-DD (year, month, day)")


def test_models_feed_value_table() -> None:
    scored = score(load_config(ROOT))
    t = scored.table
    assert scored.model.used
    assert t["p_alive"].between(0, 1).all()
    # (each shown to 6 places, as the table shows them: the same to a float's last bit)
    assert np.allclose(t["churn_risk"], 1 - t["p_alive"], rtol=0, atol=1e-12)
    one_timers = t[t["frequency"] == 0]
    # the models give one-time buyers a potential value (the formulas give them 0) ...
    assert (one_timers["potential_value"] > 0).any()
    # ... but lapsed customers are worth less than active ones with the same history
    assert t["p_alive"].corr(-t["recency_ratio"].fillna(0)) > 0


def test_models_off_keeps_formulas(make_project: Callable[..., Path]) -> None:
    project = make_project()
    scored = score(load_config(project))
    assert not scored.model.used
    assert "repeat buyers" in scored.model.reason
    assert "p_alive" not in scored.table


def test_models_required_but_impossible(make_project: Callable[..., Path]) -> None:
    from tests.conftest import BASE_CONFIG

    project = make_project(BASE_CONFIG + "models:\n  use: bgnbd\n")
    result = runner.invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cvm.yaml:16:8: models.use: the probabilistic models "
                                    "cannot be used: only 2 repeat buyers")


@pytest.mark.parametrize(("use", "said"), [
    ("none", "the value table uses no model (models.use: none in cvm.yaml): these fits are "
             "for comparison only"),
    ("mbgnbd", "the value table needs only MBG/NBD (models.use: mbgnbd in cvm.yaml) and "
               "Gamma-Gamma; Pareto/NBD is not needed"),
    ("pareto_nbd", "the value table needs only Pareto/NBD (models.use: pareto_nbd in cvm.yaml) "
                   "and Gamma-Gamma; models.use: auto would use the model that predicts the "
                   "holdout best, or keep the formulas where none can be fitted"),
])
def test_the_hint_of_a_failed_fit_follows_models_use(tmp_path: Path, use: str,
                                                      said: str) -> None:
    """The trial's case: under models.use: none the hint said the value table needed a
    model."""
    project = tmp_path / "p"
    project.mkdir()
    text = (ROOT / "cvm.yaml").read_text().replace(
        "examples/retail/", str(ROOT / "examples" / "retail") + "/")
    (project / "cvm.yaml").write_text(text + f"models:\n  use: {use}\n")
    result = runner.invoke(app, ["fit", "--project", str(project), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.stderr
    assert f"\n  hint: {said}; when a model fails, check" in result.stderr
