"""What a campaign brief template gets: one plain dict per campaign (documented in the README),
with every figure computed from the action list, so brief and action list always agree.

The holdout is compared with the whole treated audience, everyone assigned to the campaign
outside the holdout, contacted or not (intention to treat): the contacted customers alone are
selected by consent, limits and value, so comparing them with the holdout would be biased."""

from __future__ import annotations

import re
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
# the names a brief template gets (README "Campaign briefs"): one context per campaign
CONTEXT_NAMES = ("run", "campaign", "policies", "audience", "value_at_stake", "stage_mix",
                 "tier_mix", "channels", "budget", "expected", "holdout", "examples")
# the action list's columns a brief reads: each selection below copies these only, not the
# whole list (a fixed cost of a tenth of a second per campaign on a small run)
USED = ("campaign", "status", "policy_id", "cost", "expected_value", "channel",
        "value_at_stake", "customer_id", "reason", "lifecycle_stage", "value_tier", "offer")
# a suppressed customer's reason: the contact policies named, or the built-in opt-out rule
# (an empty name: the opt-out, engine.activation.contact.opted_out)
POLICY_IN_REASON = r"(?:^|; )(?:contact policy ([^:;]+):|opted out on )"
DEFAULT_KPIS = ("customer lifetime value", "churn rate", "average order value",
                "return on spend")  # for a campaign that names none


class _Coded:
    """A column coded once (a missing value: -1), so that each campaign's counts are a
    ``bincount`` of its rows' codes, not a pass of pandas over its rows."""

    def __init__(self, values: pd.Series) -> None:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        self.codes = np.asarray(codes)
        self.names = [str(u) for u in uniques]

    def mix(self, rows: np.ndarray) -> list[dict[str, Any]]:
        """Each value's count and share among ``rows``, the most frequent first; a missing
        value as "(none)"."""
        counts: dict[str, int] = {}
        tally = np.bincount(self.codes[rows] + 1, minlength=len(self.names) + 1)
        for k in np.flatnonzero(tally).tolist():  # (Python ints: list indexes)
            name = "(none)" if k == 0 else self.names[k - 1]
            counts[name] = counts.get(name, 0) + int(tally[k])
        total = sum(counts.values())
        order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [{"name": k, "count": v, "share": v / total if total else 0.0} for k, v in order]


def _by_policy(reason: _Coded, rows: np.ndarray) -> list[dict[str, Any]]:
    """Suppressed customers (``rows``) per contact policy named in their reason
    (engine.activation.contact: ``contact policy <id>: ...`` joined with ``; ``), and by the
    built-in opt-out rule (as ``opted_out``); a customer blocked by two counts twice. Each
    distinct reason is read once."""
    counts: dict[str, int] = {}
    tally = np.bincount(reason.codes[rows] + 1, minlength=len(reason.names) + 1)
    for k in (np.flatnonzero(tally[1:]) + 1).tolist():
        for name in re.findall(POLICY_IN_REASON, reason.names[k - 1]):
            counts[name or OPTED_OUT] = counts.get(name or OPTED_OUT, 0) + int(tally[k])
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"name": k, "count": v, "share": v / len(rows)} for k, v in order]


def _examples(rows: np.ndarray, value: np.ndarray, ids: np.ndarray) -> list[int]:
    """The ``EXAMPLES`` rows of highest value at stake (ties: lower customer id; a missing
    value last), among ``rows``."""
    if len(rows) > EXAMPLES:
        known = value[rows][~np.isnan(value[rows])]
        if len(known) >= EXAMPLES:  # those at or above the fifth highest value
            rows = rows[value[rows] >= np.partition(known, -EXAMPLES)[-EXAMPLES]]
    return sorted(rows.tolist(), key=lambda r: (bool(np.isnan(value[r])),
                                                 -value[r] if not np.isnan(value[r]) else 0.0,
                                                 str(ids[r])))[:EXAMPLES]


def campaign_contexts(actions: pd.DataFrame, rulebook: Rulebook, channels: ChannelSetup, *,
                      run: dict[str, Any]) -> list[dict[str, Any]]:
    """One context per campaign of the action list, in campaign id order. Every column is
    coded or taken as an array once and each campaign's rows are a slice of one order: a
    pass of pandas per campaign took most of a minute for 4,000 campaigns."""
    out = []
    actions = actions[list(USED)]
    # (as text: a categorical would be sorted in its categories' order, not by name)
    camp_code, camp_ids = pd.factorize(actions["campaign"].astype(object), sort=True)
    status = _Coded(actions["status"])
    code_of = {name: k for k, name in enumerate(status.names)}
    channel, policy = _Coded(actions["channel"]), _Coded(actions["policy_id"])
    reason, stage, tier = (_Coded(actions[k]) for k in ("reason", "lifecycle_stage",
                                                         "value_tier"))
    value = actions["value_at_stake"].to_numpy(dtype=np.float64)
    column = {k: actions[k].to_numpy(dtype=object) for k in ("customer_id", "value_tier",
                                                            "lifecycle_stage", "channel",
                                                            "offer")}
    expected = actions["expected_value"].to_numpy(dtype=np.float64)
    by_campaign = np.argsort(np.asarray(camp_code), kind="stable")
    ends = np.cumsum(np.bincount(np.asarray(camp_code)[by_campaign] + 1,
                                 minlength=len(camp_ids) + 1))
    enabled = {p.id: i for i, p in enumerate(rulebook.policies) if p.enabled}
    allocated = actions[status.codes == code_of.get("allocated", -2)]
    ids = [ch.id for ch in channels.channels]
    camps = [str(c) for c in camp_ids]
    # the amounts the allocation summary shows (summed exactly, rounded once, adding up)
    shown = {key: money.breakdown(allocated["campaign"], allocated["channel"], allocated[key],
                                  ids, camps) for key in ("cost", "expected_value")}
    chan_code = {name: k for k, name in enumerate(channel.names)}
    for j, camp_id in enumerate(camp_ids):
        camp = channels.campaign(str(camp_id))
        rows = by_campaign[ends[j]:ends[j + 1]]

        def having(name: str, rows: np.ndarray = rows) -> np.ndarray:
            found: np.ndarray = rows[status.codes[rows] == code_of.get(name, -2)]
            return found

        done, held, unserved, gone = (having(k) for k in ("allocated", "holdout",
                                                           "not_served", "suppressed"))
        used = {policy.names[k] for k in np.unique(policy.codes[rows]) if k >= 0}
        policies = [rulebook.policies[i] for i in sorted(enabled[u] for u in used
                                                          if u in enabled)]
        cost = shown["cost"].campaign[str(camp_id)]
        ev = shown["expected_value"].campaign[str(camp_id)]
        on = np.bincount(channel.codes[done] + 1, minlength=len(channel.names) + 1)
        chans = []
        for ch in channels.channels:
            contacts = int(on[chan_code[ch.id] + 1]) if ch.id in chan_code else 0
            if contacts:
                chans.append({"id": ch.id, "name": ch.name, "contacts": contacts,
                              "cost": shown["cost"].cell[str(camp_id), ch.id],
                              "expected_value": shown["expected_value"].cell[str(camp_id),
                                                                             ch.id],
                              "cost_per_contact": Price(ch.cost_per_contact)})
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
            "audience": {"size": len(rows), "allocated": len(done), "holdout": len(held),
                         "not_served": len(unserved),
                         "not_served_reasons": reason.mix(unserved) if len(unserved) else [],
                         "suppressed": len(gone),
                         "suppressed_by": _by_policy(reason, gone)},
            "value_at_stake": {"audience": float(np.nansum(value[rows])),
                               "contacted": float(np.nansum(value[done]))},
            "stage_mix": stage.mix(rows),
            "tier_mix": tier.mix(rows),
            "channels": chans,
            "budget": {"used": cost, "available": camp.budget,
                       "share": cost / camp.budget if camp.budget else None},
            # net of the cost, as cvm measure's return on spend (incremental margin / cost)
            "expected": {"value": ev, "cost": cost, "return_on_spend":
                         ev / cost if cost else None},
            "holdout": {"share": camp.holdout_share, "size": len(held), "salt": channels.salt,
                        "actual_share": len(held) / len(rows),
                        "comparison_size": len(rows) - len(held)},
            "examples": [{"customer_id": column["customer_id"][r],
                          "value_tier": column["value_tier"][r],
                          "lifecycle_stage": column["lifecycle_stage"][r],
                          "channel": column["channel"][r],
                          "value_at_stake": float(value[r]),
                          "expected_value": float(expected[r]), "offer": column["offer"][r]}
                         for r in _examples(done, value, column["customer_id"])],
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
        held = channels.campaign(pol.campaign).holdout_share > 0  # else never one held out
        statuses = [*(["allocated"] * EXAMPLES if pol.channels else []),
                    *(s for s in SAMPLE_REASONS if s != "allocated" and (held or s != "holdout"))]
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


# The campaigns a run can give besides the sample's: a campaign contacting one customer and no
# other status, and one whose customers all have one other status (no example, no contact): a
# template reading ``examples[4]`` or ``audience.not_served_reasons[0]`` stops such a run.
THIN = {"allocated": "a campaign contacting one customer (one example, none held out or "
                     "not served)",
        "not_served": "a campaign whose customers are all not served (no example)",
        "holdout": "a campaign whose customers are all held out (no example, none contacted "
                   "or not served)",
        "suppressed": "a campaign whose customers are all suppressed by a contact policy (no "
                      "example, none contacted or not served)"}


def thin_samples(sample: pd.DataFrame) -> list[tuple[pd.DataFrame, str]]:
    """Per kind of THIN, the sample's first row of that status in each campaign, alone: what
    ``cvm validate`` also renders the brief templates on."""
    return [(sample[sample["status"] == status].drop_duplicates("campaign"), said)
            for status, said in THIN.items()]
