"""Why a customer's decision changed between the two versions of a plan: the condition that
now matches or fails (with the values that moved, so that a changed setting is not credited
to an edited condition), else the definition, the contact policy that moved the channel, or
the allocation (README "Dry-running a policy change")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.plan import diff as plan_diff
from engine.policy.condition_text import first_failure, format_value
from engine.project.conditions import attributes
from engine.project.rulebook import Policy
from engine.run.pipeline import Computed


def records(table: pd.DataFrame, ids: np.ndarray, books: Books
            ) -> list[dict[str, Any] | None]:
    """The value-table rows of these customers, as mappings (one index lookup, no scans),
    with the attributes the policies' conditions read; None for a customer not in it."""
    used = {a for pol in (*books.before.values(), *books.after.values())
            for a in attributes(pol.when)}
    pos = pd.Index(table["customer_id"]).get_indexer(ids)
    rows: list[dict[str, Any]] = table.iloc[np.where(pos >= 0, pos, 0)][
        [c for c in table.columns if c in used]].to_dict("records")
    return [r if p >= 0 else None for r, p in zip(rows, pos, strict=True)]


def same(a: Any, b: Any) -> bool:
    return bool((pd.isna(a) and pd.isna(b)) or a == b)


DECIDING = frozenset({"when", "priority", "description"})


@dataclass(frozen=True)
class Books:
    """Both versions' policies by id, and how each policy on both sides changed."""

    before: dict[str, Policy]
    after: dict[str, Policy]
    edits: dict[str, str]

    @classmethod
    def of(cls, before: Computed, after: Computed) -> Books:
        b = plan_diff.by_id(before.setup.rulebook.policies)
        a = plan_diff.by_id(after.setup.rulebook.policies)
        # what a policy gives its customers (not what decides who they are: a customer it
        # decides on both sides moved for another reason when only its conditions changed)
        edits = {k: "; ".join(given) for k in b.keys() & a.keys()
                 if (given := plan_diff.fields_changed(b[k], a[k], skip=DECIDING))}
        return cls(b, a, edits)


def why(row: dict[str, Any], books: Books, record_before: dict[str, Any] | None,
        record: dict[str, Any] | None, channel_moved: str | None = None,
        fields: Sequence[str] = (), holdout_moved: str | None = None,
        repriced: str | None = None, tiers_changed: str | None = None) -> str:
    """What made this customer change: a customer on one side only, the condition that now
    matches or fails, else the definition, the holdout draw (``holdout_moved``:
    engine.plan.holdout_moves), the contact policy that moved the channel (``channel_moved``:
    engine.plan.blocked) or the allocation that changed; on the same channel, the settings
    that price the contact (``repriced``: engine.plan.room.terms_changed); a value tier
    changed with the tiers' definitions said (``tiers_changed``)."""
    if record is None:  # (not a policy that stopped matching: they are not decided at all)
        return "not a customer in the proposed version (its data or its as-of date leave " \
            "them out)"
    if record_before is None:
        return "a customer in the proposed version only (its data or its as-of date add them)"
    pb, pa = row["policy_id_before"], row["policy_id_after"]
    moved = not same(pb, pa)
    gone = books.after.get(pb) if isinstance(pb, str) else None
    if moved and isinstance(pb, str) and (gone is None or not gone.enabled):
        return f"{pb} is removed or switched off" + (f"; {pa} now decides"
                                                     if isinstance(pa, str) else "")
    if moved and isinstance(pa, str):
        old = books.before.get(pa)
        if old is None or not old.enabled:
            return f"{pa} is new or switched on, and matches"
        failure = first_failure(old.when, record_before)
        if failure is not None:
            # what moved the customer: the condition (edited) or their values (a setting)
            return f"{pa} now matches; before: {failure.text}" + _values_moved(
                books.after[pa], record_before, record)
    if moved and gone is not None:
        failure = first_failure(gone.when, record)
        if failure is not None:
            return f"{pb} no longer matches: {failure.text}"
    if moved:  # both matched on both sides: priorities decided
        return f"{pa} now wins the action" if isinstance(pa, str) else \
            f"{pb} no longer wins the action"
    for f, what in (("lifecycle_stage", "stage"), ("value_tier", "value tier"),
                    ("service_level", "service level")):
        if not same(row[f"{f}_before"], row[f"{f}_after"]):
            return f"{what} changed: {row[f'{f}_before']} -> {row[f'{f}_after']}" + (
                f" ({tiers_changed})" if f == "value_tier" and tiers_changed else "")
    if isinstance(pa, str) and pa in books.edits:
        return f"{pa} changed: {books.edits[pa]}"
    if holdout_moved is not None:
        return holdout_moved
    if row["status_after"] == "not_served" and not same(row["not_served_reason_before"],
                                                       row["not_served_reason_after"]):
        return f"not served: {row['not_served_reason_after']}"
    if row["status_after"] == "suppressed" and not same(row["not_served_reason_before"],
                                                       row["not_served_reason_after"]):
        return f"suppressed: {row['not_served_reason_after']}"
    if row["status_before"] == "suppressed" and row["status_after"] != "suppressed":
        return f"no longer suppressed (before: {row['not_served_reason_before']})"
    if not same(row["channel_before"], row["channel_after"]) or \
            not same(row["status_before"], row["status_after"]):
        return channel_moved or "same action; the channel allocation changed (capacity, " \
            "budget or competition)"
    changed = [f for f in fields if not same(row[f"{f}_before"], row[f"{f}_after"])]
    return "changed: " + ", ".join(changed) + (f" ({repriced})" if repriced else "")


def _values_moved(policy: Policy, before: dict[str, Any], after: dict[str, Any]) -> str:
    """"; now potential_value is 52.13 (was 36.3)": the values the policy's conditions read
    that differ between the versions (a setting such as horizon_periods moves them)."""
    moved = [f"{a} is {format_value(after.get(a))} (was {format_value(before.get(a))})"
             for a in dict.fromkeys(attributes(policy.when))
             if not same(before.get(a), after.get(a))]
    return f"; now {', '.join(moved)}" if moved else ""
