"""`cvm fit` as a new user met it (issue 15's trial): a holdout on which no model fits, the
value table's decision on an infinite Gamma-Gamma mean, a subscription holdout shorter than a
billing period or on which the sBG cannot be fitted, and the smaller wording findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.workflow.json_output import schema_path
from tests.cdnow_sample import sample_project
from tests.conftest import ROOT


def _sample(tmp_path: Path, extra: str = "") -> Path:
    """The CDNOW 1/10 sample (2,357 customers) with a header, as its own project."""
    return sample_project(tmp_path, extra, rules=True)


def _subscription(tmp_path: Path, billing_days: int | None = None) -> Path:
    project = tmp_path / "s"
    shutil.copytree(ROOT / "examples" / "subscription", project,
                    ignore=shutil.ignore_patterns("output"))
    if billing_days is not None:
        yaml = project / "cvm.yaml"
        # a period of at least one billing period (cvm.yaml refuses less), the default
        # holdout of 360 days kept
        yaml.write_text(yaml.read_text().replace(
            "billing_days: 30", f"billing_days: {billing_days}").replace(
            "period_days: 90", f"period_days: {max(90, billing_days)}")
            + "models:\n  holdout_days: 360\n")
    return project


def _fit(project: Path, *extra: str) -> Any:
    result = CliRunner().invoke(app, ["fit", "-p", str(project), "--out",
                                      str(project / "out"), *extra])
    assert result.exit_code == 0, result.output
    return result


def _json(project: Path, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_fit(project, "--json", *extra).stdout)
    jsonschema.validate(doc, json.loads(schema_path("fit").read_text()),
                        cls=jsonschema.Draft202012Validator)
    return doc


def test_no_candidate_fitted_on_the_holdout_chooses_no_model(tmp_path: Path) -> None:
    project = _sample(tmp_path)
    text = _fit(project, "--calibration-end", "1997-01-03").stdout
    assert "takes MBG/NBD" not in text
    assert ("  no candidate could be fitted on this holdout: MBG/NBD: ") in text
    doc = _json(project, "--calibration-end", "1997-01-03")
    choice = doc["holdout"]["choice"]
    assert choice["model"] is None
    assert choice["reason"].startswith("no candidate could be fitted on this holdout: ")
    params = json.loads((project / "out" / "fit" / "params.json").read_text())
    assert params["calibration"]["choice"] == choice


def test_fit_says_the_value_table_keeps_the_formulas_as_score_does(tmp_path: Path) -> None:
    project = _sample(tmp_path, "models: {penalizer: 0.1}\n")
    result = _fit(project)
    score = CliRunner().invoke(app, ["score", "-p", str(project), "--out",
                                     str(project / "scored")])
    assert score.exit_code == 0, score.output
    assert "value model: formulas (Gamma-Gamma q <= 1: infinite mean spend (q = 0.3333)" \
        in score.output
    assert "value table model: MBG/NBD" not in result.stdout
    assert ("  value table model: formulas (Gamma-Gamma q <= 1: infinite mean spend "
            "(q = 0.3333)") in result.stdout
    assert ("warning: cvm.yaml: models: the value table keeps the formulas: Gamma-Gamma q <= "
            "1: infinite mean spend (q = 0.3333)") in result.stderr


def test_fit_says_score_refuses_a_named_model_with_an_infinite_mean_spend(
        tmp_path: Path) -> None:
    project = _sample(tmp_path, "models: {penalizer: 0.1, use: mbgnbd}\n")
    result = _fit(project)
    assert ("  value table model: none: cvm score stops with an error (Gamma-Gamma q <= 1: "
            "infinite mean spend (q = 0.3333)") in result.stdout
    assert "warning: cvm.yaml: models: cvm score will refuse models.use: mbgnbd" in result.stderr
    score = CliRunner().invoke(app, ["score", "-p", str(project), "--out",
                                     str(project / "scored")])
    assert score.exit_code == 1
    assert "Gamma-Gamma q <= 1: infinite mean spend (q = 0.3333)" in score.stderr


def test_no_candidate_on_the_default_holdout_says_the_table_keeps_the_formulas(
        tmp_path: Path) -> None:
    # no repeat purchase before the default calibration end (1997-09-30), many after it
    project = _sample(tmp_path)
    rows = (project / "sample.txt").read_text().splitlines()
    seen: set[str] = set()
    kept = [rows[0]]
    for row in rows[1:]:
        customer, day = row.split()[1:3]
        if customer not in seen or day > "19971000":
            kept.append(row)
        seen.add(customer)
    (project / "sample.txt").write_text("\n".join(kept) + "\n")
    text = _fit(project).stdout
    assert "; the value table keeps the formulas (as cvm score does: no purchase model could " \
        "be chosen)\n" in text


def test_fit_header_names_the_penalizer(tmp_path: Path) -> None:
    project = _sample(tmp_path, "models: {penalizer: 0.1}\n")
    first = _fit(project).stdout.splitlines()[0]
    assert first.endswith("(time unit 7 days; models.penalizer 0.1: every LL, AIC and BIC "
                          "below is of the penalised fit)")


def test_spend_check_labels_its_means(tmp_path: Path) -> None:
    text = _fit(_sample(tmp_path)).stdout
    assert "per purchase day on average), actual" not in text
    assert "(mean per customer of their average spend per purchase day " in text


def test_subscription_holdout_shorter_than_a_billing_period_is_not_checked(
        tmp_path: Path) -> None:
    project = _subscription(tmp_path, 365)
    text = _fit(project).stdout
    assert "0 billing periods later" not in text
    assert ("  not checked: the holdout (360 days) is shorter than one billing period "
            "(365 days); set models.holdout_days or --calibration-end earlier\n") in text
    held = _json(project)["holdout"]
    assert held["status"] == "not_checked" and held["predicted"] is None
    assert held["reason"].startswith("the holdout (360 days) is shorter than one billing")


def test_subscription_calibration_fit_failing_keeps_the_full_fit(tmp_path: Path) -> None:
    project = _subscription(tmp_path)
    text = _fit(project, "--calibration-end", "2023-01-15").stdout
    assert text.splitlines()[1].startswith("  sBG          alpha ")
    assert ("  not checked: the sBG could not be fitted to 2023-01-15: no customer churned"
            ) in text
    doc = _json(project, "--calibration-end", "2023-01-15")
    assert doc["holdout"]["status"] == "not_checked"
    assert doc["calibration"]["sbg"]["params"] == {}


def test_each_model_failing_gives_its_own_hint() -> None:
    from engine.value.models import GammaGammaFitter, ModifiedBetaGeoFitter
    from engine.value.models._common import ConvergenceError, check_range

    with pytest.raises(ConvergenceError) as spend:
        check_range(GammaGammaFitter.__name__, ["q"], np.array([6e6]))
    assert "recency/T" not in str(spend.value) and "repeat buyers" in str(spend.value)
    with pytest.raises(ConvergenceError) as purchases:
        check_range(ModifiedBetaGeoFitter.__name__, ["r"], np.array([6e6]))
    assert "recency/T in the wrong time unit" in str(purchases.value)
    with pytest.raises(ConvergenceError) as sbg:
        check_range("ShiftedBetaGeoFitter", ["alpha"], np.array([6e6]))
    assert "recency/T" not in str(sbg.value) and "churn" in str(sbg.value)


def test_tracking_chart_tooltips_show_whole_counts_and_the_caption_says_how() -> None:
    from engine.value.models.tracking import tracking_svg

    series = pd.DataFrame({"period": [1, 2], "period_end": pd.to_datetime(
        ["1997-01-07", "1997-01-14"]), "calibration": [True, False],
        "actual": [23791.0, 24000.0], "MBG/NBD": [23790.4, 24001.25]})
    svg = tracking_svg(series)
    assert "actual: 23,791</title>" in svg and "actual: 23,791.0" not in svg
    assert "MBG/NBD: 24,001.2</title>" in svg
    assert "E[X(t)] summed from each first purchase, not the predictions of the holdout " \
        "table" in svg


def test_a_gamma_gamma_failure_warns_with_its_own_hint(tmp_path: Path) -> None:
    # every purchase worth the same: no spread of spend for Gamma-Gamma to estimate
    project = _sample(tmp_path)
    rows = (project / "sample.txt").read_text().splitlines()
    (project / "sample.txt").write_text("\n".join(
        [rows[0], *(" ".join([*r.split()[:4], "10.00"]) for r in rows[1:])]) + "\n")
    result = _fit(project)
    assert "  value table model: formulas (the Gamma-Gamma spend model fit failed: " \
        in result.stdout
    warning = result.stderr.split("Gamma-Gamma was not fitted")[1]
    assert "recency and T" not in warning.split("warning:")[0]
    assert "hint: the value table needs Gamma-Gamma beside the purchase model" in warning
