"""Warnings about a loaded rulebook: rules and policies that can never match, policies that
never win because higher-priority ones always match first, equal priorities that overlap, and
campaigns that are not declared.

Decided exactly over a finite grid: each attribute the conditions read is cut at their
thresholds into intervals (plus "missing"), text into the named values (plus "other" and
missing); every condition is constant within a cell. A warning is therefore a certainty, never
a guess; a check that would be too large is left out rather than guessed.

How much is checked stays bounded however many policies there are: a policy with at most
``FEW`` higher-priority policies is checked against all of them together; beyond, against those
of them that read no attribute it does not read itself (each group of policies with the same
attributes shares one grid, walked once in priority order).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from engine.errors import Problem, did_you_mean
from engine.policy.rule_grid import GRID_LIMIT, WORK_DONE, Bools, Grid, reads, spent
from engine.project.conditions import Condition
from engine.project.rulebook import LIFECYCLE_FILE, Rulebook

SHARED_GRID_LIMIT = 200_000  # cells of a grid shared by a group of policies
FEW = 64  # up to this many higher-priority policies are checked all together
PAIRS = 8  # equal priorities: up to this many policies are compared pair by pair
PAIR_BUDGET = 2_000  # beyond, overlapping pairs are looked for among this many pairs
SHOWN = 5  # covering policies named in a warning
# with thousands of policies the comparing checks stop after rule_grid.WORK evaluations


def _never(cond: Condition) -> bool:
    grid = Grid([cond])  # on its own grid: cheap, so outside the WORK budget
    return grid.size <= GRID_LIMIT and not grid._truth(cond).any()


def _covered_by(cond: Condition, others: Sequence[Condition]) -> list[int] | None:
    """Indices of ``others`` that together match every customer ``cond`` matches, or None."""
    if not others or spent():
        return None
    grid = Grid([cond, *others])
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
        if spent():
            return None
        pair = Grid([cond, other])
        if pair.size <= GRID_LIMIT and not (pair.truth(cond) & ~pair.truth(other)).any():
            return [i]
    return None


def _covered_within(conds: Sequence[Condition], counts: Sequence[Sequence[bool]],
                    check: Sequence[Collection[int]]) -> list[dict[int, list[int]]]:
    """Per dimension d, for each i in ``check[d]``: the earlier conditions counting in d that
    together cover condition i, among those reading only attributes condition i reads (absent:
    not shown to be covered). One grid per set of attributes, walked once in order with a
    running union per dimension.
    """
    sets = [frozenset(reads(c)) for c in conds]
    names = sorted(set().union(*sets)) if sets else []
    bit = {name: 1 << i for i, name in enumerate(names)}
    masks = [sum(bit[a] for a in s) for s in sets]
    by_mask: dict[int, list[int]] = {}
    for i, mask in enumerate(masks):
        by_mask.setdefault(mask, []).append(i)
    found: list[dict[int, list[int]]] = [{} for _ in counts]
    wanted = set().union(*check) if check else set()
    first_of: dict[int, int] = {}
    for i in sorted(wanted):  # groups of the highest priorities first
        first_of.setdefault(masks[i], i)
    for mask in sorted(first_of, key=first_of.__getitem__):
        if spent():
            break
        members = [i for i in by_mask[mask] if i in wanted]
        last = max(members)
        group = sorted(j for m in _submasks(mask, by_mask) for j in by_mask[m] if j <= last)
        firsts = [next((k for k in group if count[k]), None) for count in counts]
        if not any(first is not None and i > first for d, first in enumerate(firsts)
                   for i in members if i in check[d]):
            continue  # nothing earlier that counts: nothing to cover these
        grid = Grid([conds[j] for j in group])
        if grid.size > SHARED_GRID_LIMIT:
            continue
        unions = [np.zeros(grid.shape, dtype=bool) for _ in counts]
        truths: dict[int, Bools] = {}
        for j in group:
            truth = truths[j] = grid.truth(conds[j])
            for d, union in enumerate(unions):
                if j in check[d] and masks[j] == mask and truth.any() and \
                        not (truth & ~union).any():
                    found[d][j] = list(itertools.islice(
                        (k for k in group if k < j and counts[d][k]
                         and (truths[k] & truth).any()), SHOWN + 1))
                if counts[d][j]:
                    union |= truth
    return found


def _submasks(mask: int, by_mask: dict[int, list[int]]) -> list[int]:
    """The masks of ``by_mask`` that are subsets of ``mask`` (enumerated the cheaper way)."""
    if 1 << bin(mask).count("1") <= len(by_mask):
        out, sub = [], mask
        while True:
            if sub in by_mask:
                out.append(sub)
            if sub == 0:
                return out
            sub = (sub - 1) & mask
    return [m for m in by_mask if m & ~mask == 0]


def _overlap(a: Condition, b: Condition) -> bool:
    if spent():
        return False
    grid = Grid([a, b])
    return grid.size <= GRID_LIMIT and bool((grid.truth(a) & grid.truth(b)).any())


def _shadows(conds: Sequence[Condition], counts: Sequence[Sequence[bool]],
             wanted: Sequence[Sequence[bool]]) -> list[dict[int, list[int]]]:
    """Per dimension, for each wanted condition: the earlier counting ones that cover it."""
    befores = [np.concatenate([[0], np.cumsum(np.asarray(c, dtype=np.int64))]) for c in counts]
    many = [{i for i in range(len(conds)) if w[i] and before[i] > FEW}
            for w, before in zip(wanted, befores, strict=True)]
    outs = _covered_within(conds, counts, many)
    for out, count, want, before in zip(outs, counts, wanted, befores, strict=True):
        for i, cond in enumerate(conds):
            if want[i] and i not in out and before[i] <= FEW:
                earlier = [k for k in range(i) if count[k]]
                cover = _covered_by(cond, [conds[k] for k in earlier])
                if cover is not None:
                    out[i] = [earlier[j] for j in cover]
    return outs


Warn = Callable[[str, tuple[int | None, int | None], str, str, str], None]


def warnings_for(book: Rulebook) -> list[Problem]:
    """Warnings about a loaded rulebook: rules and policies that never match or never win."""
    token = WORK_DONE.set(0)
    try:
        return _warnings(book)
    finally:
        WORK_DONE.reset(token)


def _warnings(book: Rulebook) -> list[Problem]:
    out: list[Problem] = []

    def warn(file: str, at: tuple[int | None, int | None], key: str, message: str,
             hint: str) -> None:
        out.append(Problem(message, file=file, line=at[0], column=at[1], key=key, hint=hint,
                           severity="warning"))

    contradict = "its conditions contradict each other"
    rules = book.stage_rules
    never = [_never(r.when) for r in rules]
    (shadowed,) = _shadows([r.when for r in rules], [[True] * len(rules)],
                           [[not n for n in never]])
    for i, rule in enumerate(rules):
        at, key = (rule.line, rule.column), f"rules[{i}]"
        if never[i]:
            warn(rule.file, at, key, f"rule {rule.id!r} can never match: {contradict}",
                 "check the thresholds of its conditions")
        elif i in shadowed:
            names = _names([repr(rules[j].id) for j in shadowed[i]])
            warn(rule.file, at, key, f"rule {rule.id!r} can never give a stage: every customer "
                 f"it matches is matched first by {names}",
                 "move it up, or narrow the rules above it")
    assigned = {r.stage for r in rules}
    for stage in book.stages:
        if stage.name not in assigned:
            warn(str(LIFECYCLE_FILE), (stage.line, stage.column), f"stages.{stage.name}",
                 f"stage {stage.name!r} is declared but no rule gives it",
                 "add a rule for it or remove the stage")
    for seg in book.segments:
        if _never(seg.when):
            warn(seg.file, (seg.line, seg.column), "when",
                 f"segment {seg.id!r} can never match: {contradict}",
                 "check the thresholds of its conditions")
    _policy_warnings(book, warn, contradict)
    return out


def _policy_warnings(book: Rulebook, warn: Warn, contradict: str) -> None:
    active = book.active_policies()
    if not active:
        warn("policies", (None, None), "", "no enabled policies: every customer gets no_action",
             "add one YAML file per policy to policies/ (see README: Rules and policies)")
    conds = [p.when for p in active]
    never = [_never(c) for c in conds]
    for pol, no in zip(active, never, strict=True):
        if no:
            warn(pol.file, pol.spots.get("when", (pol.line, None)), "when",
                 f"policy {pol.id!r} can never match: {contradict}",
                 "check the thresholds, e.g. gt 10 together with lt 5 on the same attribute")
    dims = (("action", "the action"), ("service_level", "the service level"))
    has = [[getattr(p, dim) is not None for p in active] for dim, _ in dims]
    found = _shadows(conds, has, [[h and not n for h, n in zip(hs, never, strict=True)]
                                  for hs in has])
    for (_, noun), shadowed in zip(dims, found, strict=True):
        for i in sorted(shadowed):
            pol = active[i]
            names = _names([f"{active[j].id!r} (priority {active[j].priority})"
                            for j in shadowed[i]])
            warn(pol.file, pol.spots.get("when", (pol.line, None)), "when",
                 f"policy {pol.id!r} never decides {noun}: every customer it matches is "
                 f"matched first by {names}", "raise its priority, or narrow the "
                 "higher-priority policy")
    _equal_priorities(active, never, warn)


def _equal_priorities(active: Sequence[Any], never: Sequence[bool], warn: Warn) -> None:
    """Policies with the same priority that can match the same customer: the id decides."""
    levels: dict[int, list[int]] = {}
    for i, pol in enumerate(active):
        if not never[i]:
            levels.setdefault(pol.priority, []).append(i)
    hint = "give them different priorities to make the choice explicit"
    for priority, members in sorted(levels.items(), key=lambda kv: kv[1][0]):
        if len(members) <= PAIRS:
            for k, i in enumerate(members):
                pol = active[i]
                for j in members[:k]:
                    other = active[j]
                    if (pol.action or pol.service_level) and _same_dimension(pol, other) \
                            and _overlap(pol.when, other.when):
                        warn(pol.file, pol.spots.get("priority", (pol.line, None)), "priority",
                             f"policies {other.id!r} and {pol.id!r} have the same priority "
                             f"{priority} and can match the same customers; {other.id!r} wins "
                             "(ids in alphabetical order)", hint)
            continue
        pairs = ((a, b) for k, b in enumerate(members) for a in members[:k])
        for count, (a, b) in enumerate(pairs):
            if count >= PAIR_BUDGET:
                break
            if _same_dimension(active[a], active[b]) and _overlap(active[a].when,
                                                                  active[b].when):
                pol = active[b]
                warn(pol.file, pol.spots.get("priority", (pol.line, None)), "priority",
                     f"{len(members)} policies have the same priority {priority} and some can "
                     f"match the same customers, e.g. {active[a].id!r} and {pol.id!r}: the "
                     "ids decide (alphabetical order)", hint)
                break


def _names(names: list[str]) -> str:
    """The first ``SHOWN`` names, and "others" when there are more."""
    if len(names) > SHOWN:
        return ", ".join(names[:SHOWN]) + " and others"
    return ", ".join(names)


def _same_dimension(a: Any, b: Any) -> bool:
    """Whether two policies compete: both give an action, or both a service level."""
    return bool((a.action and b.action) or (a.service_level and b.service_level))


def campaign_warnings(book: Rulebook, declared: Collection[str]) -> list[Problem]:
    """A contact policy whose campaign is not declared in policies/campaigns.yaml: its brief
    would have no name, objective or budget of its own."""
    out = []
    for pol in book.active_policies():
        if pol.campaign is None or pol.campaign in declared:
            continue
        named = "campaign" in pol.spots
        at = pol.spots["campaign"] if named else pol.spots.get("id", (pol.line, None))
        what = (f"campaign {pol.campaign!r} of policy {pol.id!r}" if named else
                f"policy {pol.id!r} has no campaign, so its campaign is its id, "
                f"{pol.campaign!r}, which")
        out.append(Problem(
            f"{what} is not declared in policies/campaigns.yaml: its brief has no name, "
            "objective or budget", file=pol.file, line=at[0], column=at[1],
            key="campaign" if named else "id", severity="warning",
            hint=(did_you_mean(pol.campaign, declared) or "declare it under `campaigns:` in "
                  "policies/campaigns.yaml (name, objective, budget, kpis)")))
    return out
