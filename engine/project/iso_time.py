"""Dates and times given as text, read the same on every Python: ``fromisoformat`` took
``20240630``, ``+0100``, nanoseconds and week dates on 3.11 and refused them on 3.10 (and
pydantic differed from both).

``iso_date``: a date as ``YYYY-MM-DD`` (options such as ``--as-of``, dates in cvm.yaml).
``event_time``: an event's time, as ``cvm events`` (its ``at``) and ``cvm serve`` (an event's
``occurred_at``) both read it.

ISO 8601 in its extended form: a date (``2026-01-02``), optionally a time after ``T``, ``t`` or
a space (``10:00``, ``10:00:00``, ``10:00:00.5``; digits past the microsecond are dropped) and
a zone (``Z``, ``+01``, ``+0100``, ``+01:00``, after a space or not, as Rails writes
``2026-01-02 10:00:00 +0100``); surrounding spaces ignored. A time without a
zone is UTC. Years 1900 to 2199, counted in UTC."""

from __future__ import annotations

import datetime as dt
import re

YEARS = (1900, 2199)
TIME_EXPECTED = ("expected a date and time in ISO 8601, such as 2026-01-02T10:00:00Z or "
                 "2026-01-02 (a time without a zone is read as UTC)")
YEARS_EXPECTED = f"expected a time in the years {YEARS[0]} to {YEARS[1]} (in UTC)"

_FORM = re.compile(r"(\d{4})-(\d{2})-(\d{2})"  # ASCII digits alone (re.ASCII)
                   r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                   r" ?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?", re.ASCII)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def iso_date(text: str) -> dt.date:
    """The date ``text`` names as ``YYYY-MM-DD``; ValueError for any other text (as
    ``dt.date.fromisoformat`` on Python 3.10, which 3.11 widened)."""
    if not _DATE.fullmatch(text):
        raise ValueError(f"not a date as YYYY-MM-DD: {text!r}")
    return dt.date.fromisoformat(text)


def event_time(text: str) -> dt.datetime | None:
    """The time ``text`` names, in UTC (an aware datetime), or None when it is not one in the
    form above (any year: ``in_years`` says whether it may be used)."""
    m = _FORM.fullmatch(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = m.groups()
    try:
        local = dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                            int(second or 0), int((fraction or "")[:6].ljust(6, "0")))
        offset = dt.timedelta()
        if zone and zone not in ("Z", "z"):
            digits = zone[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:] or 0)
            if hours > 23 or minutes > 59:
                return None
            offset = dt.timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
        return (local - offset).replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError):  # no such day or time; beyond year 1 or 9999
        return None


def in_years(at: dt.datetime) -> bool:
    """Whether a time (aware, or naive in UTC) lies in the years an event may have."""
    utc = at.astimezone(dt.timezone.utc) if at.tzinfo is not None else at
    return YEARS[0] <= utc.year <= YEARS[1]
