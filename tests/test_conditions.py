"""The condition language: parsing with exact error messages, semantics, failures, English."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.errors import Problem
from engine.policy.condition_text import describe, first_failure
from engine.project.condition_parser import Parser
from engine.project.conditions import (
    ALWAYS,
    MISSING,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Not,
    evaluate,
    normalize,
    thresholds,
)
from engine.project.schema import attribute_types
from engine.project.yamlio import load_text

TYPES = attribute_types(consents=["email"])
VALUES = {"lifecycle_stage": ["acquisition", "growth", "maturity", "decline", "exit"],
          "value_tier": ["platinum", "gold", "silver", "bronze"]}


def parse(text: str) -> tuple[Condition | None, list[Problem]]:
    doc = load_text(text, file="policies/x.yaml")
    parser = Parser(doc, TYPES, VALUES)
    return parser.when(doc.data["when"], ("when",)), parser.problems


def cond(text: str) -> Condition:
    result, problems = parse(text)
    assert not problems, [p.format() for p in problems]
    assert result is not None
    return result


def error(text: str) -> str:
    result, problems = parse(text)
    assert result is None and len(problems) == 1
    return problems[0].format()


def test_every_form_parses_to_the_typed_tree() -> None:
    tree = cond("""
when:
  all:
    - value_tier: {in: [platinum, gold]}
    - lifecycle_stage: decline
    - any:
        - recency_ratio: {gt: 1.5}
        - churn_risk: {gte: 0.5}
    - not: {consent_email: false}
    - value_score: {between: [50, 100]}
    - referred_by: {exists: false}
    - preferred_channel: {not_in: [sms]}
""")
    assert tree == AllOf((
        Compare("value_tier", "in", ("platinum", "gold"), "text"),
        Compare("lifecycle_stage", "eq", "decline", "text"),
        AnyOf((Compare("recency_ratio", "gt", 1.5, "number"),
               Compare("churn_risk", "gte", 0.5, "number"))),
        Not(Compare("consent_email", "eq", False, "boolean")),
        Compare("value_score", "between", (50.0, 100.0), "number"),
        Compare("referred_by", "missing", None, "text"),  # exists: false is missing
        Compare("preferred_channel", "not_in", ("sms",), "text"),
    ))
    assert isinstance(tree, AllOf) and tree.items[2].where == "when.all[2]"
    assert cond("when: always") is ALWAYS
    assert cond("when:\n  consent_email: {eq: false}\n") == Compare(
        "consent_email", "eq", False, "boolean")
    assert cond("when:\n  churn_risk: {missing: false}\n") == Compare(
        "churn_risk", "exists", None, "number")


@pytest.mark.parametrize(("text", "expected"), [
    ("when:\n  all:\n    - recency_dayz: {gt: 30}\n",
     "policies/x.yaml:3:7: when.all[0].recency_dayz: unknown attribute 'recency_dayz'\n"
     "  hint: did you mean 'recency_days'?"),
    ("when:\n  churn_rsk: {gte: 0.5}\n",
     "policies/x.yaml:2:3: when.churn_rsk: unknown attribute 'churn_rsk'\n"
     "  hint: did you mean 'churn_risk'?"),
    ("when:\n  all:\n    - recency_days: {gt: high}\n",
     "policies/x.yaml:3:26: when.all[0].recency_days.gt: found 'high' (text), expected a "
     "number (recency_days is a number)"),
    ("when:\n  recency_days: {gt: '30'}\n",
     "policies/x.yaml:2:22: when.recency_days.gt: found '30' (text), expected a number "
     "(recency_days is a number)\n  hint: remove the quotes"),
    ("when:\n  clv_discounted: {gte: 25 EUR}\n",
     "policies/x.yaml:2:25: when.clv_discounted.gte: found '25 EUR' (text), expected a number "
     "(clv_discounted is a number)\n  hint: write the number alone, without a unit: 25"),
    ("when:\n  clv_discounted: {gte: '€1,250.50'}\n",
     "policies/x.yaml:2:25: when.clv_discounted.gte: found '€1,250.50' (text), expected a "
     "number (clv_discounted is a number)\n  hint: write the number alone, without a unit: "
     "1250.50"),
    ("when:\n  churn_risk: {gte: 50%}\n",
     "policies/x.yaml:2:21: when.churn_risk.gte: found '50%' (text), expected a number "
     "(churn_risk is a number)\n  hint: write the number without %: 0.5 for 50% if churn_risk "
     "is a share from 0 to 1"),
    ("when:\n  clv_discounted: {gte: '0,5'}\n",
     "policies/x.yaml:2:25: when.clv_discounted.gte: found '0,5' (text), expected a number "
     "(clv_discounted is a number)\n  hint: write a decimal point: 0.5"),
    ("when:\n  clv_discounted: {gte: 4,09}\n",  # YAML reads 09 as text, 00 as 0
     "policies/x.yaml:2:19: when.clv_discounted: found 2 operators (gte, 09), expected exactly "
     "one\n  hint: a comma inside { } separates entries, so a comma splits the number in two: "
     "write it without the comma if it separates thousands (1000 for 1,000), with a decimal "
     "point if it is a decimal comma (4.09 for 4,09)"),
    ("when:\n  churn_risk: {gte: '0,125'}\n",  # not 0125 (the review): a decimal comma
     "policies/x.yaml:2:21: when.churn_risk.gte: found '0,125' (text), expected a number "
     "(churn_risk is a number)\n  hint: write a decimal point: 0.125"),
    ("when:\n  clv_discounted: {gte: '2,5k'}\n",  # 2500, not 2.5
     "policies/x.yaml:2:25: when.clv_discounted.gte: found '2,5k' (text), expected a number "
     "(clv_discounted is a number)\n  hint: write the number in full, without 'k': 2500"),
    ("when:\n  churn_risk: {gte: '12,5%'}\n",
     "policies/x.yaml:2:21: when.churn_risk.gte: found '12,5%' (text), expected a number "
     "(churn_risk is a number)\n  hint: write the number without %: 0.125 for 12,5% if "
     "churn_risk is a share from 0 to 1"),
    ("when:\n  churn_risk: {gte: 5%}\n",  # a trial: "0.5 for 50%" for 5%
     "policies/x.yaml:2:21: when.churn_risk.gte: found '5%' (text), expected a number "
     "(churn_risk is a number)\n  hint: write the number without %: 0.05 for 5% if churn_risk "
     "is a share from 0 to 1"),
    ("when:\n  clv_discounted: {gte: '1,250'}\n",  # thousands, or a decimal comma
     "policies/x.yaml:2:25: when.clv_discounted.gte: found '1,250' (text), expected a number "
     "(clv_discounted is a number)\n  hint: write the number without a comma: 1250 if the "
     "comma separates thousands, 1.250 if it is a decimal comma"),
    ("when:\n  tenure_days: {lte: 3m}\n",  # 3 months, not 3 million
     "policies/x.yaml:2:22: when.tenure_days.lte: found '3m' (text), expected a number "
     "(tenure_days is a number)\n  hint: write it in days: 90 for 3 m"),
    ("when:\n  clv_discounted: {gte: '1,250.50'}\n",  # it has a decimal point already
     "policies/x.yaml:2:25: when.clv_discounted.gte: found '1,250.50' (text), expected a "
     "number (clv_discounted is a number)\n  hint: write the number without thousands "
     "separators: 1250.50"),
    ("when:\n  clv_discounted: {gte: 1.005k}\n",  # not 1004.9999999999999
     "policies/x.yaml:2:25: when.clv_discounted.gte: found '1.005k' (text), expected a "
     "number (clv_discounted is a number)\n  hint: write the number in full, without 'k': "
     "1005"),
    ("when:\n  clv_discounted: {gte: 200,00}\n",
     "policies/x.yaml:2:19: when.clv_discounted: found 2 operators (gte, 0), expected exactly "
     "one\n  hint: a comma inside { } separates entries, so a comma splits the number in two: "
     "write it without the comma if it separates thousands (1000 for 1,000), with a decimal "
     "point if it is a decimal comma (4.09 for 4,09)"),
    ("when:\n  clv_discounted: {gte: 1,000}\n",  # a thousands comma (a new user's trial)
     "policies/x.yaml:2:19: when.clv_discounted: found 2 operators (gte, 0), expected exactly "
     "one\n  hint: a comma inside { } separates entries, so a comma splits the number in two: "
     "write it without the comma if it separates thousands (1000 for 1,000), with a decimal "
     "point if it is a decimal comma (4.09 for 4,09)"),
    ("when:\n  value_tier: {gt: 3}\n",
     "policies/x.yaml:2:16: when.value_tier.gt: operator 'gt' needs a number attribute, but "
     "value_tier is text\n  hint: use one of eq, ne, in, not_in, exists, missing for a text "
     "attribute"),
    ("when:\n  recency_days: {greater: 30}\n",
     "policies/x.yaml:2:18: when.recency_days.greater: unknown operator 'greater'\n"
     "  hint: did you mean 'gte'?"),
    ("when:\n  all: []\n",
     "policies/x.yaml:2:8: when.all: found an empty list, expected a list of at least one "
     "condition\n  hint: an empty condition would match everyone or no one: remove it, or "
     "write `when: always` to match every customer"),
    ("when:\n  value_tier: gold\n  recency_days: {gt: 3}\n",
     "policies/x.yaml:2:3: when: found 2 keys (value_tier, recency_days), expected exactly "
     "one: all, any, not or an attribute\n  hint: put each condition in its own list item "
     "under `all:`"),
    ("when:\n  recency_days: {gt: 3, lt: 9}\n",
     "policies/x.yaml:2:17: when.recency_days: found 2 operators (gt, lt), expected exactly "
     "one\n  hint: to combine tests on one attribute use `between: [low, high]` or list them "
     "under `all:`"),
    ("when:\n  recency_days: {between: [9, 3]}\n",
     "policies/x.yaml:2:27: when.recency_days.between: found [9, 3], the low end is above "
     "the high end\n  hint: write [3, 9]"),
    ("when:\n  lifecycle_stage: {in: [growth, declin]}\n",
     "policies/x.yaml:2:34: when.lifecycle_stage.in[1]: unknown stage 'declin', expected one "
     "of acquisition, growth, maturity, decline, exit\n  hint: did you mean 'decline'?"),
    ("when:\n  value_tier: platnum\n",
     "policies/x.yaml:2:15: when.value_tier: unknown value_tier 'platnum', expected one of "
     "platinum, gold, silver, bronze\n  hint: did you mean 'platinum'?"),
    ("when:\n  preferred_channel: no\n",
     "policies/x.yaml:2:22: when.preferred_channel: found False (boolean), expected text "
     "(preferred_channel is text)\n  hint: YAML reads yes/no/true/false/on/off as true or "
     "false; quote the text"),
    ("when:\n  value_tier:\n",
     "policies/x.yaml:2:14: when.value_tier: found nothing (null), expected a value or an "
     "operator such as {gt: 90}\n  hint: to test for a missing value write `{missing: true}`"),
    ("when:\n  purchase_trend: {gt: 0.00001}\n",
     "policies/x.yaml:2:24: when.purchase_trend.gt: found 1e-05, expected 0 or a number from "
     "0.0001 to 10^15 in size\n  hint: the rule engine cannot read numbers beyond these"),
    ("when:\n  all:\n    - gt: 5\n",
     "policies/x.yaml:3:7: when.all[0].gt: operator 'gt' needs an attribute\n"
     "  hint: write it under the attribute it tests, e.g. `recency_days: {gt: ...}`"),
    ("when:\n  signup_date: {in: [2024-01-01]}\n",  # a trial: "needs a number attribute"
     "policies/x.yaml:2:17: when.signup_date.in: operator 'in' needs a number or text "
     "attribute, but signup_date is date\n  hint: compare recency_days or tenure_days instead"),
    ("when:\n  first_purchase: {gt: 3}\n",
     "policies/x.yaml:2:20: when.first_purchase.gt: operator 'gt' needs a number attribute, "
     "but first_purchase is date\n  hint: compare recency_days or tenure_days instead"),
    ("when:\n  all:\n    - always\n",
     "policies/x.yaml:3:7: when.all[0]: found 'always' (text), expected a condition\n"
     "  hint: `always` can only be the whole `when`"),
    ("when: {}\n",
     "policies/x.yaml:1:7: when: found an empty mapping, expected exactly one: all, any, not "
     "or an attribute\n  hint: to match every customer write `when: always`"),
])
def test_mistakes_are_reported_with_position_path_found_expected_and_hint(
        text: str, expected: str) -> None:
    assert error(text) == expected


def test_every_problem_in_a_condition_is_reported_not_just_the_first() -> None:
    _, problems = parse("when:\n  all:\n    - recency_dayz: 1\n    - value_tier: {gt: 2}\n"
                        "    - any: []\n")
    assert [p.key for p in problems] == ["when.all[0].recency_dayz", "when.all[1].value_tier.gt",
                                         "when.all[2].any"]


def test_normalize_turns_null_nan_infinite_and_wrong_types_into_missing() -> None:
    for raw in (None, float("nan"), float("inf"), np.nan, pd.NA, pd.NaT, "12", "abc", True,
                np.bool_(False), [1], {"a": 1}):
        assert normalize(raw, "number") is MISSING, raw
    assert normalize(np.int64(3), "number") == 3.0
    assert normalize(np.float32(0.5), "number") == 0.5
    assert normalize(7, "text") is MISSING and normalize("7", "text") == "7"
    assert normalize(1, "boolean") is MISSING and normalize(np.bool_(True), "boolean") is True
    assert normalize(pd.Timestamp("2024-01-01"), "date") is True
    assert normalize(pd.NaT, "date") is MISSING and normalize("2024-01-01", "date") is MISSING


MISSING_CASES: list[tuple[str, bool]] = [
    ("recency_days: {eq: 5}", False), ("recency_days: {ne: 5}", False),
    ("recency_days: {lt: 5}", False), ("recency_days: {lte: 5}", False),
    ("recency_days: {gt: 5}", False), ("recency_days: {gte: 5}", False),
    ("recency_days: {between: [1, 9]}", False), ("recency_days: {in: [5]}", False),
    ("recency_days: {not_in: [5]}", False), ("recency_days: {exists: true}", False),
    ("recency_days: {missing: true}", True), ("not: {recency_days: {gt: 5}}", True),
    ("not: {recency_days: {ne: 5}}", True), ("not: {recency_days: {missing: true}}", False),
]


@pytest.mark.parametrize(("text", "expected"), MISSING_CASES)
@pytest.mark.parametrize("value", [None, float("nan"), "n/a", True, float("inf")])
def test_missing_value_semantics(text: str, expected: bool, value: Any) -> None:
    condition = cond(f"when:\n  {text}\n")
    assert evaluate(condition, {"recency_days": value}) is expected
    assert evaluate(condition, {}) is expected  # an absent attribute is missing too


@pytest.mark.parametrize(("text", "value", "expected"), [
    ("recency_days: {lt: 30}", 30, False), ("recency_days: {lte: 30}", 30, True),
    ("recency_days: {gt: 30}", 30, False), ("recency_days: {gte: 30}", 30, True),
    ("recency_days: {between: [10, 30]}", 30, True), ("recency_days: {between: [10, 30]}", 10,
                                                       True),
    ("recency_days: {between: [10, 30]}", 30.000001, False), ("recency_days: 30", 30.0, True),
    ("recency_days: {ne: 30}", 29, True), ("recency_days: {in: [1, 30]}", 30, True),
    ("recency_days: {not_in: [1, 30]}", 2, True), ("value_tier: {ne: gold}", "silver", True),
    ("value_tier: {not_in: [gold]}", "Gold", True), ("consent_email: true", True, True),
    ("consent_email: {ne: true}", False, True),
])
def test_comparisons_at_and_around_the_threshold(text: str, value: Any, expected: bool) -> None:
    attribute = text.split(":")[0]
    assert evaluate(cond(f"when:\n  {text}\n"), {attribute: value}) is expected


def test_first_failure_names_the_first_failing_leaf_and_the_actual_value() -> None:
    condition = cond("""
when:
  all:
    - value_tier: {in: [platinum, gold]}
    - recency_ratio: {gt: 1.5}
    - lifecycle_stage: decline
""")
    customer = {"value_tier": "gold", "recency_ratio": 0.8, "lifecycle_stage": "growth"}
    failure = first_failure(condition, customer)
    assert failure is not None and failure.where == "when.all[1].recency_ratio"
    assert failure.text == "recency_ratio is 0.8, needed more than 1.5 times the usual gap"
    assert first_failure(condition, {**customer, "recency_ratio": 2.0, "lifecycle_stage":
                                     "decline"}) is None
    failure = first_failure(condition, {**customer, "recency_ratio": "late"})
    assert failure is not None
    assert failure.text == ("recency_ratio is 'late' (not a number: missing), needed more than "
                            "1.5 times the usual gap")
    failure = first_failure(condition, {**customer, "recency_ratio": None})
    assert failure is not None and failure.text.startswith("recency_ratio is missing (a "
                                                            "one-time buyer has no usual gap),")


def test_first_failure_of_any_and_not() -> None:
    either = cond("when:\n  any:\n    - churn_risk: {gte: 0.5}\n    - frequency: {lt: 2}\n")
    failure = first_failure(either, {"frequency": 4})
    assert failure is not None and failure.text == (
        "none of these held: churn_risk is missing, needed at least 0.5; frequency is 4, "
        "needed less than 2")
    negated = cond("when:\n  not: {value_tier: gold}\n")
    failure = first_failure(negated, {"value_tier": "gold"})
    assert failure is not None and failure.text == (
        "this held, so `not` failed: value tier is gold (value_tier is 'gold')")


def test_describe_reads_as_plain_english() -> None:
    assert describe(cond("""
when:
  all:
    - value_tier: {in: [platinum, gold]}
    - recency_ratio: {gt: 1.5}
""")) == "value tier is platinum or gold and recency is more than 1.5 times the usual gap"
    assert describe(cond("""
when:
  any:
    - recency_ratio: {missing: true}
    - all:
        - recency_days: {between: [90, 180]}
        - frequency: {gte: 2}
    - not: {consent_email: true}
    - lifecycle_stage: {not_in: [decline, exit]}
""")) == ("the customer has bought only once (no usual gap) or (recency is between 90 and 180 "
          "days and the number of repeat purchases is at least 2) or not (consent to email is "
          "yes) or lifecycle stage is not decline or exit")
    assert describe(cond("when:\n  total_value: {gte: 1200}\n")) == (
        "total value is at least 1,200")
    assert describe(ALWAYS) == "every customer"


def test_thresholds_per_attribute_are_sorted_and_distinct() -> None:
    a = cond("when:\n  all:\n    - recency_days: {gt: 90}\n    - recency_days: {between: "
             "[30, 90]}\n    - value_tier: {in: [gold, platinum]}\n")
    b = cond("when:\n  recency_days: {not_in: [7]}\n")
    assert thresholds([a, b]) == {"recency_days": (7.0, 30.0, 90.0),
                                  "value_tier": ("gold", "platinum")}


def test_numbers_from_yaml_are_floats_so_ints_and_floats_compare_alike() -> None:
    tree = cond("when:\n  frequency: {eq: 0}\n")
    assert isinstance(tree, Compare) and tree.operand == 0.0
    assert isinstance(tree.operand, float) and not math.isnan(tree.operand)
    assert evaluate(tree, {"frequency": np.int64(0)}) and evaluate(tree, {"frequency": 0.0})
