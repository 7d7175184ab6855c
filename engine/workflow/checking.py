"""Run policy tests through the decision path of ``cvm run`` and say why one fails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from engine.policy.decisions import decide
from engine.policy.explain import Explanation, explain
from engine.policy.lifecycle import assign_segments, assign_stages
from engine.project.channels import CHANNELS_FILE, ChannelSetup
from engine.project.policy_tests import STAGE_GIVEN, PolicyTest
from engine.project.rulebook import NO_ACTION, Rulebook
from engine.project.schema import BOOLEAN, DATE, NUMBER
from engine.run.pipeline import actions_for


@dataclass(frozen=True)
class Outcome:
    test: PolicyTest
    got: Mapping[str, Any]  # what the engine decided, under the expectation keys
    failures: tuple[str, ...]  # one line per expectation not met, with the why

    @property
    def passed(self) -> bool:
        return not self.failures


def customer_table(tests: Sequence[PolicyTest], types: Mapping[str, str]) -> pd.DataFrame:
    """One row per test; every attribute a test does not give is missing."""
    n = len(tests)
    columns: dict[str, Any] = {
        "customer_id": [str(t.customer.get("customer_id") or f"{t.file}:{t.line}")
                        for t in tests]}
    for attr, kind in types.items():
        if attr in ("customer_id", "lifecycle_stage", "stage_rule"):
            continue
        given = [t.customer.get(attr) for t in tests]
        if kind == NUMBER:
            columns[attr] = np.array([np.nan if v is None else float(v) for v in given])
        elif kind == DATE:
            columns[attr] = pd.to_datetime(pd.Series(given, dtype=object), errors="coerce")
        elif kind == BOOLEAN:
            columns[attr] = pd.Series(given, dtype=object) if n else pd.Series([], dtype=bool)
        else:
            columns[attr] = pd.Series(given, dtype=object)
    return pd.DataFrame(columns)


def run_tests(tests: Sequence[PolicyTest], rulebook: Rulebook, channels: ChannelSetup,
              types: Mapping[str, str]) -> list[Outcome]:
    if not tests:
        return []
    table = assign_stages(customer_table(tests, types), rulebook)  # as cvm run stages
    given = [t.customer.get("lifecycle_stage") for t in tests]
    if any(g is not None for g in given):
        stage = table["lifecycle_stage"].astype(object).to_numpy().copy()
        rule = table["stage_rule"].astype(object).to_numpy().copy()
        for i, g in enumerate(given):
            if g is not None:
                stage[i], rule[i] = g, STAGE_GIVEN
        table = assign_segments(table.assign(lifecycle_stage=stage, stage_rule=rule), rulebook)
    decisions = decide(table, rulebook)  # as cvm run decides
    outcomes = []
    for i, test in enumerate(tests):
        row = table.iloc[i].to_dict()
        dec = decisions.iloc[i].to_dict()
        got: dict[str, Any] = {
            "stage": row["lifecycle_stage"], "stage_rule": row["stage_rule"],
            "action": dec["action"], "policy": _text(dec["policy_id"]),
            "service_level": dec["service_level"],
            "service_policy": _text(dec["service_policy"]), "offer": _text(dec["offer"])}
        if "channel" in test.expect:
            got["channel"], got["channel_why"] = _channel(table.iloc[[i]],
                                                          decisions.iloc[[i]],
                                                          _holdout(channels, test.holdout),
                                                          _text(test.expect["channel"]))
        why = explain(row, rulebook)
        outcomes.append(Outcome(test, got, tuple(_failures(test, got, why, rulebook))))
    return outcomes


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) \
        else str(value)


def _holdout(channels: ChannelSetup, inside: bool | None) -> ChannelSetup:
    """The channels with every campaign's holdout share 1 (inside) or 0 (outside), so that a
    test's customer is in the holdout only when the test says so; None: the lottery of cvm
    run (for a test that gives its customer_id)."""
    if inside is None:
        return channels
    share = 1.0 if inside else 0.0
    return replace(channels, defaults=replace(channels.defaults, holdout_share=share),
                   campaigns={k: replace(v, holdout_share=share)
                              for k, v in channels.campaigns.items()})


def _channel(row: pd.DataFrame, decision: pd.DataFrame, channels: ChannelSetup,
             want: str | None) -> tuple[str | None, str]:
    """The channel ``cvm run`` gives this customer when allocated alone (the same code), and
    why; with what kept them off ``want``, the channel the test expects."""
    if decision["action"].astype(object).iloc[0] in (None, NO_ACTION):
        return None, "no contact action"
    actions, _ = actions_for(row.reset_index(drop=True), decision.reset_index(drop=True),
                             channels)
    first = actions.iloc[0]
    got, said = _text(first["channel"]), f"{first['status']}: {first['reason']}"
    if want is not None and got != want:
        said += f"\n    why not {want}: " + _not_on(want, row.iloc[0], decision.iloc[0],
                                                      channels, got)
    return got, said


def _not_on(want: str, row: pd.Series, decision: pd.Series, channels: ChannelSetup,
            got: str | None) -> str:
    """What keeps the customer off channel ``want``, as the allocation rules it out."""
    ch = next((c for c in channels.channels if c.id == want), None)
    listed = [x for x in str(decision["channels"]).split("|") if x]
    level = str(decision["service_level"])
    if ch is None:
        return f"not a channel of {CHANNELS_FILE}"
    if want not in listed:
        return f"policy {decision['policy_id']} does not list it (its channels: " \
            f"{', '.join(listed) or 'none'})"
    if level not in ch.service_levels:
        return f"it does not serve service level {level}"
    given = row.get(ch.consent) if ch.consent is not None else True
    if not (isinstance(given, (bool, np.bool_)) and bool(given)):
        return f"no consent ({ch.consent} is not true)"
    return f"a lower expected value than {got}" if got else "not an option"


def _failures(test: PolicyTest, got: Mapping[str, Any], why: Explanation,
              rulebook: Rulebook) -> list[str]:
    out = []
    for key, want in test.expect.items():
        line = test.expect_lines.get(key)
        at = f"line {line}: " if line else ""
        if key == "no_action":
            if got["action"] != NO_ACTION or got["policy"] is not None:
                out.append(f"{at}expected no action, got {_decided(got)}"
                           + _winner_why(why))
            continue
        if key == "suppressed_by":
            if got["policy"] != want or got["action"] != NO_ACTION:
                out.append(f"{at}expected suppressed by {want}, got {_decided(got)}"
                           + _policy_why(want, why))
            continue
        found = got.get(key)
        if found == want:
            continue
        text = f"{at}expected {key.replace('_', ' ')} {want}, got {found or 'none'}"
        if key in ("stage", "stage_rule"):
            text += f" (rule {got['stage_rule']})" + _stage_why(key, want, why, rulebook)
        elif key in ("action", "policy", "offer"):
            text += f" ({_decided(got)})"
            # the policies that give it, the disabled ones last (a marketer switched one off)
            wanted = [want] if key == "policy" else [p.id for p in sorted(
                rulebook.policies, key=lambda p: not p.enabled) if getattr(p, key) == want]
            # one that matched and lost says it all; else why each of the first few did not
            lost = [p for p in wanted if any(c.id == p and c.enabled and c.matched
                                             for c in why.policies)]
            text += ("".join(_policy_why(p, why) for p in (lost[:1] or wanted[:3]))
                     or _winner_why(why))
        elif key in ("service_level", "service_policy"):
            text += f" (service policy {got['service_policy'] or 'none: the default'})"
            won = why.service_policy
            if won is not None:  # what decided first, then why the expected one did not
                text += (f"\n    why: policy {won.id} ({won.location}, priority "
                         f"{won.priority}) won the service level with {got['service_level']}")
            wanted = [want] if key == "service_policy" else [p.id for p in sorted(
                rulebook.policies, key=lambda p: not p.enabled) if p.service_level == want]
            # every policy that could have given it (a few), each with why it did not
            text += "".join(_policy_why(p, why, "service_level") for p in wanted[:3])
        elif key == "channel":
            text += f"\n    why: {got['channel_why']}"
        out.append(text)
    return out


def _decided(got: Mapping[str, Any]) -> str:
    if got["policy"] is None:
        return "no_action: no policy matched"
    return f"action {got['action']} by policy {got['policy']}"


def _stage_why(key: str, want: str, why: Explanation, rulebook: Rulebook) -> str:
    if why.stage_rule == STAGE_GIVEN:
        return "\n    why: the test gives lifecycle_stage"
    rules = [r for r in rulebook.stage_rules
             if (r.stage if key == "stage" else r.id) == want]
    checks = {c.id: c for c in why.stage_rules}
    for rule in rules:
        check = checks.get(rule.id)
        if check is None:
            return (f"\n    why: rule {rule.id} ({rule.file}:{rule.line}) comes after "
                    f"{why.stage_rule}, which matched first")
        if check.why_not:
            return f"\n    why: rule {rule.id} ({check.location}) not matched: {check.why_not}"
    return ""


def _policy_why(policy_id: str, why: Explanation, dim: str = "action") -> str:
    check = next((c for c in why.policies if c.id == policy_id), None)
    if check is None:
        return ""
    if not check.enabled:
        return f"\n    why: policy {policy_id} ({check.location}) is disabled"
    if not check.matched:
        return f"\n    why: policy {policy_id} ({check.location}) not matched: {check.why_not}"
    winner = why.action_policy if dim == "action" else why.service_policy
    if winner is not None and winner.id != policy_id:
        return (f"\n    why: policy {policy_id} matched, but {winner.id} (priority "
                f"{winner.priority}, {winner.location}) wins")
    return ""


def _winner_why(why: Explanation) -> str:
    pol = why.action_policy
    if pol is None:
        return ""
    return f"\n    why: policy {pol.id} ({pol.location}, priority {pol.priority}) matched"
