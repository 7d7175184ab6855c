"""The service's answers for one customer, built from the run's rows and from
``engine.policy.explain`` (durable-rules decides what matches; the explain machinery says why
each policy applies or does not): the profile and the next best action.

Plain dicts of JSON-ready values (no NaN: missing is None), so they can be serialised once at
load and served as bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import takewhile
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
    campaign: str | None  # the campaign it limits; None: every contact
    description: str
    blocked: tuple[str, ...]  # the channels it forbids now, to a contact of the decided campaign
    reason: str
    # what it forbids to a contact of its own campaign, whatever the run decided (a policy
    # about every contact: the same): another eligible action's, or a trigger's
    campaign_blocked: tuple[str, ...]
    campaign_reason: str


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
        "days_to_contract_end": plain(record.get("days_to_contract_end")),
        "preferred_channel": plain(record.get("preferred_channel")),
        "decision": {k: decision.get(k) or None for k in
                     ("action", "policy_id", "campaign", "offer", "service_level", "reason")},
        "batch": None if batch is None else {k: plain(batch.get(k)) for k in BATCH_FIELDS},
    }


def _entry(pol: Policy, rank: int | None, channel: str | None, why: str,
           service_level: str, barred: Callable[[Policy], bool]) -> dict[str, Any]:
    return {
        "rank": rank,
        "policy_id": pol.id,
        "action": pol.action,
        "offer": pol.offer,
        "campaign": pol.campaign if pol.action != NO_ACTION else None,
        "priority": pol.priority,
        "service_level": service_level,
        "channels": list(pol.channels),
        # listed on the channel, and nothing stops it there now (opt-out, consent, a
        # contact policy)
        "on_channel": None if channel is None else channel in pol.channels and not barred(pol),
        "talking_points": pol.description,
        "why": why,
        "location": pol.location,
    }


def next_best_action(why: Explanation, rulebook: Rulebook, *, channel: str | None,
                     verdicts: Sequence[ContactVerdict], run_id: str, as_of: str,
                     context: Mapping[str, Any] | None = None,
                     batch: Mapping[str, Any] | None = None,
                     decided: Mapping[str, Any] | None = None,
                     refused: str | None = None,
                     loaded: Sequence[ContactVerdict] | None = None) -> dict[str, Any]:
    """The ranked eligible actions, why each applies, why every other policy with an action
    does not, the contact policies, the policies' pick (``decided``: the run's decision, else
    the explanation's) and the run's allocation of it (``batch``, the action list's row), and
    the ``decision``: what to do now (``settle``). ``refused``: why the customer may not be
    contacted on ``channel`` (its consent attribute is not true), None when they may;
    ``loaded``: the verdicts at load, before the contacts the service gave since (None: the
    same as ``verdicts``)."""
    by_id = {p.id: p for p in rulebook.policies}
    checks = {c.id: c for c in why.policies}
    eligible = sorted((by_id[c.id] for c in why.policies
                       if c.matched and c.enabled and by_id[c.id].action),
                      key=arbitration_key)
    level = why.service_level
    stopped = None if channel is None else refusal(verdicts, channel, refused)

    # the run held the customer out of this campaign: measured, never given (nor offered)
    held = batch.get("campaign") if batch is not None and batch.get("status") == "holdout" \
        else None

    def barred(pol: Policy) -> bool:
        return channel is not None and (stopped is not None or pol.campaign == held or
                                        _campaign_blocker(verdicts, channel, pol.campaign)
                                        is not None)

    ranked = [_entry(p, i + 1, channel, f"applies: {describe(p.when)}", level, barred)
              for i, p in enumerate(eligible)]
    others = []
    for pol in sorted((p for p in rulebook.policies if p.action and p not in eligible),
                      key=arbitration_key):
        check = checks[pol.id]
        text = ("switched off (enabled: false)" if not pol.enabled
                else f"does not apply: {check.why_not}")
        others.append(_entry(pol, None, channel, text, level, barred))
    top = why.action_policy
    pick = dict(decided) if decided is not None else {
        "action": why.action,
        "policy_id": top.id if top else None,
        "campaign": (top.campaign if top and top.action != NO_ACTION else None),
        "offer": top.offer if top else None,
        "service_level": level,
        "service_policy": why.service_policy.id if why.service_policy else None,
        "reason": reason(top)}
    run_row = None if batch is None else {k: plain(batch.get(k)) for k in
                                          ("status", "campaign", "channel", "reason")}
    return {
        "customer_id": why.customer_id,
        "run_id": run_id,
        "as_of": as_of,
        "channel": channel,
        "context": dict(context or {}),
        "value_tier": why_value(why, "value_tier"),
        "lifecycle_stage": why.stage,
        "total_value": why_value(why, "total_value"),
        "decision": settle(pick, eligible, channel, verdicts, run_row, refused,
                           verdicts if loaded is None else loaded),
        "policy_decision": pick,
        "batch": run_row,
        "actions": ranked,
        "not_eligible": others,
        "contact_policies": [
            {"policy": v.policy, "kind": v.kind, "scope": v.scope,
             "description": v.description, "blocks": list(v.blocked),
             "blocks_this_channel": None if channel is None else channel in v.blocked,
             "reason": v.reason or None} for v in verdicts],
    }


def settle(pick: Mapping[str, Any], eligible: Sequence[Policy], channel: str | None,
           verdicts: Sequence[ContactVerdict],
           batch: Mapping[str, Any] | None, refused: str | None = None,
           loaded: Sequence[ContactVerdict] = ()) -> dict[str, Any]:
    """What to do now with the policies' pick, as the run allocated it (README "Real time":
    the table of statuses). A holdout customer gets nothing of the campaign (measured, not
    treated); without a channel, the run's outcome: its channel, or no action when the run did
    not contact; on a channel (the customer is there now), the first eligible action that may
    be given there, to a customer who consented to it, and that no contact policy blocks
    there; an opt-out the run did not know withholds it on no channel too; a run's
    ``not_served`` (capacity, budget, worth: about its outbound contacts) is said, not
    enforced."""
    same = batch is not None and batch.get("campaign") == pick.get("campaign")
    status = batch.get("status") if batch is not None and same else None
    base = {**pick, "status": status, "channel": None,
            "status_reason": batch.get("reason") if batch is not None and same else None}
    if pick.get("action") in (None, NO_ACTION):
        return base
    if status == "holdout":
        return _withheld(base, f"holdout of campaign {pick.get('campaign')}: measured, "
                               "not treated")
    if channel is None:
        if status in ("not_served", "suppressed"):
            return _withheld(base, f"not contacted by the run ({status}): "
                                   f"{base['status_reason']}")
        if (gone := next((v for v in verdicts if v.kind == "built_in"), None)) is not None:
            # an opt-out the run did not know (dated after its as-of date, or imported since)
            return _withheld(base, f"contact policy {gone.policy} blocks every channel: "
                                   f"{gone.reason}")
        run_channel = batch.get("channel") if status == "allocated" and batch else None
        # a contact the service gave since the load may now block the run's channel: the
        # policies blocking it now that did not at load (``loaded``; the history read at load
        # may differ from the run's, a response imported since, say: the run's call stands)
        was = {v.policy for v in loaded if run_channel in v.blocked}
        if run_channel and (barred := _blocked_by(
                [v for v in verdicts if v.policy not in was], str(run_channel))) is not None:
            return _withheld({**base, "channel": run_channel}, barred)
        return {**base, "channel": run_channel or None}
    ids = [p.id for p in eligible]
    start = ids.index(pick["policy_id"]) if pick.get("policy_id") in ids else 0
    givable = list(takewhile(lambda p: p.action != NO_ACTION,  # a policy saying do nothing
                             eligible[start:]))                # outranks the rest
    # no action may be given on the channel whatever the consent: said before the consent
    # (an agent would otherwise ask for a consent that changes nothing), after an opt-out
    gone = next((v for v in verdicts if v.kind == "built_in" and channel in v.blocked), None)
    if givable and gone is None and all(channel not in pol.channels for pol in givable):
        return _withheld({**base, "channel": channel}, "no eligible action may be given on "
                         f"{channel}: " + "; ".join(_not_given(pol, channel) for pol in givable))
    if (barred := refusal(verdicts, channel, refused)) is not None:
        return _withheld({**base, "channel": channel}, barred)
    passed: list[str] = []
    for pol in givable:
        blocker = _campaign_blocker(verdicts, channel, pol.campaign)
        if channel not in pol.channels:
            passed.append(_not_given(pol, channel))
        elif blocker is not None:
            passed.append(f"{pol.action}: contact policy {blocker.policy} blocks {channel} "
                          f"({blocker.campaign_reason})")
        else:
            same = batch is not None and batch.get("campaign") == pol.campaign
            return {"action": pol.action, "policy_id": pol.id, "campaign": pol.campaign,
                    "offer": pol.offer, "service_level": pick.get("service_level"),
                    "service_policy": pick.get("service_policy"),
                    "reason": reason(pol) + ("; " + "; ".join(passed) if passed else ""),
                    "status": batch.get("status") if batch is not None and same else None,
                    "channel": channel,
                    "status_reason": batch.get("reason") if batch is not None and same
                    else None}
    return _withheld({**base, "channel": channel}, "no eligible action may be given on "
                     f"{channel}: " + "; ".join(passed))


def _not_given(pol: Policy, channel: str) -> str:
    return (f"{pol.action} is not given on {channel} (policy {pol.id}: "
            f"{', '.join(pol.channels) or 'no channel'})")


def refusal(verdicts: Sequence[ContactVerdict], channel: str,
            refused: str | None) -> str | None:
    """Why no contact at all may be made on ``channel``: the opt-out first (for good, every
    channel), then the channel's consent (``refused``), then the contact policies about
    every contact (each one that blocks it, in the file's order, as the batch names them);
    None when one may."""
    gone = next((v for v in verdicts if v.kind == "built_in" and channel in v.blocked), None)
    if gone is not None:
        return f"contact policy {gone.policy} blocks {channel}: {gone.reason}"
    if refused is not None:
        return refused
    return _blocked_by([v for v in verdicts if v.campaign is None], channel)


def _blocked_by(verdicts: Sequence[ContactVerdict], channel: str) -> str | None:
    """Each contact policy of ``verdicts`` that blocks ``channel``, in order; None: none."""
    said = [f"contact policy {v.policy} blocks {channel}: {v.reason}" for v in verdicts
            if channel in v.blocked]
    return "; ".join(said) or None


def trigger_refusal(verdicts: Sequence[ContactVerdict], channel: str | None,
                    campaign: str | None, refused: str | None) -> str | None:
    """Why a trigger's action may not be given to the customer on ``channel`` for
    ``campaign``: as an action on a channel in ``settle`` (``refusal``, then a contact policy
    about the campaign); None when it may, or when it has no channel (an alert to the staff
    contacts no one)."""
    if channel is None:
        return None
    if (barred := refusal(verdicts, channel, refused)) is not None:
        return barred
    blocker = _campaign_blocker(verdicts, channel, campaign)
    return None if blocker is None else \
        f"contact policy {blocker.policy} blocks {channel}: {blocker.campaign_reason}"


def _campaign_blocker(verdicts: Sequence[ContactVerdict], channel: str,
                      campaign: str | None) -> ContactVerdict | None:
    return next((v for v in verdicts if v.campaign is not None and v.campaign == campaign
                 and channel in v.campaign_blocked), None)


def _withheld(base: Mapping[str, Any], why: str) -> dict[str, Any]:
    return {**base, "action": NO_ACTION, "policy_id": None, "offer": None, "reason": why}


def why_value(why: Explanation, name: str) -> Any:
    return plain(dict(why.value).get(name))


def contact_verdicts(policies: ContactPolicies, blocked: Mapping[str, tuple[str, ...]],
                     reasons: Mapping[str, str], own: Mapping[str, tuple[str, ...]],
                     own_reasons: Mapping[str, str]) -> tuple[ContactVerdict, ...]:
    """Each policy's verdict: on the decided campaign (``blocked``, ``reasons``) and on a
    contact of its own campaign (``own``, ``own_reasons``; a policy about every contact: the
    same)."""
    return tuple(ContactVerdict(p.id, p.kind, p.scope, p.campaign, p.description,
                                blocked.get(p.id, ()), reasons.get(p.id, ""),
                                own.get(p.id, blocked.get(p.id, ())),
                                own_reasons.get(p.id, reasons.get(p.id, "")))
                 for p in policies.policies)
