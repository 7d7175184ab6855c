"""The customer attributes a trigger's ``customer`` conditions may test: those of policies
(the value table, the lifecycle stage, segments, the history's), with their closed values."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from engine.project.conditions import BOOLEAN
from engine.project.rulebook import Rulebook
from engine.project.schema import OUTCOMES
from engine.project.segments import segment_attribute


def trigger_types(types: Mapping[str, str], rulebook: Rulebook | None) -> dict[str, str]:
    out = dict(types)
    if rulebook is not None:
        out.update({segment_attribute(s.id): BOOLEAN for s in rulebook.segments})
    return out


def trigger_values(rulebook: Rulebook | None,
                   tiers: Collection[str] | None) -> dict[str, Collection[str]]:
    out: dict[str, Collection[str]] = {"last_outcome": OUTCOMES}
    if tiers is not None:
        out["value_tier"] = out["previous_tier"] = list(tiers)
    if rulebook is not None:
        out["lifecycle_stage"] = out["previous_stage"] = [s.name for s in rulebook.stages]
        if rulebook.stage_rules:  # a misspelt rule id matches no one
            out["stage_rule"] = [r.id for r in rulebook.stage_rules]
    return out
