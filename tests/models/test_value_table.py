"""The probabilistic models inside the value table: refunds and one-time buyers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.project.config import load_config
from engine.value.score import score
from tests.conftest import ROOT, copy_example_project

# Two customers with identical purchases: the refunder returns the large, low-margin order
# (500.00 at a cost of 480.00) and keeps the two small, high-margin ones. The refunded rows
# carry their cost, so the net margin of the refunder is 80 against the keeper's 100, while
# the net margin *rate* (80 / 100 net revenue = 0.8) is far above the keeper's (100 / 600).
_PURCHASES = [("2025-03-03", "O-T1", 500.00, 480.00), ("2025-06-02", "O-T2", 50.00, 10.00),
              ("2025-09-01", "O-T3", 50.00, 10.00)]
_REFUND = ("2025-03-20", "O-T4", -500.00, -480.00)
VALUE_COLUMNS = ("historic_value", "margin_per_purchase", "margin_per_period",
                 "margin_per_active_period", "clv_simple",
                 "clv_discounted", "clv_model", "potential_value", "current_value",
                 "influence_value", "total_value", "value_score", "growth_headroom")


def _twins_project(tmp_path: Path) -> Path:
    project = copy_example_project(tmp_path)
    tx = (ROOT / "examples" / "retail" / "transactions.csv").read_text()
    rows = []
    for who in ("TWIN-KEEP", "TWIN-REFUND"):
        for day, order, amount, cost in _PURCHASES:
            rows.append(f"{order}{who[-2:]},{who},{day},Toys,web,1,{amount:.2f},{cost:.2f}")
    day, order, amount, cost = _REFUND
    rows.append(f"{order}ND,TWIN-REFUND,{day},Toys,web,-1,{amount:.2f},{cost:.2f}")
    (project / "tx.csv").write_text(tx + "\n".join(rows) + "\n")
    config = (project / "cvm.yaml").read_text()
    (project / "cvm.yaml").write_text(
        config.replace(f"{ROOT}/examples/retail/transactions.csv", "tx.csv"))
    return project


def test_refunds_never_raise_model_value(tmp_path: Path) -> None:
    scored = score(load_config(_twins_project(tmp_path)))
    assert scored.model.used
    t = scored.table.set_index("customer_id")
    keep, refund = t.loc["TWIN-KEEP"], t.loc["TWIN-REFUND"]
    assert refund["refunds"] == 500.0 and keep["refunds"] == 0.0
    # same purchase history: the purchase model sees the same customer
    for column in ("frequency", "recency_days", "tenure_days", "p_alive",
                   "expected_purchases"):
        assert refund[column] == keep[column], column
    for column in VALUE_COLUMNS:
        assert refund[column] <= keep[column], (column, refund[column], keep[column])
    assert refund["clv_model"] < keep["clv_model"]
    assert refund["potential_value"] < keep["potential_value"]
    order = list(scored.tiers.names)  # highest tier first
    assert order.index(refund["value_tier"]) >= order.index(keep["value_tier"])


def test_refunds_lower_the_margin_of_the_models_by_their_margin(tmp_path: Path) -> None:
    """Under the models the margin is net margin per unit of gross spend: the refunder's model
    value is the keeper's times the ratio of their net margins (80 / 100)."""
    t = score(load_config(_twins_project(tmp_path))).table.set_index("customer_id")
    for column in ("clv_model", "potential_value"):
        # (each to the cent, as the table shows it: 0.8 x 0.005 + 0.005 apart at most)
        assert t.loc["TWIN-REFUND", column] == pytest.approx(0.8 * t.loc["TWIN-KEEP", column],
                                                            abs=0.0091), column


def _one_time_buyers(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["frequency"] == 0]


def test_lapsed_one_time_buyers_have_a_high_churn_risk_in_the_example() -> None:
    """The bundled example: 802 of 2,000 customers bought once; those last seen more than
    two years ago (172) must come out at risk, and no one-time buyer of more than a year ago
    at zero risk (BG/NBD gave them all p_alive = 1, churn_risk = 0)."""
    scored = score(load_config(ROOT))
    assert scored.model.used and scored.model.transaction_model == "mbgnbd"
    once = _one_time_buyers(scored.table)
    assert len(once) == 802
    lapsed = once[once["recency_days"] > 730]
    assert len(lapsed) == 172
    assert (lapsed["churn_risk"] >= 0.5).all()
    assert (once.loc[once["recency_days"] > 365, "churn_risk"] > 0).all()
    # the longer ago, the riskier: churn risk rises with recency among one-time buyers
    ordered = once.sort_values("recency_days")
    assert ordered["churn_risk"].is_monotonic_increasing


def test_lapsed_one_time_buyers_have_a_high_churn_risk_on_cdnow() -> None:
    """CDNOW (as of 1998-07-01, 78 weeks after the first customers came): 11,989 of 23,502
    customers bought once, all but one more than a year before the as-of date; BG/NBD gave
    them all churn_risk 0. ``auto`` takes Pareto/NBD there (the smaller holdout error), in which
    one-time buyers can leave too."""
    scored = score(load_config(ROOT / "examples" / "cdnow"))
    assert scored.model.used and scored.model.transaction_model == "pareto_nbd"
    once = _one_time_buyers(scored.table)
    assert len(once) == 11_989 and (once["recency_days"] > 365).sum() == 11_988
    assert (once["churn_risk"] >= 0.5).all()


def _example_with_models(tmp_path: Path, use: str) -> Path:
    tmp_path.mkdir()
    project = copy_example_project(tmp_path)
    with (project / "cvm.yaml").open("a") as fh:
        fh.write(f"models:\n  use: {use}\n")
    return project


def test_models_use_chooses_the_purchase_model(tmp_path: Path) -> None:
    bg = score(load_config(_example_with_models(tmp_path / "bg", "bgnbd")))
    mbg = score(load_config(_example_with_models(tmp_path / "mbg", "mbgnbd")))
    auto = score(load_config(ROOT))
    assert bg.model.transaction_model == "bgnbd" and set(bg.model.params) == {
        "bgnbd", "gamma_gamma"}
    assert bg.model.describe().startswith("BG/NBD + Gamma-Gamma fitted on 2,000 customers")
    assert mbg.model.describe().startswith("MBG/NBD + Gamma-Gamma fitted on 2,000 customers")
    assert set(mbg.model.params) == {"mbgnbd", "gamma_gamma"}
    # BG/NBD: every one-time buyer is certainly alive; MBG/NBD (also auto): not so
    assert (_one_time_buyers(bg.table)["p_alive"] == 1.0).all()
    assert (_one_time_buyers(mbg.table)["p_alive"] < 1.0).all()
    pd.testing.assert_frame_equal(mbg.table, auto.table)


def test_models_use_mbgnbd_required_but_impossible(make_project: Callable[..., Path]) -> None:
    from tests.conftest import BASE_CONFIG

    project = make_project(BASE_CONFIG + "models:\n  use: mbgnbd\n")
    result = CliRunner().invoke(app, ["score", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cvm.yaml:16:8: models.use: the probabilistic models "
                                    "cannot be used: only 2 repeat buyers")


def test_the_summary_and_the_manifest_name_the_model_that_ran(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["run", "--project", str(ROOT), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    model = manifest["value_model"]
    assert model["used"] is True
    assert model["description"].startswith("MBG/NBD + Gamma-Gamma fitted on 2,000 customers "
                                            "(time unit 7 days; MBG/NBD r=2.209, ")
    assert set(model["params"]) == {"mbgnbd", "gamma_gamma"}
    score = CliRunner().invoke(app, ["score", "--project", str(ROOT), "--out",
                                     str(tmp_path / "score")])
    assert "  value model: MBG/NBD + Gamma-Gamma fitted on 2,000 customers" in score.stdout


def test_a_brand_new_customer_starts_at_the_first_purchase_drop_out_share() -> None:
    """The README: churn risk a / (a + b) right after a first purchase (0.33 in the example),
    rising with the time since."""
    scored = score(load_config(ROOT))
    a, b = (scored.model.params["mbgnbd"][k] for k in ("a", "b"))
    assert round(a / (a + b), 2) == 0.33
    once = _one_time_buyers(scored.table)
    assert (once["churn_risk"] > a / (a + b)).all()
    assert once["churn_risk"].min() < a / (a + b) + 0.01
