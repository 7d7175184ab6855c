"""The runs every look-back reads (engine.history.lookback), on SQLite and PostgreSQL: dated
before the as-of date, the latest recorded of each date; and the history state the run id
covers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.history import record
from engine.history.changes import fetch
from engine.history.lookback import history_state, looked_back
from engine.history.response_digest import row_digest
from engine.history.responses import import_responses
from tests.history_runs import open_history, snapshot


def test_the_runs_looked_back_on_and_the_state_read(history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    try:
        for run_id, day in (("r1", dt.date(2025, 1, 1)), ("r2", dt.date(2025, 1, 20)),
                            ("r2b", dt.date(2025, 1, 20)), ("same", dt.date(2025, 2, 1)),
                            ("later", dt.date(2025, 6, 1))):
            record.record_run(store, run_id=run_id, as_of=day, project="t", inputs={},
                              snapshot=snapshot(3))
        with store.reading() as conn:
            assert [int(r) for r, _ in fetch(conn, looked_back(dt.date(2025, 2, 1)))] == [1, 3]
            assert [int(r) for r, _ in fetch(conn, looked_back(
                dt.date(2025, 2, 1), dt.date(2025, 1, 10)))] == [3]
            assert history_state(conn, dt.date(2025, 1, 1)) == []
            assert history_state(conn, dt.date(2025, 2, 1)) == [["2025-01-01", "r1"],
                                                                 ["2025-01-20", "r2b"]]
        text = "customer_id,campaign,date,outcome\nC0000001,x,2025-01-05,converted\n"
        (tmp_path / "r.csv").write_text(text)
        import_responses(store, tmp_path / "r.csv", "r.csv")
        import_responses(store, tmp_path / "r.csv", "r.csv")  # adds nothing: not counted
        known = ["responses", f"1:{row_digest('C0000001', 'x', '2025-01-05', 'converted', None)}"]
        with store.reading() as conn:  # the responses known: dated before the as-of date
            assert history_state(conn, dt.date(2025, 1, 2)) == [["2025-01-01", "r1"]]
            assert history_state(conn, dt.date(2025, 1, 6)) == [["2025-01-01", "r1"], known]
    finally:
        store.close()
