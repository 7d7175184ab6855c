"""One rule for the responses a run knows (engine.history.lookback.known_responses): those
dated before its as-of date, as the transactions (a row dated on the as-of date is skipped:
the as-of date is the day after the data). The value-change attribute last_outcome and the
contact policies read the same responses (the contact policies read those on the as-of date
too)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.history import record
from engine.history.changes import add_changes
from engine.history.contacts import contact_log
from engine.history.responses import import_responses
from tests.history_runs import TIERS, open_history, snapshot

AS_OF = dt.date(2025, 2, 1)
RESPONSES = ("customer_id,campaign,date,outcome\n"
             "C0000000,retain_high_value,2025-02-01,converted\n"   # on the as-of date
             "C0000001,retain_high_value,2025-01-31,complained\n"  # the day before
             "C0000002,retain_high_value,2025-01-20,responded\n"
             "C0000002,retain_high_value,2025-02-01,opted_out\n")  # on it: not known yet


def test_last_outcome_and_the_contact_policies_know_the_same_responses(
        history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    try:
        frame = snapshot(4)
        record.record_run(store, run_id="r1", as_of=dt.date(2025, 1, 1), project="t",
                          inputs={}, snapshot=frame)
        (tmp_path / "r.csv").write_text(RESPONSES)
        import_responses(store, tmp_path / "r.csv", "r.csv")
        log = contact_log(store, as_of=AS_OF, window=None, source="test")
        table = frame[["customer_id", "value_tier", "total_value"]].copy()
        table["customer_id"] = table["customer_id"].astype("string[pyarrow]")
        changed = add_changes(table, store, as_of=AS_OF, tiers=TIERS)
    finally:
        store.close()
    counted = sorted(zip(log.response_customer, log.response_days_ago.tolist(),
                         log.response_outcome, strict=True))
    assert counted == [("C0000001", 1, "complained"), ("C0000002", 12, "responded")]
    outcome = changed["last_outcome"]
    assert outcome.isna().tolist() == [True, False, False, True]
    assert outcome.fillna("").tolist() == ["", "complained", "responded", ""]
