"""`cvm history CUSTOMER` shows what `cvm serve` recorded for the customer: the events, the
actions served (next best action or trigger) and the outcomes the agent recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.history_runs import cvm
from tests.serve_util import client, example_copy, serving


def test_the_timeline_holds_what_the_service_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = tmp_path / "history.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    project = example_copy(tmp_path)
    with serving(project) as service, client(service) as http:
        shown = http.post("/v1/customers/C000007/next-best-action",
                          json={"channel": "email"}).json()
        event = http.post("/v1/events", json={"customer_id": "C000007", "type": "complaint",
                                              "occurred_at": "2026-01-02T10:00:00Z"}).json()
        assert http.post(f"/v1/interactions/{shown['interaction_id']}/response",
                         json={"outcome": "declined"}).status_code == 200
    result = cvm("history", "C000007", "--json", "--project", str(project))
    assert result.exit_code == 0, result.output
    raw = json.loads(result.stdout)
    served = [i for i in raw["interactions"] if i["source"] == "next_best_action"]
    assert [(i["interaction_id"], i["channel"], i["action"], i["outcomes"][0]["outcome"])
            for i in served] == [(shown["interaction_id"], "email",
                                  shown["decision"]["action"], "declined")]
    assert [(e["event_id"], e["type"], e["occurred_at"]) for e in raw["events"]] == [
        (event["event_id"], "complaint", "2026-01-02T10:00:00+00:00")]
    fired = [i for i in raw["interactions"] if i["source"] == "trigger"]
    assert [i["trigger_id"] for i in fired] == [f["trigger_id"] for f in event["fired"]]
    text = cvm("history", "C000007", "--project", str(project)).stdout
    assert "  event       2026-01-02 10:00  complaint" in text
    assert (f"  served      {shown['interaction_id'][:8]}  email: "
            f"{shown['decision']['action']} -> declined") in text
