"""The request bodies, declared once (pydantic): what a client may send, bounded; a body that
does not fit gets a 422 naming the field. Values are data, never code."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
Text = Annotated[str, StringConstraints(max_length=200)]
Value = bool | int | float | Text
OUTCOMES = ("accepted", "declined", "converted")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NextBestActionRequest(Strict):
    channel: Name | None = Field(
        None, description="The channel the customer is on (e.g. call_centre): each action "
                          "says whether it may be delivered there.")
    context: dict[Name, Value] | None = Field(
        None, max_length=50,
        description="Attributes known now, overriding the run's (e.g. {\"recency_days\": 0}): "
                    "the decision is made again, live, by the same policies.")


class EventRequest(Strict):
    customer_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    type: Name = Field(description="complaint, purchase, visit, call, or a type the triggers "
                                   "declare")
    occurred_at: dt.datetime | None = Field(None, description="default: now (UTC)")
    attributes: dict[Name, Value] = Field(default_factory=dict, max_length=50)


class ResponseRequest(Strict):
    outcome: Literal["accepted", "declined", "converted"]
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
