"""Decide what to do per customer: durable-rules decides, once per distinct case.

The YAML conditions are compiled to durable-rules rulesets (``engine.compiled``: bounded rules
that durable-rules accepts however the conditions nest and however many there are) and asked
once per distinct case of the attributes each condition reads (``engine.matcher``); no user
text is ever evaluated. ``decide_one_by_one`` posts every customer separately: the reference
the identity test compares against.

durable-rules 2.0.28 behaviours designed around (details in ``engine.compiled`` and
``engine.rulesets``):
- ``Host()`` starts timer threads that run actions later: we call its engine directly, run
  no Python actions and start no thread.
- An event is consumed by the first rule that fires; we assert *facts*, so every matching rule
  fires, and retract each after its rules fired, so no state accumulates and the one fact id
  in use is never taken by another fact (fact ids are hashed to 32 bits).
- An unmatched message raises: a sink rule matches every message.
- A rule with only negative tests can match the session's own state: every rule starts with
  ``+case``, which only our messages have.
- Rule size, stack depth, children per node and properties per message are limited: the
  compiler stays within them by construction.
- Its JSON reader rejects numbers with an exponent: every number of a message is written as a
  double without exponent, and the parser keeps thresholds in the range Python writes without
  one.
- It compares text with numbers as strings ('abc' > 1): values are normalised first (wrong type
  = missing), so a comparison never sees the wrong type.
- Property names are hashed to 32 bits: the names we use (sid, id, case, u, p0, p1, ...) are
  checked by a test to have distinct hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.cases import Ints, number_text
from engine.errors import InputError, Problem
from engine.matcher import NONE, Matcher, Source, matcher
from engine.rulebook import DEFAULT_SERVICE_LEVEL, NO_ACTION, Policy, Rulebook, arbitration_key

__all__ = ["DECISION_COLUMNS", "NONE", "Matcher", "compile_rulebook", "decide",
           "decide_one_by_one",
           "decision_frame", "number_text", "policy_matcher", "reason", "stage_matcher"]

DECISION_COLUMNS = ("customer_id", "lifecycle_stage", "stage_rule", "segments", "action",
                    "policy_id", "priority", "service_level", "service_policy", "offer",
                    "channels", "campaign", "reason")


def stage_matcher(rulebook: Rulebook) -> Matcher:
    rules = rulebook.stage_rules
    return matcher("stages", [r.when for r in rules],
                   [Source(r.file, r.line, r.column, f"lifecycle rule {r.id!r}") for r in rules])


def policy_matcher(rulebook: Rulebook) -> Matcher:
    active = rulebook.active_policies()
    return matcher("policies", [p.when for p in active],
                   [Source(p.file, *p.spots.get("when", (p.line, None)), f"policy {p.id!r}")
                    for p in active])


def compile_rulebook(rulebook: Rulebook) -> list[Problem]:
    """Compile every condition for durable-rules (kept for the run); what it refuses, with the
    file and line of the condition."""
    from engine.lifecycle import segment_matchers

    try:
        stage_matcher(rulebook)
        segment_matchers(rulebook)
        policy_matcher(rulebook)
    except InputError as exc:
        return list(exc.problems)
    return []


def decide(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The decision table: one row per customer, columns ``DECISION_COLUMNS``.

    Stages and segments come from the table if it has them, else from
    ``engine.lifecycle.assign_stages``. One primary action per customer (highest priority, ties
    by policy id), the service level decided on its own, and ``no_action`` with a reason where
    no policy matched. Text columns are pandas categoricals.
    """
    from engine.lifecycle import assign_segments, assign_stages

    if "lifecycle_stage" not in table or "stage_rule" not in table:
        table = assign_stages(table, rulebook)
    elif "segments" not in table:
        table = assign_segments(table, rulebook)
    policies = rulebook.active_policies()
    action, service = policy_matcher(rulebook).first_match(
        table, [[p.action is not None for p in policies],
                [p.service_level is not None for p in policies]])
    return decision_frame(table, policies, action, service)


def decide_one_by_one(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The reference: every customer posted to durable-rules on its own, no bucketing."""
    from engine.lifecycle import segments_of

    stages, policies = stage_matcher(rulebook), policy_matcher(rulebook)
    active = rulebook.active_policies()
    has_stage = "lifecycle_stage" in table and "stage_rule" in table
    columns: dict[str, list[Any]] = {"lifecycle_stage": [], "stage_rule": [], "segments": []}
    flags: dict[str, list[bool]] = {f"segment_{s}": []
                                    for s in sorted(s.id for s in rulebook.segments)}
    action: list[int] = []
    service: list[int] = []
    for record in table.to_dict("records"):
        if has_stage:
            stage, rule = record["lifecycle_stage"], record["stage_rule"]
        else:
            first = rulebook.stage_rules[min(stages.match_record(record))]
            stage, rule = first.stage, first.id
        found = segments_of({**record, "lifecycle_stage": stage}, rulebook)
        for name, value in found.items():
            flags[f"segment_{name}"].append(value)
        columns["lifecycle_stage"].append(stage)
        columns["stage_rule"].append(rule)
        columns["segments"].append("|".join(sorted(k for k, v in found.items() if v)))
        hits = policies.match_record({**record, "lifecycle_stage": stage,
                                      **{f"segment_{k}": v for k, v in found.items()}})
        for dim, out in (("action", action), ("service_level", service)):
            matched = [i for i in hits if getattr(active[i], dim)]
            out.append(min(matched, key=lambda i: arbitration_key(active[i])) if matched
                       else NONE)
    staged = table.assign(**{k: pd.Categorical(v) for k, v in columns.items()
                             if not (has_stage and k != "segments")},
                          **{k: np.array(v, dtype=bool) for k, v in flags.items()})
    return decision_frame(staged, active, np.array(action, dtype=np.int64),
                          np.array(service, dtype=np.int64))


def _labels(values: Sequence[str | None], index: Ints) -> pd.Categorical:
    """``values[i]`` for each i in ``index``; ``values[-1]`` is used for NONE (-1)."""
    categories = sorted({v for v in values if v is not None})
    position = {v: i for i, v in enumerate(categories)}
    lookup = np.array([NONE if v is None else position[v] for v in values], dtype=np.int64)
    return pd.Categorical.from_codes(lookup[index], categories=categories)


def reason(policy: Policy | None) -> str:
    """The reason column: which policy decided, and its description."""
    if policy is None:
        return "no policy matched"
    return f"{policy.id} (priority {policy.priority}): {policy.description}"


def decision_frame(table: pd.DataFrame, policies: Sequence[Policy], action: Ints,
                   service: Ints) -> pd.DataFrame:
    """Assemble the decision table from the winners' indices (NONE where nothing matched)."""
    def column(fn: Any, default: str | None) -> list[str | None]:
        return [fn(p) for p in policies] + [default]

    ids = table["customer_id"] if "customer_id" in table else pd.Series(table.index)
    priority = np.array([p.priority for p in policies] + [0], dtype=np.int64)[action]
    segments = (table["segments"].array if "segments" in table
                else pd.Categorical([""] * len(table)))
    return pd.DataFrame({
        "customer_id": ids.array,  # .array: no index alignment, no dtype conversion
        "lifecycle_stage": table["lifecycle_stage"].array,
        "stage_rule": table["stage_rule"].array,
        "segments": segments,
        "action": _labels(column(lambda p: p.action, NO_ACTION), action),
        "policy_id": _labels(column(lambda p: p.id, None), action),
        "priority": pd.arrays.IntegerArray(priority, action == NONE),
        "service_level": _labels(column(lambda p: p.service_level, DEFAULT_SERVICE_LEVEL),
                                 service),
        "service_policy": _labels(column(lambda p: p.id, None), service),
        "offer": _labels(column(lambda p: p.offer, None), action),
        "channels": _labels(column(lambda p: "|".join(p.channels), ""), action),
        "campaign": _labels(column(lambda p: p.campaign, None), action),
        "reason": _labels(column(reason, reason(None)), action),
    }, columns=list(DECISION_COLUMNS))
