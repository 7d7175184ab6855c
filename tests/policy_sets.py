"""Generated policy sets for the scale tests and ``benchmarks/bench_policies.py``.

Two shapes, both valid for the bundled example's cvm.yaml (consents email, sms, phone, mail,
push; the text attribute Region) and the starter rules/:

- ``mixed``: every policy draws its own attributes, thresholds and structure (``all`` of
  leaves, ``any`` groups, ``not``, ``in`` lists, nesting), so almost no two policies read the
  same attributes: the hard case for asking durable-rules once per distinct case.
- ``templated``: how large policy sets arise in practice, one template per campaign filled in
  per region, value tier and lifecycle stage, with a few thresholds from a short menu.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import yaml

NUMBERS: dict[str, list[float]] = {  # attribute: thresholds a marketer would write
    "recency_days": [7, 14, 30, 60, 90, 120, 180, 270, 365, 540, 730],
    "tenure_days": [30, 90, 180, 365, 730, 1095],
    "frequency": [0, 1, 2, 3, 5, 8, 12, 20],
    "orders": [1, 2, 3, 5, 10, 20],
    "revenue": [20, 50, 100, 250, 500, 1000, 2500, 5000],
    "purchase_trend": [-0.8, -0.5, -0.2, 0, 0.2, 0.5, 0.8],
    "recency_ratio": [0.5, 1, 1.25, 1.5, 2, 3, 5],
    "category_breadth": [1, 2, 3, 4, 5, 6],
    "value_score": [10, 25, 50, 75, 90, 95, 99],
    "total_value": [10, 50, 100, 250, 500, 1000, 2500],
    "potential_value": [0, 10, 25, 50, 100, 250, 500],
    "clv_discounted": [0, 10, 25, 50, 100, 250],
    "influence_value": [0, 50, 100, 250, 1000],
    "growth_headroom": [-100, -10, 0, 10, 100],
    "churn_risk": [0.1, 0.25, 0.5, 0.75, 0.9],
}
TEXTS: dict[str, list[str]] = {
    "value_tier": ["platinum", "gold", "silver", "bronze"],
    "lifecycle_stage": ["acquisition", "growth", "maturity", "decline", "exit"],
    "Region": ["north", "south", "east", "west", "central"],
    "preferred_channel": ["email", "sms", "phone", "mail", "app"],
}
BOOLEANS = ["consent_email", "consent_sms", "consent_phone", "consent_mail", "consent_push"]
ACTIONS = [("retain", ["email", "call_centre"]), ("win_back", ["direct_mail", "email"]),
           ("cross_sell", ["email", "app_push"]), ("develop", ["email", "sms"]),
           ("nurture", ["email"])]
LEVELS = ["premium", "priority", "standard", "basic"]


def _leaf(rng: random.Random) -> dict[str, Any]:
    kind = rng.random()
    if kind < 0.6:
        name = rng.choice(list(NUMBERS))
        cuts = NUMBERS[name]
        op = rng.choice(["lt", "lte", "gt", "gte", "between", "eq", "ne"])
        if op == "between":
            low, high = sorted(rng.sample(cuts, 2))
            return {name: {"between": [low, high]}}
        return {name: {op: rng.choice(cuts)}}
    if kind < 0.85:
        name = rng.choice(list(TEXTS))
        values = TEXTS[name]
        op = rng.choice(["eq", "ne", "in", "not_in"])
        if op in ("in", "not_in"):
            return {name: {op: rng.sample(values, rng.randint(1, 3))}}
        return {name: {op: rng.choice(values)}}
    if kind < 0.95:
        return {rng.choice(BOOLEANS): rng.random() < 0.7}
    name = rng.choice(["recency_ratio", "churn_risk", "referred_by", "preferred_channel"])
    return {name: {rng.choice(["exists", "missing"]): True}}


def _condition(rng: random.Random, depth: int) -> dict[str, Any]:
    roll = rng.random()
    if depth <= 0 or roll < 0.45:
        return _leaf(rng)
    if roll < 0.6:
        return {"not": _condition(rng, depth - 1)}
    key = "any" if roll < 0.8 else "all"
    return {key: [_condition(rng, depth - 1) for _ in range(rng.randint(2, 3))]}


def mixed(count: int, seed: int = 1) -> dict[str, dict[str, Any]]:
    """``count`` policies with random attributes and structure; file name -> policy."""
    rng = random.Random(seed)
    out: dict[str, dict[str, Any]] = {}
    for i in range(count):
        parts = [_condition(rng, 2) for _ in range(rng.randint(2, 5))]
        when: Any = parts[0] if len(parts) == 1 else {"all": parts}
        out[f"g{i:05d}.yaml"] = _policy(f"g{i:05d}", rng, when)
    return out


def templated(count: int, seed: int = 1) -> dict[str, dict[str, Any]]:
    """``count`` policies filled in from campaign templates; file name -> policy."""
    rng = random.Random(seed)
    templates: list[Callable[[], Any]] = [
        lambda: {"all": [{"Region": rng.choice(TEXTS["Region"])},
                         {"value_tier": rng.choice(TEXTS["value_tier"])},
                         {"lifecycle_stage": rng.choice(TEXTS["lifecycle_stage"])}]},
        lambda: {"all": [{"Region": rng.choice(TEXTS["Region"])},
                         {"lifecycle_stage": {"in": rng.sample(TEXTS["lifecycle_stage"], 2)}},
                         {"recency_days": {"gt": rng.choice(NUMBERS["recency_days"])}},
                         {"consent_email": True}]},
        lambda: {"all": [{"value_tier": {"in": rng.sample(TEXTS["value_tier"], 2)}},
                         {"any": [{"recency_ratio": {"gt": rng.choice([1.25, 1.5, 2])}},
                                  {"churn_risk": {"gte": rng.choice([0.5, 0.75])}}]},
                         {"Region": rng.choice(TEXTS["Region"])}]},
        lambda: {"all": [{"lifecycle_stage": rng.choice(TEXTS["lifecycle_stage"])},
                         {"category_breadth": {"lt": rng.choice([2, 3, 4, 5])}},
                         {"value_score": {"gte": rng.choice([25, 50, 75])}},
                         {"not": {"preferred_channel": rng.choice(TEXTS["preferred_channel"])}}]},
    ]
    out: dict[str, dict[str, Any]] = {}
    for i in range(count):
        when = templates[i % len(templates)]()
        out[f"t{i:05d}.yaml"] = _policy(f"t{i:05d}", rng, when)
    return out


def _policy(pid: str, rng: random.Random, when: Any) -> dict[str, Any]:
    then: dict[str, Any] = {}
    if rng.random() < 0.85:
        action, channels = rng.choice(ACTIONS)
        then = {"action": action, "channels": channels}
    if rng.random() < 0.3 or not then:
        then["service_level"] = rng.choice(LEVELS)
    return {"id": pid, "description": f"generated policy {pid}",
            "priority": rng.randint(1, 2000), "when": when, "then": then}


# libyaml's emitter when PyYAML has it: the same text as the pure-Python one (checked on both
# shapes of 5,000 policies), several times faster (the scale test writes 5,000 files)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(policy: dict[str, Any]) -> str:
    return yaml.dump(policy, Dumper=_DUMPER, sort_keys=False)
