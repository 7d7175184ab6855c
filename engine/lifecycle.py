"""Lifecycle stages (and segments) from rules/: durable-rules decides, once per distinct case.

The rules of ``rules/lifecycle.yaml`` are tried in file order and the first that matches gives
the stage; the rulebook guarantees the last rule matches everyone, so every customer gets
exactly one stage and the id of the rule that gave it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine.decide import matcher, stage_matcher
from engine.rulebook import Rulebook, StageRule


def assign_stages(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The table with ``lifecycle_stage`` and ``stage_rule`` added (categorical columns)."""
    rules = rulebook.stage_rules
    matched = stage_matcher(rulebook).match_table(table)
    if len(table) and not matched.any(axis=1).all():  # pragma: no cover - last rule is "always"
        raise RuntimeError("a customer matched no lifecycle rule")
    first = matched.argmax(axis=1)  # rules are in file order: the first match wins
    names = sorted({r.stage for r in rules})
    stage_codes = np.array([names.index(r.stage) for r in rules], dtype=np.int64)[first]
    ids = sorted(r.id for r in rules)
    rule_codes = np.array([ids.index(r.id) for r in rules], dtype=np.int64)[first]
    categories = [s for s in rulebook.stage_names if s in names]  # declared order
    stages = pd.Categorical.from_codes(stage_codes, categories=names)
    return table.assign(
        lifecycle_stage=stages.reorder_categories(categories),
        stage_rule=pd.Categorical.from_codes(rule_codes, categories=ids),
    )


def stage_of(customer: Mapping[str, Any], rulebook: Rulebook) -> StageRule:
    """The rule that gives one customer its stage (durable-rules, no bucketing)."""
    hits = stage_matcher(rulebook).match_record(customer)
    return rulebook.stage_rules[min(hits)]


def assign_segments(table: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """One boolean column per segment of rules/*.yaml (a customer can be in several)."""
    segments = rulebook.segments
    if not segments:
        return pd.DataFrame(index=table.index)
    matched = matcher("segments", [s.when for s in segments]).match_table(table)
    return pd.DataFrame(matched, columns=[s.id for s in segments], index=table.index)
