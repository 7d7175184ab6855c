"""Warnings about what a condition asks of one attribute, whatever the other conditions:
a model column read where no model runs (``models.use: none``), and a threshold outside what
the attribute can be (``churn_risk: {gte: 50}``, a percentage for a probability), each at the
condition's line, once per attribute of each lifecycle rule, segment, enabled policy and
trigger."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from engine.errors import Problem
from engine.project.conditions import Compare, Condition, leaves
from engine.project.rulebook import Rulebook
from engine.project.schema import BOUNDS

MODEL_HINT = ("set models.use: auto in cvm.yaml for the model's figures, or test a column of the "
              "formulas (recency_ratio, clv_discounted, potential_value)")
# bounds beside the value table's (schema.BOUNDS, which cvm serve's context is held to)
RANGES = {**BOUNDS, "purchase_trend": (-1.0, 1.0)}


def _items(book: Rulebook, triggers: Sequence[tuple[Any, Condition]]
           ) -> Iterator[tuple[str, Any, Condition]]:
    yield from (("lifecycle rule", r, r.when) for r in book.stage_rules)
    yield from (("segment", s, s.when) for s in book.segments)
    yield from (("policy", p, p.when) for p in book.policies if p.enabled)
    yield from (("trigger", t, cond) for t, cond in triggers)


def _at(item: Any, leaf: Compare, message: str, hint: str | None) -> Problem:
    line, column = leaf.spot if leaf.spot[0] is not None else (item.line, None)
    return Problem(message, file=item.file, line=line, column=column, key=leaf.where,
                   severity="warning", hint=hint)


def unfitted_model_reads(book: Rulebook, triggers: Sequence[tuple[Any, Condition]],
                         model_columns: Collection[str], why: str) -> list[Problem]:
    """A warning at each condition reading a model column (``churn_risk``) when no model runs
    (``why``: ``models.use is none in cvm.yaml``): no customer has it, so every comparison on
    it is false, silently. ``triggers``: each trigger with its condition on the customer."""
    out = []
    for what, item, cond in _items(book, triggers):
        said: set[str] = set()
        for leaf in leaves(cond):
            if leaf.attribute in model_columns and leaf.attribute not in said and \
                    leaf.op not in ("exists", "missing"):  # (missing: true holds: meant so)
                said.add(leaf.attribute)
                out.append(_at(item, leaf, f"{what} {item.id!r} reads {leaf.attribute}, "
                               f"a model column, and {why}: no customer of the value table "
                               "has it, so every comparison on it is false (unless cvm "
                               "serve's request context sends one)", MODEL_HINT))
    return out


def out_of_range(book: Rulebook, triggers: Sequence[tuple[Any, Condition]]) -> list[Problem]:
    """A warning at each comparison of a bounded attribute (a probability, a percentile, a
    trend, days) with a threshold outside its range: it holds for no customer, or for every
    customer who has the attribute."""
    out = []
    for what, item, cond in _items(book, triggers):
        said: set[str] = set()
        for leaf in leaves(cond):
            bound = RANGES.get(leaf.attribute)
            if bound is None or leaf.attribute in said or leaf.op in ("exists", "missing",
                                                                       "ne", "not_in"):
                continue
            verdict = _verdict(leaf, *bound)
            if verdict is None:
                continue
            said.add(leaf.attribute)
            lo, hi = bound
            shown = (" and " if leaf.op == "between" else ", ").join(
                f"{v:g}" for v in _numbers(leaf))
            span = f"from {lo:g} to {hi:g}" if hi is not None else f"never below {lo:g}"
            out.append(_at(item, leaf, f"{what} {item.id!r}: {leaf.attribute} {leaf.op} "
                           f"{shown} holds for {verdict}: {leaf.attribute} is {span}",
                           _hint(leaf, lo, hi)))
    return out


def _verdict(leaf: Compare, lo: float, hi: float | None) -> str | None:
    """"no customer" or "every customer who has one" when the comparison's threshold lies
    outside [lo, hi] (a threshold at an end is a way to write "has one"); else None."""
    top = float("inf") if hi is None else hi
    values = _numbers(leaf)
    if not values:
        return None
    op, v = leaf.op, values[0]
    if op == "between":
        return "no customer" if values[1] < lo or v > top else None
    if op == "in":
        return "no customer" if all(x < lo or x > top for x in values) else None
    never = {"gt": v >= top, "gte": v > top, "lt": v <= lo, "lte": v < lo,
             "eq": v < lo or v > top}.get(op, False)
    if never and (v < lo or v > top or op in ("gt", "lt")):
        return "no customer"
    always = {"gt": v < lo, "gte": v < lo, "lt": v > top, "lte": v > top}.get(op, False)
    return "every customer who has one" if always else None


def _numbers(leaf: Compare) -> list[float]:
    """The comparison's thresholds as numbers ([] when one is not a number)."""
    values = leaf.operand if isinstance(leaf.operand, tuple) else (leaf.operand,)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return []
    return [float(v) for v in values]  # type: ignore[arg-type]


def _hint(leaf: Compare, lo: float, hi: float | None) -> str | None:
    values = _numbers(leaf)
    outside = [v for v in values if v < lo or (hi is not None and v > hi)]
    first = (outside or values)[0]
    if hi == 1.0 and 1 < abs(first) <= 100 and (lo == 0 or abs(first) >= 5):  # (trend: -2?)
        return f"{leaf.attribute} is a fraction: write {first / 100:g} for {first:g}%"
    if leaf.attribute == "value_score":
        return "value_score is a percentile: " + ("at least 0" if first <= lo else "at most 100")
    return None
