"""The OpenAPI document declares every 200 answer, and the real answers fit it (an
integrator's generated client had no type for any success: the document had the errors
only). Each endpoint is called for real and its answer validated against the document's
schema with jsonschema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import pytest

from engine.serve.server import Running
from tests.serve_util import client, example_copy, serving


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with serving(example_copy(tmp_path_factory.mktemp("openapi"))) as running:
        yield running


@pytest.fixture
def http(service: Running) -> Iterator[httpx.Client]:
    with client(service) as c:
        yield c


def _fits(doc: dict[str, Any], path: str, method: str, answer: httpx.Response) -> None:
    declared = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    schema = {**declared["schema"], "components": doc["components"]}
    assert answer.status_code == 200, answer.text
    jsonschema.validate(answer.json(), schema)


def test_every_answer_fits_the_document(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    for path, methods in doc["paths"].items():
        for method, spec in methods.items():
            assert "200" in spec["responses"], (path, method)
            assert spec["responses"]["200"]["content"]["application/json"]["schema"] != {}, \
                (path, method)
    customer = "/v1/customers/{customer_id}"
    _fits(doc, "/health", "get", http.get("/health"))
    _fits(doc, "/ready", "get", http.get("/ready"))
    _fits(doc, customer, "get", http.get("/v1/customers/C000005"))
    nba = http.post("/v1/customers/C000005/next-best-action", json={"channel": "email"})
    _fits(doc, customer + "/next-best-action", "post", nba)
    event = http.post("/v1/events", json={"customer_id": "C000020", "type": "complaint",
                                          "event_id": "openapi-1"})
    assert event.json()["fired"], event.text  # a fired action's fields checked too
    _fits(doc, "/v1/events", "post", event)
    _fits(doc, "/v1/events", "post", http.post("/v1/events", json={
        "customer_id": "C000020", "type": "complaint", "event_id": "openapi-1"}))
    _fits(doc, "/v1/interactions/{interaction_id}/response", "post", http.post(
        f"/v1/interactions/{nba.json()['interaction_id']}/response",
        json={"outcome": "accepted"}))
    _fits(doc, "/v1/admin/reload", "post", http.post("/v1/admin/reload"))


def test_a_wrong_answer_would_not_fit(http: httpx.Client) -> None:
    """The check is a check: an answer missing a declared field fails it."""
    doc = http.get("/openapi.json").json()
    answer = http.post("/v1/events", json={"customer_id": "C000021", "type": "callback"})
    broken = {k: v for k, v in answer.json().items() if k != "duplicate"}
    schema = {**doc["paths"]["/v1/events"]["post"]["responses"]["200"]["content"][
        "application/json"]["schema"], "components": doc["components"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
