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


def test_an_event_id_is_what_cvm_serve_takes(tmp_path: Path) -> None:
    """A call-centre trial: ids of 65 characters, with a space or an accent were replayed by
    cvm events and refused by cvm serve, and ' A' and 'A' were two events here and one there:
    the same CRM feed judged two ways."""
    ids = tmp_path / "ids.csv"
    ids.write_text("customer_id,type,at,event_id\n"
                   f"C1,complaint,2026-01-01,{'x' * 65}\n"
                   "C1,complaint,2026-01-02,a b\n"
                   "C1,complaint,2026-01-03,é\n"
                   f"C1,complaint,2026-01-04,{'y' * 64}\n"
                   "C1,callback,2026-01-05,6f1c2b7e-2a41-4c55-9a51-0d6a4c1f1e2d\n"
                   "C1,callback,2026-01-06,A\n"
                   "C1,callback,2026-01-07, A \n")
    expected = "expected at most 64 letters, digits, _ . : or - (a UUID fits)"
    assert problems(ids) == [
        f"ids.csv:2: row 1, field 'event_id': found {'x' * 65!r}, {expected}",
        f"ids.csv:3: row 2, field 'event_id': found 'a b', {expected}",
        f"ids.csv:4: row 3, field 'event_id': found 'é', {expected}",
        "ids.csv:8: row 7, field 'event_id': found ' A ', expected an id no other row has "
        "(row 6 has it)\n  hint: an event sent twice is one event: remove the repeated row"]
    ids.write_text("customer_id,type,at,event_id\n"
                   "C1,callback,2026-01-05,6f1c2b7e-2a41-4c55-9a51-0d6a4c1f1e2d\n"
                   "C1,callback,2026-01-06, A\n")
    assert [e.id for e in read_events(ids, TYPES)] == [
        "6f1c2b7e-2a41-4c55-9a51-0d6a4c1f1e2d", "A"]


def test_a_row_s_default_name_taken_by_another_row_s_id_is_said(tmp_path: Path) -> None:
    """The re-trial: row 1's event_id 'row2' and row 2 without one replayed as two events of
    one id ('row2, row2')."""
    clash = tmp_path / "clash.csv"
    clash.write_text("customer_id,type,at,event_id\nC1,complaint,2026-01-01,row2\n"
                     "C1,complaint,2026-01-02,\n")
    assert problems(clash) == [
        "clash.csv:3: row 2 has no event_id, and row2, the name cvm events gives it, is row "
        "1's event_id\n  hint: give this row an event_id of its own"]


def test_a_time_outside_the_years_is_said_as_cvm_serve_says_it(tmp_path: Path) -> None:
    """A data engineer's re-trial: 1899-12-31T23:00:00Z was 'expected a date or time such as
    2024-06-30T14:05:00' here, 'a time in the years 1900 to 2199 (in UTC)' from cvm serve."""
    ev = tmp_path / "ev.csv"
    ev.write_text("customer_id,type,at\nC1,callback,1899-12-31T23:00:00Z\n"
                  "C1,callback,not a time\n")
    assert problems(ev) == [
        "ev.csv:2: row 1, field 'at': found '1899-12-31T23:00:00Z', expected a time in the "
        "years 1900 to 2199 (in UTC)\n  hint: check the year",
        "ev.csv:3: row 2, field 'at': found 'not a time', expected a date or time such as "
        "2024-06-30T14:05:00\n  hint: ISO 8601; a time zone offset is converted to UTC, none "
        "means UTC"]
