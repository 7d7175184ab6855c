"""Events through `cvm serve` (issue 14, review findings 5, 6, 7, 9, 10, 11): the triggers'
clock cannot be pushed into the future; "late" is per trigger window; the windows survive a
restart (the history's events replayed); NaN and Infinity are refused; the API documentation
is public; an unknown customer's events are evaluated and recorded."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from engine.history.tables import events, interactions
from engine.serve.server import Running
from tests.serve_util import AUTH, client, example_copy, serving


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(tmp_path_factory.mktemp("serve-clock"))


@pytest.fixture(scope="module")
def service(project: Path) -> Iterator[Running]:
    with serving(project, history=False) as running:
        yield running


@pytest.fixture
def http(service: Running) -> Iterator[httpx.Client]:
    with client(service) as c:
        yield c


def _ago(**delta: float) -> str:
    return (dt.datetime.now(dt.timezone.utc) - dt.timedelta(**delta)).isoformat()


def test_an_event_from_the_future_is_refused(http: httpx.Client) -> None:
    for at in ("2099-01-01T00:00:00Z", "1850-01-01T00:00:00Z"):
        answer = http.post("/v1/events", json={"customer_id": "C000003", "type": "visit",
                                               "occurred_at": at})
        assert answer.status_code == 422, at
        assert [p["field"] for p in answer.json()["problems"]] == ["body.occurred_at"]
    # and so a later complaint is not late
    body = http.post("/v1/events", json={"customer_id": "C000005", "type": "complaint",
                                         "occurred_at": _ago(seconds=3)}).json()
    assert body["late"] is False
    assert "vip_complaint" in [f["trigger_id"] for f in body["fired"]]


def test_late_is_per_trigger_window(http: httpx.Client) -> None:
    http.post("/v1/events", json={"customer_id": "C000003", "type": "visit"})
    # 8 days old: older than repeat_complaint's 7 days and callback_overdue's 48 hours, but a
    # single trigger has no window: the complaint of a gold customer still fires vip_complaint
    body = http.post("/v1/events", json={"customer_id": "C000005", "type": "complaint",
                                         "occurred_at": _ago(days=8)}).json()
    assert [f["trigger_id"] for f in body["fired"]] == ["vip_complaint"]
    assert body["late"] is True
    assert sorted(body["late_for"]) == ["callback_overdue", "repeat_complaint"]


def test_only_single_triggers_nothing_is_late(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    path = project / "triggers" / "service_recovery.yaml"
    text = path.read_text()
    path.write_text(text[:text.index("  - id: repeat_complaint")])
    with serving(project, history=False) as service, client(service) as http:
        http.post("/v1/events", json={"customer_id": "C000003", "type": "visit"})
        body = http.post("/v1/events", json={"customer_id": "C000005", "type": "complaint",
                                             "occurred_at": _ago(seconds=3)}).json()
    assert [f["trigger_id"] for f in body["fired"]] == ["vip_complaint"]
    assert body["late"] is False


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_422(http: httpx.Client, raw: str) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    answer = http.post("/v1/customers/C000003/next-best-action", headers=headers,
                       content='{"context": {"recency_days": RAW}}'.replace("RAW", raw))
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "body.context.recency_days"
    answer = http.post("/v1/events", headers=headers, content=(
        '{"customer_id": "C000003", "type": "purchase", "attributes": {"amount": RAW}}'
        .replace("RAW", raw)))
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["field"] == "body.attributes.amount"


def test_the_api_documentation_is_public(service: Running, project: Path) -> None:
    with httpx.Client(base_url=service.url) as anonymous:
        assert anonymous.get("/openapi.json").status_code == 200
        docs = anonymous.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        schema = anonymous.get("/openapi.json").json()
        assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        # the data still needs the key
        assert anonymous.get("/v1/customers/C000003").status_code == 401
    with serving(project, history=False, docs=False) as hidden, client(hidden) as http:
        assert http.get("/openapi.json").status_code == 404
        assert http.get("/docs").status_code == 404


def _history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    history = tmp_path / "history.sqlite"
    monkeypatch.setenv("CVM_HISTORY_URL", str(history))
    return history


def test_an_unknown_customer_s_events_are_evaluated_and_recorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = _history(tmp_path, monkeypatch)
    project = example_copy(tmp_path)
    with serving(project) as service, client(service) as http:
        first = http.post("/v1/events", json={"customer_id": "NEW0001", "type": "complaint"})
        assert first.status_code == 200
        assert first.json()["customer_in_run"] is False
        second = http.post("/v1/events", json={"customer_id": "NEW0001",
                                               "type": "complaint"}).json()
        # tier unknown: no vip_complaint; two complaints: escalated all the same
        assert [f["trigger_id"] for f in second["fired"]] == ["repeat_complaint"]
        assert http.get("/v1/customers/NEW0001").status_code == 404
        assert http.post("/v1/customers/NEW0001/next-best-action").status_code == 404
    engine = create_engine(f"sqlite:///{history}")
    try:
        with engine.connect() as conn:
            assert conn.execute(select(events.c.customer_id)).scalars().all() == [
                "NEW0001", "NEW0001"]
    finally:
        engine.dispose()


def test_the_windows_survive_a_restart(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    history = _history(tmp_path, monkeypatch)
    project = example_copy(tmp_path)
    with serving(project) as service, client(service) as http:
        first = http.post("/v1/events", json={"customer_id": "C000005", "type": "complaint",
                                              "occurred_at": _ago(hours=1)}).json()
        assert [f["trigger_id"] for f in first["fired"]] == ["vip_complaint"]
    with serving(project) as service, client(service) as http:
        second = http.post("/v1/events", json={"customer_id": "C000005",
                                               "type": "complaint"}).json()
    assert sorted(f["trigger_id"] for f in second["fired"]) == ["repeat_complaint",
                                                              "vip_complaint"]
    escalation = next(f for f in second["fired"] if f["trigger_id"] == "repeat_complaint")
    assert escalation["event_ids"] == [first["event_id"], second["event_id"]]
    engine = create_engine(f"sqlite:///{history}")
    try:
        with engine.connect() as conn:
            fired = conn.execute(select(interactions.c.trigger_id)
                                 .where(interactions.c.source == "trigger")).scalars().all()
    finally:
        engine.dispose()
    # the first complaint's vip_complaint is not recorded again by the replay
    assert sorted(fired) == ["repeat_complaint", "vip_complaint", "vip_complaint"]
