"""Why a condition failed, in words: every operator, with a value, a missing one and a wrong one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.policy.condition_text import first_failure
from engine.project.condition_parser import Parser
from engine.project.conditions import Condition
from engine.project.schema import attribute_types
from engine.project.yamlio import load_text

TYPES = attribute_types(consents=["email"])


def cond(text: str) -> Condition:
    doc = load_text(f"when:\n  {text}\n")
    parsed = Parser(doc, TYPES).when(doc.data["when"], ("when",))
    assert parsed is not None
    return parsed


def why(text: str, value: Any) -> str:
    attribute = text.split(":")[0]
    failure = first_failure(cond(text), {attribute: value})
    assert failure is not None, (text, value)
    return failure.text


@pytest.mark.parametrize(("text", "value", "expected"), [
    # a number, present
    ("recency_days: 30", 10, "recency_days is 10, needed 30 days"),
    ("recency_days: {ne: 10}", 10, "recency_days is 10, needed a value other than 10 days"),
    ("recency_days: {lt: 5}", 10, "recency_days is 10, needed less than 5 days"),
    ("recency_days: {lte: 5}", 10, "recency_days is 10, needed at most 5 days"),
    ("recency_days: {gt: 20}", 10, "recency_days is 10, needed more than 20 days"),
    ("recency_days: {gte: 20}", 10, "recency_days is 10, needed at least 20 days"),
    ("recency_days: {between: [20, 30]}", 10,
     "recency_days is 10, needed between 20 and 30 days"),
    ("recency_days: {in: [1, 2]}", 10, "recency_days is 10, needed 1 or 2 days"),
    ("recency_days: {not_in: [10, 11]}", 10,
     "recency_days is 10, needed a value other than 10 or 11 days"),
    ("recency_days: {missing: true}", 10, "recency_days is 10, needed it to be missing"),
    ("recency_days: {exists: false}", 10.5, "recency_days is 10.5, needed it to be missing"),
    # a number, missing: every test but `missing` fails, `ne` and `not_in` too
    ("recency_days: 30", None, "recency_days is missing, needed 30 days"),
    ("recency_days: {ne: 10}", None,
     "recency_days is missing, needed a value other than 10 days"),
    ("recency_days: {lt: 5}", float("nan"), "recency_days is missing, needed less than 5 days"),
    ("recency_days: {between: [20, 30]}", None,
     "recency_days is missing, needed between 20 and 30 days"),
    ("recency_days: {not_in: [10, 11]}", None,
     "recency_days is missing, needed a value other than 10 or 11 days"),
    ("recency_days: {exists: true}", None, "recency_days is missing, needed a value"),
    ("recency_days: {missing: false}", None, "recency_days is missing, needed a value"),
    # a number of the wrong type counts as missing, and says so
    ("recency_days: {gte: 20}", "late",
     "recency_days is 'late' (not a number: missing), needed at least 20 days"),
    ("recency_days: {exists: true}", True,
     "recency_days is True (not a number: missing), needed a value"),
    # recency_ratio is missing for one-time buyers: said once, where it matters
    ("recency_ratio: {gt: 1.5}", None, "recency_ratio is missing (a one-time buyer has no "
     "usual gap), needed more than 1.5 times the usual gap"),
    ("recency_ratio: {missing: true}", 0.8, "recency_ratio is 0.8, needed it to be missing"),
    # text
    ("value_tier: gold", "silver", "value_tier is 'silver', needed gold"),
    ("value_tier: {ne: gold}", "gold", "value_tier is 'gold', needed a value other than gold"),
    ("value_tier: {ne: gold}", None, "value_tier is missing, needed a value other than gold"),
    ("value_tier: {in: [gold, platinum]}", "silver",
     "value_tier is 'silver', needed gold or platinum"),
    ("value_tier: {not_in: [gold, platinum]}", "gold",
     "value_tier is 'gold', needed a value other than gold or platinum"),
    ("value_tier: {not_in: [gold]}", None, "value_tier is missing, needed a value other than "
     "gold"),
    ("value_tier: {missing: true}", "gold", "value_tier is 'gold', needed it to be missing"),
    ("value_tier: gold", 3, "value_tier is 3 (not text: missing), needed gold"),
    # true/false
    ("consent_email: true", False, "consent_email is no, needed yes"),
    ("consent_email: {ne: true}", True, "consent_email is yes, needed no"),
    ("consent_email: {ne: false}", None, "consent_email is missing, needed yes"),
    ("consent_email: {eq: false}", "no", "consent_email is 'no' (not a boolean: missing), "
     "needed no"),
    ("consent_email: {missing: true}", True, "consent_email is yes, needed it to be missing"),
    # dates: only exists/missing
    ("first_purchase: {exists: true}", None, "first_purchase is missing, needed a value"),
    ("first_purchase: {missing: true}", dt.date(2024, 1, 31),
     "first_purchase is 2024-01-31, needed it to be missing"),
])
def test_every_operator_with_a_value_a_missing_and_a_wrong_one(text: str, value: Any,
                                                               expected: str) -> None:
    assert why(text, value) == expected


def test_not_and_any_say_what_held() -> None:
    failure = first_failure(cond("not: {recency_days: {missing: true}}"), {})
    assert failure is not None and failure.text == (
        "this held, so `not` failed: recency is missing (recency_days is missing)")
    failure = first_failure(cond("any:\n    - recency_days: {ne: 5}\n    - value_tier: "
                                 "{missing: true}"), {"value_tier": "gold"})
    assert failure is not None and failure.text == (
        "none of these held: recency_days is missing, needed a value other than 5 days; "
        "value_tier is 'gold', needed it to be missing")


def test_a_figure_is_said_to_the_six_decimals_the_value_table_holds() -> None:
    """A re-trial: "retention_rate is 0.7923, needed more than 0.7923" for a policy asking
    more than 0.792271 of a customer whose table figure is 0.792271."""
    assert why("retention_rate: {gt: 0.792271}", 0.792271) == \
        "retention_rate is 0.792271, needed more than 0.792271"
    assert why("p_alive: {gte: 0.5}", 0.000004) == \
        "p_alive is 0.000004, needed at least 0.5"
