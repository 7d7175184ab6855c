"""Why one customer got their stage and decision (``cvm explain CUSTOMER_ID``).

The stage and the winning policies come from durable-rules, exactly as ``decide`` gets them;
the reason each rule or policy did not match (its first failing condition and the customer's
actual value) comes from the pure-Python evaluator, which the test suite proves agrees with
durable-rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.policy.condition_text import describe, first_failure, format_value
from engine.policy.decisions import policy_matcher, reason
from engine.policy.explain_model import ModelFigures, model_figures
from engine.policy.lifecycle import segments_of, stage_of
from engine.project.rulebook import (
    DEFAULT_SERVICE_LEVEL,
    NO_ACTION,
    Policy,
    Rulebook,
    arbitration_key,
)
from engine.project.segments import segment_attribute
from engine.value.clv_models import ModelFit
from engine.value.formulas import MONEY

VALUE_FIELDS = ("historic_value", "potential_value", "influence_value", "total_value",
                "value_score", "value_tier", "clv_simple", "clv_discounted", "retention_rate",
                "days_to_contract_end")  # the last with subscriptions only


@dataclass(frozen=True)
class Check:
    """One stage rule or policy: did it match, and if not, why not."""

    id: str
    matched: bool
    why_not: str | None  # the first failing condition with the customer's value
    summary: str  # the stage it gives, or the policy's priority and what it does
    location: str
    enabled: bool = True


@dataclass(frozen=True)
class Explanation:
    customer_id: str
    value: tuple[tuple[str, Any], ...]
    stage: str
    stage_rule: str
    stage_rules: tuple[Check, ...]  # in file order, up to the rule that gave the stage
    segments: tuple[Check, ...]  # every segment, in declaration order
    policies: tuple[Check, ...]  # in arbitration order (priority high to low, then id)
    action: str
    action_policy: Policy | None
    service_level: str
    service_policy: Policy | None
    model: ModelFigures | None = None  # the model columns and their model (cvm explain)

    @property
    def reason(self) -> str:
        return reason(self.action_policy)

    def format(self) -> str:
        """Plain text for a terminal."""
        lines = [f"Customer {self.customer_id}", "", "Value"]
        width = max([16, *(len(name) for name, _ in self.value)])
        lines += [f"  {name:<{width}} {_show(name, value)}" for name, value in self.value]
        lines += self.model.lines() if self.model is not None else []
        lines += ["", f"Lifecycle stage: {self.stage} (rule {self.stage_rule})"]
        lines += [_check_line(c) for c in self.stage_rules]
        if self.segments:
            member = [c.id for c in self.segments if c.matched]
            lines += ["", "Segments: " + (", ".join(member) if member else "none")]
            lines += [_check_line(c) for c in self.segments]
        lines += ["", "Policies, highest priority first"]
        won = {getattr(self.action_policy, "id", None): "wins the action",
               getattr(self.service_policy, "id", None): "wins the service level"}
        if self.action_policy is not None and self.action_policy is self.service_policy:
            won[self.action_policy.id] = "wins the action and the service level"
        lines += [_check_line(c, won.get(c.id)) for c in self.policies]
        pol = self.action_policy
        lines += ["", "Decision", f"  action         {self.action}: {self.reason}"]
        if pol is not None and pol.action != NO_ACTION:
            lines += [f"  offer          {pol.offer or '-'}",
                      f"  channels       {' > '.join(pol.channels)} (in order of preference)",
                      f"  campaign       {pol.campaign}"]
        service = self.service_policy
        source = (f"{service.id} (priority {service.priority})" if service else
                  "no service policy matched: the default")
        lines.append(f"  service level  {self.service_level}: {source}")
        return "\n".join(lines)


def _show(name: str, value: Any) -> str:
    """A value as the value table holds it: money in cents, a rate or a score to 6 decimals
    (as the reasons quote it: 0.792271, not 0.79)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if name in MONEY else format_value(value)
    return str(value)


def _check_line(check: Check, note: str | None = None) -> str:
    mark = "off" if not check.enabled else ("yes" if check.matched else "no")
    text = f"  {mark:<4}{check.id:<24} {check.summary}" + (f"  <- {note}" if note else "")
    if check.why_not:
        text += f"\n        not matched: {check.why_not}"
    return text


def explain(customer: Mapping[str, Any], rulebook: Rulebook, *,
            hits: frozenset[int] | None = None, model: ModelFit | None = None) -> Explanation:
    """Explain one customer (a row of the customer value table, as a mapping). ``hits``: the
    active policies durable-rules matched for it, when already asked for the whole table
    (``policy_matcher(rulebook).match_table``, as ``cvm serve`` does at load); else asked
    here for this customer alone. ``model``: what scoring fitted, for the customer's model
    figures (``engine.policy.explain_model``)."""
    stage, rule_id = customer.get("lifecycle_stage"), customer.get("stage_rule")
    if not (isinstance(stage, str) and isinstance(rule_id, str)):
        rule = stage_of(customer, rulebook)
        stage, rule_id = rule.stage, rule.id
    stage_rules = []
    for rule in rulebook.stage_rules:
        failure = first_failure(rule.when, customer)
        stage_rules.append(Check(rule.id, rule.id == rule_id,
                                 failure.text if failure and rule.id != rule_id else None,
                                 f"-> {rule.stage}: {rule.description or describe(rule.when)}",
                                 f"{rule.file}:{rule.line}"))
        if rule.id == rule_id:
            break
    record = {**customer, "lifecycle_stage": stage}
    found = segments_of(record, rulebook)  # durable-rules, as assign_stages decides
    record.update({segment_attribute(k): v for k, v in found.items()})
    segments = []
    for seg in rulebook.segments:
        failure = None if found[seg.id] else first_failure(seg.when, record)
        segments.append(Check(seg.id, found[seg.id], failure.text if failure else None,
                              seg.description or describe(seg.when),
                              f"{seg.file}:{seg.line}"))
    active = rulebook.active_policies()
    if hits is None:
        hits = policy_matcher(rulebook).match_record(record)
    matched_ids = {active[i].id for i in hits}
    checks = []
    for pol in rulebook.policies:
        failure = None if pol.id in matched_ids else first_failure(pol.when, record)
        does = [f"action {pol.action}"] if pol.action else []
        does += [f"service {pol.service_level}"] if pol.service_level else []
        checks.append(Check(pol.id, pol.id in matched_ids,
                            failure.text if failure and pol.enabled else None,
                            f"priority {pol.priority}: " + ", ".join(does), pol.location,
                            pol.enabled))

    def winner(dim: str) -> Policy | None:
        found = [active[i] for i in hits if getattr(active[i], dim)]
        return min(found, key=arbitration_key) if found else None

    action_policy, service_policy = winner("action"), winner("service_level")
    return Explanation(
        customer_id=str(customer.get("customer_id", "?")),
        value=tuple((f, customer[f]) for f in VALUE_FIELDS if f in customer),
        stage=stage, stage_rule=rule_id, stage_rules=tuple(stage_rules),
        segments=tuple(segments), policies=tuple(checks),
        action=action_policy.action or NO_ACTION if action_policy else NO_ACTION,
        action_policy=action_policy,
        service_level=(service_policy.service_level or DEFAULT_SERVICE_LEVEL
                       if service_policy else DEFAULT_SERVICE_LEVEL),
        service_policy=service_policy,
        model=model_figures(customer, model) if model is not None else None,
    )
