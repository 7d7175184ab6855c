"""Conditions compiled to durable-rules rules and rulesets that stay inside its limits.

durable-rules (2.0.28, ``src/rules/*.h``) has fixed limits that no YAML file may reach:

- one rule's expression holds at most 15 ``$and``/``$or`` operators (error 113);
- a message walks the alpha network depth first with a stack of 64 nodes: when more tests
  hold at once than fit, asserting fails (error 303);
- one alpha node takes at most 511 children (compiling the 512th never ends), 127 "missing"
  children and 255 rules;
- a message has at most 255 properties;
- a rule fires once per alternative (term of its or-of-ands form) that holds.

So a condition is first put in negation normal form over single tests (``not`` pushed down to
the leaves, ``in``/``not_in`` spelt out as tests of one value), then cut into *rules* of bounded
size: a part that would make a rule too large becomes a rule of its own, decided earlier, whose
answer is a true/false property of the next message (``Part``). Rules are then packed into
small rulesets whose combined worst case fits the stack. Every answer still comes from
durable-rules; only the size of each question is bounded.
Posting messages to the rulesets: ``engine.policy.rulesets``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import prod
from typing import Any

from engine.project.conditions import AllOf, Always, AnyOf, Compare, Condition, Not

# Our bounds, well inside durable-rules' own (15 operators, a stack of 64, 255 properties).
RULE_OPS = 10  # and/or operators in one rule
RULE_TERMS = 8  # alternatives of one rule (it fires once per alternative that holds)
RULE_LENGTH = 24  # tests along one alternative
MESSAGE_STACK = 48  # sum of the alternatives of the rules one message asks + the longest
MESSAGE_PROPERTIES = 200  # properties of one message

Slot = tuple[str, Any]  # ("attr", name) or ("part", number)


@dataclass(frozen=True)
class Test:
    """One durable-rules test of one message property: $eq, $neq, $lt, ..., $ex, $nex."""

    slot: Slot
    op: str
    value: Any = None


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr = Test | And | Or
TRUE = None  # the expression of `when: always`


def part(number: int) -> Test:
    """The test that reads the answer of part ``number`` (a rule decided before)."""
    return Test(("part", number), "$eq", True)


# --- conditions -> expressions -------------------------------------------------------------

_FLIP = {"$lt": "$gte", "$lte": "$gt", "$gt": "$lte", "$gte": "$lt", "$eq": "$neq",
         "$neq": "$eq"}
_OPS = {"eq": "$eq", "ne": "$neq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}


def expression(cond: Condition, positive: bool = True) -> Expr | None:
    """The condition (or its negation) over single tests; None for "always".

    Our missing-value semantics in durable-rules' terms: a missing (or wrong-typed) value is
    absent from the message, and a test of an absent property never holds; so a comparison is
    false on a missing value, and its negation is "absent, or present and the opposite test".
    """
    if isinstance(cond, Always):
        if not positive:
            raise ValueError("`not always` cannot be compiled")  # the parser never makes it
        return TRUE
    if isinstance(cond, Not):
        return expression(cond.item, not positive)
    if isinstance(cond, (AllOf, AnyOf)):
        conjunction = isinstance(cond, AllOf) == positive
        items = [expression(item, positive) for item in cond.items]
        if any(item is TRUE for item in items):  # `always` only ever stands alone
            return TRUE if not conjunction else _join([i for i in items if i is not TRUE],
                                                      conjunction)
        return _join([i for i in items if i is not None], conjunction)
    return _leaf(cond, positive)


def _join(items: Sequence[Expr], conjunction: bool) -> Expr | None:
    kind = And if conjunction else Or
    flat: list[Expr] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    unique = tuple(dict.fromkeys(flat))
    if not unique:
        return TRUE
    return unique[0] if len(unique) == 1 else kind(unique)


def _leaf(leaf: Compare, positive: bool) -> Expr:
    slot: Slot = ("attr", leaf.attribute)
    op, operand = leaf.op, leaf.operand
    if op in ("exists", "missing"):
        return Test(slot, "$ex" if (op == "exists") == positive else "$nex")
    values: tuple[Any, ...] = operand if isinstance(operand, tuple) else (operand,)
    tests: list[Expr]
    if op == "between":
        low, high = values
        if positive:
            return And((Test(slot, "$gte", low), Test(slot, "$lte", high)))
        tests = [Test(slot, "$lt", low), Test(slot, "$gt", high)]
    elif op in ("in", "not_in"):
        equal = [Test(slot, "$eq", v) for v in values]
        differ = [Test(slot, "$neq", v) for v in values]
        if positive:
            found = _join(equal, False) if op == "in" else _join(differ, True)
            assert found is not None
            return found
        joined = _join(differ, True) if op == "in" else None
        tests = [joined] if joined is not None else list(equal)
    else:
        test = Test(slot, _OPS[op], values[0])
        if positive:
            return test
        tests = [Test(slot, _FLIP[test.op], values[0])]
    result = _join([Test(slot, "$nex"), *tests], False)
    assert result is not None
    return result


# --- sizes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    ops: int  # and/or operators
    terms: int  # alternatives (or-of-ands terms)
    length: int  # tests along the longest alternative (or-nodes count one: durable-rules
    #              joins the alternatives of an `or` in one extra node)
    slots: frozenset[Slot]


@functools.lru_cache(maxsize=65_536)
def size(expr: Expr | None) -> Size:
    if expr is None:
        return Size(0, 1, 0, frozenset())
    if isinstance(expr, Test):
        return Size(0, 1, 1, frozenset([expr.slot]))
    parts = [size(item) for item in expr.items]
    slots = frozenset().union(*(p.slots for p in parts))
    ops = 1 + sum(p.ops for p in parts)
    if isinstance(expr, And):
        return Size(ops, prod(p.terms for p in parts), sum(p.length for p in parts), slots)
    return Size(ops, sum(p.terms for p in parts), 1 + max(p.length for p in parts), slots)


def fits(expr: Expr | None) -> bool:
    """Whether one rule may hold this expression (behind its ``+case`` test)."""
    s = size(expr)
    ops = s.ops - (1 if isinstance(expr, And) else 0) + 1  # merged into the rule's own $and
    return (ops <= RULE_OPS and s.terms <= RULE_TERMS and s.length < RULE_LENGTH
            and len(s.slots) < MESSAGE_PROPERTIES)


def cut(expr: Expr | None, register: Callable[[Expr], Test]) -> Expr | None:
    """``expr`` made to fit one rule: parts that do not fit become parts of their own.

    ``register`` files a part (which fits) and returns the test that reads its answer.
    Bottom-up: every item is first made to fit on its own; then, while the whole does not
    fit, the largest item becomes a part, or, when only single tests are left (a long `in`
    list, say), they are regrouped in parts of bounded size.
    """
    if expr is None or isinstance(expr, Test):
        return expr
    items = [cut(item, register) for item in expr.items]
    conjunction = isinstance(expr, And)
    while True:
        whole = _join([i for i in items if i is not None], conjunction)
        if fits(whole):
            return whole
        compound = [i for i, item in enumerate(items) if not isinstance(item, Test)]
        if compound:
            j = max(compound, key=lambda i: _weight(items[i]))
            item = items[j]
            assert item is not None
            items[j] = register(item)
            continue
        width = RULE_TERMS if not conjunction else RULE_LENGTH // 2
        kind = And if conjunction else Or
        items = [register(kind(tuple(chunk))) if len(chunk) > 1 else chunk[0]
                 for chunk in _chunks(items, width)]


def _weight(expr: Expr | None) -> tuple[int, int, int]:
    s = size(expr)
    return (s.terms, s.ops, s.length)


def _chunks(items: Sequence[Any], width: int) -> list[list[Any]]:
    return [list(items[i:i + width]) for i in range(0, len(items), width)]


# --- rules of one message ------------------------------------------------------------------


class RulesetError(Exception):
    """durable-rules refused a ruleset or a message; ``rules`` says which of ours."""

    def __init__(self, message: str, rules: Sequence[int]) -> None:
        super().__init__(message)
        self.rules = tuple(rules)


@dataclass(frozen=True)
class Rule:
    target: int  # what the answer is for: a condition (>= 0) or a part (-1 - part number)
    expr: Expr | None


def pack(rules: Sequence[Rule]) -> list[list[Rule]]:
    """Rules grouped so that one message can ask each group within durable-rules' stack.

    A message pushes, at most, one node per alternative of every rule it reaches plus the nodes
    along the longest alternative; keeping that sum under ``MESSAGE_STACK`` also keeps every
    node far below its children limits, and the properties under ``MESSAGE_PROPERTIES``.
    """
    out: list[list[Rule]] = []
    current: list[Rule] = []
    terms = longest = 0
    slots: set[Slot] = set()
    for rule in rules:
        s = size(rule.expr)
        grown = (terms + s.terms + max(longest, s.length + 1) > MESSAGE_STACK
                 or len(slots | s.slots) > MESSAGE_PROPERTIES)
        if current and grown:
            out.append(current)
            current, terms, longest, slots = [], 0, 0, set()
        current.append(rule)
        terms += s.terms
        longest = max(longest, s.length + 1)
        slots |= s.slots
    if current:
        out.append(current)
    return out
