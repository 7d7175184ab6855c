"""``cvm plan``: what a policy change would do, before it ships.

Both sides run the same pipeline as ``cvm run`` (engine.pipeline.compute) on the same data and
as-of date; nothing is written unless asked for. The per-customer comparison joins each
customer's decision (stage, action, service level) and action-list row (channel, status,
cost, expected value) from both sides.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.conditions import describe, first_failure
from engine.config import Config
from engine.decide import policy_matcher
from engine.pipeline import Computed, compute, load_setup
from engine.plan_sources import Source
from engine.rulebook import Rulebook
from engine.score import score

FIELDS = ("lifecycle_stage", "action", "policy_id", "service_level", "channel", "status",
          "cost", "expected_value")
SAMPLE = 10


@dataclass(frozen=True)
class Plan:
    baseline: Source
    proposed: Source
    before: Computed
    after: Computed
    changes: pd.DataFrame  # one row per changed customer
    policies: pd.DataFrame  # audience before / after per policy, and changed conditions
    channels: pd.DataFrame  # contacts, cost, limits before / after per channel
    actions_matrix: pd.DataFrame  # from (rows) -> to (columns) counts of actions
    totals: dict[str, float]
    sample: list[dict[str, str]]

    @property
    def changed(self) -> bool:
        return len(self.changes) > 0 or bool((self.policies["conditions_changed"]).any())


def side_config(config: Config, source: Source) -> Config:
    return dataclasses.replace(config, project=source.folder)


def make_plan(config: Config, baseline: Source, proposed: Source) -> Plan:
    cfg_b, cfg_p = side_config(config, baseline), side_config(config, proposed)
    setup_b, setup_p = load_setup(cfg_b), load_setup(cfg_p)
    scored_b = score(cfg_b)
    same_tiers = _same(baseline.folder, proposed.folder, "rules/value_tiers.yaml")
    scored_p = scored_b if same_tiers else score(cfg_p)
    before = compute(cfg_b, setup=setup_b, scored=scored_b)
    after = compute(cfg_p, setup=setup_p, scored=scored_p)
    per = _per_customer(before, after)
    diff = np.zeros(len(per), dtype=bool)
    for f in FIELDS:
        a, b = per[f"{f}_before"], per[f"{f}_after"]
        diff |= ~((a == b) | (a.isna() & b.isna())).to_numpy()
    changes = per[diff].copy()
    flags = {f: ~((changes[f"{f}_before"] == changes[f"{f}_after"]) |
                  (changes[f"{f}_before"].isna() & changes[f"{f}_after"].isna())).to_numpy()
             for f in FIELDS}
    changes["changed"] = [", ".join(f for f in FIELDS if flags[f][k])
                          for k in range(len(changes))]
    ids = changes["customer_id"].to_numpy()
    rec_b = _records(before.table, ids)
    rec_a = _records(after.table, ids)
    changes["reason"] = [_why(r, before, after, b, a) for r, b, a in
                         zip(changes.to_dict("records"), rec_b, rec_a, strict=True)]
    totals = {
        "customers": float(len(per)), "changed": float(len(changes)),
        "cost_before": float(before.actions["cost"].sum()),
        "cost_after": float(after.actions["cost"].sum()),
        "expected_value_before": float(before.actions["expected_value"].sum()),
        "expected_value_after": float(after.actions["expected_value"].sum()),
    }
    for label, comp in (("before", before), ("after", after)):
        acts = comp.actions
        totals[f"unserved_for_limits_{label}"] = float(
            ((acts["status"] == "not_served") &
             acts["reason"].str.startswith(("capacity", "budget"))).sum())
    for f in ("action", "lifecycle_stage", "service_level", "channel"):
        totals[f"changed_{f}"] = float((changes["changed"].str.contains(
            rf"\b{f}\b")).sum()) if len(changes) else 0.0
    matrix = pd.crosstab(per["action_before"].fillna("no_action"),
                         per["action_after"].fillna("no_action"))
    sample_rows = changes.assign(_d=(changes["expected_value_after"].fillna(0)
                                     - changes["expected_value_before"].fillna(0)).abs())
    sample_rows = sample_rows.sort_values(["_d", "customer_id"], ascending=[False, True])
    sample = [{"customer_id": str(r["customer_id"]), "changed": r["changed"],
               "before": _state(r, "before"), "after": _state(r, "after"),
               "reason": r["reason"]} for _, r in sample_rows.head(SAMPLE).iterrows()]
    return Plan(baseline, proposed, before, after, changes.reset_index(drop=True),
                _policies(before, after), _channels(before, after), matrix, totals, sample)


def _same(a: Path, b: Path, rel: str) -> bool:
    pa_, pb = a / rel, b / rel
    return pa_.exists() == pb.exists() and (not pa_.exists() or pa_.read_bytes() ==
                                            pb.read_bytes())


def _eq(a: Any, b: Any) -> bool:
    return bool((pd.isna(a) and pd.isna(b)) or a == b)


def _per_customer(before: Computed, after: Computed) -> pd.DataFrame:
    def side(c: Computed) -> pd.DataFrame:
        dec = c.decisions[["customer_id", "lifecycle_stage", "action", "policy_id",
                           "service_level"]].astype(object)
        act = c.actions[["customer_id", "channel", "status", "cost", "expected_value"]]
        merged = dec.merge(act, on="customer_id", how="left")
        merged["action"] = merged["action"].where(merged["action"].notna(), "no_action")
        return merged.set_index("customer_id")

    b, a = side(before), side(after)
    both = b.add_suffix("_before").join(a.add_suffix("_after"), how="outer")
    return both.reset_index()


def _state(row: Any, which: str) -> str:
    parts = [f"{row[f'action_{which}']}"]
    if isinstance(row[f"policy_id_{which}"], str):
        parts.append(f"by {row[f'policy_id_{which}']}")
    if isinstance(row[f"channel_{which}"], str):
        parts.append(f"via {row[f'channel_{which}']}")
    elif isinstance(row[f"status_{which}"], str):
        parts.append(f"({row[f'status_{which}']})")
    parts.append(f"stage {row[f'lifecycle_stage_{which}']}, service "
                 f"{row[f'service_level_{which}']}")
    return " ".join(parts)


def _records(table: pd.DataFrame, ids: np.ndarray) -> list[dict[str, Any]]:
    """The value-table rows of these customers, as mappings (one index lookup, no scans)."""
    pos = pd.Index(table["customer_id"]).get_indexer(ids)
    rows: list[dict[str, Any]] = table.iloc[np.where(pos >= 0, pos, 0)].to_dict("records")
    return [r if p >= 0 else {} for r, p in zip(rows, pos, strict=True)]


def _why(row: dict[str, Any], before: Computed, after: Computed, record_before: dict[str, Any],
         record: dict[str, Any]) -> str:
    """The condition that now matches or fails for this customer."""
    pb, pa = row["policy_id_before"], row["policy_id_after"]
    if pb != pa and isinstance(pa, str):
        pol = _policy(after.setup.rulebook, pa)
        old = _policy(before.setup.rulebook, pa)
        if old is None or not old.enabled:
            return f"{pa} is new or switched on, and matches"
        failure = first_failure(old.when, record_before)
        if failure is not None and pol is not None:
            return f"{pa} now matches; before: {failure.text}"
        return f"{pa} now wins the action"
    if pb != pa and isinstance(pb, str):
        pol = _policy(after.setup.rulebook, pb)
        if pol is None or not pol.enabled:
            return f"{pb} is removed or switched off"
        failure = first_failure(pol.when, record)
        return f"{pb} no longer matches: {failure.text}" if failure else \
            f"{pb} no longer wins the action"
    if not _eq(row["lifecycle_stage_before"], row["lifecycle_stage_after"]):
        return (f"stage rules changed: {row['lifecycle_stage_before']} -> "
                f"{row['lifecycle_stage_after']}")
    if not _eq(row["channel_before"], row["channel_after"]) or \
            not _eq(row["status_before"], row["status_after"]):
        return "same action; the channel allocation changed (capacity, budget or competition)"
    return "service level or offer rules changed"


def _policy(book: Rulebook, pid: str) -> Any:
    return next((p for p in book.policies if p.id == pid), None)


def _audience(comp: Computed) -> dict[str, int]:
    """How many customers each enabled policy matches (whether or not it wins)."""
    active = comp.setup.rulebook.active_policies()
    matched = policy_matcher(comp.setup.rulebook).match_table(comp.table)
    return {p.id: int(matched[:, i].sum()) for i, p in enumerate(active)}


def _policies(before: Computed, after: Computed) -> pd.DataFrame:
    ids = sorted({p.id for p in before.setup.rulebook.policies} |
                 {p.id for p in after.setup.rulebook.policies})
    aud_b, aud_a = _audience(before), _audience(after)
    rows = []
    for pid in ids:
        pb, pa = _policy(before.setup.rulebook, pid), _policy(after.setup.rulebook, pid)
        nb, na = aud_b.get(pid, 0), aud_a.get(pid, 0)
        db = describe(pb.when) if pb is not None else "(absent)"
        da = describe(pa.when) if pa is not None else "(absent)"
        rows.append({"policy_id": pid, "audience_before": nb, "audience_after": na,
                     "difference": na - nb, "conditions_changed": db != da or
                     (pb is not None and pa is not None and pb != pa),
                     "conditions_before": db, "conditions_after": da})
    return pd.DataFrame(rows)


def _channels(before: Computed, after: Computed) -> pd.DataFrame:
    rows = []
    for ch in after.setup.channels.channels:
        old = next((c for c in before.setup.channels.channels if c.id == ch.id), None)
        rec: dict[str, Any] = {"channel": ch.id}
        for label, comp, spec in (("before", before, old), ("after", after, ch)):
            done = comp.actions[(comp.actions["status"] == "allocated") &
                                (comp.actions["channel"] == ch.id)]
            rec[f"contacts_{label}"] = len(done)
            rec[f"cost_{label}"] = round(float(done["cost"].sum()), 2)
            rec[f"capacity_{label}"] = spec.capacity if spec else None
            rec[f"budget_{label}"] = spec.budget if spec else None
        rows.append(rec)
    return pd.DataFrame(rows)
