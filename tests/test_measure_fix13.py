"""cvm measure (issue 13's trial): a group of one customer has no interval and no minimum
detectable effect, said in words (never nan); `significant` is not judged (empty) while the
verdict is too early to tell; a window not over with a small group gives both reasons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from engine.history import record
from tests.history_runs import cvm, open_history, retail_copy, snapshot


def _measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_of: str,
              treated: int = 40, held: int = 1) -> tuple[str, pd.DataFrame]:
    """`cvm measure` of one recorded run of the retail customers C000001.. as of ``as_of``:
    ``treated`` allocated to retain_high_value and ``held`` customers in its holdout."""
    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", str(tmp_path / "h.sqlite"))
    frame = snapshot(treated + held, id_digits=6, status_p=[1, 0, 0, 0])
    frame["customer_id"] = [f"C{i + 1:06d}" for i in range(len(frame))]
    for k in range(treated, treated + held):
        frame.loc[k, ["status", "holdout", "channel", "cost"]] = \
            ["holdout", True, None, float("nan")]
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    try:
        record.record_run(store, run_id="r1", as_of=dt.date.fromisoformat(as_of),
                          project="t", inputs={}, snapshot=frame)
    finally:
        store.close()
    done = cvm("measure", "--project", str(project), "--out", str(tmp_path / "m"))
    assert done.exit_code == 0, done.stderr
    return done.stdout, pd.read_csv(tmp_path / "m" / "measure.csv", keep_default_na=False)


def test_a_holdout_of_one_has_no_interval_said_in_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown, table = _measured(tmp_path, monkeypatch, "2025-06-01")
    assert "nan" not in shown.lower()
    row = table.iloc[0]
    assert (row["treated"], row["holdout"]) == (40, 1)
    assert row["margin_low"] == "" and row["mde"] == ""
    assert row["verdict"] == ("too early to tell: fewer than 30 customers in a group (no "
                              "minimum detectable effect: the holdout has 1 customer, too few "
                              "for a variance)")
    assert row["significant"] == ""  # not judged while too early
    line = shown.splitlines()[1]
    assert f"{float(row['margin_uplift']):+,.2f} (no interval: the holdout has 1 customer, " \
        "too few for a variance)" in line


def test_a_window_not_over_and_a_small_group_give_both_reasons(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, table = _measured(tmp_path, monkeypatch, "2025-12-20")
    assert table.iloc[0]["verdict"] == (
        "too early to tell: the window ends 2026-01-18, the transactions 2025-12-31; fewer "
        "than 30 customers in a group (no minimum detectable effect: the holdout has 1 "
        "customer, too few for a variance)")
    assert table.iloc[0]["significant"] == ""


def test_a_window_not_over_gives_the_minimum_detectable_effect_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 100 and 20 customers: with 40 and 5, one buyer's margin in the window equalled the one
    # before it, which CUPED then explained whole (no variation left: no effect detectable)
    _, table = _measured(tmp_path, monkeypatch, "2025-12-20", treated=100, held=20)
    row = table.iloc[0]
    assert float(row["mde"]) > 1
    assert row["verdict"] == (
        "too early to tell: the window ends 2026-01-18, the transactions 2025-12-31; fewer "
        f"than 30 customers in a group (minimum detectable effect {float(row['mde']):,.2f} "
        "per customer)")


def test_a_window_without_a_transaction_has_no_minimum_detectable_effect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the transactions end 2025-12-31: no day of the window, so nothing is measured (an
    # effect of 0.00 "detectable" would be no answer, and an uplift of 0.00 a wrong one)
    _, table = _measured(tmp_path, monkeypatch, "2026-01-01", held=5)
    assert table.iloc[0]["verdict"] == (
        "too early to tell: the window starts 2026-01-01, after the last transaction "
        "(2025-12-31): nothing is measured yet; fewer than 30 customers in a group")
