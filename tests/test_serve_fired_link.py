"""An action a trigger fires is recorded with the event it answers: the posted event, or for
an absence decided later by the clock (no event posted then), the event that opened it."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from engine.history.tables import interactions
from engine.serve.service import Posted, Service


class _Journal:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, table: Any, row: dict[str, Any]) -> None:
        assert table is interactions
        self.rows.append(row)


def test_an_absence_fired_by_the_clock_names_the_event_that_opened_it() -> None:
    import threading

    journal = _Journal()
    state = SimpleNamespace(run_id="r1", withheld=lambda *_: None)  # may contact: no channel
    holder = SimpleNamespace(state=state, giving=threading.Lock())  # the state served now
    service = Service(holder=holder, journal=journal, triggers=None,  # type: ignore[arg-type]
                      reload=lambda: None)  # type: ignore[arg-type,return-value]
    overdue = {"trigger_id": "callback_overdue", "customer_id": "C1", "event_ids": ["e1"],
               "action": "callback_overdue_alert"}
    twice = {"trigger_id": "repeat_complaint", "customer_id": "C1", "event_ids": ["e1", "e2"],
             "action": "escalate"}
    service.fired(None, [overdue])
    service.fired("e2", [twice])
    assert [(r["trigger_id"], r["event_id"]) for r in journal.rows] == [
        ("callback_overdue", "e1"), ("repeat_complaint", "e2")]


def test_an_event_id_recorded_before_a_restart_is_seen(history_url: str,
                                                      tmp_path: Any) -> None:
    """A client's event id is the same event after a restart too: the history is asked when
    the service has not posted it since it started, and the first answer is given again (a
    UUID with its dashes as the id, on both databases). An event recorded before the history
    kept answers is answered with what the history holds of it: when it occurred."""
    import datetime as dt

    from engine.history.tables import events
    from tests.history_runs import open_history

    store = open_history(history_url, tmp_path)
    first = {"event_id": "6f1c2b7e-2a41-4c55-9a51-0d6a4c1f1e2d", "customer_id": "C1",
             "customer_in_run": True, "type": "complaint",
             "occurred_at": "2026-01-02T00:00:00+00:00", "late": False, "late_for": [],
             "fired": [{"interaction_id": "i1", "trigger_id": "vip_complaint"}],
             "duplicate": False}
    row = {"customer_id": "C1", "type": "complaint",
           "occurred_at": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
           "recorded_at": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
           "attributes": "{}", "fired": 1}
    try:
        with store.transaction() as conn:
            conn.execute(events.insert(), [
                {**row, "id": first["event_id"], "answer": json.dumps(first)},
                {**row, "id": "crm-1", "answer": None,
                 "attributes": '{"topic": "delivery"}'}])
        holder = SimpleNamespace(state=SimpleNamespace(
            ready=SimpleNamespace(record=lambda cid: None)))
        service = Service(holder=holder, journal=SimpleNamespace(store=store),  # type: ignore[arg-type]
                          triggers=None, reload=lambda: None)  # type: ignore[arg-type,return-value]
        assert service.earlier(str(first["event_id"])) == Posted(first, "{}")
        assert service.earlier("crm-1") == Posted({
            "event_id": "crm-1", "customer_id": "C1", "customer_in_run": False,
            "type": "complaint", "occurred_at": "2026-01-02T00:00:00+00:00", "late": False,
            "late_for": [], "fired": [], "duplicate": False}, '{"topic": "delivery"}')
        assert service.earlier("crm-2") is None
        service.posting_done("crm-2", b'{"event_id": "crm-2"}', {"topic": "x"})
        assert service.earlier("crm-2") == Posted({"event_id": "crm-2"}, '{"topic": "x"}')
    finally:
        store.close()


def test_an_answer_no_longer_kept_in_memory_is_read_from_the_history(
        tmp_path: Any, monkeypatch: Any) -> None:
    import datetime as dt

    from engine.history.tables import events
    from engine.serve import service as service_module
    from tests.history_runs import open_history

    monkeypatch.setattr(service_module, "POSTED_KEPT", 2)
    store = open_history(str(tmp_path / "h.sqlite"), tmp_path)
    at = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    try:
        service = Service(holder=None, journal=SimpleNamespace(store=store),  # type: ignore[arg-type]
                          triggers=None, reload=lambda: None)  # type: ignore[arg-type,return-value]
        for k in (1, 2, 3):
            body = json.dumps({"event_id": f"e{k}", "fired": [k]}).encode()
            with store.transaction() as conn:
                conn.execute(events.insert(), {
                    "id": f"e{k}", "customer_id": "C1", "type": "complaint", "occurred_at": at,
                    "recorded_at": at, "attributes": "{}", "fired": 1,
                    "answer": body.decode()})
            service.posting_done(f"e{k}", body, {})
        assert list(service.posted) == ["e2", "e3"]
        assert service.earlier("e1") == Posted({"event_id": "e1", "fired": [1]}, "{}")
    finally:
        store.close()


def test_an_event_s_attributes_are_compared_as_written_and_kept_short() -> None:
    """A review: true and 1 compared equal (a different event taken for a retry), and each
    event's attributes were kept whole in memory (up to a body's size, 20,000 of them)."""
    from engine.serve.service import KEPT_TEXT, attributes_key

    first = Posted({"customer_id": "C1", "type": "visit"}, attributes_key({"flag": True}))
    assert first.clash("C1", "visit", {"flag": 1}) == ("body.attributes", {"flag": 1})
    assert first.clash("C1", "visit", {"flag": True}) is None
    # the re-trial: 10 and 10.0 (or 1e1) are one JSON number, as another client writes it
    ten = Posted({"customer_id": "C1", "type": "visit"}, attributes_key({"amount": 10}))
    assert ten.clash("C1", "visit", {"amount": 10.0}) is None
    assert ten.clash("C1", "visit", {"amount": 10.5}) == ("body.attributes", {"amount": 10.5})
    long = {"note": "é" * 1000}
    key = attributes_key(long)
    assert key.startswith("sha256:") and len(key) == 71 and KEPT_TEXT < 1000
    assert Posted({"customer_id": "C1", "type": "visit"}, key).clash("C1", "visit", long) is None
    assert "attributes as first sent" in Posted({}, key).said()
