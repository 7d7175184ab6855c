"""The HTTP API (FastAPI): health and readiness, a customer's profile, the next best action,
events, responses to interactions, reload; the agent screen under ``/agent/``.

The hot path (next best action without context) serves bytes prepared once (at a customer's
first request): one dict look-up, an interaction id spliced in, a row queued for the history
writer. Every handler reads the state once (``holder.state``): a reload never mixes two runs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import __version__
from engine.errors import InputError
from engine.history.tables import events, interaction_responses
from engine.serve.answer_models import (
    EventAnswer,
    Health,
    NextBestAction,
    Profile,
    Ready,
    Reloaded,
    ResponseAnswer,
    ok,
)
from engine.serve.context_names import declared_names, tier_change_problem
from engine.serve.journal import interaction_of, new_id, now, recent
from engine.serve.models import EventRequest, NextBestActionRequest, ResponseRequest, errors
from engine.serve.problems import (
    close,
    fits,
    not_found,
    outside,
    problem,
    problems_of,
    unreadable_json,
)
from engine.serve.ready import dumps
from engine.serve.security import DOCS, MAX_BODY, Guard
from engine.serve.service import Service

STATIC = Path(__file__).with_name("static")
JSON = "application/json"


def create_app(service: Service, key: str, *, max_body: int = MAX_BODY,
               docs: bool = True) -> Guard:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(title="CVM Engine", version=__version__, lifespan=lifespan,
                  description="Next best actions, profiles, events and outcomes from the "
                              "latest `cvm run`. Every endpoint but /health needs "
                              "'Authorization: Bearer KEY' (the Authorize button here).",
                  docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
                  openapi_url="/openapi.json" if docs else None)
    _bearer_in_docs(app)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        kind = (request.headers.get("content-type") or "none").lower()  # not read as JSON:
        if "json" not in kind and any(tuple(e.get("loc", ())) == ("body",) for e in exc.errors()):
            return problem("body", "expected a JSON body, sent with Content-Type: "
                           f"application/json (this request's: {kind})", exc.body)
        problems = problems_of(exc.errors(), exc.body)
        return JSONResponse({"error": "invalid request", "problems": problems},
                            status_code=422)

    @app.exception_handler(InputError)
    async def history_out_of_reach(request: Request, exc: InputError) -> JSONResponse:
        """The history read for an answer (a customer's recent contacts, an event's id asked
        for again) and out of reach: said in the service's one error shape, not a 500."""
        return JSONResponse({"error": "the history cannot be read now: "
                             + exc.problems[0].message, "detail": exc.problems[0].hint},
                            status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def no_route(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """No such endpoint, or not with this method: the service's one error shape. A body
        FastAPI could not parse (not UTF-8, nested too deeply: its 400) is a body problem."""
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            body = await request.body()
            return problem("body", unreadable_json(body), body)
        return JSONResponse({"error": str(exc.detail).lower()}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.get("/health", tags=["service"], responses=ok(Health, "alive"))
    async def health() -> dict[str, str]:
        """Alive (no key needed, no data)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["service"],
             responses={**ok(Ready, "the run served"), **errors(401, 503)})
    async def ready() -> JSONResponse:
        """Ready to answer: a run loaded, the history writer running (when recording)."""
        state = service.holder.state
        journal = service.journal  # (a failed batch is said, not a reason to be taken out of
        # rotation: nothing would then write again to say the history is back)
        out_of_reach = journal.unreachable if journal is not None else None
        writing = journal is None or journal.alive
        body = {"ready": writing, "run_id": state.run_id, "as_of": state.run.as_of,
                "customers": len(state.ready), "loaded_at": state.loaded_at,
                "history": ("off" if service.journal is None else
                            service.journal.store.settings.masked),
                "triggers": service.triggers.count, "channels": list(state.channels),
                "reload_error": service.holder.failure, "history_error": out_of_reach}
        return JSONResponse(body, status_code=200 if writing else 503)

    # ids may hold "/" (sent as %2F): the routes take the rest of the path, so what another
    # route's path with the wrong method or a trailing slash would have met is said here
    @app.post("/v1/customers/{customer_id:path}/next-best-action/", include_in_schema=False)
    async def slashed(request: Request) -> RedirectResponse:
        return RedirectResponse(request.url.replace(path=request.url.path[:-1]),
                                status_code=307)

    @app.get("/v1/customers/{customer_id:path}", tags=["customers"],  # (422: for FastAPI's)
             responses={**ok(Profile, "the customer"), **errors(401, 404, 422, 503)})
    def customer(customer_id: str, request: Request) -> Response:
        """The customer's value, tier, stage, churn risk and decision, with their recent
        contacts, responses and interactions from the history."""
        if customer_id.endswith("/next-best-action"):
            return JSONResponse({"error": "method not allowed"}, status_code=405,
                                headers={"Allow": "POST"})
        customer_id = customer_id.strip()  # as an event's, and the transactions' ids
        if not customer_id:
            return not_found("customer", customer_id)
        if customer_id.endswith("/"):
            return RedirectResponse(request.url.replace(path=request.url.path[:-1]),
                                    status_code=307)
        state = service.holder.state
        ready_row = state.ready.get(customer_id)
        if ready_row is None:
            return not_found("customer", customer_id)
        body = dict(ready_row.profile)
        # every opt-out the history holds, as known now (a run's decision may predate it)
        body["opted_out"] = state.opt_outs.get(customer_id)
        if service.journal is not None:
            service.journal.flush()
            body["history"] = recent(service.journal.store, customer_id)
        else:
            body["history"] = None
        return Response(dumps(body), media_type=JSON)

    @app.post("/v1/customers/{customer_id:path}/next-best-action", tags=["customers"],
              responses={**ok(NextBestAction, "the next best action"),
                         **errors(401, 404, 413, 422)})
    async def next_best_action(customer_id: str,
                               request: NextBestActionRequest | None = None) -> Response:
        """The ranked eligible actions (the first is the decision), why each applies and why
        the others do not, the contact policies; recorded as an interaction."""
        customer_id = customer_id.strip()
        state = service.holder.state
        ready_row = state.ready.get(customer_id)
        if ready_row is None:
            return not_found("customer", customer_id)
        channel = request.channel if request else None
        if channel is not None and channel not in state.channels:
            return problem("body.channel", "not a channel of policies/channels.yaml "
                           f"(one of {', '.join(state.channels)})", channel)
        context = request.context if request else None
        if context:
            for name, value in context.items():
                kind = state.context_types.get(name)
                if kind is None:
                    return problem(f"body.context.{name}", "not an attribute a policy may "
                                   "read here (the value table's numbers, texts and flags)",
                                   name)
                if not fits(kind, value):
                    return problem(f"body.context.{name}", f"expected a {kind}", value)
                if (out := outside(name, value) or tier_change_problem(
                        state.project, name, value)) is not None:
                    return problem(f"body.context.{name}", out, value)
                if (declared := declared_names(state.project, name)) is not None and \
                        value not in declared[1]:  # else no policy's tier or stage
                    return problem(f"body.context.{name}", f"expected one of {declared[0]}: "
                                   f"{', '.join(declared[1])}", value)
            answer = state.with_context(customer_id, channel, context)
            decision = answer["decision"]
            payload = dumps(answer)
        else:
            payload, decision = state.nba_bytes(customer_id, channel)
        iid = service.interaction(state, customer_id, "next_best_action",
                                  {**decision, "channel": channel})
        return Response(b'{"interaction_id":"' + iid.encode() + b'",' + payload[1:],
                        media_type=JSON)

    @app.post("/v1/events", tags=["events"],
              responses={**ok(EventAnswer, "what the event fired"),
                         **errors(401, 409, 413, 422, 503)})
    def post_event(request: EventRequest) -> Response:
        """An event (complaint, purchase, ...): the triggers decide; the fired actions are
        returned and recorded. A customer not in the run (new since) is evaluated with every
        attribute missing, as ``cvm events`` does, and said (``customer_in_run``)."""
        state = service.holder.state
        record = state.ready.record(request.customer_id)  # the answers are not needed
        types = service.triggers.event_types
        if types and request.type not in types:
            return problem("body.type", "not an event type of the triggers (one of "
                           f"{', '.join(sorted(types))})" + close(request.type, types),
                           request.type)
        for name, value in request.attributes.items():
            kind = types.get(request.type, {}).get(name) if types else None
            if types and kind is None:
                fields = ", ".join(sorted(types[request.type])) or "none"
                return problem(f"body.attributes.{name}", f"not a field of {request.type} "
                               f"events (its fields: {fields})"
                               + close(name, types[request.type]), name)
            if kind is not None and not fits(kind, value):
                return problem(f"body.attributes.{name}", f"expected a {kind}", value)
        event_id = request.event_id or new_id()
        occurred = (request.occurred_at or now()).astimezone(dt.timezone.utc)
        answer: dict[str, Any] = {
            "event_id": event_id, "customer_id": request.customer_id,
            "customer_in_run": record is not None, "type": request.type,
            "occurred_at": occurred.isoformat()}
        # a client's id: one request at a time, so that two sent at once are one event
        with service.posting if request.event_id else nullcontext():
            if request.event_id is not None and \
                    (first := service.earlier(event_id)) is not None:  # the first answer
                clash = first.clash(request.customer_id, request.type, request.attributes)
                if clash is not None:  # not a retry: another event with this one's id
                    return problem(clash[0], first.said(), clash[1], status=409,
                                   error="event_id already used")
                return Response(dumps({**first.answer, "duplicate": True}), media_type=JSON)
            result = None
            while result is None:  # None: those triggers were replaced by a reload just now
                result = service.triggers.post(
                    event_id, request.customer_id, request.type, occurred,
                    request.attributes, record)
            found, late = result
            fired = service.fired(event_id, found)
            answer.update(late=bool(late), late_for=list(late), fired=fired, duplicate=False)
            body = dumps(answer)
            attributes = json.dumps(request.attributes, sort_keys=True)
            service.record(events, {
                "id": event_id, "customer_id": request.customer_id, "type": request.type,
                "occurred_at": occurred, "recorded_at": now(), "attributes": attributes,
                "fired": len(fired), "answer": body.decode()})
            with nullcontext() if request.event_id else service.posting:  # (held, or taken)
                service.posting_done(event_id, body, request.attributes)  # service ids too
        return Response(body, media_type=JSON)

    @app.post("/v1/interactions/{interaction_id}/response", tags=["interactions"],
              responses={**ok(ResponseAnswer, "the outcome recorded"),
                         **errors(401, 404, 409, 413, 422, 503)})
    def respond(interaction_id: str, request: ResponseRequest) -> Response:
        """The customer's answer to an interaction: accepted, declined or converted."""
        if service.journal is None:
            return JSONResponse({"error": "the service records no history (--no-history)"},
                                status_code=409)
        service.journal.flush()
        found = interaction_of(service.journal.store, interaction_id)
        if found is None:
            return not_found("interaction", interaction_id)
        rid = new_id()
        service.record(interaction_responses, {
            "id": rid, "interaction_id": interaction_id,
            "customer_id": found["customer_id"], "outcome": request.outcome,
            "recorded_at": now(), "note": request.note})
        service.journal.flush()
        return Response(dumps({"response_id": rid, "interaction_id": interaction_id,
                               "customer_id": found["customer_id"],
                               "outcome": request.outcome}), media_type=JSON)

    @app.post("/v1/admin/reload", tags=["service"],
              responses={**ok(Reloaded, "the run now served"), **errors(401, 409)})
    def reload() -> Response:
        """Load the latest run now (the service also watches the run's manifest.json)."""
        try:  # the run replaced: the one served once a reload under way has finished
            before, state = service.reload()
        except Exception:
            return JSONResponse({"error": "reload failed, still serving run "
                                 + service.holder.state.run_id,
                                 "detail": service.holder.failure}, status_code=409)
        return Response(dumps({"run_id": state.run_id, "previous_run_id": before,
                               "customers": len(state.ready),
                               "loaded_at": state.loaded_at}), media_type=JSON)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/agent/")

    app.mount("/agent", StaticFiles(directory=STATIC, html=True), name="agent")
    return Guard(app, key, max_body, public=DOCS if docs else ())


def _bearer_in_docs(app: FastAPI) -> None:
    """The schema names the bearer key, so the docs page's Authorize button sends it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}}
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
