"""An events file for ``cvm events``: CSV (a header; ``customer_id``, ``type``, ``at``, optional
``event_id``, then one column per event field, empty for none) or JSON Lines (one object a line
with those keys and ``fields``, an object). Every bad row is an error with its row, field, what
was found, what was expected and a hint (exit 1); nothing is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem, did_you_mean
from engine.policy.triggers import Event
from engine.project.conditions import BOOLEAN, NUMBER
from engine.project.iso_time import YEARS_EXPECTED, event_time, in_years
from engine.project.triggers import EVENT_ID, EVENT_ID_EXPECTED

MAX_PROBLEMS = 20  # shown; the count says how many more


def read_events(path: Path, types: Mapping[str, Mapping[str, str]]) -> list[Event]:
    """The file's events, in time order (ties: file order)."""
    if not path.is_file():
        raise InputError(Problem(("is a folder" if path.is_dir() else "file not found") +
                                 ", expected an events file (CSV or JSON Lines)",
                                 file=str(path)))
    if path.stat().st_size == 0:
        raise InputError(Problem("the file is empty, expected a header line "
                                 "(customer_id,type,at) and one event a row", file=path.name))
    problems: list[Problem] = []
    rows = _jsonl(path, problems) if path.suffix.lower() in (".jsonl", ".ndjson") else \
        _csv(path)
    events: list[Event] = []
    seen: dict[str, int] = {}  # event id -> the row that has it first
    for line, number, raw in rows:
        found = _event(path.name, line, number, raw, types, problems)
        given = raw.get("event_id")
        if given not in (None, "") and str(given).strip():  # (as the service reads it)
            if str(given).strip() in seen:
                problems.append(Problem(
                    f"row {number}, field 'event_id': found {given!r}, expected an id no "
                    f"other row has (row {seen[str(given).strip()]} has it)", file=path.name,
                    line=line, hint="an event sent twice is one event: remove the repeated "
                                    "row"))
                found = None
            seen.setdefault(str(given).strip(), number)
        if found is not None:
            events.append(found)
    for line, number, raw in rows:  # a row without an id is named row<N>: unless another's
        if raw.get("event_id") in (None, "") and f"row{number}" in seen:  # id is that name
            problems.append(Problem(
                f"row {number} has no event_id, and row{number}, the name cvm events gives it, "
                f"is row {seen[f'row{number}']}'s event_id", file=path.name, line=line,
                hint="give this row an event_id of its own"))
    if problems:
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS]
        if more > 0:
            shown.append(Problem(f"and {more} more problem(s)", file=path.name))
        raise InputError(shown)
    return sorted(events, key=lambda e: e.at)


def _csv(path: Path) -> list[tuple[int, int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [k for k in ("customer_id", "type", "at") if k not in (reader.fieldnames or [])]
        if missing:
            raise InputError(Problem(
                "the header lacks the column(s) " + ", ".join(repr(k) for k in missing) +
                " (found: " + ", ".join(repr(k) for k in reader.fieldnames or []) + ")",
                file=path.name, line=1, hint="an events file is comma-separated with the "
                "columns customer_id, type and at (event_id and the event fields optional)"))
        out = []
        for number, row in enumerate(reader, start=1):
            extra = row.pop(None, None)  # type: ignore[call-overload]
            if extra:
                raise InputError(Problem(f"row {number}: {len(extra)} more field(s) than the "
                                         "header", file=path.name, line=reader.line_num))
            fields = {k: v for k, v in row.items()
                      if k not in ("customer_id", "type", "at", "event_id") and v not in ("", None)}
            out.append((reader.line_num, number, {**{k: row.get(k) for k in
                                                    ("customer_id", "type", "at", "event_id")},
                                                 "fields": fields, "text": True}))
        return out


def _jsonl(path: Path, problems: list[Problem]) -> list[tuple[int, int, dict[str, Any]]]:
    out = []
    number = 0
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        number += 1
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(Problem(f"row {number}: not JSON ({exc.msg})", file=path.name,
                                    line=line, hint="one JSON object per line"))
            continue
        if not isinstance(raw, dict):
            problems.append(Problem(f"row {number}: found {type(raw).__name__}, expected an "
                                    "object", file=path.name, line=line))
            continue
        out.append((line, number, {**raw, "text": False}))
    return out


def _event(file: str, line: int, number: int, raw: dict[str, Any],
           types: Mapping[str, Mapping[str, str]],
           problems: list[Problem]) -> Event | None:
    def bad(name: str, found: Any, expected: str, hint: str | None = None) -> None:
        problems.append(Problem(f"row {number}, field {name!r}: found {found!r}, expected "
                                f"{expected}", file=file, line=line, hint=hint))

    unknown = [k for k in raw if k not in ("customer_id", "type", "at", "event_id", "fields",
                                           "text")]
    for key in unknown:
        bad(key, raw[key], "customer_id, type, at, event_id or fields",
            "put the event's fields under fields")
    customer = raw.get("customer_id")
    if not isinstance(customer, str) or not customer.strip():
        bad("customer_id", customer, "a customer id (text)")
    kind = raw.get("type")
    if kind not in types:
        bad("type", kind, "an event type: " + ", ".join(types),
            did_you_mean(str(kind), list(types)) or "declare it under event_types: in "
            "triggers/*.yaml")
    at = _time(raw.get("at"))
    read = event_time(raw["at"]) if at is None and isinstance(raw.get("at"), str) else None
    if read is not None:  # a time, in no year an event may have (as cvm serve says it)
        bad("at", raw.get("at"), YEARS_EXPECTED.removeprefix("expected "), "check the year")
    elif at is None:
        bad("at", raw.get("at"), "a date or time such as 2024-06-30T14:05:00",
            "ISO 8601; a time zone offset is converted to UTC, none means UTC")
    fields = raw.get("fields") or {}
    if not isinstance(fields, dict):
        bad("fields", fields, "an object of the event's fields")
        fields = {}
    declared = types.get(kind, {}) if isinstance(kind, str) else {}
    values: dict[str, Any] = {}
    for name, value in fields.items() if kind in types else ():
        if name not in declared:
            bad(name, value, f"a field of {kind} events (" + (", ".join(declared) or "none")
                + ")", did_you_mean(name, list(declared)) or f"leave the column empty in "
                f"rows of {kind} events")
            continue
        converted = _value(value, declared.get(name, ""), bool(raw.get("text")))
        if converted is _BAD:
            bad(name, value, f"a {declared[name]} ({name} is a {declared[name]} field)")
            continue
        values[name] = converted
    event_id = raw.get("event_id")
    if event_id in (None, ""):
        event_id = f"row{number}"
    elif not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id.strip()):
        bad("event_id", event_id, EVENT_ID_EXPECTED.removeprefix("expected "))
    else:
        event_id = event_id.strip()
    if len(problems) or at is None or kind not in types or not isinstance(customer, str):
        return None
    return Event(str(event_id), customer, str(kind), at, values)


_BAD: Any = object()


def _value(value: Any, kind: str, text: bool) -> Any:
    if kind == NUMBER:
        if text:
            try:
                value = float(value)
            except (TypeError, ValueError):
                return _BAD
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(float(value)):
            return _BAD
        return float(value)
    if kind == BOOLEAN:
        if text and isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value if isinstance(value, bool) else _BAD
    return value if isinstance(value, str) else _BAD


def _time(value: Any) -> dt.datetime | None:
    """The event's time in UTC, naive, read as ``cvm serve`` reads an event's (the same on
    every Python), or None."""
    found = event_time(value) if isinstance(value, str) else None
    if found is None or not in_years(found):
        return None
    return found.replace(tzinfo=None)
