"""The condition language shared by ``rules/`` and ``policies/``: parse, check, evaluate, describe.

A condition is YAML such as::

    all:
      - value_tier: {in: [platinum, gold]}
      - any:
          - lifecycle_stage: decline
          - recency_ratio: {gt: 1.5}
      - not: {consent_email: false}

It is parsed into a typed tree of frozen dataclasses (``AllOf``, ``AnyOf``, ``Not``, ``Compare``,
``Always``), checked against the customer table's attribute types before anything runs.

Missing values (the semantics every evaluator in the engine follows; README: Rules and policies):
a value is *missing* when it is absent, null, NaN, infinite, or of the wrong type (text where a
number is expected, a number where text is expected, ...). Every comparison on a missing value is
false, ``ne`` and ``not_in`` included; ``missing`` is true and ``exists`` false. Logic is
two-valued, so ``not`` of a comparison on a missing value is true.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.checks import describe as describe_found
from engine.errors import Problem, did_you_mean
from engine.yamlio import Path_, YamlDoc, format_path

NUMBER, TEXT, BOOLEAN, DATE = "number", "text", "boolean", "date"
OPERATORS = ("eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in", "exists", "missing")
OPERATORS_FOR = {
    NUMBER: OPERATORS,
    TEXT: ("eq", "ne", "in", "not_in", "exists", "missing"),
    BOOLEAN: ("eq", "ne", "exists", "missing"),
    DATE: ("exists", "missing"),
}
KEYWORDS = ("all", "any", "not")
# durable-rules' JSON reader cannot parse numbers written with an exponent (1e-05, 1e+16), and
# Python writes exactly those outside this range; thresholds must stay inside it.
SMALLEST, LARGEST = 1e-4, 1e15

Scalar = float | str | bool


class _Missing:
    """The one value every missing, null, NaN or wrong-typed attribute value becomes."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Always:
    """``when: always``: matches every customer."""


@dataclass(frozen=True)
class Compare:
    """A leaf: ``attribute op operand`` (operand is a tuple for between/in/not_in)."""

    attribute: str
    op: str
    operand: Scalar | tuple[Scalar, ...] | None
    kind: str
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Not:
    item: Condition
    where: str = field(default="", compare=False)


Condition = Always | Compare | AllOf | AnyOf | Not
ALWAYS = Always()


# --- parsing -------------------------------------------------------------------------------


@dataclass
class Parser:
    """Parses conditions of one YAML document, collecting every problem with its position.

    ``values`` names the allowed values of closed text attributes (``lifecycle_stage``: the
    stages of rules/lifecycle.yaml), so a misspelt stage is an error, not a silent no-match.
    """

    doc: YamlDoc
    types: Mapping[str, str]
    values: Mapping[str, Collection[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def error(self, path: Path_, message: str, hint: str | None = None, *,
              key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, hint=hint, key=key))

    def when(self, raw: Any, path: Path_) -> Condition | None:
        """A whole ``when``: ``always`` or a condition; None after reporting a problem."""
        if raw == "always":
            return ALWAYS
        return self.condition(raw, path)

    def condition(self, raw: Any, path: Path_) -> Condition | None:
        where = format_path(path)
        if not isinstance(raw, dict):
            hint = ("`always` can only be the whole `when`" if raw == "always" else
                    "write a mapping such as `recency_days: {gt: 90}`, or all/any/not")
            self.error(path, f"found {describe_found(raw)}, expected a condition", hint)
            return None
        if len(raw) != 1:
            found = f"{len(raw)} keys ({', '.join(map(str, raw))})" if raw else "an empty mapping"
            self.error(path, f"found {found}, expected exactly one: all, any, not or an "
                       "attribute", "put each condition in its own list item under `all:`"
                       if raw else "to match every customer write `when: always`")
            return None
        key, value = next(iter(raw.items()))
        sub = (*path, key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                found = "an empty list" if value == [] else describe_found(value)
                self.error(sub, f"found {found}, expected a list of at least one condition",
                           "an empty condition would match everyone or no one: remove it, or "
                           "write `when: always` to match every customer")
                return None
            items = [self.condition(item, (*sub, i)) for i, item in enumerate(value)]
            if any(item is None for item in items):
                return None
            kept = tuple(item for item in items if item is not None)
            return AllOf(kept, where) if key == "all" else AnyOf(kept, where)
        if key == "not":
            inner = self.condition(value, sub)
            return None if inner is None else Not(inner, where)
        if not isinstance(key, str):
            self.error(sub, f"found {describe_found(key)}, expected an attribute name", key=True)
            return None
        if key in OPERATORS:
            self.error(sub, f"operator {key!r} needs an attribute", "write it under the "
                       f"attribute it tests, e.g. `recency_days: {{{key}: ...}}`", key=True)
            return None
        kind = self.types.get(key)
        if kind is None:
            hint = did_you_mean(key, [*self.types, *KEYWORDS]) or (
                "attributes are the customer table's columns, e.g. recency_days, value_tier, "
                "lifecycle_stage; see the README section Rules and policies")
            self.error(sub, f"unknown attribute {key!r}", hint, key=True)
            return None
        return self.test(key, kind, value, sub)

    def test(self, attribute: str, kind: str, raw: Any, path: Path_) -> Compare | None:
        where = format_path(path)
        if isinstance(raw, dict):
            if len(raw) != 1:
                found = (f"{len(raw)} operators ({', '.join(map(str, raw))})" if raw
                         else "an empty mapping")
                self.error(path, f"found {found}, expected exactly one",
                           "to combine tests on one attribute use `between: [low, high]` or "
                           "list them under `all:`")
                return None
            op, operand = next(iter(raw.items()))
            allowed = OPERATORS_FOR[kind]
            if op not in OPERATORS:
                self.error((*path, op), f"unknown operator {op!r}",
                           did_you_mean(str(op), allowed) or "operators for a " + kind +
                           " attribute: " + ", ".join(allowed), key=True)
                return None
            if op not in allowed:
                hint = ("compare recency_days or tenure_days instead" if kind == DATE
                        else f"use one of {', '.join(allowed)} for a {kind} attribute")
                self.error((*path, op), f"operator {op!r} needs a number attribute, but "
                           f"{attribute} is {kind}", hint, key=True)
                return None
            parsed = self.operand(attribute, kind, op, operand, (*path, op))
            if parsed is _BAD:
                return None
            if op in ("exists", "missing") and operand is False:  # exists: false = missing
                op = "missing" if op == "exists" else "exists"
            return Compare(attribute, op, parsed, kind, where)
        if isinstance(raw, list):
            self.error(path, "found a list, expected a value or an operator",
                       f"to test for one of several values write `{attribute}: {{in: [...]}}`")
            return None
        if raw is None:
            self.error(path, "found nothing (null), expected a value or an operator such as "
                       "{gt: 90}", "to test for a missing value write `{missing: true}`")
            return None
        if kind == DATE:
            self.error(path, f"found {describe_found(raw)}, expected {{exists: true}} or "
                       "{missing: true}", "compare recency_days or tenure_days instead")
            return None
        value = self.scalar(attribute, kind, raw, path)
        return None if value is _BAD else Compare(attribute, "eq", value, kind, where)

    def operand(self, attribute: str, kind: str, op: str, raw: Any, path: Path_) -> Any:
        if op in ("exists", "missing"):
            if not isinstance(raw, bool):
                self.error(path, f"found {describe_found(raw)}, expected true or false")
                return _BAD
            return None
        if op == "between":
            ok = isinstance(raw, list) and len(raw) == 2
            if not ok:
                self.error(path, f"found {describe_found(raw)}, expected a list of two numbers "
                           "[low, high]", "both ends are included: `between: [1, 5]`")
                return _BAD
            low, high = (self.scalar(attribute, kind, v, (*path, i)) for i, v in enumerate(raw))
            if low is _BAD or high is _BAD:
                return _BAD
            if low > high:
                self.error(path, f"found [{raw[0]}, {raw[1]}], the low end is above the high "
                           "end", f"write [{raw[1]}, {raw[0]}]")
                return _BAD
            return (low, high)
        if op in ("in", "not_in"):
            if not isinstance(raw, list) or not raw:
                found = "an empty list" if raw == [] else describe_found(raw)
                self.error(path, f"found {found}, expected a list of at least one value")
                return _BAD
            values = [self.scalar(attribute, kind, v, (*path, i)) for i, v in enumerate(raw)]
            if any(v is _BAD for v in values):
                return _BAD
            return tuple(dict.fromkeys(values))  # drop repeats, keep the written order
        return self.scalar(attribute, kind, raw, path)

    def scalar(self, attribute: str, kind: str, raw: Any, path: Path_) -> Any:
        if kind == NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                hint = "remove the quotes" if _looks_numeric(raw) else None
                self.error(path, f"found {describe_found(raw)}, expected a number "
                           f"({attribute} is a number)", hint)
                return _BAD
            number = float(raw)
            if not math.isfinite(number) or (number != 0 and not
                                             SMALLEST <= abs(number) < LARGEST):
                self.error(path, f"found {raw!r}, expected 0 or a number from 0.0001 to "
                           "10^15 in size", "the rule engine cannot read numbers beyond these")
                return _BAD
            return number
        if kind == BOOLEAN:
            if not isinstance(raw, bool):
                self.error(path, f"found {describe_found(raw)}, expected true or false "
                           f"({attribute} is true/false)")
                return _BAD
            return raw
        if not isinstance(raw, str):
            hint = f"quote it: '{raw}'" if isinstance(raw, (bool, int, float)) else None
            if isinstance(raw, bool):
                hint = "YAML reads yes/no/true/false/on/off as true or false; quote the text"
            self.error(path, f"found {describe_found(raw)}, expected text ({attribute} is "
                       "text)", hint)
            return _BAD
        allowed = self.values.get(attribute)
        if allowed is not None and raw not in allowed:
            what = "stage" if attribute == "lifecycle_stage" else attribute
            hint = did_you_mean(raw, allowed) or (
                "stages are defined in rules/lifecycle.yaml" if attribute == "lifecycle_stage"
                else None)
            self.error(path, f"unknown {what} {raw!r}, expected one of {', '.join(allowed)}",
                       hint)
            return _BAD
        return raw


_BAD: Any = object()


def _looks_numeric(raw: Any) -> bool:
    try:
        float(raw)
    except (TypeError, ValueError):
        return False
    return isinstance(raw, str)


# --- evaluation ----------------------------------------------------------------------------


def normalize(value: Any, kind: str) -> Any:
    """A raw attribute value as conditions see it: float, str, bool, True (a date) or MISSING."""
    if kind == NUMBER:
        if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)):
            return MISSING
        number = float(value)
        return number if math.isfinite(number) else MISSING
    if kind == TEXT:
        return str(value) if isinstance(value, str) else MISSING
    if kind == BOOLEAN:
        return bool(value) if isinstance(value, (bool, np.bool_)) else MISSING
    if isinstance(value, (dt.date, np.datetime64)):  # DATE; pd.Timestamp is a datetime
        return MISSING if _is_nat(value) else True
    return MISSING


def _is_nat(value: Any) -> bool:
    return bool(value != value) or (isinstance(value, np.datetime64) and np.isnat(value))


def holds(leaf: Compare, value: Any) -> bool:
    """Whether a leaf holds for an already normalized value (see ``normalize``)."""
    op, operand = leaf.op, leaf.operand
    if value is MISSING:
        return op == "missing"
    if op in ("exists", "missing"):
        return op == "exists"
    if op == "eq":
        return bool(value == operand)
    if op == "ne":
        return bool(value != operand)
    if op in ("in", "not_in"):
        assert isinstance(operand, tuple)
        return (value in operand) == (op == "in")
    if op == "between":
        assert isinstance(operand, tuple)
        return bool(operand[0] <= value <= operand[1])
    return bool({"lt": value < operand, "lte": value <= operand, "gt": value > operand,
                 "gte": value >= operand}[op])


def evaluate(cond: Condition, record: Mapping[str, Any]) -> bool:
    """Pure-Python evaluation of a condition for one customer (a mapping of raw values)."""
    if isinstance(cond, Compare):
        return holds(cond, normalize(record.get(cond.attribute), cond.kind))
    if isinstance(cond, AllOf):
        return all(evaluate(item, record) for item in cond.items)
    if isinstance(cond, AnyOf):
        return any(evaluate(item, record) for item in cond.items)
    if isinstance(cond, Not):
        return not evaluate(cond.item, record)
    return True


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
    return Failure(cond, cond.where, f"{_actual(cond, record)}, needed {_phrase(cond)}")


def _actual(cond: Condition, record: Mapping[str, Any]) -> str:
    """The customer's values of the attributes ``cond`` reads: "recency_ratio is 0.8"."""
    shown = []
    for leaf in leaves(cond):
        raw = record.get(leaf.attribute)
        if normalize(raw, leaf.kind) is not MISSING:
            text = repr(raw) if leaf.kind == TEXT else format_value(raw)
        elif _is_null(raw):
            text = "missing"
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


# --- structure -----------------------------------------------------------------------------


def leaves(cond: Condition) -> Iterator[Compare]:
    """Every comparison in the tree, in reading order."""
    if isinstance(cond, Compare):
        yield cond
    elif isinstance(cond, (AllOf, AnyOf)):
        for item in cond.items:
            yield from leaves(item)
    elif isinstance(cond, Not):
        yield from leaves(cond.item)


def attributes(cond: Condition) -> dict[str, str]:
    """Attribute -> type of every attribute the condition reads, in reading order."""
    return {leaf.attribute: leaf.kind for leaf in leaves(cond)}


def thresholds(conds: Collection[Condition]) -> dict[str, tuple[Any, ...]]:
    """Per attribute, the sorted distinct values the conditions compare it with.

    Between two consecutive thresholds (and at each one) every condition is constant, which is
    what lets the engine ask durable-rules once per distinct combination of intervals.
    """
    found: dict[str, set[Any]] = {}
    for cond in conds:
        for leaf in leaves(cond):
            values = found.setdefault(leaf.attribute, set())
            operand = leaf.operand
            if isinstance(operand, tuple):
                values.update(operand)
            elif operand is not None:
                values.add(operand)
    return {name: tuple(sorted(values, key=lambda v: (type(v).__name__, v)))
            for name, values in found.items()}


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
}
_UNKNOWN = {"recency_ratio": "the customer has bought only once (no usual gap)",
            "avg_interpurchase_days": "the customer has bought only once (no usual gap)"}
_KNOWN = {"recency_ratio": "the customer has bought more than once",
          "avg_interpurchase_days": "the customer has bought more than once"}


def format_value(value: Any) -> str:
    """A value as people read it: 1,200 not 1200.0, 1.5 not 1.50."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return f"{int(number):,}"
        return f"{number:,.4f}".rstrip("0") if abs(number) >= 1e-4 else repr(number)
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
