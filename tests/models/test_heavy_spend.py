"""Gamma-Gamma converging with q <= 1: spend per purchase so heavy-tailed that its mean is
infinite. The value table needs that mean, so the models cannot give values: under
``models.use: auto`` the formulas are used and the reason said; with a model named, an input
error (exit 1), never an internal error (exit 4)."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT

CDNOW = ROOT / "examples" / "cdnow"

CONFIG = """\
name: heavy spend
data:
  transactions: tx.csv
  columns: {customer_id: cust, date: day, amount: amount}
as_of: 2024-07-01
currency: EUR
margin_rate: 0.3
period_days: 30
horizon_periods: 4
discount_rate: 0.1
retention: {by: none, lookback_periods: 4, min_customers: 30}
"""


def _transactions() -> str:
    """MBG/NBD-like purchasing; spend per purchase Gamma(3, nu) with nu ~ Gamma(0.7): the
    Gamma-Gamma fit converges at q = 0.708."""
    rng = random.Random(5)
    rows = ["cust,day,amount"]
    as_of = dt.date(2024, 7, 1)
    for c in range(3000):
        lam = rng.gammavariate(2.0, 1 / 15.0)
        p = rng.betavariate(0.5, 2.0)
        nu = rng.gammavariate(0.7, 1 / 20.0)
        big_t = rng.uniform(10, 100)
        first = as_of - dt.timedelta(days=int(big_t * 7) + 1)
        t, days = 0.0, {0}
        alive = rng.random() >= p
        while alive:
            t += rng.expovariate(lam)
            if t > big_t:
                break
            days.add(int(t * 7))
            alive = rng.random() >= p
        for d in sorted(days):
            if first + dt.timedelta(days=d) < as_of:
                rows.append(f"c{c},{first + dt.timedelta(days=d)},"
                            f"{rng.gammavariate(3.0, 1 / nu):.2f}")
    return "\n".join(rows) + "\n"


def test_auto_falls_back_to_the_formulas_and_says_why(
        make_project: Callable[..., Path], tmp_path: Path) -> None:
    project = make_project(CONFIG, _transactions())
    for folder in ("rules", "policies", "templates"):  # a project without consents
        shutil.copytree(CDNOW / folder, project / folder, dirs_exist_ok=True)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["score", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert ("  value model: formulas (Gamma-Gamma q <= 1: infinite mean spend (q = 0.7078): "
            "spend per purchase day is too heavy-tailed for an expected value)") in result.stdout
    result = CliRunner().invoke(app, ["run", "--project", str(project), "--out",
                                      str(tmp_path / "run")])
    assert result.exit_code == 0, result.stderr
    model = json.loads((tmp_path / "run" / "manifest.json").read_text())["value_model"]
    assert model["used"] is False
    assert model["description"].startswith("formulas (Gamma-Gamma q <= 1: infinite mean spend")


def test_a_named_model_is_an_input_error(make_project: Callable[..., Path],
                                         tmp_path: Path) -> None:
    project = make_project(CONFIG + "models: {use: mbgnbd}\n", _transactions())
    result = CliRunner().invoke(app, ["score", "--project", str(project), "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 1, result.stderr
    assert result.stderr == (
        "error: cvm.yaml:12:15: models.use: the probabilistic models cannot be used: Gamma-Gamma "
        "q <= 1: infinite mean spend (q = 0.7078): spend per purchase day is too heavy-tailed "
        "for an expected value\n"
        "  hint: set models.use: auto to fall back to the formulas (or none); the models need "
        "a spend per purchase with a finite mean\n")
