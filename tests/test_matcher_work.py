"""Compiling a deeply nested condition does work linear in its size, not quadratic in its depth
(5,000 generated policies nested six deep spent a fifth of their compile time re-reading every
subtree's attributes at every level). Counted in condition-tree visits, not timed."""

from __future__ import annotations

import pytest

import engine.project.conditions as conditions
from engine.policy.matcher import Matcher
from engine.project.conditions import AllOf, AnyOf, Compare, Condition


def _chain(depth: int) -> Condition:
    """all(a_k > k, a_k+1 < k + 100, any(a_k+2 >= k, <the next level>)), ``depth`` levels."""
    cond: Condition = Compare("a0", "gt", 0.5, "number")
    for k in range(depth, 0, -1):
        cond = AllOf((Compare(f"a{k % 8}", "gt", float(k), "number"),
                      Compare(f"a{(k + 1) % 8}", "lt", float(k + 100), "number"),
                      AnyOf((Compare(f"a{(k + 2) % 8}", "gte", float(-k), "number"), cond))))
    return cond


def _visits(depth: int, monkeypatch: pytest.MonkeyPatch) -> int:
    seen = [0]
    walk = conditions.leaves

    def counted(cond: Condition):  # type: ignore[no-untyped-def]
        seen[0] += 1
        yield from walk(cond)

    with monkeypatch.context() as patch:
        patch.setattr(conditions, "leaves", counted)
        Matcher(f"t_work_{depth}", [_chain(depth)]).close()
    return seen[0]


def test_compile_work_grows_linearly_with_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = _visits(20, monkeypatch), _visits(40, monkeypatch)
    assert large <= 2.5 * small, (small, large)  # quadratic work gives about 4 x
