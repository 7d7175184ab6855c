"""What `cvm serve` records lands in the history, on SQLite and on PostgreSQL: the tables of
migration 0002_serve, written in batches off the request path and flushed on shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select

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
    engine = create_engine(history_url)
    try:
        assert {"cvm_interactions", "cvm_events", "cvm_interaction_responses"} <= set(
            inspect(engine).get_table_names())
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM cvm_alembic_version")
            assert version.scalar_one() == HEAD == "0002_serve"
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
