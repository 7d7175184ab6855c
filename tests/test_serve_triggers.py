"""Events through `cvm serve`: the bundled triggers (triggers/service_recovery.yaml) decide,
and the fired actions are returned and recorded. A complaint from a gold or platinum customer
sets off the service-recovery call; a second complaint within 7 days the escalation; a
complaint with no callback within 48 hours the alert (fired by the service's clock)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from engine.serve.server import Running
from tests.serve_util import client, example_copy, serving


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(tmp_path_factory.mktemp("serve-triggers"))


@pytest.fixture(scope="module")
def service(project: Path) -> Iterator[Running]:
    with serving(project) as running:
        yield running


@pytest.fixture
def http(service: Running) -> Iterator[httpx.Client]:
    with client(service) as c:
        yield c


def _customers(project: Path, tiers: set[str]) -> list[str]:
    table = pd.read_csv(project / "output" / "customers.csv", dtype={"customer_id": str})
    return table.loc[table["value_tier"].isin(tiers), "customer_id"].tolist()


def test_triggers_are_loaded(http: httpx.Client) -> None:
    assert http.get("/ready").json()["triggers"] == 3


def test_vip_complaint_then_a_second_one_escalates(http: httpx.Client, project: Path) -> None:
    table = pd.read_csv(project / "output" / "customers.csv", dtype={"customer_id": str})
    who = table.loc[(table["value_tier"] == "platinum") & table["consent_phone"],
                    "customer_id"].iloc[0]  # the call and the escalation need it
    first = http.post("/v1/events", json={"customer_id": who, "type": "complaint",
                                          "attributes": {"topic": "delivery"}}).json()
    assert [f["trigger_id"] for f in first["fired"]] == ["vip_complaint"]
    fired = first["fired"][0]
    assert (fired["action"], fired["campaign"], fired["channel"]) == (
        "service_recovery_call", "service_recovery", "call_centre")
    assert fired["description"] == "Apologise, fix the cause and confirm the fix within a day."
    assert fired["event_ids"] == [first["event_id"]]
    second = http.post("/v1/events", json={"customer_id": who, "type": "complaint"}).json()
    assert sorted(f["trigger_id"] for f in second["fired"]) == ["repeat_complaint",
                                                              "vip_complaint"]
    escalation = next(f for f in second["fired"] if f["trigger_id"] == "repeat_complaint")
    assert escalation["action"] == "escalate_to_account_manager"
    assert escalation["event_ids"] == [first["event_id"], second["event_id"]]
    shown = http.get(f"/v1/customers/{who}").json()["history"]["interactions"]
    recorded = {(i["interaction_id"], i["trigger_id"], i["action"]) for i in shown}
    for item in first["fired"] + second["fired"]:
        assert (item["interaction_id"], item["trigger_id"], item["action"]) in recorded
    # an agent answers a fired action like any other interaction
    answer = http.post(f"/v1/interactions/{escalation['interaction_id']}/response",
                       json={"outcome": "accepted"})
    assert answer.status_code == 200


def test_a_silver_customers_complaint_is_not_a_vip_complaint(http: httpx.Client,
                                                             project: Path) -> None:
    who = _customers(project, {"silver"})[0]
    body = http.post("/v1/events", json={"customer_id": who, "type": "complaint"}).json()
    assert body["fired"] == []


def test_no_callback_within_48_hours_raises_the_alert(http: httpx.Client,
                                                      project: Path) -> None:
    who = _customers(project, {"silver"})[1]
    # inside the 48 hours (an older complaint is late for this trigger), due 2 s from now
    at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=48) + dt.timedelta(seconds=2)
    body = http.post("/v1/events", json={"customer_id": who, "type": "complaint",
                                         "occurred_at": at.isoformat()}).json()
    assert body["late"] is False
    found: list[dict[str, object]] = []
    for _ in range(300):  # the service's clock advances the triggers every second
        found = [i for i in http.get(f"/v1/customers/{who}").json()["history"][
            "interactions"] if i["trigger_id"] == "callback_overdue"]
        if found:
            break
        time.sleep(0.1)
    assert [i["action"] for i in found] == ["callback_overdue_alert"]
    assert [i["source"] for i in found] == ["trigger"]


def test_an_event_stamped_ahead_brings_no_other_absence_due(http: httpx.Client,
                                                             project: Path) -> None:
    first, other = _customers(project, {"silver"})[2:4]
    now = dt.datetime.now(dt.timezone.utc)
    due = now - dt.timedelta(hours=48) + dt.timedelta(seconds=120)  # due in 2 minutes
    http.post("/v1/events", json={"customer_id": first, "type": "complaint",
                                  "occurred_at": due.isoformat()})
    ahead = now + dt.timedelta(seconds=240)  # within the 5 minutes of allowed skew
    body = http.post("/v1/events", json={"customer_id": other, "type": "purchase",
                                         "occurred_at": ahead.isoformat(),
                                         "attributes": {"amount": 5}}).json()
    assert body["fired"] == []
    time.sleep(1.5)  # the service's clock has ticked
    found = [i for i in http.get(f"/v1/customers/{first}").json()["history"]["interactions"]
             if i["trigger_id"] == "callback_overdue"]
    assert found == []  # a callback may still come for 2 minutes


@pytest.mark.parametrize(("body", "field"), [
    ({"type": "carrier_pigeon"}, "body.type"),
    ({"type": "complaint", "attributes": {"mood": "bad"}}, "body.attributes.mood"),
    ({"type": "purchase", "attributes": {"amount": "lots"}}, "body.attributes.amount"),
])
def test_event_types_and_fields_are_checked(http: httpx.Client, body: dict[str, object],
                                            field: str) -> None:
    answer = http.post("/v1/events", json={"customer_id": "C000003", **body})
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["problems"]] == [field]


def test_an_event_s_customer_id_is_read_without_surrounding_spaces(http: httpx.Client,
                                                                   project: Path) -> None:
    """A call-centre trial: ' C000020 ' (a gold customer) was filed as another customer, not
    in the run, and the VIP complaint fired nothing; ids are read without surrounding spaces
    everywhere else (the transactions, the responses file)."""
    table = pd.read_csv(project / "output" / "customers.csv", dtype={"customer_id": str})
    who = table.loc[table["value_tier"].isin({"gold", "platinum"}) & table["consent_phone"],
                    "customer_id"].iloc[3]
    body = http.post("/v1/events", json={"customer_id": f" {who} ", "type": "complaint"})
    assert body.status_code == 200, body.text
    assert body.json()["customer_in_run"] is True
    assert "vip_complaint" in [f["trigger_id"] for f in body.json()["fired"]]
    empty = http.post("/v1/events", json={"customer_id": "   ", "type": "complaint"})
    assert empty.status_code == 422, empty.text


def test_a_misspelt_event_type_or_field_gets_did_you_mean(http: httpx.Client) -> None:
    """A call-centre trial: `complain` got the list of types, where `cvm events` says "did you
    mean 'complaint'?"."""
    answer = http.post("/v1/events", json={"customer_id": "C000003", "type": "complain"})
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["message"].endswith("; did you mean 'complaint'?")
    answer = http.post("/v1/events", json={"customer_id": "C000003", "type": "complaint",
                                           "attributes": {"topc": "delivery"}})
    assert answer.json()["problems"][0]["message"].endswith("; did you mean 'topic'?")


def test_an_event_sent_again_with_its_id_is_one_event(http: httpx.Client,
                                                      project: Path) -> None:
    """A call-centre trial: a complaint posted twice (a client retrying after a timeout)
    fired the escalation meant for a second complaint. An event_id the client gives makes a
    request sent again the same event: answered as a duplicate, nothing fired or recorded."""
    table = pd.read_csv(project / "output" / "customers.csv", dtype={"customer_id": str})
    who = table.loc[table["value_tier"].isin({"gold", "platinum"}) & table["consent_phone"],
                    "customer_id"].iloc[5]
    body = {"customer_id": who, "type": "complaint", "event_id": "crm-4711"}
    first = http.post("/v1/events", json=body).json()
    assert first["event_id"] == "crm-4711" and first["duplicate"] is False
    assert [f["trigger_id"] for f in first["fired"]] == ["vip_complaint"]
    # the retry gets the first answer again (the one the client lost): what was fired, with
    # its interaction ids, and when the event occurred (not the retry's time)
    again = http.post("/v1/events", json={**body, "occurred_at": "2020-01-01T00:00:00Z"}).json()
    assert again == {**first, "duplicate": True}
    other = http.post("/v1/events", json={**body, "event_id": "crm-4712"}).json()
    assert "repeat_complaint" in [f["trigger_id"] for f in other["fired"]]  # a second one
    # the same id with another event's body is not a retry: refused, nothing fired or kept
    theirs = _customers(project, {"bronze"})[3]
    for change, field, found in (
            ({"customer_id": theirs}, "body.customer_id", theirs),
            ({"type": "callback"}, "body.type", "callback"),
            ({"attributes": {"topic": "billing"}}, "body.attributes", '{"topic": "billing"}')):
        clash = http.post("/v1/events", json={**body, **change})
        assert clash.status_code == 409, clash.text
        assert clash.json() == {"error": "event_id already used", "problems": [{
            "field": field, "found": found, "message": (
                f"event_id crm-4711 names an event posted already (customer {who}, type "
                "complaint, attributes {}): a request sent again sends the same customer_id, "
                "type and attributes; another event needs another event_id")}]}
    assert http.post("/v1/events", json=body).json() == {**first, "duplicate": True}
    # an event with attributes sent again with the same ones is the same event (they are
    # kept as a key, serve.service.attributes_key: true and 1 told apart, there)
    flagged = {**body, "event_id": "crm-4713", "attributes": {"topic": "x"}}
    assert http.post("/v1/events", json=flagged).status_code == 200
    assert http.post("/v1/events", json={**flagged, "attributes": {"topic": "x"}}).json()[
        "duplicate"] is True
    blank = http.post("/v1/events", json={**body, "event_id": "  "})
    assert (blank.status_code, blank.json()["problems"][0]["message"]) == (422, (
        "expected an event id, found none: at most 64 letters, digits, _ . : or - (a UUID "
        "fits); leave event_id out for an event the service names"))
    bad = http.post("/v1/events", json={**body, "event_id": "x" * 65})
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["message"] == (  # (was pydantic's pattern, unread)
        "expected at most 64 letters, digits, _ . : or - (a UUID fits)")


def test_an_event_id_may_be_a_uuid_with_its_dashes(http: httpx.Client, project: Path) -> None:
    """A CRM's event ids are UUIDs, 36 characters with their dashes: refused at 32 before."""
    who = _customers(project, {"bronze"})[0]
    body = {"customer_id": who, "type": "callback", "event_id": str(uuid.UUID(int=4711))}
    first = http.post("/v1/events", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["event_id"] == "00000000-0000-0000-0000-000000001267"
    assert http.post("/v1/events", json=body).json()["duplicate"] is True


def test_an_event_sent_again_with_the_id_the_service_gave_is_one_event(
        http: httpx.Client, project: Path) -> None:
    """A call-centre trial: a complaint posted without an id, then again at once with the id
    the answer gave: the service looked for it in the history only, which its writer had not
    reached yet, took it for a second complaint and fired the escalation."""
    who = _customers(project, {"gold", "platinum"})[7]
    first = http.post("/v1/events", json={"customer_id": who, "type": "complaint"}).json()
    again = http.post("/v1/events", json={"customer_id": who, "type": "complaint",
                                          "event_id": first["event_id"]}).json()
    assert again == {**first, "duplicate": True}
