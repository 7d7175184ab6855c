"""The service's answers for one customer, built from the run's rows and from
``engine.policy.explain`` (durable-rules decides what matches; the explain machinery says why
each policy applies or does not): the profile and the next best action.

Plain dicts of JSON-ready values (no NaN: missing is None), so they can be serialised once at
load and served as bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.policy.condition_text import describe
from engine.policy.decision_table import reason
from engine.policy.explain import Explanation
from engine.project.contact_policies import ContactPolicies
from engine.project.rulebook import NO_ACTION, Policy, Rulebook, arbitration_key

PROFILE_VALUES = ("historic_value", "potential_value", "influence_value", "total_value",
                  "value_score", "clv_discounted", "current_value", "revenue", "recency_days",
                  "frequency")
BATCH_FIELDS = ("campaign", "channel", "status", "holdout", "cost", "expected_value",
                "value_at_stake", "reason")


@dataclass(frozen=True)
class ContactVerdict:
    """What one contact policy says about the customer's contact (the top action's
    campaign), per channel."""

    policy: str
    kind: str
    scope: str
    description: str
    blocked: tuple[str, ...]  # the channels it forbids now
    reason: str


def plain(value: Any) -> Any:
    """A JSON-ready value: NaN and NaT as None, numpy scalars as Python, dates as ISO text."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, (str, bool, int)) and pd.isna(value)):
            return None
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat()
    except (TypeError, ValueError):
        pass
    return value


def profile(record: Mapping[str, Any], decision: Mapping[str, str],
            batch: Mapping[str, Any] | None, run_id: str, as_of: str) -> dict[str, Any]:
    """Who the customer is worth and what the run decided (the history is added per request)."""
    segments = [s for s in str(record.get("segments") or "").split("|") if s]
    return {
        "customer_id": str(record["customer_id"]),
        "run_id": run_id,
        "as_of": as_of,
        "value": {name: plain(record.get(name)) for name in PROFILE_VALUES},
        "value_tier": plain(record.get("value_tier")),
        "lifecycle_stage": plain(record.get("lifecycle_stage")),
        "stage_rule": plain(record.get("stage_rule")),
        "segments": segments,
        "churn_risk": plain(record.get("churn_risk")),
        "p_alive": plain(record.get("p_alive")),
        "preferred_channel": plain(record.get("preferred_channel")),
        "decision": {k: decision.get(k) or None for k in
                     ("action", "policy_id", "campaign", "offer", "service_level", "reason")},
        "batch": None if batch is None else {k: plain(batch.get(k)) for k in BATCH_FIELDS},
    }


def _entry(pol: Policy, rank: int | None, channel: str | None, why: str,
           service_level: str) -> dict[str, Any]:
    return {
        "rank": rank,
        "policy_id": pol.id,
        "action": pol.action,
        "offer": pol.offer,
        "campaign": pol.campaign if pol.action != NO_ACTION else None,
        "priority": pol.priority,
        "service_level": service_level,
        "channels": list(pol.channels),
        "on_channel": None if channel is None else channel in pol.channels,
        "talking_points": pol.description,
        "why": why,
        "location": pol.location,
    }


def next_best_action(why: Explanation, rulebook: Rulebook, *, channel: str | None,
                     verdicts: Sequence[ContactVerdict], run_id: str, as_of: str,
                     context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ranked eligible actions (the first is the decision), why each applies, why every
    other policy with an action does not, and the contact policies."""
    by_id = {p.id: p for p in rulebook.policies}
    checks = {c.id: c for c in why.policies}
    eligible = sorted((by_id[c.id] for c in why.policies
                       if c.matched and c.enabled and by_id[c.id].action),
                      key=arbitration_key)
    level = why.service_level
    ranked = [_entry(p, i + 1, channel, f"applies: {describe(p.when)}", level)
              for i, p in enumerate(eligible)]
    others = []
    for pol in sorted((p for p in rulebook.policies if p.action and p not in eligible),
                      key=arbitration_key):
        check = checks[pol.id]
        text = ("switched off (enabled: false)" if not pol.enabled
                else f"does not apply: {check.why_not}")
        others.append(_entry(pol, None, channel, text, level))
    top = why.action_policy
    return {
        "customer_id": why.customer_id,
        "run_id": run_id,
        "as_of": as_of,
        "channel": channel,
        "context": dict(context or {}),
        "value_tier": why_value(why, "value_tier"),
        "lifecycle_stage": why.stage,
        "total_value": why_value(why, "total_value"),
        "decision": {
            "action": why.action,
            "policy_id": top.id if top else None,
            "campaign": (top.campaign if top and top.action != NO_ACTION else None),
            "offer": top.offer if top else None,
            "service_level": level,
            "service_policy": why.service_policy.id if why.service_policy else None,
            "reason": reason(top),
        },
        "actions": ranked,
        "not_eligible": others,
        "contact_policies": [
            {"policy": v.policy, "kind": v.kind, "scope": v.scope,
             "description": v.description, "blocks": list(v.blocked),
             "blocks_this_channel": None if channel is None else channel in v.blocked,
             "reason": v.reason or None} for v in verdicts],
    }


def why_value(why: Explanation, name: str) -> Any:
    return plain(dict(why.value).get(name))


def contact_verdicts(policies: ContactPolicies, blocked: Mapping[str, tuple[str, ...]],
                     reasons: Mapping[str, str]) -> tuple[ContactVerdict, ...]:
    return tuple(ContactVerdict(p.id, p.kind, p.scope, p.description,
                                blocked.get(p.id, ()), reasons.get(p.id, ""))
                 for p in policies.policies)
