"""A context or event value of the wrong kind (null, a list, an object) is one problem naming
the field, not one per branch of the union of allowed kinds (.bool, .int, .float,
.constrained-str: a new user could not tell what to send)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.serve_util import client, example_copy, serving


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    project = example_copy(tmp_path_factory.mktemp("union"))
    with serving(project, history=False) as service, client(service) as c:
        yield c


@pytest.mark.parametrize("value", [None, [1, 2], {"a": 1}])
def test_a_value_of_the_wrong_kind_is_one_problem(http: httpx.Client, value: object) -> None:
    answer = http.post("/v1/customers/C000001/next-best-action",
                       json={"context": {"value_tier": value}})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{
        "field": "body.context.value_tier",
        "message": "expected a number, text (at most 200 characters) or true/false",
        "found": None if value is None else json.dumps(value)}]  # as sent: JSON


def test_an_event_attribute_of_the_wrong_kind_too(http: httpx.Client) -> None:
    answer = http.post("/v1/events", json={"customer_id": "C000001", "type": "complaint",
                                           "attributes": {"topic": None}})
    assert answer.status_code == 422
    assert [p["field"] for p in answer.json()["problems"]] == ["body.attributes.topic"]


@pytest.mark.parametrize(("body", "where"), [('{"channel":', 11), ("not json", 0)])
def test_a_body_that_is_not_json_says_where(http: httpx.Client, body: str, where: int) -> None:
    """The field is the body, the message says where the JSON breaks, and what was sent is
    shown (pydantic gave "body.11", "JSON decode error" and "{}")."""
    answer = http.post("/v1/customers/C000001/next-best-action", content=body,
                       headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{
        "field": "body",
        "message": f"not valid JSON: Expecting value at position {where} (counted from 0)",
        "found": body}]


def test_a_body_sent_as_text_is_shown_as_text(http: httpx.Client) -> None:
    answer = http.post("/v1/customers/C000001/next-best-action", content=b"hello",
                       headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422
    assert [p["found"] for p in answer.json()["problems"]] == ["hello"]


def test_a_missing_field_shows_nothing_found(http: httpx.Client) -> None:
    """A missing field's problem put the whole body in `found` (pydantic's input of a missing
    field is its parent): found is null, as nothing was sent for it."""
    answer = http.post("/v1/events", json={"customer_id": "C000001", "attributes": {"a": 1}})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{
        "field": "body.type", "message": "missing: the request needs it", "found": None}]


@pytest.mark.parametrize("when", [20251201, 1764583200, 1764583200.5])
def test_a_number_is_no_time(http: httpx.Client, when: float) -> None:
    """occurred_at 20251201 was read as Unix seconds, a day of August 1970: refused."""
    answer = http.post("/v1/events", json={"customer_id": "C000001", "type": "complaint",
                                           "occurred_at": when})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{
        "field": "body.occurred_at", "message": "expected a date and time as text, such as "
        "2026-01-02T10:00:00Z (a number is not read as a Unix time)", "found": when}]


@pytest.mark.parametrize("when", ["20251201", "1764583200", " 1765000000000 ", "2026"])
def test_digits_in_quotes_are_no_time_either(http: httpx.Client, when: str) -> None:
    """A call-centre trial: "20261207" was read as Unix seconds (1970-08-23), fired the VIP
    call and came too late for the escalation and the overdue alert."""
    answer = http.post("/v1/events", json={"customer_id": "C000001", "type": "complaint",
                                           "occurred_at": when})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{
        "field": "body.occurred_at", "message": "expected a date and time such as "
        "2026-01-02T10:00:00Z, found digits alone (not read as a Unix time: 20251201 is "
        "written 2025-12-01)", "found": when}]


@pytest.mark.parametrize("when", ["yesterday", "07/12/2026", "2026-12-07T25:00:00Z"])
def test_a_time_not_in_iso_8601_says_the_form_expected(http: httpx.Client, when: str) -> None:
    """The trial's 'yesterday' got pydantic's 'Input should be a valid datetime or date, input
    is too short', naming no form."""
    answer = http.post("/v1/events", json={"customer_id": "C000001", "type": "complaint",
                                           "occurred_at": when})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{
        "field": "body.occurred_at", "message": "expected a date and time in ISO 8601, such "
        "as 2026-01-02T10:00:00Z or 2026-01-02 (a time without a zone is read as UTC)",
        "found": when}]


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_sent_as_another_content_type_says_so(http: httpx.Client,
                                                     kind: str | None) -> None:
    """A call-centre trial's curl without -H: 'Input should be a valid dictionary or object
    to extract fields from', found the (valid) JSON it had sent."""
    headers = {"Content-Type": kind} if kind else {}
    answer = http.post("/v1/events", content=b'{"customer_id":"C000226","type":"visit"}',
                       headers=headers)
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{
        "field": "body", "message": "expected a JSON body, sent with Content-Type: "
        f"application/json (this request's: {kind or 'none'})",
        "found": '{"customer_id":"C000226","type":"visit"}'}]


@pytest.mark.parametrize(("body", "message"), [
    (b'{"customer_id":"C\xff\xfe","type":"visit"}',
     "not valid JSON: byte 0xff at position 17 (counted from 0) is not UTF-8"),
    (b"[" * 5000 + b"]" * 5000, "not valid JSON: nested more deeply than a request can be")])
def test_a_body_that_cannot_be_read_as_json_is_said_as_such(http: httpx.Client, body: bytes,
                                                            message: str) -> None:
    """A call-centre trial: a body not in UTF-8, or nested 5,000 deep, got 400 'there was an
    error parsing the body', which the README and the API's schema do not list."""
    answer = http.post("/v1/events", content=body,
                       headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["problems"] == [{"field": "body", "message": message,
                                          "found": body[:100].decode("utf-8", "replace")}]


def test_without_the_history_an_id_the_service_gave_is_remembered(http: httpx.Client) -> None:
    """--no-history: the README says a request with an id already posted is the same event;
    only the ids clients gave were kept."""
    first = http.post("/v1/events", json={"customer_id": "C000005", "type": "complaint"})
    again = http.post("/v1/events", json={"customer_id": "C000005", "type": "complaint",
                                          "event_id": first.json()["event_id"]})
    assert again.json() == {**first.json(), "duplicate": True}


@pytest.mark.parametrize("body", [
    b'{"customer_id":"C\\ud800","type":"visit"}',
    b'{"customer_id":"C000005","type":"complaint","attributes":{"t\\ud800":"x"}}',
    b'{"customer_id":"C\xed\xa0\x80","type":"visit"}'])
def test_a_lone_surrogate_is_a_422_not_a_500(http: httpx.Client, body: bytes) -> None:
    """A trial: a lone UTF-16 surrogate in any text was refused, and the refusal, writing it
    back as `found`, failed: a plain-text 500."""
    answer = http.post("/v1/events", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid request"
