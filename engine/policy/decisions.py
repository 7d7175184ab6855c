"""Decide what to do per customer: durable-rules decides, once per distinct case.

The YAML conditions are compiled to durable-rules rulesets (``engine.policy.matchers``, how the
rule engine is driven is written there) and asked once per distinct case of the attributes each
condition reads (``engine.policy.matcher``); no user text is ever evaluated. One primary action
per customer (highest priority, ties by policy id: ``arbitration_key``) and the service level
decided on its own; the table is assembled by ``engine.policy.decision_table``.
``decide_one_by_one`` posts every customer separately: the reference the identity test compares
against.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.policy.cases import number_text
from engine.policy.decision_table import DECISION_COLUMNS, decision_frame, reason
from engine.policy.lifecycle import assign_segments, assign_stages, segments_of
from engine.policy.matcher import NONE, Matcher
from engine.policy.matchers import policy_matcher, stage_matcher
from engine.project.rulebook import Rulebook, arbitration_key

__all__ = ["DECISION_COLUMNS", "NONE", "Matcher", "decide", "decide_one_by_one",
           "decision_frame", "number_text", "policy_matcher", "reason", "stage_matcher"]


def decide(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The decision table: one row per customer, columns ``DECISION_COLUMNS``.

    Stages and segments come from the table if it has them, else from
    ``engine.policy.lifecycle.assign_stages``. One primary action per customer (highest
    priority, ties by policy id), the service level decided on its own, and ``no_action`` with a
    reason where no policy matched. Text columns are pandas categoricals.
    """
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
