"""Contracts billed less often than once a period (annual insurance with period_days 90): a
customer pays in at most one period of four, so the formulas' retention per period (paid in a
period and again in the next) is 0 and every formula value with it (issue 15 trial: an
annual-contracts project valued every customer at 0, customer equity EUR 0, with no warning)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InputError
from engine.project.config import load_config
from tests.conftest import ROOT


def _annual(tmp_path: Path, period_days: int) -> Path:
    project = tmp_path / "sub"
    shutil.copytree(ROOT / "examples" / "subscription", project)
    text = (project / "cvm.yaml").read_text(encoding="utf-8")
    (project / "cvm.yaml").write_text(text.replace("billing_days: 30", "billing_days: 365")
                                      .replace("period_days: 90", f"period_days: {period_days}"),
                                      encoding="utf-8")
    return project


def test_a_billing_period_longer_than_period_days_is_refused_at_its_line(
        tmp_path: Path) -> None:
    project = _annual(tmp_path, 90)
    with pytest.raises(InputError) as caught:
        load_config(project)
    line = next(n for n, text in enumerate((project / "cvm.yaml").read_text().splitlines(), 1)
                if "billing_days: 365" in text)
    assert caught.value.format().splitlines() == [
        f"cvm.yaml:{line}:17: subscriptions.billing_days: found 365, longer than period_days "
        "(90): a subscriber whose contract runs has periods without a payment, so the "
        "formulas' retention per period (paid in one period and again in the next) is "
        "understated (0 from twice period_days), and every formula value with it",
        "  hint: set period_days to at least the billing period (period_days: 365)"]


def test_a_period_of_a_billing_period_is_taken(tmp_path: Path) -> None:
    assert load_config(_annual(tmp_path, 365)).period_days == 365


def test_init_from_annual_contracts_writes_a_period_of_one_billing_period(
        tmp_path: Path) -> None:
    source = tmp_path / "policies.csv"
    source.write_text("policy_no,customer_id,start_date,end_date,annual_premium\n" + "".join(
        f"P{k},H{k:04d},2022-0{1 + k % 9}-1{k % 10},{'' if k % 3 else '2024-01-31'},"
        f"{300 + k}.50\n" for k in range(60)), encoding="utf-8")
    done = CliRunner().invoke(app, ["init", str(tmp_path / "p"), "--from", str(source)])
    assert done.exit_code == 0, done.output
    text = (tmp_path / "p" / "cvm.yaml").read_text(encoding="utf-8")
    assert "  billing_days: 365" in text
    assert "period_days: 365  # one period for retention, trend and CLV: at least one " \
        "billing period" in text


def test_fit_on_contracts_says_payment_and_one_billing_period(tmp_path: Path) -> None:
    """Subscriptions have payments, not purchases; "1 billing periods" read wrongly (re-trial)."""
    project = _annual(tmp_path, 90)
    text = (project / "cvm.yaml").read_text().replace("billing_days: 365", "billing_days: 30")
    (project / "cvm.yaml").write_text(text + "models:\n  holdout_days: 30\n")
    early = CliRunner().invoke(app, ["fit", "-p", str(project), "-o", str(tmp_path / "e"),
                                     "--calibration-end", "2000-01-01"])
    assert early.exit_code == 2
    assert "expected a day after the first payment (" in early.output
    assert "the calibration period must end after the first payment" in early.output
    done = CliRunner().invoke(app, ["fit", "-p", str(project), "-o", str(tmp_path / "f")])
    assert done.exit_code == 0, done.output
    assert "predicting who still pays 1 billing period later, by " in done.output
