"""``cvm fit`` and the probabilistic models inside the value table."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from engine.config import load_config
from engine.score import score

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_fit_on_cdnow_prints_parameters_and_holdout(tmp_path: Path) -> None:
    project = tmp_path / "cdnow"
    shutil.copytree(ROOT / "examples" / "cdnow", project)
    result = runner.invoke(app, ["fit", "--project", str(project), "--out", str(tmp_path / "o"),
                                 "--calibration-end", "1997-09-30"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "BG/NBD       r 0.2681" in out
    assert "Holdout check: BG/NBD fitted to 1997-09-30" in out
    params = json.loads((tmp_path / "o" / "fit" / "params.json").read_text())
    assert set(params["models"]) == {"bgnbd", "pareto_nbd", "gamma_gamma"}
    assert (tmp_path / "o" / "fit" / "holdout.svg").read_text().startswith("<svg")


def test_fit_rejects_bad_calibration_date(tmp_path: Path) -> None:
    result = runner.invoke(app, ["fit", "--project", str(ROOT / "examples" / "cdnow"),
                                 "--calibration-end", "1997-31-01"])
    assert result.exit_code == 2  # a usage error (README "Exit codes")
    assert result.stderr.strip() == ("error: --calibration-end: found '1997-31-01', expected a "
                                     "date such as 2024-06-30")


def test_models_feed_value_table() -> None:
    scored = score(load_config(ROOT))
    t = scored.table
    assert scored.model.used
    assert t["p_alive"].between(0, 1).all()
    assert (t["churn_risk"] == 1 - t["p_alive"]).all()
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
    assert result.stderr.startswith("error: cvm.yaml: models.use: the probabilistic models "
                                    "cannot be used: only 2 repeat buyers")
