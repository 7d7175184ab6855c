"""The report's "Active customers" KPI (review 8b): the flows of its note, added to the month's
start, give the figure shown, with subscriptions (customers who arrived and left within the
month included) and without. In process, from the monthly figures the page is made of (the
page shows the note as it is: tests/test_report_subscriptions.py, test_report_html.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.data.load import load_transactions
from engine.project.config import load_config
from engine.project.report_settings import default_active_window
from engine.report.equity import EquitySettings, monthly_figures
from engine.report.headline import kpis as _kpis

ROOT = Path(__file__).resolve().parents[1]


def _kpi(project: Path) -> tuple[int, str, pd.Series]:
    config = load_config(project)
    tx = load_transactions(config)
    f = monthly_figures(tx, EquitySettings(
        config.period_days, config.discount_rate_per_period, config.retention.lookback_periods,
        default_active_window(config.period_days)))
    gone = "left" if tx.contracts is not None else "lapsed"
    kpi = next(k for k in _kpis(f, config.currency, config.period_days, gone)
               if k["label"] == "Active customers")
    return int(kpi["value"].replace(",", "")), kpi["note"], f.iloc[-1]


def _flows(note: str) -> int:
    return sum(int(n.replace(",", "")) for n in re.findall(r"[+-][\d,]+", note))


def test_the_note_adds_up_on_the_subscription_example() -> None:
    value, note, last = _kpi(ROOT / "examples" / "subscription")
    assert note == "+42 new, +6 back, -72 left, -7 arrived and left"
    assert int(last["new_and_left"]) + int(last["reactivated_and_left"]) == 7
    assert int(last["customers_start"]) + _flows(note) == value == int(last["customers_end"])


def test_the_note_adds_up_without_subscriptions(make_project: Callable[..., Path]) -> None:
    value, note, last = _kpi(make_project())
    assert note == "+0 new, +1 back, -0 lapsed"
    assert int(last["customers_start"]) + _flows(note) == value == int(last["customers_end"])
