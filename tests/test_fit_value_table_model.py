"""What ``cvm fit`` says of the value table's model is what ``cvm score`` does (review 8b): with
a model named by models.use, score fits it on all the data whatever ``--calibration-end``, so
fit warns that score stops when that fit fails; the failure is worded as score words it; and
``--json``'s ``purchase_model`` is the value table's purchase model, as the terminal says, null
when it keeps the formulas. On the CDNOW sample, in process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from engine.cli import app
from engine.value.models import ConvergenceError
from engine.value.models.pareto_nbd import ParetoNBDFitter
from tests.cdnow_sample import sample_project

FAILED = ("the Pareto/NBD purchase model fit failed: simulated failure on all the data")


def _project(tmp_path: Path, models: str) -> Path:
    return sample_project(tmp_path, "models:\n" + models)


def _fit(project: Path, *extra: str) -> Result:
    result = CliRunner().invoke(app, ["fit", "-p", str(project), "--out",
                                      str(project / "out"), *extra])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def pareto_fails_on_all_the_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pareto/NBD fits the calibration period to 1997-12-31 (T up to 51 weeks) and fails on
    all the data (T up to 78 weeks)."""
    fit = ParetoNBDFitter.fit

    def failing(self: ParetoNBDFitter, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray,
                *args: Any, **kwargs: Any) -> ParetoNBDFitter:
        if np.max(big_t) > 60:
            raise ConvergenceError("ParetoNBDFitter: simulated failure on all the data")
        return fit(self, x, t_x, big_t, *args, **kwargs)

    monkeypatch.setattr(ParetoNBDFitter, "fit", failing)


def test_fit_on_another_holdout_says_score_stops_when_the_named_model_fails_on_all_the_data(
        tmp_path: Path, pareto_fails_on_all_the_data: None) -> None:
    result = _fit(_project(tmp_path, "  use: pareto_nbd\n"), "--calibration-end", "1997-12-31")
    assert (f"  value table model: none: cvm score stops with an error ({FAILED}; models.use "
            "is pareto_nbd in cvm.yaml, set it to auto to keep the formulas)"
            ) in result.stdout.splitlines()
    assert (f"warning: cvm.yaml: models: cvm score will refuse models.use: pareto_nbd: "
            f"{FAILED}") in result.stderr.splitlines()


def test_fit_json_names_no_purchase_model_when_the_value_table_keeps_the_formulas(
        tmp_path: Path) -> None:
    project = _project(tmp_path, "  use: auto\n  min_repeat_customers: 100000\n")
    doc = json.loads(_fit(project, "--json").stdout)
    assert doc["schema_version"] == 4
    assert doc["holdout"]["choice"]["model"] == "pareto_nbd"  # the holdout's pick
    assert doc["purchase_model"] is None  # the terminal: value table model: formulas (...)
    params = json.loads((project / "out" / "fit" / "params.json").read_text())
    assert params["purchase_model"] is None
