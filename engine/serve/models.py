"""The request bodies, declared once (pydantic): what a client may send, bounded; a body that
does not fit gets a 422 naming the field. Values are data, never code."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from engine.project.iso_time import TIME_EXPECTED, YEARS_EXPECTED, event_time, in_years
from engine.project.triggers import EVENT_ID, EVENT_ID_EXPECTED

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Text = Annotated[str, StringConstraints(max_length=200)]


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, found {value}")
    return value


# NaN and Infinity (which Python's JSON reads) are no value a policy or trigger can compare:
# refused before the union's branches are tried, so the 422 names the field itself
Value = Annotated[bool | int | float | Text, BeforeValidator(_finite)]
OUTCOMES = ("accepted", "declined", "converted")


FUTURE_SKEW = dt.timedelta(minutes=5)  # how far ahead of our clock a sender's clock may run


class Strict(BaseModel):
    # NaN and Infinity are not numbers a policy or trigger can compare: 422, not a 500
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class NextBestActionRequest(Strict):
    channel: Name | None = Field(
        None, description="The channel the customer is on (e.g. call_centre): each action "
                          "says whether it may be delivered there.")
    context: dict[Name, Value] | None = Field(
        None, max_length=50,
        description="Attributes known now, overriding the run's (e.g. {\"recency_days\": 0}): "
                    "the decision is made again, live, by the same policies.")


class EventRequest(Strict):
    # read without surrounding spaces, as the transactions and the responses read ids
    customer_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=100)]
    type: Name = Field(description="complaint, purchase, visit, call, or a type the triggers "
                                   "declare")
    event_id: Annotated[str, StringConstraints(strip_whitespace=True)] | None = Field(
        None, description="the client's id of the event (at most 64 letters, digits, _ . : -, "
                          "a UUID fits): a request sent again with it is the same event, "
                          "answered with the first answer as a duplicate; default: a new id")
    occurred_at: dt.datetime | None = Field(
        None, description="default: now (UTC); at most 5 minutes ahead of the service's "
                          "clock, years 1900 to 2199")
    attributes: dict[Name, Value] = Field(default_factory=dict, max_length=50)

    @field_validator("event_id")
    @classmethod
    def _event_id(cls, value: str | None) -> str | None:
        """The history keeps an event's id in 64 characters: said in words, not a pattern."""
        if value == "":
            raise ValueError("expected an event id, found none: " + EVENT_ID_EXPECTED[
                len("expected "):] + "; leave event_id out for an event the service names")
        if value is not None and not EVENT_ID.fullmatch(value):
            raise ValueError(EVENT_ID_EXPECTED)
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        """A number is no time here: 20251201 read as Unix seconds is a day of 1970."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError("expected a date and time as text, such as 2026-01-02T10:00:00Z "
                             "(a number is not read as a Unix time)")
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+(\.\d*)?\s*", value):
            raise ValueError("expected a date and time such as 2026-01-02T10:00:00Z, found "
                             "digits alone (not read as a Unix time: 20251201 is written "
                             "2025-12-01)")
        if isinstance(value, str):  # as cvm events reads an event's time (pydantic's differs)
            at = event_time(value)
            if at is None:
                raise ValueError(TIME_EXPECTED)
            return at
        return value

    @field_validator("occurred_at")
    @classmethod
    def _not_ahead(cls, value: dt.datetime | None) -> dt.datetime | None:
        """An event from the future would move the triggers' clock ahead for everyone (every
        later event late, absences decided early): refused, as are years ``cvm events``
        refuses."""
        if value is None:
            return None
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)
        if not in_years(aware):
            raise ValueError(YEARS_EXPECTED)
        now = dt.datetime.now(dt.timezone.utc)
        if aware > now + FUTURE_SKEW:
            raise ValueError("expected a time at most 5 minutes ahead of the service's clock "
                             f"(now {now.isoformat(timespec='seconds')})")
        return aware


class ResponseRequest(Strict):
    outcome: Literal["accepted", "declined", "converted"]
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class ProblemItem(BaseModel):
    field: str = Field(description="where in the request: body.context.recency_days")
    message: str = Field(description="what was expected")
    found: bool | int | float | str | None = Field(description="what was sent (short)")


class ErrorBody(BaseModel):
    """Every error the service answers (401, 404, 405, 409, 413, 422): what went wrong, and
    for a request that does not fit, each problem; 404 also names what was not found."""

    error: str = Field(description="what went wrong, e.g. 'customer not found'")
    problems: list[ProblemItem] | None = Field(None, description="422: each problem")
    customer: str | None = Field(None, description="404: the customer id not found")
    interaction: str | None = Field(None, description="404: the interaction id not found")
    detail: str | None = Field(None, description="409 of a reload: why it failed; 503: the hint")


def errors(*codes: int) -> dict[int | str, dict[str, object]]:
    """The error answers a route declares in the OpenAPI document (their one shape)."""
    said = {401: "no key, or not the service's",
            503: "the history writer stopped, or the history cannot be read now",
            404: "the customer or interaction is not known",
            409: "the service cannot do it now (no history; a reload failed), or an "
            "event_id names another event",
            413: "the body is larger than the limit", 422: "the request does not fit: each "
            "problem names its field"}
    return {code: {"model": ErrorBody, "description": said[code]} for code in codes}
