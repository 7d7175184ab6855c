"""The last findings of the new-user trial of issue 15 on `cvm fit`, `cvm explain`, `cvm init`
and the models (session 7), each failing before its fix."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.workflow.json_output import schema_path
from tests.shared_runs import SharedCommands

ROOT = Path(__file__).resolve().parents[1]
SUBSCRIPTION = ROOT / "examples" / "subscription"
runner = CliRunner()
MODEL_COLUMNS = ("p_alive", "churn_risk", "expected_purchases", "clv_model", "clv_model_lower",
                 "clv_model_upper")


def _checked(kind: str, text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    jsonschema.validate(doc, json.loads(schema_path(kind).read_text()),
                        cls=jsonschema.Draft202012Validator)
    return doc


def _row(shared: SharedCommands, project: Path, customer: str) -> pd.Series:
    done = shared.score_json(project)
    assert done.exit_code == 0, done.stderr
    table = pd.read_csv(done.out / "customers.csv", dtype={"customer_id": str})
    return table.set_index("customer_id").loc[customer]


# ---- 1. cvm explain shows the model figures and the model that made them ----------------

def test_explain_shows_the_model_figures_and_names_the_model(
        shared_commands: SharedCommands) -> None:
    done = shared_commands.run(ROOT, "explain", "C000001", "--project", str(ROOT))
    assert done.exit_code == 0, done.stderr
    lines = done.stdout.splitlines()
    head = next(i for i, t in enumerate(lines) if t.startswith("Model figures"))
    assert lines[head].startswith("Model figures: MBG/NBD (purchases, P(alive)) + Gamma-Gamma "
                                  "(spend), fitted on 2,000 customers")
    row = _row(shared_commands, ROOT, "C000001")
    shown = dict(t.split(None, 1) for t in lines[head + 1: head + 1 + len(MODEL_COLUMNS)])
    assert list(shown) == list(MODEL_COLUMNS)
    for name in MODEL_COLUMNS:
        assert float(shown[name].split()[0].replace(",", "")) == pytest.approx(
            row[name], abs=0.006), name


def test_explain_json_holds_the_model_figures(shared_commands: SharedCommands) -> None:
    done = shared_commands.explain_json(ROOT, "C000001")
    doc = _checked("explain", done.stdout)
    model = doc["model"]
    assert (model["fitted"], model["purchase_model"], model["spend_model"]) == \
        (True, "mbgnbd", "gamma_gamma")
    assert model["reason"] is None and model["interval_level"] == 0.9
    row = _row(shared_commands, ROOT, "C000001")
    assert list(model["figures"]) == list(MODEL_COLUMNS)
    for name in MODEL_COLUMNS:
        assert model["figures"][name] == pytest.approx(row[name], abs=1e-6), name


def test_explain_on_a_subscription_project_names_the_sbg(
        shared_commands: SharedCommands) -> None:
    doc = _checked("explain", shared_commands.explain_json(SUBSCRIPTION, "S00664").stdout)
    assert (doc["model"]["purchase_model"], doc["model"]["spend_model"]) == ("sbg", None)
    assert doc["model"]["title"] == "sBG retention model"
    assert doc["model"]["figures"]["churn_risk"] is not None


def test_explain_says_why_the_model_figures_are_absent(tmp_path: Path) -> None:
    from tests.conftest import copy_example_project

    project = copy_example_project(tmp_path)
    with (project / "cvm.yaml").open("a") as fh:
        fh.write("models:\n  use: none\n")
    result = runner.invoke(app, ["explain", "C000001", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    assert ("Model figures: none (models.use is none in cvm.yaml): p_alive, churn_risk, "
            "expected_purchases, clv_model, clv_model_lower and clv_model_upper are not in the "
            "value table; the values above are the formulas'") in result.stdout
    result = runner.invoke(app, ["explain", "C000001", "--json", "--project", str(project)])
    model = _checked("explain", result.stdout)["model"]
    assert model["fitted"] is False and model["reason"] == "models.use is none in cvm.yaml"
    assert model["figures"] == {name: None for name in MODEL_COLUMNS}


# ---- 2. cvm init recognises a contracts file ----------------------------------------------

CONTRACTS = "subscription_no,member,plan_name,began,cancelled_on,fee_per_month,cost_per_month\n" \
    + "".join(
        f"K{i:04d},M{i % 37:03d},{('basic', 'plus')[i % 2]},2024-{1 + i % 12:02d}-{1 + i % 27:02d},"
        + (f"2025-{1 + i % 6:02d}-{2 + i % 26:02d}" if i % 3 == 0 else "")
        + f",{(9.99, 19.99)[i % 2]},{(4.5, 7.25)[i % 2]}\n" for i in range(90))


def test_init_recognises_a_contracts_file_and_writes_a_subscriptions_project(
        tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text(CONTRACTS)
    project = tmp_path / "p"
    result = runner.invoke(app, ["init", str(project), "--from", str(source)])
    assert result.exit_code == 0, result.stderr
    assert ("  contracts: one row per contract (subscriptions:), ended by 'cancelled_on', "
            "billed every 30 days (medium: 'fee_per_month' says per month)") in result.stdout
    text = (project / "cvm.yaml").read_text()
    assert "\nsubscriptions:" in text and '  end: "cancelled_on"' in text
    assert '    date: "began"' in text and '    amount: "fee_per_month"' in text
    assert '    cost: "cost_per_month"' in text and '    customer_id: "member"' in text
    from engine.project.config import load_config

    config = load_config(project)
    assert config.subscriptions is not None and config.subscriptions.billing_days == 30
    result = runner.invoke(app, ["validate", "--strict", "--project", str(project)])
    assert result.exit_code == 0, result.stdout + result.stderr
    result = runner.invoke(app, ["run", "--project", str(project), "--quiet", "--no-history"])
    assert result.exit_code == 0, result.stderr
    assert (project / "output" / "actions.csv").is_file()


def test_init_of_a_transactions_file_writes_no_subscriptions(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    source.write_text("customer,order_date,ship_date,amount\n" + "".join(
        f"c{i % 9},2024-01-{1 + i % 28:02d},2024-02-{1 + i % 28:02d},{10 + i}.50\n"
        for i in range(40)))
    result = runner.invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert result.exit_code == 0, result.stderr
    assert "subscriptions" not in (tmp_path / "p" / "cvm.yaml").read_text()
    assert "contracts:" not in result.stdout


# ---- 4. BG/NBD is marked as no candidate of auto in the comparison ------------------------

NOT_CANDIDATE = ("not a candidate for models.use: auto: BG/NBD gives every one-time buyer "
                 "P(alive) 1 by construction")


def test_fit_marks_bgnbd_as_no_candidate_of_auto(shared_commands: SharedCommands) -> None:
    """In the JSON and the CSV; the terminal's mark (BG/NBD*, and the footnote): tests/
    test_fit_json_holdout.py, which reads the terminal's table."""
    done = shared_commands.fit_json(ROOT)
    doc = _checked("fit", done.stdout)
    models = doc["holdout"]["models"]
    assert {n: m["auto_candidate"] for n, m in models.items()} == \
        {"mbgnbd": True, "bgnbd": False, "pareto_nbd": True}
    assert models["bgnbd"]["not_candidate_reason"] == NOT_CANDIDATE
    assert models["mbgnbd"]["not_candidate_reason"] is None
    with (done.out / "fit" / "comparison.csv").open() as fh:
        rows = {r["name"]: r for r in csv.DictReader(fh)}
    assert rows["bgnbd"]["auto_candidate"] == "false"
    assert rows["bgnbd"]["not_candidate_reason"] == NOT_CANDIDATE
    assert rows["mbgnbd"]["auto_candidate"] == "true"


# ---- 5. the small ones --------------------------------------------------------------------

def test_fit_json_holdout_spend_is_always_an_object(shared_commands: SharedCommands) -> None:
    spend = _checked("fit", shared_commands.fit_json(ROOT).stdout)[
        "holdout"]["gamma_gamma"]["holdout_spend"]
    assert spend["status"] == "checked" and spend["reason"] is None
    assert spend["customers"] > 0


def test_fit_json_holdout_spend_not_checked_says_why() -> None:
    from engine.commands.fit_compare import spend_dict

    assert spend_dict("no repeat buyer in the calibration period") == {
        "status": "not_checked", "reason": "no repeat buyer in the calibration period",
        "customers": None, "predicted_mean": None, "actual_mean": None,
        "predicted_total": None, "actual_total": None, "relative_error": None}


def test_retention_by_renewal_is_in_renewal_order(shared_commands: SharedCommands) -> None:
    done = shared_commands.fit_json(SUBSCRIPTION)
    doc = _checked("fit", done.stdout)
    assert [r["renewal"] for r in doc["retention_by_renewal"]] == list(range(1, 13))
    params = json.loads((done.out / "fit" / "params.json").read_text())
    assert [r["renewal"] for r in params["retention_by_renewal"]] == list(range(1, 13))


def test_holdout_chart_names_the_model(shared_commands: SharedCommands) -> None:
    svg = (shared_commands.fit_json(ROOT).out / "fit" / "holdout.svg").read_text()
    assert ">MBG/NBD (predicted)</text>" in svg


def test_tracking_chart_shows_dates(shared_commands: SharedCommands) -> None:
    out = shared_commands.fit_json(ROOT).out / "fit"
    first = pd.read_csv(out / "tracking.csv")["period_end"].iloc[0]
    svg = (out / "tracking.svg").read_text()
    assert f'text-anchor="middle" font-weight="normal" fill="#444444">{first}</text>' in svg
    assert ">week ending</text>" in svg


def test_a_fit_message_names_the_model_not_the_class(
        make_project: Callable[..., Path]) -> None:
    project = make_project(tx="cust,day,amount,cost\n" + "".join(
        f"c{i},2024-0{1 + i % 6}-1{i % 9},{10 + i}.00,5.00\n" for i in range(40)))
    result = runner.invoke(app, ["fit", "--project", str(project)])
    assert "Fitter" not in result.stderr
    assert ("tx.csv: Gamma-Gamma could not be fitted: no customer has a repeat purchase "
            "(all frequency == 0): the Gamma-Gamma spend model cannot be fitted"
            ) in result.stderr


def test_the_fit_progress_bar_names_the_model_not_the_class(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    import engine.terminal
    from engine.value.models import GammaGammaFitter

    labels: set[str] = set()
    monkeypatch.setattr(engine.terminal, "tick", lambda label, *_: labels.add(label))
    rng = np.random.default_rng(3)
    GammaGammaFitter().fit(rng.integers(1, 6, 300), rng.gamma(6.0, 5.0, 300))
    assert labels == {"fit Gamma-Gamma spend model: iterations"}


@pytest.mark.parametrize(("penalizer", "parameter"), [("0", "r"), ("0.01", "b")])
def test_a_value_table_fit_failure_names_the_model_not_the_class(
        make_project: Callable[..., Path], penalizer: str, parameter: str) -> None:
    """cvm score's error said `BetaGeoFitter: ...` and the Python API's advice
    (`penalizer=0.001`), then "the model fit failed" (which?), with what to change only when
    a penalty was set."""
    config = ("name: t\ndata:\n  transactions: tx.csv\n  columns: {customer_id: cust, date: day, "
              "amount: amount}\nas_of: 2024-01-20\nperiod_days: 5\nmodels:\n  use: bgnbd\n"
              f"  min_repeat_customers: 10\n  penalizer: {penalizer}\n")
    project = make_project(config, tx="cust,day,amount\n" + "".join(
        f"c{i},2024-01-01,10.00\nc{i},2024-01-08,10.00\n" for i in range(12)))
    result = runner.invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1
    # the parameter's value is the stack's
    assert re.sub(r"= \S+ is", "= X is", result.stderr.splitlines()[0]) == (
        "error: cvm.yaml:8:8: models.use: the probabilistic models cannot be used: the BG/NBD "
        f"purchase model fit failed: parameter {parameter} = X is outside [1e-08, 1e+06]: the "
        "data do not identify the model (too few repeat buyers, or recency/T in the wrong time "
        "unit)" + ADVICE
        + ("a small models.penalizer (now 0; try 0.0001)" if penalizer == "0" else
           "another models.penalizer (now 0.01: the penalty shrinks every parameter towards 0 "
           "and can itself make a fit fail)"))


ADVICE = ("; to fit, the models need more data (a few hundred customers who bought on more than "
          "one day), a models.time_unit_days that suits how often customers buy (now 7 days), or ")


def test_a_spend_model_failure_names_the_gamma_gamma_model(
        make_project: Callable[..., Path]) -> None:
    """The purchases of CDNOW's sample, every one of 10 dollars: MBG/NBD fits, Gamma-Gamma
    cannot (no spread of spend to fit). The message said "the model fit failed" (which?)."""
    rows = (line.split() for line in (ROOT / "examples" / "cdnow" / "CDNOW_sample.txt")
            .read_text().splitlines())
    config = ("name: t\ndata:\n  transactions: tx.csv\n  date_format: '%Y%m%d'\n  duplicates: "
              "keep\n  columns: {customer_id: cust, date: day, amount: amount}\nas_of: "
              "1998-07-01\nperiod_days: 91\nmodels:\n  use: mbgnbd\n")
    project = make_project(config, tx="cust,day,amount\n" + "".join(
        f"{r[0]},{r[2]},10\n" for r in rows))
    result = runner.invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1
    assert re.sub(r"= \S+ is", "= X is", result.stderr.splitlines()[0]) == (
        "error: cvm.yaml:10:8: models.use: the probabilistic models cannot be used: the "
        "Gamma-Gamma "
        "spend model fit failed: parameter p = X is outside [1e-08, 1e+06]: the data do not "
        "identify the model (too few repeat buyers, or their mean spends per purchase day vary "
        "too little between customers for the spread of spend to be estimated)" + ADVICE
        + "a small models.penalizer (now 0; try 0.0001)")
