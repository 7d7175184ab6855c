"""What `cvm serve` records lands in the history, on SQLite and on PostgreSQL: the tables of
migration 0003_serve, written in batches off the request path and flushed on shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select

from engine.history.settings import parse
from engine.history.store import HEAD
from engine.history.tables import events, interaction_responses, interactions
from tests.serve_util import client, example_copy, serving


def test_interactions_events_and_responses_are_recorded(
        history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVM_HISTORY_URL", history_url)
    project = example_copy(tmp_path)
    ids = [f"C{i:06d}" for i in range(1, 201)]
    with serving(project) as service, client(service) as http:
        shown = [http.post(f"/v1/customers/{c}/next-best-action",
                           json={"channel": "email"}).json() for c in ids]
        event = http.post("/v1/events", json={"customer_id": "C000007", "type": "complaint",
                                              "attributes": {"topic": "delivery"}}).json()
        answer = http.post(f"/v1/interactions/{shown[0]['interaction_id']}/response",
                           json={"outcome": "converted", "note": "took the offer"})
        assert answer.status_code == 200
        # the last 199 interactions are still queued or just written: stopping flushes them
    # the engine's own driver for the URL (psycopg 3), not SQLAlchemy's default (psycopg2,
    # which CVM Engine does not install)
    engine = create_engine(parse(history_url, tmp_path, source="test").url)
    try:
        assert {"cvm_interactions", "cvm_events", "cvm_interaction_responses"} <= set(
            inspect(engine).get_table_names())
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM cvm_alembic_version")
            assert version.scalar_one() == HEAD
            rows = conn.execute(select(interactions.c.id, interactions.c.customer_id,
                                       interactions.c.action, interactions.c.channel,
                                       interactions.c.source)).all()
            got = {r.id: r for r in rows}
            assert len(got) == len(ids)
            for body in shown:
                row = got[body["interaction_id"]]
                assert (row.customer_id, row.action, row.channel, row.source) == (
                    body["customer_id"], body["decision"]["action"], "email",
                    "next_best_action")
            recorded = conn.execute(select(events)).mappings().one()
            assert (recorded["id"], recorded["customer_id"], recorded["type"]) == (
                event["event_id"], "C000007", "complaint")
            assert recorded["attributes"] == '{"topic": "delivery"}'
            response = conn.execute(select(interaction_responses)).mappings().one()
            assert (response["interaction_id"], response["customer_id"],
                    response["outcome"], response["note"]) == (
                shown[0]["interaction_id"], "C000001", "converted", "took the offer")
    finally:
        engine.dispose()


def test_a_history_of_the_previous_version_is_upgraded(history_url: str,
                                                        tmp_path: Path) -> None:
    """A history at 0001 (before `cvm serve`) gets the three tables when opened to write, as
    the service opens it, with what it held kept."""
    from alembic import command
    from alembic.config import Config

    from engine.history.settings import parse
    from engine.history.store import REVISIONS, VERSION_TABLE, open_store

    assert REVISIONS[1:3] == ("0002_learn", "0003_serve")
    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(__file__).resolve().parents[1] / "engine" / "history"
                            / "migrations"))
    with store.transaction() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002_learn")
        conn.exec_driver_sql("INSERT INTO cvm_imports (file, sha256, imported_at, rows_read, "
                             "imported, already_present, skipped) VALUES ('r.csv', 'ab', "
                             "'2026-01-01 00:00:00', 1, 1, 0, 0)")
    with store.reading() as conn:
        assert "cvm_interactions" not in inspect(conn).get_table_names()
    store.close()
    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None
    try:
        with store.reading() as conn:
            names = set(inspect(conn).get_table_names())
            assert {"cvm_interactions", "cvm_events", "cvm_interaction_responses"} <= names
            assert conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}"
                                        ).scalar_one() == REVISIONS[-1]
            assert conn.exec_driver_sql("SELECT file FROM cvm_imports").scalar_one() == "r.csv"
    finally:
        store.close()


def test_0010_keeps_the_events_and_widens_their_ids(history_url: str, tmp_path: Path) -> None:
    """A history at 0009_live: its events kept, without an answer; then an id of 36
    characters recorded (PostgreSQL held it to 32 before); downgraded, PostgreSQL refuses to
    narrow the ids back while it is there, SQLite drops the answers and keeps the rows."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import select

    from engine.errors import InputError
    from engine.history.settings import parse
    from engine.history.store import open_store
    from engine.history.tables import events

    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(__file__).resolve().parents[1] / "engine" / "history"
                            / "migrations"))
    event = ("INSERT INTO cvm_events (id, customer_id, type, occurred_at, recorded_at, "
             "attributes, fired) VALUES ('{}', 'C1', 'complaint', '2026-01-02 00:00:00', "
             "'2026-01-02 00:00:00', '{{}}', 0)")
    with store.transaction() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009_live")
        conn.exec_driver_sql(event.format("e" * 32))
    store.close()
    store = open_store(parse(history_url, tmp_path, source="test"), create=True)
    assert store is not None
    uuid_id = "6f1c2b7e-2a41-4c55-9a51-0d6a4c1f1e2d"
    try:
        with store.transaction() as conn:
            conn.exec_driver_sql(event.format(uuid_id))
        with store.reading() as conn:
            assert conn.execute(select(events.c.id, events.c.answer).order_by(events.c.id)
                                ).all() == [(uuid_id, None), ("e" * 32, None)]
        postgres = history_url.startswith("postgresql")
        try:
            with store.transaction() as conn:
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0009_live")
            assert not postgres
        except InputError as refused:  # (the store says the database's error)
            assert postgres and "value too long for type character varying(32)" in \
                refused.format()
    finally:
        store.close()
