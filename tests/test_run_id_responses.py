"""The run id covers the responses the run knows by content (review 8c: it hashed the files
that had added rows, by import id, so the order of the imports and responses dated after a
replay's as-of date changed it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

from engine.history.lookback import history_state
from engine.history.record import record_run
from engine.history.responses import import_responses
from engine.run.job import run_identity
from tests.history_runs import MIGRATIONS, open_history, snapshot

AS_OF = dt.date(2025, 7, 1)
HEADER = "customer_id,campaign,date,outcome,revenue\n"
A = HEADER + "C1,win_back,2025-06-01,responded,\nC2,win_back,2025-06-02,converted,5\n"
B = HEADER + "C1,win_back,2025-06-01,responded,\n"


def _run_id(url: str, folder: Path, files: Sequence[tuple[str, str]],
            as_of: dt.date = AS_OF) -> str:
    """The run id of a run as of ``as_of`` after one recorded run and ``files`` imported in
    this order."""
    folder.mkdir(parents=True, exist_ok=True)
    store = open_history(url, folder)
    try:
        record_run(store, run_id="r1", as_of=dt.date(2025, 5, 1), project="t", inputs={},
                   snapshot=snapshot(20))
        for name, body in files:
            (folder / name).write_text(body, encoding="utf-8")
            import_responses(store, folder / name, name)
        with store.reading() as conn:
            return run_identity(as_of, {"tx": "x"}, history_state(conn, as_of))
    finally:
        store.close()


def _url(history_url: str, tmp_path: Path, name: str) -> str:
    # a SQLite history per case; PostgreSQL: the case's own database is made by the fixture,
    # so the cases there run one after the other in separate tests (history_url is per test)
    return history_url if history_url.startswith("postgresql") else str(tmp_path / name)


def test_the_order_of_the_imports_does_not_change_the_run_id(history_url: str,
                                                             tmp_path: Path) -> None:
    if history_url.startswith("postgresql"):
        first = _run_id(history_url, tmp_path / "ab", [("a.csv", A), ("b.csv", B)])
        from sqlalchemy import text

        store = open_history(history_url, tmp_path)
        with store.transaction() as conn:  # the same database, emptied, for the other order
            conn.execute(text("TRUNCATE cvm_responses, cvm_imports, cvm_run_actions, "
                              "cvm_run_values, cvm_run_snapshots, cvm_runs"))
        store.close()
        second = _run_id(history_url, tmp_path / "ba", [("b.csv", B), ("a.csv", A)])
    else:
        first = _run_id(_url(history_url, tmp_path, "ab.sqlite"), tmp_path / "ab",
                        [("a.csv", A), ("b.csv", B)])
        second = _run_id(_url(history_url, tmp_path, "ba.sqlite"), tmp_path / "ba",
                         [("b.csv", B), ("a.csv", A)])
    assert first == second


def test_a_response_dated_after_the_as_of_date_leaves_a_replays_id_and_a_known_one_changes_it(
        history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    try:
        record_run(store, run_id="r1", as_of=dt.date(2025, 5, 1), project="t", inputs={},
                   snapshot=snapshot(20))

        def run_id(as_of: dt.date) -> str:
            with store.reading() as conn:
                return run_identity(as_of, {"tx": "x"}, history_state(conn, as_of))

        def imported(name: str, body: str) -> None:
            (tmp_path / name).write_text(HEADER + body, encoding="utf-8")
            import_responses(store, tmp_path / name, name)

        imported("may.csv", "C1,win_back,2025-05-10,responded,\n")
        replay, now = run_id(dt.date(2025, 6, 1)), run_id(AS_OF)
        imported("june.csv", "C2,win_back,2025-06-10,converted,12.5\n")  # after the replay's
        assert run_id(dt.date(2025, 6, 1)) == replay
        assert run_id(AS_OF) != now  # known to a run as of July
        changed = run_id(AS_OF)
        imported("again.csv", "C2,win_back,2025-06-10,converted,12.5\n")  # nothing added
        assert run_id(AS_OF) == changed
    finally:
        store.close()


def test_the_migration_gives_the_stored_responses_the_digests_an_import_gives(
        history_url: str, tmp_path: Path) -> None:
    store = open_history(history_url, tmp_path)
    try:
        (tmp_path / "a.csv").write_text(A, encoding="utf-8")
        import_responses(store, tmp_path / "a.csv", "a.csv")
        with store.reading() as conn:
            before = history_state(conn, AS_OF)
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with store.transaction() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006_w_fixrev13")
            command.upgrade(cfg, "head")
        with store.reading() as conn:
            after = history_state(conn, AS_OF)
    finally:
        store.close()
    assert before == after and before[0][0] == "responses"
