"""What the HTTP handlers share (:class:`Service`): the state holder, the history writer,
the triggers, and the events posted already: a request sent again with an event's id is that
event, answered as it was the first time."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.history.live import live_row
from engine.history.tables import events, interactions, live_contacts
from engine.project.rulebook import NO_ACTION
from engine.serve.events import Triggers
from engine.serve.journal import Journal, as_utc, new_id, now
from engine.serve.state import Holder, ServeState

# the answers to the last events kept in memory, as JSON (about a KB each; the older are in
# the history, which a retry of one reads)
POSTED_KEPT = 20_000


KEPT_TEXT = 200  # characters of an event's attributes kept as written; longer, a digest


def attributes_key(attributes: dict[str, Any]) -> str:
    """An event's attributes as compared with a request sent again: their JSON (keys in
    order; true is not 1, 10.0 is 10 as JSON's numbers are), or its SHA-256 when long (a KB
    of memory an event at most)."""
    same = {k: int(v) if isinstance(v, float) and v.is_integer() else v  # 10.0 is 10
            for k, v in attributes.items()}
    text = json.dumps(same, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= KEPT_TEXT else \
        "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Posted:
    """An event posted already: the answer it was given, and its attributes (``attributes_
    key``: a request sent again repeats them, with its customer and type)."""

    answer: dict[str, Any]
    attributes: str

    def clash(self, customer_id: str, kind: str,
              attributes: dict[str, Any]) -> tuple[str, Any] | None:
        """The field (and what it holds) where a request with this event's id is another
        event, or None: a retry (its ``occurred_at`` may be the time it was sent again)."""
        for field, first, given, sent in (
                ("customer_id", self.answer.get("customer_id"), customer_id, customer_id),
                ("type", self.answer.get("type"), kind, kind),
                ("attributes", self.attributes, attributes_key(attributes), attributes)):
            if first != given:
                return f"body.{field}", sent
        return None

    def said(self) -> str:
        shown = "as first sent" if self.attributes.startswith("sha256:") else self.attributes
        return (f"event_id {self.answer.get('event_id')} names an event posted already "
                f"(customer {self.answer.get('customer_id')}, type {self.answer.get('type')}, "
                f"attributes {shown}): a request sent again sends the same customer_id, type "
                "and attributes; another event needs another event_id")


class Service:
    """What the handlers share: the state holder, the history writer, the triggers."""

    def __init__(self, holder: Holder, journal: Journal | None, triggers: Triggers,
                 reload: Callable[[], tuple[str, ServeState]]) -> None:
        self.holder = holder
        self.journal = journal
        self.triggers = triggers
        self.reload = reload
        # each event's id (the client's or the service's), its answer and its attributes
        # (attributes_key; newest last): a request sent again with it is the same event,
        # given the same answer
        self.posted: dict[str, tuple[bytes, str]] = {}
        self.posting = threading.Lock()

    def earlier(self, event_id: str) -> Posted | None:
        """The event of this id, if one was posted: here since the start, or recorded in the
        history before (a restart between a request and its retry; an event recorded before
        the history kept answers: what it holds of it)."""
        if event_id in self.posted:
            answer, attributes = self.posted[event_id]
            return Posted(json.loads(answer), attributes)
        if self.journal is None:
            return None
        with self.journal.store.reading() as conn:
            row = conn.execute(select(events).where(events.c.id == event_id)).first()
        if row is None:
            return None
        given = attributes_key(json.loads(row.attributes or "{}"))
        if row.answer is not None:
            return Posted(json.loads(row.answer), given)
        return Posted({
            "event_id": event_id, "customer_id": row.customer_id,
            "customer_in_run": self.holder.state.ready.record(row.customer_id) is not None,
            "type": row.type, "occurred_at": as_utc(row.occurred_at).isoformat(),
            "late": False, "late_for": [], "fired": [], "duplicate": False}, given)

    def posting_done(self, event_id: str, answer: bytes, attributes: dict[str, Any]) -> None:
        self.posted[event_id] = (answer, attributes_key(attributes))
        if len(self.posted) > POSTED_KEPT:  # the oldest are in the history by now
            del self.posted[next(iter(self.posted))]

    def record(self, table: Any, row: dict[str, Any]) -> None:
        if self.journal is not None:
            self.journal.add(table, row)

    def interaction(self, state: ServeState, customer_id: str, source: str,
                    fields: dict[str, Any]) -> str:
        iid = new_id()
        self.record(interactions, {
            "id": iid, "customer_id": customer_id, "recorded_at": now(),
            "run_id": state.run_id, "source": source, "channel": fields.get("channel"),
            "action": fields.get("action"), "policy_id": fields.get("policy_id"),
            "campaign": fields.get("campaign"), "offer": fields.get("offer"),
            "service_level": fields.get("service_level"), "event_id": fields.get("event_id"),
            "trigger_id": fields.get("trigger_id"), "withheld": fields.get("withheld")})
        return iid

    def fired(self, event_id: str | None,
              fired: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Record each fired action as an interaction (an agent may answer it): its action
        (``trigger_action``), or ``no_action`` where the customer may not be contacted on its
        channel, with why (``withheld``). Checked against the state served now (a reload may
        have swapped the one the caller read)."""
        with self.holder.giving:  # checked and given at once: no two pass one policy
            return self._fired(self.holder.state, event_id, fired)

    def _fired(self, state: ServeState, event_id: str | None,
               fired: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for item in fired:
            cid = str(item.get("customer_id", ""))
            why = state.withheld(cid, item.get("channel"), item.get("campaign"))
            item = {**item, "trigger_action": item.get("action"), "withheld": why,
                    **({"action": NO_ACTION} if why is not None else {})}
            iid = self.interaction(state, cid, "trigger", {
                "channel": item.get("channel"), "action": item.get("action"),
                "campaign": item.get("campaign"),
                # an absence decided by the clock answers the event that opened it
                "event_id": event_id or next(iter(item.get("event_ids") or ()), None),
                "trigger_id": item.get("trigger_id"), "withheld": why})
            if why is None and item.get("channel"):
                self.contacted(state, iid, cid, item)
            out.append({"interaction_id": iid, **item})
        return out

    def contacted(self, state: ServeState, iid: str, customer_id: str,
                  item: dict[str, Any]) -> None:
        """A trigger's action given on a channel is a contact: counted at once by this
        service's contact policies, and recorded for the next runs (engine.history.live)."""
        at = now()
        row = live_row(customer_id=customer_id, at=at, channel=str(item["channel"]),
                       campaign=item.get("campaign"), action=item.get("action"),
                       trigger_id=item.get("trigger_id"), interaction_id=iid,
                       run_id=state.run_id)
        state.given.add(iid, customer_id, row["contact_date"], row["channel"], row["campaign"])
        self.record(live_contacts, row)
