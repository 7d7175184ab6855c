"""An action fired later by the clock for an absence (no callback within 48 hours) is recorded
under the event that opened it: `cvm history` counts it among that event's fired actions, so
an event never shows more withheld actions than fired ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from engine.commands.history import _timeline_text
from engine.history.queries import timeline
from engine.history.tables import events, interactions
from tests.history_runs import open_history

AT = dt.datetime(2026, 1, 2, 10, tzinfo=dt.timezone.utc)


def _interaction(iid: str, minutes: int, withheld: str | None) -> dict[str, object]:
    return {"id": iid, "customer_id": "C1", "recorded_at": AT + dt.timedelta(minutes=minutes),
            "run_id": "r1", "source": "trigger", "channel": "call_centre",
            "action": "no_action" if withheld else "service_recovery_call",
            "event_id": "e1", "trigger_id": "vip_complaint", "withheld": withheld}


def test_an_action_the_clock_fired_later_counts_under_the_event_that_opened_it(
        tmp_path: Path) -> None:
    store = open_history("h.sqlite", tmp_path)
    try:
        with store.transaction() as conn:
            # posted: one action fired at once; 48 hours later the clock fired a second one,
            # withheld by a contact policy
            conn.execute(events.insert(), [{
                "id": "e1", "customer_id": "C1", "type": "complaint", "occurred_at": AT,
                "recorded_at": AT, "attributes": "{}", "fired": 1}])
            conn.execute(interactions.insert(), [
                _interaction("i1", 0, None),
                _interaction("i2", 48 * 60, "contact policy call_rest blocks call_centre")])
        raw = timeline(store, "C1")
    finally:
        store.close()
    assert [(e["event_id"], e["fired"], e["withheld"]) for e in raw["events"]] == [("e1", 2, 1)]
    shown = _timeline_text(raw, "h.sqlite").splitlines()
    assert [ln for ln in shown if " event " in ln] == [
        "  event       2026-01-02 10:00  complaint, fired 2 (1 withheld)"]
