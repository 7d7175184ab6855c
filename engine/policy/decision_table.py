"""The decision table: one row per customer from the winning policies' indices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.policy.cases import Ints
from engine.policy.matcher import NONE
from engine.project.rulebook import DEFAULT_SERVICE_LEVEL, NO_ACTION, Policy

DECISION_COLUMNS = ("customer_id", "lifecycle_stage", "stage_rule", "segments", "action",
                    "policy_id", "priority", "service_level", "service_policy", "offer",
                    "channels", "campaign", "reason")


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
