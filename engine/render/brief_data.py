"""What a campaign brief template gets: one plain dict per campaign (documented in the README),
with every figure computed from the action list, so brief and action list always agree.

The holdout is compared with the whole treated audience, everyone assigned to the campaign
outside the holdout, contacted or not (intention to treat): the contacted customers alone are
selected by consent, limits and value, so comparing them with the holdout would be biased."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.activation import money
from engine.policy.condition_text import describe
from engine.project.channels import ChannelSetup
from engine.project.contact_policies import OPTED_OUT
from engine.project.rulebook import NO_ACTION, Rulebook
from engine.render.figures import Price

EXAMPLES = 5
# the action list's columns a brief reads: each selection below copies these only, not the
# whole list (a fixed cost of a tenth of a second per campaign on a small run)
USED = ("campaign", "status", "policy_id", "cost", "expected_value", "channel",
        "value_at_stake", "customer_id", "reason", "lifecycle_stage", "value_tier", "offer")
# a suppressed customer's reason: the contact policies named, or the built-in opt-out rule
# (an empty name: the opt-out, engine.activation.contact.opted_out)
POLICY_IN_REASON = r"(?:^|; )(?:contact policy ([^:;]+):|opted out on )"
DEFAULT_KPIS = ("customer lifetime value", "churn rate", "average order value",
                "return on spend")  # for a campaign that names none


def _mix(values: pd.Series) -> list[dict[str, Any]]:
    """Each value's count and share, the most frequent first; a missing value as "(none)"."""
    counts: dict[str, int] = {}
    for k, v in values.value_counts(dropna=False).items():  # no filled copy of the column
        if v:  # a category no row has
            name = "(none)" if pd.isna(k) else str(k)
            counts[name] = counts.get(name, 0) + int(v)
    total = sum(counts.values())
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"name": k, "count": v, "share": v / total if total else 0.0} for k, v in order]


def _by_policy(reasons: pd.Series) -> list[dict[str, Any]]:
    """Suppressed customers per contact policy named in their reason (engine.activation.contact:
    ``contact policy <id>: ...`` joined with ``; ``), and by the built-in opt-out rule (as
    ``opted_out``); a customer blocked by two counts twice."""
    if not len(reasons):
        return []
    named = reasons.astype(str).str.findall(POLICY_IN_REASON).explode().dropna() \
        .replace("", OPTED_OUT)
    total = len(reasons)
    counts = named.value_counts()
    order = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [{"name": str(k), "count": int(v), "share": v / total} for k, v in order]


def campaign_contexts(actions: pd.DataFrame, rulebook: Rulebook, channels: ChannelSetup, *,
                      run: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    actions = actions[list(USED)]
    # campaigns and statuses coded once: comparing the text columns (Python objects) for each
    # campaign and status was most of the time at 1M customers (0.3 of 0.8 s)
    # (as text: a categorical would be sorted in its categories' order, not by name)
    camp_code, camp_ids = pd.factorize(actions["campaign"].astype(object), sort=True)
    status_code, statuses = pd.factorize(actions["status"])
    status_of = {str(name): k for k, name in enumerate(statuses)}

    def having(codes: np.ndarray, status: str) -> np.ndarray:
        found: np.ndarray = codes == status_of.get(status, -2)  # -2: none has it, -1: missing
        return found

    allocated = actions[having(status_code, "allocated")]
    ids = [ch.id for ch in channels.channels]
    camps = [str(c) for c in camp_ids]
    # the amounts the allocation summary shows (summed exactly, rounded once, adding up)
    shown = {key: money.breakdown(allocated["campaign"], allocated["channel"], allocated[key],
                                  ids, camps) for key in ("cost", "expected_value")}
    for j, camp_id in enumerate(camp_ids):
        camp = channels.campaign(str(camp_id))
        rows = np.flatnonzero(camp_code == j)
        part, part_status = actions.take(rows), status_code[rows]
        done = part[having(part_status, "allocated")]
        held = part[having(part_status, "holdout")]
        unserved = part[having(part_status, "not_served")]
        gone = part[having(part_status, "suppressed")]
        used = {str(x) for x in pd.unique(part["policy_id"])}  # not set(): 10x slower on Arrow
        policies = [p for p in rulebook.policies if p.id in used and p.enabled]
        cost = shown["cost"].campaign[str(camp_id)]
        ev = shown["expected_value"].campaign[str(camp_id)]
        chans = []
        for ch in channels.channels:
            sub = done[done["channel"] == ch.id]
            if len(sub):
                chans.append({"id": ch.id, "name": ch.name, "contacts": len(sub),
                              "cost": shown["cost"].cell[str(camp_id), ch.id],
                              "expected_value": shown["expected_value"].cell[str(camp_id),
                                                                             ch.id],
                              "cost_per_contact": Price(ch.cost_per_contact)})
        examples = done.sort_values(["value_at_stake", "customer_id"],
                                    ascending=[False, True]).head(EXAMPLES)
        out.append({
            "run": run,
            "campaign": {"id": str(camp_id), "name": camp.name, "objective": camp.objective,
                         "declared": channels.declared(str(camp_id)),
                         "holdout_share": camp.holdout_share,
                         "value_at_stake": camp.value_at_stake, "budget": camp.budget,
                         "kpis": list(camp.kpis) or list(DEFAULT_KPIS),
                         "kpis_default": not camp.kpis},
            "policies": [{"id": p.id, "description": p.description, "priority": p.priority,
                          "segment": describe(p.when), "action": p.action, "offer": p.offer,
                          "channels": list(p.channels)} for p in policies],
            "audience": {"size": len(part), "allocated": len(done), "holdout": len(held),
                         "not_served": len(unserved),
                         "not_served_reasons": _mix(unserved["reason"]) if len(unserved)
                         else [],
                         "suppressed": len(gone), "suppressed_by": _by_policy(gone["reason"])},
            "value_at_stake": {"audience": float(part["value_at_stake"].sum()),
                               "contacted": float(done["value_at_stake"].sum())},
            "stage_mix": _mix(part["lifecycle_stage"]),
            "tier_mix": _mix(part["value_tier"]),
            "channels": chans,
            "budget": {"used": cost, "available": camp.budget,
                       "share": cost / camp.budget if camp.budget else None},
            "expected": {"value": ev, "cost": cost, "return_on_spend":
                         (ev + cost) / cost if cost else None},
            "holdout": {"share": camp.holdout_share, "size": len(held), "salt": channels.salt,
                        "actual_share": len(held) / len(part),
                        "comparison_size": len(part) - len(held)},
            "examples": [{"customer_id": r.customer_id, "value_tier": r.value_tier,
                          "lifecycle_stage": r.lifecycle_stage, "channel": r.channel,
                          "value_at_stake": float(r.value_at_stake),
                          "expected_value": float(r.expected_value), "offer": r.offer}
                         for r in examples.itertuples()],
        })
    return out


SAMPLE_REASONS = {"allocated": "sample", "holdout": "holdout",
                  "not_served": "no consented channel",
                  "suppressed": "contact policy sample: a sample contact policy"}


def sample_actions(rulebook: Rulebook, channels: ChannelSetup,
                   tiers: Sequence[str] = ()) -> pd.DataFrame:
    """An action list with, for every campaign of the enabled policies, customers in each
    status (as many allocated as a brief shows examples, over the policy's channels, stages
    and ``tiers``): what ``cvm validate`` renders the brief templates on, so that a name a
    template misspells is found before any run."""
    stages = [s.name for s in rulebook.stages] or ["sample"]
    tiers = list(tiers) or ["sample"]
    rows = []
    for pol in rulebook.policies:
        if not (pol.enabled and pol.action and pol.action != NO_ACTION and pol.campaign):
            continue
        statuses = [*(["allocated"] * EXAMPLES if pol.channels else []),
                    *(s for s in SAMPLE_REASONS if s != "allocated")]
        for k, status in enumerate(statuses):
            channel = pol.channels[k % len(pol.channels)] if status == "allocated" else None
            rows.append({
                "campaign": pol.campaign, "policy_id": pol.id, "offer": pol.offer,
                "status": status, "channel": channel,
                "cost": channels.channel(channel).cost_per_contact if channel else 0.0,
                "expected_value": 1.0 if channel else 0.0, "value_at_stake": 100.0 + k,
                "customer_id": f"sample-{pol.id}-{k}", "reason": SAMPLE_REASONS[status],
                "lifecycle_stage": stages[k % len(stages)],
                "value_tier": tiers[k % len(tiers)]})
    return pd.DataFrame(rows, columns=list(USED))
