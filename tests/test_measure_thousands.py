"""`cvm measure`'s return on spend has thousands separators, as its incremental margin has
(the new-user trial read -4225.92 beside -2,278.70), in the terminal and in the report."""

from __future__ import annotations

import pandas as pd

from engine.commands.measure import format_table
from engine.history.measure_report import measure_rows


def _table() -> pd.DataFrame:
    return pd.DataFrame([{
        "run": 1, "as_of": "2025-10-01", "campaign": "win_back", "treated": 591,
        "holdout": 62, "conversion_uplift": -0.1, "margin_uplift": -3.86, "margin_low": -9.1,
        "margin_high": 1.4, "incremental_margin": -2278.70, "incremental_revenue": -7310.5,
        "cost": 0.54,
        "return_on_spend": -4225.92, "verdict": "no effect measured"}])


def test_the_terminal_table() -> None:
    row = format_table(_table(), "EUR").splitlines()[1]
    assert "-2,278.70" in row and "-4,225.92" in row and "-7,310.50" in row


def test_the_report_table() -> None:
    shown = measure_rows(_table())
    assert shown is not None and shown["rows"][0][6:8] == ["-7,310.50", "-4,225.92"]
