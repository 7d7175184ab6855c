"""`cvm fit --json` holds what the terminal shows of the holdout comparison (issue 15): every
model's calibration fit and holdout scores, the by-frequency table, the choice and the
Gamma-Gamma checks; for a subscription project the sBG fit and its holdout check. The document
validates against engine/schemas/output-fit.schema.json and its figures are the terminal's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from typer.testing import CliRunner

from engine.cli import app
from engine.workflow.json_output import schema_path
from tests.conftest import ROOT


def _fit(project: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(app, ["fit", "-p", str(project), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


def _document(project: Path, out: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_fit(project, out, "--json"))
    jsonschema.validate(doc, json.loads(schema_path("fit").read_text()),
                        cls=jsonschema.Draft202012Validator)
    assert doc["kind"] == "cvm.fit" and doc["schema_version"] == 4
    return doc


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.1%}"


def test_fit_json_holds_the_holdout_comparison_the_terminal_shows(tmp_path: Path) -> None:
    text = _fit(ROOT, tmp_path / "text")
    doc = _document(ROOT, tmp_path / "json")
    held = doc["holdout"]
    assert doc["mode"] == "purchases"
    assert (f"predicting {held['holdout_start']} .. {held['observation_end']} "
            f"({held['customers']:,} customers)") in text
    titles = {"mbgnbd": "MBG/NBD", "bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}
    assert list(held["models"]) == list(titles)
    for name, m in held["models"].items():
        # a model auto never takes is marked (BG/NBD*), with the reason in a footnote
        title = titles[name] + ("" if m["auto_candidate"] else "*")
        if not m["fitted"]:  # the retail example: Pareto/NBD has no finite estimate
            assert f"  {title:<12} not fitted: {m['reason']}\n" in text
            continue
        h = m["holdout"]
        assert (f"  {title:<12} {m['log_likelihood']:>13,.2f} {m['aic']:>12,.1f} "
                f"{m['bic']:>12,.1f} {h['predicted']:>10,.0f} {h['actual']:>9,.0f} "
                f"{_pct(h['relative_error']):>7}\n") in text
    assert [m["fitted"] for m in held["models"].values()] == [True, True, False]
    assert (f"  * {held['models']['bgnbd']['not_candidate_reason']}\n"
            "  parameters fitted to ") in text  # the footnote on BG/NBD*, then the fits
    rows = held["by_frequency"]
    assert [r["calibration_repeats"] for r in rows][-2:] == ["7+", "total"]
    for r in rows:
        assert (f"  {r['calibration_repeats']:>12} {r['customers']:>10,} "
                f"{r['actual_mean']:>8.3f} "
                + " ".join(f"{v:>10.3f}" for v in r["predicted_mean"].values())) in text
    assert list(rows[0]["predicted_mean"]) == ["mbgnbd", "bgnbd"]
    choice = held["choice"]
    assert choice["model"] == doc["purchase_model"] == "mbgnbd"
    assert f"  value table model: MBG/NBD ({choice['reason']})\n" in text
    gg = held["gamma_gamma"]
    ind, spend = gg["independence"], gg["holdout_spend"]
    assert (f"over {ind['customers']:,} repeat buyers: Pearson r = {ind['pearson_r']:+.3f} "
            f"(p = {ind['pearson_p']:.3g}), Spearman rho = {ind['spearman_rho']:+.3f}") in text
    assert (f"holdout spend of {spend['customers']:,} customers who bought again: predicted "
            f"total {spend['predicted_total']:,.0f} (mean per customer of their expected "
            f"spend per purchase day {spend['predicted_mean']:,.2f}), actual total "
            f"{spend['actual_total']:,.0f} (mean per customer of their average spend per "
            f"purchase day {spend['actual_mean']:,.2f}), {spend['relative_error']:+.1%} on "
            "the total") in text
    params = json.loads((tmp_path / "json" / "fit" / "params.json").read_text())
    assert params["calibration"]["models"] == held["models"]  # one source for both


def test_fit_json_on_a_subscription_project(tmp_path: Path) -> None:
    project = ROOT / "examples" / "subscription"
    text = _fit(project, tmp_path / "text")
    doc = _document(project, tmp_path / "json")
    assert doc["mode"] == "subscriptions" and doc["purchase_model"] == "sbg"
    held = doc["holdout"]
    assert (f"  predicted {held['predicted']:,.0f} still active, actual {held['actual']:,} "
            f"({held['relative_error']:+.1%})") in text
    assert (f"({held['customers']:,} customers, {held['active']:,} active then), predicting "
            f"who still pays {held['billing_periods']} billing periods later") in text
    sbg = doc["models"]["sbg"]
    assert "  sBG          " + "  ".join(
        f"{k} {v:.4g} (se {sbg['standard_errors'][k]:.2g})" for k, v in sbg["params"].items()
    ) in text
