"""The grid that decides questions about conditions exactly: every combination of intervals.

Each attribute some conditions read is cut at their thresholds into cells (below the lowest,
each threshold, between two, above the highest) plus "missing"; text into each named value,
"any other text" and missing. Every condition is constant within a cell, so evaluating one
representative per cell decides a question for all possible customers exactly
(``engine.policy.warnings`` asks: can it match at all, do these cover it, do these overlap).
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.project.conditions import (
    BOOLEAN,
    DATE,
    NUMBER,
    TEXT,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Not,
    attributes,
    holds,
    normalize,
    thresholds,
)

GRID_LIMIT = 2_000_000  # cells; beyond it a check is left out (no warning rather than a guess)
WORK = 40_000  # conditions evaluated over a grid, per validation, for the comparing checks
Bools = npt.NDArray[np.bool_]

_LEAF_CACHE: dict[tuple[Compare, tuple[Any, ...]], Bools] = {}


class Grid:
    """Every combination of intervals of the attributes some conditions read.

    Each numeric attribute is cut at the conditions' thresholds into cells (below the lowest,
    each threshold, between two, above the highest) plus "missing"; text into each named value,
    "any other text" and missing. Every condition is constant within a cell, so evaluating one
    representative per cell decides a question for all possible customers exactly.
    """

    def __init__(self, conds: Sequence[Condition]) -> None:
        kinds: dict[str, str] = {}
        found: dict[str, set[Any]] = {}
        for cond in conds:
            for attr, (kind, values) in reads(cond).items():
                kinds[attr] = kind
                found.setdefault(attr, set()).update(values)
        cuts = {a: tuple(sorted(v, key=lambda x: (type(x).__name__, x))) for a, v in
                found.items()}  # as engine.project.conditions.thresholds sorts them
        self.axes = {name: (i, _representatives(kinds[name], cuts.get(name, ())))
                     for i, name in enumerate(sorted(kinds))}
        self.shape = tuple(len(reps) for _, reps in self.axes.values())
        self.size = int(np.prod(self.shape, dtype=np.float64))

    def truth(self, cond: Condition) -> Bools:
        WORK_DONE.set(WORK_DONE.get() + 1)
        return np.broadcast_to(self._truth(cond), self.shape)

    def _truth(self, cond: Condition) -> Bools:
        ndim = len(self.shape)
        if isinstance(cond, Compare):
            axis, reps = self.axes[cond.attribute]
            key = (cond, reps)
            values = _LEAF_CACHE.get(key)
            if values is None:
                if len(_LEAF_CACHE) > 100_000:
                    _LEAF_CACHE.clear()
                values = _LEAF_CACHE[key] = np.array(
                    [holds(cond, normalize(r, cond.kind)) for r in reps], dtype=bool)
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


# How much the checks that compare conditions may still do. With thousands of policies they
# stop after WORK evaluations (a few seconds), highest priorities first: a warning may then be
# missing, never wrong.
WORK_DONE: contextvars.ContextVar[int] = contextvars.ContextVar("cvm_warnings_work", default=0)


def spent() -> bool:
    return WORK_DONE.get() >= WORK


_READS: dict[int, tuple[Condition, dict[str, tuple[str, frozenset[Any]]]]] = {}


def reads(cond: Condition) -> dict[str, tuple[str, frozenset[Any]]]:
    """Per attribute the condition reads: its type and the thresholds (kept per condition)."""
    kept = _READS.get(id(cond))
    if kept is not None and kept[0] is cond:
        return kept[1]
    if len(_READS) > 200_000:
        _READS.clear()
    kinds = attributes(cond)
    cuts = thresholds([cond])
    out = {a: (k, frozenset(cuts.get(a, ()))) for a, k in kinds.items()}
    _READS[id(cond)] = (cond, out)
    return out


def _representatives(kind: str, cuts: tuple[Any, ...]) -> tuple[Any, ...]:
    if kind == NUMBER:
        reps: list[Any] = [None]
        if not cuts:
            return (None, 0.0)
        reps.append(cuts[0] - max(1.0, abs(cuts[0])))
        for low, high in pairwise(cuts):
            reps += [low, (low + high) / 2]
        return (*reps, cuts[-1], cuts[-1] + max(1.0, abs(cuts[-1])))
    if kind == TEXT:
        return (None, *cuts, "\x00any other text")
    if kind == BOOLEAN:
        return (None, False, True)
    assert kind == DATE
    import datetime as dt

    return (None, dt.date(2000, 1, 1))
