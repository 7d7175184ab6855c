"""Warnings about a loaded rulebook: rules and policies that can never match, and policies that
never win because a higher-priority one always matches first.

Decided exactly over a finite grid: each attribute the conditions read is cut at their
thresholds into intervals (plus "missing"), text into the named values (plus "other" and
missing); every condition is constant within a cell. Conservative: a check whose grid would be
too large is skipped rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from engine.conditions import (
    BOOLEAN,
    DATE,
    NUMBER,
    TEXT,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Not,
    holds,
    leaves,
    normalize,
    thresholds,
)
from engine.errors import Problem
from engine.rulebook import LIFECYCLE_FILE  # engine.rulebook imports this module lazily

if TYPE_CHECKING:
    from engine.rulebook import Rulebook


GRID_LIMIT = 2_000_000  # cells; beyond it a check is skipped (no warning rather than a guess)
Bools = npt.NDArray[np.bool_]


class _Grid:
    """Every combination of intervals of the attributes some conditions read.

    Each numeric attribute is cut at the conditions' thresholds into cells (below the lowest,
    each threshold, between two, above the highest) plus "missing"; text into each named value,
    "any other text" and missing. Every condition is constant within a cell, so evaluating one
    representative per cell decides a question for all possible customers exactly.
    """

    def __init__(self, conds: Sequence[Condition]) -> None:
        kinds = {leaf.attribute: leaf.kind for cond in conds for leaf in leaves(cond)}
        cuts = thresholds(conds)
        self.axes = {name: (i, _representatives(kinds[name], cuts.get(name, ())))
                     for i, name in enumerate(kinds)}
        self.shape = tuple(len(reps) for _, reps in self.axes.values())
        self.size = int(np.prod(self.shape, dtype=np.float64))

    def truth(self, cond: Condition) -> Bools:
        return np.broadcast_to(self._truth(cond), self.shape)

    def _truth(self, cond: Condition) -> Bools:
        ndim = len(self.shape)
        if isinstance(cond, Compare):
            axis, reps = self.axes[cond.attribute]
            values = np.array([holds(cond, normalize(r, cond.kind)) for r in reps], dtype=bool)
            shape = [1] * ndim
            shape[axis] = len(reps)
            return values.reshape(shape)
        if isinstance(cond, Not):
            return ~self._truth(cond.item)
        if isinstance(cond, (AllOf, AnyOf)):
            parts = [self._truth(item) for item in cond.items]
            combine = np.logical_and if isinstance(cond, AllOf) else np.logical_or
            out = parts[0]
            for part in parts[1:]:
                out = combine(out, part)
            return out
        return np.ones([1] * ndim, dtype=bool)


def _representatives(kind: str, cuts: tuple[Any, ...]) -> list[Any]:
    if kind == NUMBER:
        reps: list[Any] = [None]
        if not cuts:
            return [None, 0.0]
        reps.append(cuts[0] - max(1.0, abs(cuts[0])))
        for low, high in pairwise(cuts):
            reps += [low, (low + high) / 2]
        return [*reps, cuts[-1], cuts[-1] + max(1.0, abs(cuts[-1]))]
    if kind == TEXT:
        return [None, *cuts, "\x00any other text"]
    if kind == BOOLEAN:
        return [None, False, True]
    assert kind == DATE
    import datetime as dt

    return [None, dt.date(2000, 1, 1)]


def _never(cond: Condition) -> bool:
    grid = _Grid([cond])
    return grid.size <= GRID_LIMIT and not grid.truth(cond).any()


def _covered_by(cond: Condition, others: Sequence[Condition]) -> list[int] | None:
    """Indices of ``others`` that together match every customer ``cond`` matches, or None."""
    if not others:
        return None
    grid = _Grid([cond, *others])
    if grid.size <= GRID_LIMIT:
        mine = grid.truth(cond)
        theirs = [grid.truth(o) for o in others]
        uncovered = mine.copy()
        for t in theirs:
            uncovered &= ~t
        if uncovered.any():
            return None
        return [i for i, t in enumerate(theirs) if (mine & t).any()]
    for i, other in enumerate(others):  # too many attributes together: try one at a time
        pair = _Grid([cond, other])
        if pair.size <= GRID_LIMIT and not (pair.truth(cond) & ~pair.truth(other)).any():
            return [i]
    return None


def _overlap(a: Condition, b: Condition) -> bool:
    grid = _Grid([a, b])
    return grid.size <= GRID_LIMIT and bool((grid.truth(a) & grid.truth(b)).any())


def warnings_for(book: Rulebook) -> list[Problem]:
    """Warnings about a loaded rulebook: rules and policies that never match or never win."""
    out: list[Problem] = []

    def warn(file: str, at: tuple[int | None, int | None], key: str, message: str,
             hint: str) -> None:
        out.append(Problem(message, file=file, line=at[0], column=at[1], key=key, hint=hint,
                           severity="warning"))

    contradict = "its conditions contradict each other"
    rules = book.stage_rules
    for i, rule in enumerate(rules):
        at, key = (rule.line, rule.column), f"rules[{i}]"
        if _never(rule.when):
            warn(rule.file, at, key, f"rule {rule.id!r} can never match: {contradict}",
                 "check the thresholds of its conditions")
            continue
        earlier = _covered_by(rule.when, [r.when for r in rules[:i]])
        if earlier is not None:
            names = ", ".join(repr(rules[j].id) for j in earlier)
            warn(rule.file, at, key, f"rule {rule.id!r} can never give a stage: every customer "
                 f"it matches is matched first by {names}",
                 "move it up, or narrow the rules above it")
    assigned = {r.stage for r in rules}
    for stage in book.stages:
        if stage.name not in assigned:
            warn(str(LIFECYCLE_FILE), (None, None), f"stages.{stage.name}",
                 f"stage {stage.name!r} is declared but no rule gives it",
                 "add a rule for it or remove the stage")
    for seg in book.segments:
        if _never(seg.when):
            warn(seg.file, (seg.line, seg.column), "when",
                 f"segment {seg.id!r} can never match: {contradict}",
                 "check the thresholds of its conditions")
    active = book.active_policies()
    if not active:
        warn("policies", (None, None), "", "no enabled policies: every customer gets no_action",
             "add one YAML file per policy to policies/ (see README: Rules and policies)")
    for i, pol in enumerate(active):
        at = pol.spots.get("when", (pol.line, None))
        if _never(pol.when):
            warn(pol.file, at, "when", f"policy {pol.id!r} can never match: {contradict}",
                 "check the thresholds, e.g. gt 10 together with lt 5 on the same attribute")
            continue
        for dim, noun in (("action", "the action"), ("service_level", "the service level")):
            if getattr(pol, dim) is None:
                continue
            higher = [h for h in active[:i] if getattr(h, dim) is not None]
            shadow = _covered_by(pol.when, [h.when for h in higher])
            if shadow is not None:
                names = ", ".join(f"{higher[j].id!r} (priority {higher[j].priority})"
                                  for j in shadow)
                warn(pol.file, at, "when", f"policy {pol.id!r} never decides {noun}: every "
                     f"customer it matches is matched first by {names}",
                     "raise its priority, or narrow the higher-priority policy")
            for other in higher:
                if other.priority == pol.priority and _overlap(pol.when, other.when):
                    warn(pol.file, pol.spots.get("priority", (pol.line, None)), "priority",
                         f"policies {other.id!r} and {pol.id!r} have the same priority "
                         f"{pol.priority} and can match the same customers; {other.id!r} wins "
                         "(ids in alphabetical order)",
                         "give them different priorities to make the choice explicit")
    return out
