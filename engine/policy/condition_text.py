"""Conditions in plain English: for explain, plan and campaign briefs.

``describe`` reads a condition as a sentence ("value tier is platinum or gold and recency is
more than 1.5 times the usual gap"); ``first_failure`` says why a condition does not hold for
one customer: the first failing test, with the customer's value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.project.conditions import (
    BOOLEAN,
    MISSING,
    TEXT,
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    Not,
    evaluate,
    leaves,
    normalize,
)


@dataclass(frozen=True)
class Failure:
    """Why a condition did not hold: the first failing part, in plain words."""

    condition: Condition
    where: str
    text: str


def first_failure(cond: Condition, record: Mapping[str, Any]) -> Failure | None:
    """None if ``cond`` holds, else the first failing leaf (or ``any``/``not``) and its values."""
    if evaluate(cond, record):
        return None
    if isinstance(cond, AllOf):
        for item in cond.items:
            failure = first_failure(item, record)
            if failure is not None:
                return failure
    if isinstance(cond, AnyOf):
        parts = [f.text for f in (first_failure(i, record) for i in cond.items) if f]
        return Failure(cond, cond.where, "none of these held: " + "; ".join(parts))
    if isinstance(cond, Not):
        return Failure(cond, cond.where, f"this held, so `not` failed: {describe(cond.item)} "
                       f"({_actual(cond.item, record)})")
    assert isinstance(cond, Compare)
    return Failure(cond, cond.where, f"{_actual(cond, record)}, needed {_needed(cond)}")


def _needed(leaf: Compare) -> str:
    """What a test needs, after "needed": a missing value fails every test but `missing`, so
    `ne` and `not_in` need "a value other than" theirs."""
    op, operand = leaf.op, leaf.operand
    if op == "missing":
        return "it to be missing"
    if op == "exists":
        return "a value"
    if leaf.kind == BOOLEAN and op == "ne":
        return format_value(not operand)
    _, unit = _noun(leaf.attribute)
    values: tuple[Any, ...] = operand if isinstance(operand, tuple) else (operand,)
    if op in ("ne", "not_in"):
        return f"a value other than {_alternatives(values, 'or')}{unit}"
    if op == "in":
        return f"{_alternatives(values, 'or')}{unit}"
    return _phrase(leaf)


def _actual(cond: Condition, record: Mapping[str, Any]) -> str:
    """The customer's values of the attributes ``cond`` reads: "recency_ratio is 0.8"."""
    shown = []
    for leaf in leaves(cond):
        raw = record.get(leaf.attribute)
        if normalize(raw, leaf.kind) is not MISSING:
            text = repr(raw) if leaf.kind == TEXT else format_value(raw)
        elif _is_null(raw):
            text = "missing" + (f" ({_WHY_MISSING[leaf.attribute]})"
                                if leaf.attribute in _WHY_MISSING else "")
        else:  # present but of the wrong type: say so, it is why the test failed
            noun = "text" if leaf.kind == TEXT else f"a {leaf.kind}"
            text = f"{raw!r} (not {noun}: missing)"
        shown.append(f"{leaf.attribute} is {text}")
    return ", ".join(dict.fromkeys(shown))


def _is_null(raw: Any) -> bool:
    """None, NaN, NaT, pd.NA (which refuses to be compared) or infinity: no value at all."""
    if raw is None:
        return True
    try:
        return bool(raw != raw) or (isinstance(raw, float) and math.isinf(raw))
    except (TypeError, ValueError):
        return True


# --- plain English -------------------------------------------------------------------------

# attribute -> (noun, unit); other attributes read as their name with spaces
_NOUNS: dict[str, tuple[str, str]] = {
    "recency_ratio": ("recency", " times the usual gap"),
    "recency_days": ("recency", " days"),
    "tenure_days": ("tenure", " days"),
    "avg_interpurchase_days": ("the usual gap between purchases", " days"),
    "frequency": ("the number of repeat purchases", ""),
    "value_score": ("the value score", ""),
    "purchase_trend": ("the purchase trend", ""),
    "churn_risk": ("the churn risk", ""),
    "p_alive": ("the probability of being active", ""),
    "days_to_contract_end": ("the days to the contract's end", " days"),
}
_UNKNOWN = {"recency_ratio": "the customer has bought only once (no usual gap)",
            "avg_interpurchase_days": "the customer has bought only once (no usual gap)",
            "days_to_contract_end": "no end is booked for a running contract of the customer"}
_WHY_MISSING = {"recency_ratio": "a one-time buyer has no usual gap",
                "avg_interpurchase_days": "a one-time buyer has no usual gap",
                "days_to_contract_end": "no running contract has an end booked"}
_KNOWN = {"recency_ratio": "the customer has bought more than once",
          "avg_interpurchase_days": "the customer has bought more than once",
          "days_to_contract_end": "a running contract of the customer has its end booked"}


def format_value(value: Any) -> str:
    """A value as people read it: 1,200 not 1200.0, 1.5 not 1.50; to 6 decimals, as the value
    table holds its figures (0.792271, not 0.7923 beside a threshold of 0.792271)."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime) and value == value.replace(hour=0, minute=0, second=0,
                                                                 microsecond=0):
        return value.date().isoformat()  # a date read as a timestamp: the date alone
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return f"{int(number):,}"
        return f"{number:,.6f}".rstrip("0") if abs(number) >= 1e-6 else repr(number)
    return str(value)


def _noun(attribute: str) -> tuple[str, str]:
    if attribute.startswith("consent_"):
        return f"consent to {attribute[8:].replace('_', ' ')}", ""
    return _NOUNS.get(attribute, (attribute.replace("_", " "), ""))


def _alternatives(values: tuple[Any, ...], joiner: str) -> str:
    words = [format_value(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {joiner} " + words[-1]


def _phrase(leaf: Compare) -> str:
    """The test without its subject: 'more than 1.5 times the usual gap'."""
    _, unit = _noun(leaf.attribute)
    op, operand = leaf.op, leaf.operand
    if op == "missing":
        return "no value (missing)"
    if op == "exists":
        return "a value"
    if isinstance(operand, tuple):
        if op == "between":
            return f"between {format_value(operand[0])} and {format_value(operand[1])}{unit}"
        return ("" if op == "in" else "none of ") + _alternatives(
            operand, "or" if op == "in" else "and")
    words = {"eq": "", "ne": "not ", "lt": "less than ", "lte": "at most ", "gt": "more than ",
             "gte": "at least "}[op]
    return f"{words}{format_value(operand)}{unit}"


def describe(cond: Condition) -> str:
    """The condition in plain English, e.g. "value tier is platinum or gold and recency is more
    than 1.5 times the usual gap" (used by explain and by campaign briefs)."""
    if isinstance(cond, Always):
        return "every customer"
    if isinstance(cond, Compare):
        noun, _ = _noun(cond.attribute)
        if cond.op == "missing":
            return _UNKNOWN.get(cond.attribute, f"{noun} is missing")
        if cond.op == "exists":
            return _KNOWN.get(cond.attribute, f"{noun} is known")
        if cond.attribute.startswith("segment_") and cond.kind == BOOLEAN:
            inside = (cond.operand is True) == (cond.op == "eq")
            return f"{'in' if inside else 'not in'} segment {cond.attribute[8:]}"
        verb = "is not" if cond.op == "not_in" else "is"
        phrase = _phrase(cond).removeprefix("none of ") if cond.op == "not_in" else _phrase(cond)
        if cond.op == "not_in" and isinstance(cond.operand, tuple) and len(cond.operand) > 1:
            phrase = _alternatives(cond.operand, "or")
        return f"{noun} {verb} {phrase}"
    if isinstance(cond, Not):
        return f"not ({describe(cond.item)})"
    joiner = " and " if isinstance(cond, AllOf) else " or "
    parts = [f"({describe(item)})" if isinstance(item, (AllOf, AnyOf)) and len(item.items) > 1
             else describe(item) for item in cond.items]
    return joiner.join(parts)
