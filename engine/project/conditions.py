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
    # line and column of the attribute's key, for warnings about the data (None: not known)
    spot: tuple[int | None, int | None] = field(default=(None, None), compare=False)


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


# --- evaluation ----------------------------------------------------------------------------


def normalize(value: Any, kind: str) -> Any:
    """A raw attribute value as conditions see it: float, str, bool, True (a date) or MISSING."""
    import numpy as np  # here: reading a project's conditions needs no numpy

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
    import numpy as np

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
