"""An event's time is read one way by `cvm events` and `cvm serve`, on every Python: an
integrator's trial found the same time string accepted by one and refused by the other
(`fromisoformat` took `+0100`, nanoseconds and week dates on Python 3.11 and refused them on
3.10; pydantic took `t`/`z` and refused surrounding spaces and `+01`)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from engine.serve.models import EventRequest
from engine.workflow.events_file import _time

UTC = dt.timezone.utc
READ = {
    "2026-01-02T10:00:00Z": dt.datetime(2026, 1, 2, 10),
    "2026-01-02 10:00:00": dt.datetime(2026, 1, 2, 10),
    "2026-01-02": dt.datetime(2026, 1, 2),
    "2026-01-02T10:00": dt.datetime(2026, 1, 2, 10),
    "2026-01-02T10:00:00.123456789Z": dt.datetime(2026, 1, 2, 10, 0, 0, 123456),
    "2026-01-02T10:00:00,5": dt.datetime(2026, 1, 2, 10, 0, 0, 500000),
    "2026-01-02T10:00:00+0100": dt.datetime(2026, 1, 2, 9),
    "2026-01-02T10:00:00+01": dt.datetime(2026, 1, 2, 9),
    "2026-01-02T10:00:00-05:30": dt.datetime(2026, 1, 2, 15, 30),
    "2026-01-02t10:00:00z": dt.datetime(2026, 1, 2, 10),
    " 2026-01-02T10:00:00Z ": dt.datetime(2026, 1, 2, 10),
    "2026-01-02 10:00:00 +0100": dt.datetime(2026, 1, 2, 9),  # Rails' Time#to_s (a review)
    "1900-01-01T00:30:00+00:30": dt.datetime(1900, 1, 1),
}
REFUSED = ["20260102T100000Z", "2026-1-2T10:00:00Z", "2026-01-02T24:00:00Z", "2026-W01-1",
           "2026-002", "2026-02-30", "2026-01-02T10:00:00+24:00", "2026-01-02Z", "",
           "1900-01-01T00:30:00+01:00",  # 1899 in UTC
           "2200-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"]


def _served(text: str) -> dt.datetime | None:
    try:
        at = EventRequest(customer_id="C1", type="complaint", occurred_at=text).occurred_at
    except ValidationError:
        return None
    assert at is not None and at.utcoffset() == dt.timedelta()
    return at.astimezone(UTC).replace(tzinfo=None)


@pytest.mark.parametrize("text", [*READ, *REFUSED])
def test_cvm_events_and_cvm_serve_read_an_event_time_alike(text: str) -> None:
    expected = READ.get(text)
    assert _time(text) == expected
    assert _served(text) == expected


def test_a_time_not_read_is_said_with_the_form_expected() -> None:
    with pytest.raises(ValidationError) as caught:
        EventRequest(customer_id="C1", type="complaint", occurred_at="2026-W01-1")
    assert caught.value.errors()[0]["msg"] == (
        "Value error, expected a date and time in ISO 8601, such as 2026-01-02T10:00:00Z or "
        "2026-01-02 (a time without a zone is read as UTC)")
    with pytest.raises(ValidationError) as caught:
        EventRequest(customer_id="C1", type="complaint", occurred_at="1899-12-31T23:00:00Z")
    assert caught.value.errors()[0]["msg"] == (
        "Value error, expected a time in the years 1900 to 2199 (in UTC)")
