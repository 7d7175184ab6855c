"""``models.use: auto`` picks the purchase model by holdout error; ``cvm fit`` shows the models
side by side; the penalizer, the interval columns and the Gamma-Gamma checks."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.data.load import load_transactions
from engine.project.config import load_config
from engine.value.model_choice import calibration_frame, choose_purchase_model, holdout_split
from engine.value.models import gamma_gamma
from engine.value.models.rfm import calibration_holdout
from engine.value.models.spend_checks import independence
from engine.value.score import score
from tests.conftest import copy_example_project
from tests.shared_runs import SharedCommands

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "examples" / "cdnow"
README = ROOT / "README.md"
runner = CliRunner()


def test_calibration_frame_is_calibration_holdout_from_the_arrays() -> None:
    """The numpy summary behind ``auto`` gives what the pandas reference gives on CDNOW."""
    config = load_config(CDNOW)
    tx = load_transactions(config)
    cal_end, obs_end = dt.date(1997, 9, 30), dt.date(1998, 6, 30)
    fast = calibration_frame(tx, cal_end, obs_end, 7.0)
    buy = tx.amount > 0
    purchases = {"customer": tx.code[buy], "date": (np.datetime64("1970-01-01") + tx.day[buy]
                                                    .astype("timedelta64[D]")),
                 "value": tx.amount[buy]}
    import pandas as pd

    ref = calibration_holdout(pd.DataFrame(purchases), customer_col="customer",
                              date_col="date", value_col="value", calibration_end=cal_end,
                              observation_end=obs_end, time_unit_days=7.0)
    assert fast["code"].tolist() == ref.index.tolist()
    for column in ("frequency_cal", "recency_cal", "T_cal", "monetary_value_cal",
                   "frequency_holdout", "monetary_value_holdout", "duration_holdout"):
        np.testing.assert_allclose(fast[column].to_numpy(), ref[column].to_numpy(),
                                   rtol=1e-12, err_msg=column)


def test_auto_chooses_on_a_fixed_sample_of_many_customers() -> None:
    config = load_config(CDNOW)
    tx = load_transactions(config)
    cal_end, obs_end = dt.date(1997, 9, 30), dt.date(1998, 6, 30)
    full = calibration_frame(tx, cal_end, obs_end, 7.0).set_index("code")
    part = calibration_frame(tx, cal_end, obs_end, 7.0, max_customers=5000).set_index("code")
    again = calibration_frame(tx, cal_end, obs_end, 7.0, max_customers=5000)
    assert 4900 < len(part) <= 5000 and part.index.tolist() == again["code"].tolist()
    assert part.equals(full.loc[part.index])


def test_default_holdout_is_the_horizon_at_most_half_the_data() -> None:
    retail = load_config(ROOT)
    split = holdout_split(retail, load_transactions(retail))
    assert (split.holdout_days, split.shortened) == (360, False)  # 4 periods of 90 days
    cdnow = load_config(CDNOW)
    split = holdout_split(cdnow, load_transactions(cdnow))
    # 4 x 91 days asked, the data span 546 days: half of them, F&H's own 39/39-week split
    assert (split.calibration_end, split.holdout_days, split.shortened) == (
        dt.date(1997, 9, 30), 273, True)


def test_fit_on_cdnow_shows_the_models_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = runner.invoke(app, ["fit", "--project", str(CDNOW), "--out", str(out),
                                 "--calibration-end", "1997-09-30"])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert ("  model                   LL          AIC          BIC  predicted    actual   error\n"
            "  MBG/NBD         -95,289.64    190,587.3    190,619.5     15,930    19,674  -19.0%\n"
            "  BG/NBD*         -95,320.40    190,648.8    190,681.0     16,876    19,674  -14.2%\n"
            "  Pareto/NBD      -95,368.46    190,744.9    190,777.2     17,157    19,674  -12.8%\n"
            ) in text
    assert "  cal. repeats  customers   actual    MBG/NBD     BG/NBD Pareto/NBD\n" in text
    # the README shows the table as it is, with the footnote on BG/NBD
    shown = "\n".join(text.splitlines()[6:12])
    assert shown.startswith("Holdout: each purchase model") and shown in README.read_text()
    assert "  value table model: Pareto/NBD (Pareto/NBD predicts 17,157 repeat purchases" in text
    assert "; BG/NBD is not a candidate: it gives every one-time buyer P(alive) 1)" in text
    params = json.loads((out / "fit" / "params.json").read_text())
    assert params["purchase_model"] == "pareto_nbd"
    cal = params["calibration"]
    assert set(cal["models"]) == {"mbgnbd", "bgnbd", "pareto_nbd"}
    assert cal["models"]["bgnbd"]["params"]["r"] == pytest.approx(0.2527, abs=1e-3)
    assert cal["choice"]["model"] == "pareto_nbd"
    errors = {k: abs(v["holdout"]["error"]) for k, v in cal["models"].items()}
    assert min(errors, key=errors.__getitem__) == "pareto_nbd"
    svg = ET.fromstring((out / "fit" / "tracking.svg").read_text())
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 4  # actual + 3 models
    tracking = (out / "fit" / "tracking.csv").read_text().splitlines()
    assert tracking[0] == ",".join(f"\"{c}\"" for c in (
        "period", "period_end", "calibration", "actual", "MBG/NBD", "BG/NBD", "Pareto/NBD"))
    assert len(tracking) == 1 + 78
    gg = cal["gamma_gamma"]
    assert gg["independence"]["customers"] == 11513 and not gg["independence"]["doubtful"]
    assert gg["independence"]["pearson_r"] == pytest.approx(0.069, abs=1e-3)
    assert abs(gg["holdout_spend"]["relative_error"]) < 0.05
    assert "Gamma-Gamma: spend-frequency correlation over 11,513 repeat buyers: Pearson " \
           "r = +0.069" in text


def test_auto_takes_the_model_with_the_smallest_holdout_error_and_says_why() -> None:
    """Of the models in which one-time buyers can leave: on CDNOW Pareto/NBD (-12.8% against
    MBG/NBD's -19.0%), on the bundled example MBG/NBD (Pareto/NBD has no finite estimate)."""
    cdnow = load_config(CDNOW)
    chosen = choose_purchase_model(load_transactions(cdnow), cdnow)
    assert chosen.name == "pareto_nbd"
    assert chosen.reason == (
        "Pareto/NBD predicts 17,157 repeat purchases in the holdout against 19,674 actual "
        "(-12.8%), the smallest absolute error (other models: MBG/NBD -19.0%) [holdout "
        "1997-10-01 .. 1998-06-30, 273 days, half the data]")
    assert f"```\n{chosen.reason}\n```" in README.read_text()
    model = score(load_config(ROOT)).model
    assert model.transaction_model == "mbgnbd"
    assert model.choice.startswith(
        "MBG/NBD predicts 4,252 repeat purchases in the holdout against 3,623 actual (+17.4%), "
        "the only candidate fitted; not fitted on the calibration period: Pareto/NBD (the "
        "likelihood still rises")
    assert model.choice.endswith("[holdout 2025-01-06 .. 2025-12-31, 360 days]")
    assert "; chosen by models.use auto: MBG/NBD predicts" in model.describe()


def test_penalizer_is_a_setting_with_an_effect(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    plain = json.loads(_fit(project, tmp_path / "a"))
    with (project / "cvm.yaml").open("a") as f:
        f.write("models:\n  use: mbgnbd\n  penalizer: 0.05\n")
    shrunk = json.loads(_fit(project, tmp_path / "b"))
    assert shrunk["penalizer"] == 0.05 and plain["penalizer"] == 0.0
    for name in ("mbgnbd", "bgnbd"):
        before, after = plain["models"][name]["params"], shrunk["models"][name]["params"]
        assert sum(v * v for v in after.values()) < sum(v * v for v in before.values())
    # the penalty takes Gamma-Gamma's q below 1: cvm score stops, the value table has no
    # purchase model (fit's terminal: "value table model: none: cvm score stops ...")
    assert shrunk["calibration"]["choice"]["model"] == "mbgnbd"
    assert shrunk["purchase_model"] is None


def _fit(project: Path, out: Path) -> str:
    result = runner.invoke(app, ["fit", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return (out / "fit" / "params.json").read_text()


@pytest.mark.parametrize(("setting", "message"), [
    ("  penalizer: -1\n", "error: cvm.yaml:16:14: models.penalizer: found -1, expected a number "
                          "from 0 to 100"),
    ("  holdout_days: 0\n", "error: cvm.yaml:16:17: models.holdout_days: found 0, expected a "
                            "whole number of at least 1"),
    ("  interval_level: 1.5\n", "error: cvm.yaml:16:19: models.interval_level: found 1.5, "
                                "expected a number from 0.5 to 0.999"),
    ("  use: lifetimes\n", "error: cvm.yaml:16:8: models.use: found 'lifetimes', expected one "
                           "of auto, mbgnbd, bgnbd, pareto_nbd, none"),
])
def test_model_settings_are_validated(make_project: Callable[..., Path], setting: str,
                                      message: str) -> None:
    from tests.conftest import BASE_CONFIG

    project = make_project(BASE_CONFIG + "models:\n" + setting)
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == message


def test_interval_columns_in_the_value_table() -> None:
    t = score(load_config(ROOT)).table
    assert list(t.columns[t.columns.get_loc("clv_model"):][:3]) == [
        "clv_model", "clv_model_lower", "clv_model_upper"]
    assert (t["clv_model_lower"] <= t["clv_model"]).all()
    assert (t["clv_model"] <= t["clv_model_upper"]).all()
    # (to the cent: apart wherever the value is a few cents at least)
    worth = t["clv_model"] >= 0.5
    assert (t.loc[worth, "clv_model_upper"] > t.loc[worth, "clv_model_lower"]).mean() > 0.99


def test_a_policy_may_use_the_interval(tmp_path: Path) -> None:
    """Before, clv_model and its bounds were no attributes: validate refused the policy."""
    project = copy_example_project(tmp_path)
    (project / "policies" / "sure_value.yaml").write_text(
        "id: sure_value\ndescription: Sure value.\npriority: 95\nwhen:\n  all:\n"
        "    - clv_model_lower: {gte: 300}\nthen:\n  action: retain\n  channels: [email]\n")
    result = runner.invoke(app, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "o"
    result = runner.invoke(app, ["decide", "--project", str(project), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    import pandas as pd

    decisions = pd.read_csv(out / "decisions.csv", dtype={"customer_id": str})
    table = score(load_config(project)).table
    sure = set(table.loc[table["clv_model_lower"] >= 300, "customer_id"])
    assert 0 < len(sure) < len(table)
    assert set(decisions.loc[decisions["policy_id"] == "sure_value", "customer_id"]) == sure


def test_spend_frequency_independence() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 20, 5000).astype(float)
    independent = gamma_gamma.simulate({"p": 6.0, "q": 4.0, "gamma": 15.0}, x, rng=rng)
    check = independence(x, independent)
    assert abs(check.spearman_rho) < 0.05 and not check.doubtful
    dependent = independent * (1 + x) ** 0.8
    check = independence(x, dependent)
    assert check.spearman_rho > 0.3 and check.spearman_p < 1e-10 and check.doubtful
    assert check.describe().endswith("the assumption is doubtful: spend per purchase depends "
                                     "on frequency, Gamma-Gamma's value is biased")



def test_the_report_and_manifest_show_model_equity_with_its_interval(
        tmp_path: Path, shared_commands: SharedCommands) -> None:
    model = score(load_config(ROOT)).model
    assert model.equity is not None
    total, low, high = model.equity
    assert low < total < high
    result = shared_commands.run_example(ROOT)  # `cvm run`, once for the session
    assert result.exit_code == 0, result.stderr
    shutil.copytree(result.out, tmp_path, dirs_exist_ok=True)  # the report is written beside
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["value_model"]["equity"] == {"estimate": total, "lower": low,
                                                 "upper": high, "level": 0.9}
    result = runner.invoke(app, ["report", "--project", str(ROOT), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    html = unescape((tmp_path / "report" / "report.html").read_text())
    assert (f"(MBG/NBD + Gamma-Gamma), the customers' expected discounted margin over the "
            f"horizon (the sum of clv_model) is EUR {total:,.0f}, with a 90% interval of EUR "
            f"{low:,.0f} to {high:,.0f} from the uncertainty") in html


def test_the_purchase_models_auto_chooses_from_are_declared_once() -> None:
    """AUTO_MODELS and NOT_AUTO were two lists kept in step by hand: both, and the fit
    summary's note, now come from one table with a candidate flag and a reason."""
    from engine.commands.fit_compare import not_candidate_note
    from engine.value.model_choice import AUTO_MODELS, NOT_AUTO, PURCHASE_MODELS
    from engine.value.models.compare import PREFERENCE, TITLES

    assert [(m.name, m.title) for m in PURCHASE_MODELS] == [(n, TITLES[n]) for n in PREFERENCE]
    assert AUTO_MODELS == ("mbgnbd", "pareto_nbd")
    assert NOT_AUTO == {"bgnbd": "not a candidate for models.use: auto: BG/NBD gives every "
                                 "one-time buyer P(alive) 1 by construction"}
    assert not_candidate_note() == \
        "; BG/NBD is not a candidate: it gives every one-time buyer P(alive) 1"
    assert all(bool(m.not_candidate) != m.candidate for m in PURCHASE_MODELS)
