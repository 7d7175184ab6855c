"""Event triggers, declared in ``triggers/*.yaml`` (optional; README "Triggers").

A file declares event types (beyond the built-in ones) and triggers. A trigger names an event
type and, optionally, conditions on the event's fields (``event.when``) and on the customer's
attributes (``customer``), both in the condition language of policies (the same parser); then
one of three shapes:

    single      every qualifying event fires it
    count       ``count: N`` qualifying events of the customer within ``within`` (7d, 48h, 30m)
    unless      a qualifying event with no event of type ``unless.type`` within
                ``unless.within`` after it

What the trigger does is ``then``: an action, a campaign and a channel, a priority and a
talking point. Deciding is engine.policy.triggers' (durable-rules).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, did_you_mean, errors_only
from engine.project import checks as c
from engine.project.condition_parser import Parser
from engine.project.conditions import ALWAYS, BOOLEAN, NUMBER, TEXT, Condition
from engine.project.rulebook_io import ID, Raw, read
from engine.project.yamlio import YamlDoc
from engine.words import listed

FOLDER = "triggers"
FIELD_TYPES = (NUMBER, TEXT, BOOLEAN)
BUILT_IN: dict[str, dict[str, str]] = {
    "complaint": {"topic": TEXT, "severity": TEXT, "channel": TEXT},
    "purchase": {"amount": NUMBER, "order_id": TEXT, "category": TEXT},
    "visit": {"page": TEXT, "channel": TEXT},
    "call": {"reason": TEXT, "direction": TEXT, "minutes": NUMBER},
    "callback": {"agent": TEXT, "outcome": TEXT},
}
RESERVED = ("customer_id", "type", "at", "event_id")  # columns of an events file
# a client's event id, as `cvm serve` and `cvm events` take it (read without surrounding
# spaces): what the history keeps (cvm_events.id, 64 characters)
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
EVENT_ID_EXPECTED = "expected at most 64 letters, digits, _ . : or - (a UUID fits)"
MAX_COUNT = 3  # durable-rules crashed on chains of four correlated events (trigger_sessions)
UNITS = {"m": 60, "h": 3600, "d": 86400}
MAX_WINDOW = 3650 * 86400
_DURATION = re.compile(r"^([1-9][0-9]{0,6})(m|h|d)$")


def seconds(text: str) -> int:
    """A checked duration (``48h``) in seconds."""
    found = _DURATION.match(text)
    assert found is not None
    return int(found.group(1)) * UNITS[found.group(2)]


def _duration_check(value: str) -> str | None:
    if not _DURATION.match(value):
        return (f"found {value!r}, expected a duration: a whole number and m (minutes), h "
                "(hours) or d (days), such as 48h or 7d")
    if seconds(value) > MAX_WINDOW:
        return f"found {value!r}, expected a duration of at most 3650d"
    return None


DURATION = c.Text(check_fn=_duration_check)
EVENT_TYPE = c.Record([
    c.Field("fields", c.MapOf(ID, c.Text(choices=FIELD_TYPES)), {},
            about="field name: number, text or boolean"),
    c.Field("description", c.Text(), ""),
], what="an event type")
EVENT = c.Record([
    c.Field("type", ID, about="a built-in event type (" + ", ".join(BUILT_IN) + ") or one "
            "declared under event_types"),
    c.Field("when", Raw(), None, about="conditions on the event's fields"),
], what="the event")
UNLESS = c.Record([
    c.Field("type", ID, about="the event type whose absence fires the trigger"),
    c.Field("within", DURATION, about="after the event, e.g. 48h"),
], what="the absence: no event of this type within this time")
THEN = c.Record([
    c.Field("action", ID, about="what to do, e.g. service_recovery_call"),
    c.Field("campaign", c.Optional(ID), None),
    c.Field("channel", c.Optional(ID), None),
    c.Field("priority", c.Number(integer=True), 0, about="higher is more urgent"),
    c.Field("talking_point", c.Text(), "", about="what to say or do"),
], what="what the trigger does")
TRIGGER = c.Record([
    c.Field("id", ID, about="unique across triggers/"),
    c.Field("description", c.Text()),
    c.Field("event", EVENT),
    c.Field("customer", Raw(), None, about="conditions on the customer's attributes"),
    c.Field("count", c.Optional(c.Number(min=2, max=MAX_COUNT, integer=True)), None,
            about="fires on this many qualifying events within `within`"),
    c.Field("within", c.Optional(DURATION), None, about="the window of `count`, e.g. 7d"),
    c.Field("unless", c.Optional(UNLESS), None),
    c.Field("then", THEN),
    c.Field("enabled", c.Bool(), True),
], what="a trigger", elsewhere={
    key: f"{key} belongs under `then:` (what the trigger does): indent it beneath `then:`, "
    f"beside {listed(tuple(k for k in ('action', 'channel', 'talking_point') if k != key))}"
    for key in ("action", "campaign", "channel", "priority", "talking_point")})
TRIGGERS = c.Record([
    c.Field("event_types", c.MapOf(ID, EVENT_TYPE), {},
            about="event types beyond the built-in ones, with their fields"),
    c.Field("triggers", c.ListOf(TRIGGER), []),
], what="event types and triggers")


@dataclass(frozen=True)
class Trigger:
    id: str
    description: str
    event_type: str
    event_when: Condition  # on the event's fields
    customer: Condition  # on the customer's attributes
    count: int  # 1: a single event
    within: int  # seconds: the window of count, or of unless
    unless: str | None  # the event type whose absence fires it
    action: str
    campaign: str | None
    channel: str | None
    priority: int
    talking_point: str
    file: str
    line: int | None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Triggers:
    event_types: Mapping[str, Mapping[str, str]]  # type -> field -> number/text/boolean
    triggers: tuple[Trigger, ...]  # the enabled ones, in file and line order
    files: tuple[str, ...]

    @property
    def horizon(self) -> int:
        """Seconds of events any trigger looks back over (0: single events only)."""
        return max((t.within for t in self.triggers), default=0)


NONE = Triggers(BUILT_IN, (), ())


def load_triggers(project: Path, types: Mapping[str, str],
                  values: Mapping[str, Collection[str]] | None = None,
                  channels: Collection[str] | None = None) -> Triggers:
    """Read and check triggers/*.yaml (no folder: no triggers); InputError lists every problem."""
    found, problems = check_triggers(project, types, values, channels)
    if errors_only(problems):
        raise InputError(errors_only(problems))
    assert found is not None
    return found


def check_triggers(project: Path, types: Mapping[str, str],
                   values: Mapping[str, Collection[str]] | None = None,
                   channels: Collection[str] | None = None
                   ) -> tuple[Triggers | None, list[Problem]]:
    """The triggers and every problem (None when there are errors). ``types``: the customer
    attributes; ``values``: the allowed values of closed text attributes; ``channels``: the
    declared channel ids (None: not checked)."""
    folder = project / FOLDER
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    problems: list[Problem] = []
    docs = []
    broken = []  # files whose keys or values are wrong: their triggers checked all the same
    for path in paths:
        doc, raw = read(path, project, TRIGGERS, problems, keep_doc=True)
        if doc is not None and raw is not None:
            docs.append((doc, raw))
        elif doc is not None:
            broken.append((doc, salvaged(doc)))
    event_types: dict[str, dict[str, str]] = {k: dict(v) for k, v in BUILT_IN.items()}
    declared: dict[str, str] = {}
    for doc, raw in docs:
        for name, spec in raw["event_types"].items():
            at = ("event_types", name)
            if name in BUILT_IN:
                problems.append(doc.problem(at, f"event type {name!r} is built in (fields: "
                                            + ", ".join(BUILT_IN[name]) + ")", key=True,
                                            hint="give your own type another name"))
            elif name in declared:
                problems.append(doc.problem(at, f"event type {name!r} is declared twice "
                                            f"(first in {declared[name]})", key=True,
                                            hint="declare each event type once"))
            else:
                declared[name] = doc.file
                event_types[name] = dict(spec["fields"])
            for field_name in spec["fields"]:
                if field_name in RESERVED:
                    problems.append(doc.problem((*at, "fields", field_name), f"field "
                                                f"{field_name!r} is a column of every event",
                                                key=True, hint="choose another field name"))
    for doc, types_found in broken:  # their event types known, as far as they read
        for name, fields in types_found.items():
            if name not in BUILT_IN and name not in declared:
                declared[name] = doc.file
                event_types[name] = fields
    found: list[Trigger] = []
    seen: dict[str, str] = {}
    for doc, raw in docs:
        for i, item in enumerate(raw["triggers"]):
            trigger = _trigger(doc, i, item, event_types, types, values or {}, channels,
                               seen, problems)
            if trigger is not None and item["enabled"]:
                found.append(trigger)
    for doc, _ in broken:  # one round of validate says everything wrong in them too
        for i, item in salvaged_triggers(doc):
            _trigger(doc, i, item, event_types, types, values or {}, channels, seen, problems)
    if errors_only(problems):
        return None, problems
    return Triggers(event_types, tuple(found), tuple(doc.file for doc, _ in docs)), problems


def _trigger(doc: YamlDoc, i: int, item: dict[str, Any], event_types: Mapping[str, Any],
             types: Mapping[str, str], values: Mapping[str, Collection[str]],
             channels: Collection[str] | None, seen: dict[str, str],
             problems: list[Problem]) -> Trigger | None:
    at = ("triggers", i)
    before = len(problems)
    line, column = doc.where((*at, "id"))
    if item["id"] in seen:
        problems.append(doc.problem((*at, "id"), f"duplicate trigger id {item['id']!r} (also "
                                    f"in {seen[item['id']]})", hint="each trigger needs its "
                                    "own id"))
    seen.setdefault(item["id"], f"{doc.file}:{line}:{column}")
    kind = item["event"]["type"]
    fields = event_types.get(kind)
    if fields is None:
        problems.append(_unknown_type(doc, (*at, "event", "type"), kind, event_types))
    unless = item["unless"]
    if unless is not None and unless["type"] not in event_types:
        problems.append(_unknown_type(doc, (*at, "unless", "type"), unless["type"],
                                      event_types))
    if item["count"] is not None and item["within"] is None:
        problems.append(doc.problem((*at, "count"), "count needs within: the window the "
                                    "events must fall in", hint="e.g. count: 2, within: 7d"))
    if item["within"] is not None and item["count"] is None:
        problems.append(doc.problem((*at, "within"), "within needs count: how many events "
                                    "must fall in the window", hint="e.g. count: 2, within: "
                                    "7d; for an absence write unless: {type: callback, "
                                    "within: 48h}"))
    if item["count"] is not None and unless is not None:
        problems.append(doc.problem((*at, "unless"), "a trigger takes count or unless, not "
                                    "both", hint="write two triggers"))
    channel = item["then"]["channel"]
    if channel is not None and channels is not None and channel not in channels:
        problems.append(doc.problem((*at, "then", "channel"), f"found {channel!r}, expected a "
                                    "channel declared in policies/channels.yaml ("
                                    + ", ".join(sorted(channels)) + ")",
                                    hint=did_you_mean(channel, list(channels))
                                    or "declare it in policies/channels.yaml, or name one "
                                    "declared there"))
    event_when: Condition | None = ALWAYS
    if item["event"]["when"] is not None and fields is not None:
        event_when = _event_condition(doc, (*at, "event", "when"), kind, fields,
                                      item["event"]["when"], problems)
    customer: Condition | None = ALWAYS
    if item["customer"] is not None:
        parser = Parser(doc, types, values)
        customer = parser.when(item["customer"], (*at, "customer"))
        problems.extend(parser.problems)
    if len(problems) > before or event_when is None or customer is None:
        return None
    window = item["within"] or (unless["within"] if unless is not None else None)
    then = item["then"]
    return Trigger(item["id"], item["description"], kind, event_when, customer,
                   item["count"] or 1, seconds(window) if window else 0,
                   unless["type"] if unless is not None else None, then["action"],
                   then["campaign"], channel, then["priority"], then["talking_point"], doc.file,
                   line)


def salvaged(doc: YamlDoc) -> dict[str, dict[str, str]]:
    """The event types of a file whose keys or values are wrong, those that read whole."""
    value, _ = c.check_collect(doc, TRIGGERS)  # its problems are said already
    types = value.get("event_types") if isinstance(value, dict) else None
    if not isinstance(types, dict):
        return {}
    return {name: dict(spec["fields"]) for name, spec in types.items()
            if isinstance(spec, dict) and isinstance(spec.get("fields"), dict)
            and c.MISSING not in spec["fields"].values()}


def salvaged_triggers(doc: YamlDoc) -> list[tuple[int, dict[str, Any]]]:
    """The triggers of a file whose keys or values are wrong, as far as they read: each with
    its id and event type, a part that did not read taken as absent (a wrong part is said
    already; its description, say, is not needed to check the rest)."""
    value, _ = c.check_collect(doc, TRIGGERS)
    items = value.get("triggers") if isinstance(value, dict) else None
    out = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or item.get("id") in (None, c.MISSING):
            continue
        event = item.get("event")
        if not isinstance(event, dict) or event.get("type") in (None, c.MISSING):
            continue
        given = item.get("then")
        then: dict[str, Any] = given if isinstance(given, dict) else {}
        unless = item.get("unless")
        out.append((i, {
            **{k: (None if item.get(k) is c.MISSING else item.get(k))
               for k in ("customer", "count", "within")},
            "id": item["id"], "description": "", "enabled": False,
            "event": {"type": event["type"],
                      "when": None if event.get("when") is c.MISSING else event.get("when")},
            "unless": unless if isinstance(unless, dict) and c.MISSING not in unless.values()
            else None,
            "then": {"action": "", "campaign": None, "priority": 0, "talking_point": "",
                     "channel": None if then.get("channel") is c.MISSING
                     else then.get("channel")}}))
    return out


def _unknown_type(doc: YamlDoc, path: tuple[Any, ...], kind: str,
                  known: Mapping[str, Any]) -> Problem:
    return doc.problem(path, f"unknown event type {kind!r}, expected one of "
                       + ", ".join(known), hint=did_you_mean(kind, list(known)) or
                       "declare it under event_types: with its fields")


def _event_condition(doc: YamlDoc, path: tuple[Any, ...], kind: str, fields: Mapping[str, str],
                     raw: Any, problems: list[Problem]) -> Condition | None:
    """The event's conditions, read by the policies' parser over the event type's fields."""
    parser = Parser(doc, fields)
    found = parser.when(raw, path)
    for problem in parser.problems:
        if problem.message.startswith("unknown attribute "):
            name = problem.message.removeprefix("unknown attribute ")
            problem = Problem(f"unknown field {name} of {kind} events", file=problem.file,
                              line=problem.line, column=problem.column, key=problem.key,
                              hint=did_you_mean(name.strip("'"), list(fields)) or
                              f"fields of {kind} events: " + (", ".join(fields) or "none"))
        problems.append(problem)
    return found
