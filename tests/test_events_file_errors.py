"""`cvm events FILE`: the mistakes a new user made with an events file are each said once,
with row and field (second new-user trial of issue 14): a folder, an empty file, a header
without the required columns (a semicolon-separated file), an event id used twice, and every
bad line of a JSON Lines file at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InputError
from engine.workflow.events_file import read_events

TYPES = {"complaint": {"topic": "text"}, "callback": {}}


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        read_events(path, TYPES)
    return [p.format() for p in caught.value.problems]


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    assert problems(tmp_path) == [
        f"{tmp_path}: is a folder, expected an events file (CSV or JSON Lines)"]


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert problems(empty) == [
        "empty.csv: the file is empty, expected a header line (customer_id,type,at) and one "
        "event a row"]


def test_missing_columns_are_said_once(tmp_path: Path) -> None:
    semi = tmp_path / "semi.csv"
    semi.write_text("customer_id;type;at\nC1;complaint;2026-01-01T10:00:00\n")
    assert problems(semi) == [
        "semi.csv:1: the header lacks the column(s) 'customer_id', 'type', 'at' (found: "
        "'customer_id;type;at')\n"
        "  hint: an events file is comma-separated with the columns customer_id, type and at "
        "(event_id and the event fields optional)"]


def test_an_event_id_used_twice_is_an_error(tmp_path: Path) -> None:
    dup = tmp_path / "dup.csv"
    dup.write_text("event_id,customer_id,type,at\nE1,C1,complaint,2026-01-01T10:00:00\n"
                   "E1,C1,complaint,2026-01-01T10:00:00\n")
    assert problems(dup) == [
        "dup.csv:3: row 2, field 'event_id': found 'E1', expected an id no other row has (row 1 "
        "has it)\n  hint: an event sent twice is one event: remove the repeated row"]


def test_every_bad_json_line_is_said(tmp_path: Path) -> None:
    lines = tmp_path / "e.jsonl"
    lines.write_text('{"customer_id": "C1", "type": "complaint", "at": "2026-01-01"}\n'
                     "not json\n[1, 2]\n"
                     '{"customer_id": "C2", "type": "complain", "at": "2026-01-01"}\n')
    found = problems(lines)
    assert [p.splitlines()[0] for p in found] == [
        "e.jsonl:2: row 2: not JSON (Expecting value)",
        "e.jsonl:3: row 3: found list, expected an object",
        "e.jsonl:4: row 4, field 'type': found 'complain', expected an event type: complaint, "
        "callback"]
