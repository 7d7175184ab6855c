"""models.use: auto keeps the formulas when even the best purchase model misses the holdout by
more than models.max_holdout_error (default 50%): an as-of date 11 months after the data made
MBG/NBD predict 5,202 repeat purchases against 385 actual (+1251.1%), and the value table
used it. (That holdout now ends with the data, tests/test_holdout_ends_with_data.py: these
tests set a bound the bundled data's +17.4% miss exceeds.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from tests.conftest import copy_example_project

TIGHT = "max_holdout_error: 0.1"
MISSED = ("MBG/NBD, the only candidate fitted, predicts 4,252 repeat purchases in the holdout "
          "against 3,623 actual (+17.4%), more than models.max_holdout_error 10% off")


def _project(tmp_path: Path, *lines: str) -> Path:
    project = copy_example_project(tmp_path)
    config = project / "cvm.yaml"
    text = config.read_text()
    assert "\nmodels:" not in text
    config.write_text(text + "models:\n" + "".join(f"  {line}\n" for line in lines))
    return project


def test_a_model_far_off_the_holdout_is_not_used(tmp_path: Path) -> None:
    said = api.score(_project(tmp_path, TIGHT)).value_model
    assert said.startswith(f"formulas (no purchase model could be chosen: {MISSED} [holdout "
                           "2025-01-06 .. 2025-12-31, 360 days"), said


def test_the_bound_is_a_setting(tmp_path: Path) -> None:
    """On the bundled data MBG/NBD misses the holdout by +17.4%: within the default 50%, not
    within 10%."""
    project = copy_example_project(tmp_path)
    assert api.score(project).value_model.startswith("MBG/NBD + Gamma-Gamma fitted on ")
    with (project / "cvm.yaml").open("a") as config:
        config.write("models:\n  max_holdout_error: 0.1\n")
    assert api.score(project).value_model.startswith(
        "formulas (no purchase model could be chosen: MBG/NBD, the only candidate fitted, "
        "predicts 4,252 repeat purchases in the holdout against 3,623 actual (+17.4%), more "
        "than models.max_holdout_error 10% off")


@pytest.mark.parametrize("value", ["0", "-1", "a lot", "20"])  # 20: meant as 20%, read 2000%
def test_a_bound_that_is_not_a_fraction_up_to_10_is_refused(tmp_path: Path, value: str) -> None:
    res = CliRunner().invoke(app, ["validate", "--project",
                                   str(_project(tmp_path, f"max_holdout_error: {value}"))])
    assert res.exit_code == 1
    assert "models.max_holdout_error: found" in res.stderr


def test_cvm_fit_says_why_the_value_table_keeps_the_formulas(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["fit", "--project", str(_project(tmp_path, TIGHT))])
    assert res.exit_code == 0, res.output
    assert f"  {MISSED}; the value table keeps the formulas" in res.stdout


def test_cvm_fit_under_use_none_says_what_auto_would_do_and_what_the_table_uses(
        tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["fit", "--project", str(_project(tmp_path, "use: none",
                                                                    TIGHT))])
    assert res.exit_code == 0, res.output
    assert ("more than models.max_holdout_error 10% off; models.use is none in cvm.yaml: the "
            "value table keeps the formulas") in res.stdout


@pytest.mark.parametrize("use", ["mbgnbd", "bgnbd", "pareto_nbd"])
def test_the_bound_beside_a_model_named_is_refused(tmp_path: Path, use: str) -> None:
    """A model named by models.use is taken whatever its holdout error: the bound would be
    declared and never used (a new user's trial)."""
    project = copy_example_project(tmp_path)
    with (project / "cvm.yaml").open("a") as config:
        config.write(f"models:\n  use: {use}\n  max_holdout_error: 0.2\n")
    res = CliRunner().invoke(app, ["validate", "--project", str(project)])
    assert res.exit_code == 1
    assert res.stderr.splitlines()[:2] == [
        f"error: cvm.yaml:46:22: models.max_holdout_error: not used with models.use: {use} "
        "(only auto chooses a model on the holdout)",
        "  hint: remove it, or set models.use: auto"]


def test_params_json_is_strict_json_when_the_formulas_are_kept(tmp_path: Path) -> None:
    """No model chosen: its holdout error has no figure, written as null (it was NaN, which
    strict JSON readers refuse)."""
    import json

    project = _project(tmp_path, TIGHT)
    res = CliRunner().invoke(app, ["fit", "--project", str(project)])
    assert res.exit_code == 0, res.output

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    params = json.loads((project / "output" / "fit" / "params.json").read_text(),
                        parse_constant=refuse)
    assert params["holdout_error"] is None
