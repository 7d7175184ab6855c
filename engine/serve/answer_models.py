"""The 200 answers of `cvm serve`, as the OpenAPI document declares them (an integrator's
generated client had no type for any success: the document described the errors only). The
handlers write their answers themselves (JSON bytes made once); these models describe them,
and tests/test_serve_openapi.py checks real answers against the document. Fields not listed
here may appear (``extra="allow"``): the README's endpoint table is the full description."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Health(_Answer):
    status: str = Field(description="ok")


class Ready(_Answer):
    ready: bool
    run_id: str = Field(description="the run served")
    as_of: str
    customers: int
    loaded_at: str
    history: str = Field(description="where the service records, password masked; 'off' with "
                                     "--no-history")
    triggers: int = Field(description="how many triggers the project declares")
    channels: list[str]
    reload_error: str | None = Field(description="why the last reload failed, if it did")
    history_error: str | None = Field(description="while the history is out of reach: how "
                                      "many rows wait to be recorded (tried again until it "
                                      "answers), how many were lost, and why; null once "
                                      "they are written")


class Profile(_Answer):
    customer_id: str
    run_id: str
    as_of: str
    value: dict[str, float | int | None] = Field(
        description="the value table's figures: historic, current, potential, influence and "
                    "total value, clv_discounted, revenue, frequency, recency_days, "
                    "value_score")
    value_tier: str | None
    lifecycle_stage: str | None
    stage_rule: str | None
    segments: list[str]
    churn_risk: float | None
    p_alive: float | None
    days_to_contract_end: float | None = Field(
        description="subscriptions: days from the as-of date to the end of the running "
                    "contract, where its end is booked; else null")
    preferred_channel: str | None
    decision: dict[str, Any] = Field(description="the run's decision (decisions.csv)")
    batch: dict[str, Any] | None = Field(description="the run's allocation (actions.csv)")
    opted_out: str | None = Field(description="the opt-out the history holds, if any")
    history: dict[str, list[dict[str, Any]]] | None = Field(
        description="recent contacts, responses and interactions; null with --no-history")


class NextBestAction(_Answer):
    interaction_id: str = Field(description="the answer recorded: send outcomes to it")
    customer_id: str
    run_id: str
    as_of: str
    channel: str | None = Field(description="the channel asked for")
    context: dict[str, Any]
    value_tier: str | None
    lifecycle_stage: str | None
    total_value: float | None
    decision: dict[str, Any] = Field(description="the action given now, with status and "
                                                 "status_reason")
    policy_decision: dict[str, Any]
    batch: dict[str, Any] | None
    actions: list[dict[str, Any]] = Field(description="the eligible actions, ranked")
    not_eligible: list[dict[str, Any]]
    contact_policies: list[dict[str, Any]]


class FiredAction(_Answer):
    interaction_id: str
    trigger_id: str
    customer_id: str
    at: str
    action: str = Field(description="no_action where withheld")
    trigger_action: str | None = Field(description="the action the trigger names")
    withheld: str | None = Field(description="why the action is not given")
    campaign: str | None
    channel: str | None
    priority: int
    description: str
    event_ids: list[str]
    reason: str


class EventAnswer(_Answer):
    event_id: str
    customer_id: str
    customer_in_run: bool
    type: str
    occurred_at: str
    late: bool
    late_for: list[str] = Field(description="the triggers the event came too late for")
    fired: list[FiredAction]
    duplicate: bool = Field(description="true: the first answer to this event_id, again")


class ResponseAnswer(_Answer):
    response_id: str
    interaction_id: str
    customer_id: str
    outcome: str


class Reloaded(_Answer):
    run_id: str
    previous_run_id: str | None
    customers: int
    loaded_at: str


def ok(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """A route's 200 answer for the OpenAPI document."""
    return {200: {"model": model, "description": description}}
