"""What a condition reads: per attribute, its type and the thresholds the condition compares it
with (``engine.policy.matcher`` sizes and packs a condition's cases with it).

Built bottom-up from the parts, each subtree once per ``Memo``: found anew for every subtree,
deeply nested conditions cost time quadratic in their depth (5,000 generated policies spent a
fifth of their compile time here).
"""

from __future__ import annotations

from typing import Any

from engine.project.conditions import AllOf, AnyOf, Compare, Condition, Not

Reads = dict[str, tuple[str, frozenset[Any]]]
# id(subtree) -> (the subtree, held so that its id is not reused while the memo lives; reads)
Memo = dict[int, tuple[Condition, Reads]]


def reads(cond: Condition, memo: Memo | None = None) -> Reads:
    """Per attribute the condition reads (in reading order): its type and thresholds."""
    if memo is not None:
        hit = memo.get(id(cond))
        if hit is not None and hit[0] is cond:
            return hit[1]
    out: Reads = {}
    if isinstance(cond, Compare):
        operand = cond.operand
        out = {cond.attribute: (cond.kind, frozenset(
            operand if isinstance(operand, tuple) else () if operand is None else (operand,)))}
    elif isinstance(cond, (AllOf, AnyOf)):
        for item in cond.items:
            out = merged(out, reads(item, memo))
    elif isinstance(cond, Not):
        out = reads(cond.item, memo)
    if memo is not None:
        memo[id(cond)] = (cond, out)
    return out


def merged(a: Reads, b: Reads) -> Reads:
    out = dict(a)
    for attr, (kind, cuts) in b.items():
        out[attr] = (kind, out[attr][1] | cuts if attr in out else cuts)
    return out
