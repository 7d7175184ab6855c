"""``cvm plan``: what a change to the project would do, before it ships.

Both versions (engine.plan.sources) run the same pipeline as ``cvm run``
(engine.run.pipeline.compute) on the same data; nothing is written unless asked for. A plan
compares three things, and reports a change exactly when one of them differs:

- the checked definitions (engine.plan.diff): settings, tiers, stages, policies, channels,
  campaigns, by meaning (a comment or a moved line is no change);
- every customer's per-customer fields (``FIELDS``): what ``decisions.csv``, ``actions.csv`` and
  the value tier in ``customers.csv`` say about them;
- the briefs, rendered from both versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.activation import money
from engine.activation.allocate import CONSENTED_NOT_SERVING, LABELS, NO_CONSENT, NOT_WORTH
from engine.errors import CvmError, InputError
from engine.plan import diff as plan_diff
from engine.plan.blocked import moved_by
from engine.plan.holdout_moves import moved_by_holdout
from engine.plan.room import moved_by_campaign, moved_by_room, rooms, terms_changed
from engine.plan.sources import CONFIG, SideError, Source
from engine.plan.why import Books, records, why
from engine.policy.decisions import policy_matcher
from engine.project.config import Config
from engine.project.location import config_named
from engine.project.project import Project
from engine.project.tiers import TIERS_FILE
from engine.render.briefs import render_briefs
from engine.run.build import build, side
from engine.run.pipeline import Computed, compute, holds_what_learning_reads
from engine.value.score import Scored, score

DECISION_FIELDS = ("lifecycle_stage", "stage_rule", "action", "policy_id", "priority",
                   "service_level", "service_policy", "offer", "channels", "campaign")
ACTION_FIELDS = ("channel", "status", "cost", "value_at_stake", "expected_response",
                 "expected_value")
# every per-customer field a change can alter; not_served_reason is actions.csv's reason where
# the status is not_served (the reason of an allocated customer repeats the policy, compared
# in the definitions)
FIELDS = ("lifecycle_stage", "stage_rule", "value_tier", "action", "policy_id", "priority",
          "service_level", "service_policy", "offer", "channels", "campaign", "channel",
          "status", "not_served_reason", "cost", "value_at_stake", "expected_response",
          "expected_value")
STATUSES = ("allocated", "holdout", "not_served", "suppressed")
RUN_ID = "(plan)"  # the briefs of both versions get the same run id, so only content differs
SAMPLE = 10


@dataclass(frozen=True)
class Plan:
    baseline: Source
    proposed: Source
    before: Computed
    after: Computed
    definitions: list[tuple[str, str]]  # (what, how it changed) in the checked definitions
    changes: pd.DataFrame  # one row per changed customer
    unserved: pd.DataFrame  # reason, before, after: customers not served, per reason
    briefs: list[tuple[str, str]]  # (brief file, how it changed)
    cosmetic: list[str]  # files that differ in bytes but in nothing that decides
    policies: pd.DataFrame  # audience before / after per policy, and changed conditions
    channels: pd.DataFrame  # contacts, cost, limits before / after per channel
    actions_matrix: pd.DataFrame  # from (rows) -> to (columns) counts of actions
    totals: dict[str, float]
    sample: list[dict[str, str]]
    history: bool = True  # False: both sides decided without the history (--no-history)

    @property
    def changed(self) -> bool:
        return bool(self.definitions) or len(self.changes) > 0 or bool(self.briefs)


@contextmanager
def _on(source: Source, what: str) -> Iterator[None]:
    """Errors raised while working on one side say which side, and name the real files;
    hints name the side's configuration file (its own cvm.yaml, or the project's)."""
    try:
        with config_named(source.real(CONFIG)):
            yield
    except SideError:
        raise
    except CvmError as exc:
        raise SideError(source, what, exc.problems) from None


def read_side(config: Config, source: Source) -> Project:
    """The side's project, read and checked by the one builder: its cvm.yaml, its data paths
    read from the project folder (as for ``run``), its rules/, policies/ and templates/ from
    the side's folder."""
    with _on(source, "does not validate"):
        built = build(config.project, source.config_file, rules_from=source.folder)
        if built.blocking:
            raise InputError(built.blocking)
        return side(built, source.folder)


def make_plan(config: Config, baseline: Source, proposed: Source,
              progress: Callable[[str], None] | None = None,
              read: tuple[Project, Project] | None = None,
              scoring: Callable[[Project, Callable[[str], None] | None], Scored] | None = None,
              history: bool = True) -> Plan:
    """``read``: both sides' projects as the caller read them (``cvm plan`` validates them
    first), so that no file is read twice; else each side is read here. ``scoring``: makes a
    side's value table instead of ``score`` (``--engine dask``). ``history=False``: each side
    decided as ``cvm run --no-history`` decides."""
    setup_b, setup_p = read or (read_side(config, baseline), read_side(config, proposed))
    cfg_b, cfg_p = setup_b.config, setup_p.config

    def step(side: str) -> Callable[[str], None] | None:  # the steps of a side, named by it
        report = progress
        if report is None:
            return None
        report(side)
        return lambda name: report(f"{side}: {name}")

    with _on(baseline, "cannot run"):
        tiers_b = setup_b.tiers
        shown = step("baseline")
        scored_b = scoring(setup_b, shown) if scoring is not None else \
            score(cfg_b, tiers=tiers_b, progress=shown)
        before = compute(setup_b, scored=scored_b, progress=shown, history=history)
        briefs_b = _briefs(before)
    with _on(proposed, "cannot run"):
        tiers_p = setup_p.tiers
        # the value table depends on the settings and the tiers (segments: should scoring
        # ever read them); else the baseline's is the proposal's
        same_value = plan_diff.same(tiers_b, tiers_p) and not plan_diff.settings(
            cfg_b, cfg_p) and plan_diff.same(setup_b.rulebook.segments,
                                             setup_p.rulebook.segments)
        shown = step("proposed")
        # the baseline's table, unless this side's learning reads rows it does not hold (on
        # Dask a side's table holds the rows its own learning reads: none with learning off)
        scored_p = scored_b if same_value and holds_what_learning_reads(
            scored_b, setup_p, history=history) \
            else scoring(setup_p, shown) if scoring is not None \
            else score(cfg_p, tiers=tiers_p, progress=shown)
        after = compute(setup_p, scored=scored_p, progress=shown, history=history)
        briefs_p = _briefs(after)
    if progress is not None:
        progress("compare")
    definitions = plan_diff.definitions(baseline, proposed, before, after, tiers_b, tiers_p)
    per = _per_customer(before, after)
    flags = changed_fields(per)
    diff = np.stack(list(flags.values())).any(axis=0)
    changes = per[diff].copy()
    names = np.full(len(changes), "", dtype=object)
    for f in FIELDS:
        names = names + np.where(flags[f][diff], f", {f}", "")
    changes["changed"] = [n[2:] for n in names]
    ids = changes["customer_id"].to_numpy()
    books = Books.of(before, after)
    rec_b, rec_a = records(before.table, ids, books), records(after.table, ids, books)
    channels = _channels(before, after)
    room = rooms(plan_diff.by_id(before.setup.channels.channels),
                 plan_diff.by_id(after.setup.channels.channels), channels)
    budgets = [{c: k.budget for c, k in side.setup.channels.campaigns.items()}
               for side in (before, after)]
    moved = [m or moved_by_room(cb, ca, room) or moved_by_campaign(c, *budgets)
             for m, cb, ca, c in zip(moved_by(changes, before, after), changes["channel_before"],
                                     changes["channel_after"], changes["campaign_after"],
                                     strict=True)]
    rows = changes.to_dict("records")
    sides = before.setup.channels, after.setup.channels
    held = [moved_by_holdout(r, *sides) for r in rows]
    priced = [terms_changed(r, *sides) for r in rows]
    tiers_said = "; ".join(f"{file} {change}" for file, change in plan_diff.tiers(
        tiers_b, tiers_p, TIERS_FILE.as_posix())) or None
    changes["reason"] = [why(r, books, b, a, m, FIELDS, h, p, tiers_said) for r, b, a, m, h, p
                         in zip(rows, rec_b, rec_a, moved, held, priced, strict=True)]
    # counts as whole numbers (--json: 2000, not 2000.0), money as amounts
    totals: dict[str, float] = {"customers": len(per), "changed": len(changes)}
    totals |= {f"changed_{f}": int(flags[f].sum()) for f in FIELDS}
    for label, comp in (("before", before), ("after", after)):
        acts = comp.actions
        totals |= {f"{k}_{label}": v for k, v in _spend(acts).items()}
        counts = acts["status"].value_counts()
        totals |= {f"{s}_{label}": int(counts.get(s, 0)) for s in STATUSES}
    matrix = pd.crosstab(per["action_before"].fillna("(not a customer)"),
                         per["action_after"].fillna("(not a customer)"))
    sample_rows = changes.assign(_d=(changes["expected_value_after"].fillna(0)
                                     - changes["expected_value_before"].fillna(0)).abs())
    sample_rows = sample_rows.sort_values(["_d", "customer_id"], ascending=[False, True])
    sample = [{"customer_id": str(r["customer_id"]), "changed": r["changed"],
               "before": _state(r, "before"), "after": _state(r, "after"),
               "reason": r["reason"]} for _, r in sample_rows.head(SAMPLE).iterrows()]
    return Plan(baseline, proposed, before, after, definitions, changes.reset_index(drop=True),
                _unserved(before, after), plan_diff.briefs(briefs_b, briefs_p),
                _cosmetic(baseline, proposed, definitions, briefs_b, briefs_p),
                _policies(before, after), channels, matrix, totals, sample,
                history)


def _spend(actions: pd.DataFrame) -> dict[str, float]:
    """The cost and expected value of an action list's allocated contacts: the totals of the
    run's allocation summary, and so of the report (its campaigns' amounts, each summed
    exactly and rounded once: engine.activation.money)."""
    done = actions[actions["status"] == "allocated"]
    return {k: money.run_total(done["campaign"], done[k]) for k in ("cost", "expected_value")}


def _briefs(comp: Computed) -> dict[str, str]:
    run = {"run_id": RUN_ID, "as_of": str(comp.scored.as_of), "currency": comp.config.currency,
           "project": comp.config.name}
    return render_briefs(comp.setup.templates, comp.actions.assign(run_id=RUN_ID),
                         comp.setup.rulebook, comp.setup.channels, run=run)


def _cosmetic(base: Source, prop: Source, definitions: list[tuple[str, str]],
              briefs_b: dict[str, str], briefs_p: dict[str, str]) -> list[str]:
    if definitions or briefs_b != briefs_p:
        return []
    return plan_diff.files_differing(base, prop)


def _differs(a: pd.Series, b: pd.Series) -> np.ndarray:
    return np.asarray(~((a == b) | (a.isna() & b.isna())).to_numpy(dtype=bool))


# a customer without an action row costs nothing and has nothing at stake: an amount it
# gains as a row of 0 (not served, held out) did not change
AMOUNTS = ("cost", "value_at_stake", "expected_response", "expected_value")


def changed_fields(per: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per field of ``FIELDS``, which customers' value differs between the sides. A customer
    suppressed on both sides has not changed when only the contact policies named in the
    reason did (a cap raised from 4 to 8 contacts changed 264 such reasons and 17 statuses:
    the plan said 281 customers changed)."""
    flags = {f: _changed(f, per[f"{f}_before"], per[f"{f}_after"]) for f in FIELDS}
    still = (per["status_before"] == "suppressed") & (per["status_after"] == "suppressed")
    flags["not_served_reason"] = flags["not_served_reason"] & ~still.to_numpy()
    return flags


def _changed(field: str, before: pd.Series, after: pd.Series) -> np.ndarray:
    """Which customers' ``field`` differs between the sides; an amount without a row is 0."""
    if field in AMOUNTS:
        before, after = (pd.to_numeric(s, errors="coerce").fillna(0.0)
                         for s in (before, after))
    return _differs(before, after)


def _per_customer(before: Computed, after: Computed) -> pd.DataFrame:
    """Per customer, every field of ``FIELDS`` on both sides (object columns, NaN for none)."""
    def side(c: Computed) -> pd.DataFrame:
        dec = c.decisions[["customer_id", *DECISION_FIELDS]].astype(object)
        dec["priority"] = c.decisions["priority"].to_numpy(dtype=float, na_value=np.nan)
        dec["value_tier"] = c.table["value_tier"].astype(object).to_numpy()
        act = c.actions[["customer_id", *ACTION_FIELDS]].copy()
        act["status"] = act["status"].astype(object)
        act["not_served_reason"] = c.actions["reason"].astype(object).where(
            c.actions["status"].isin(["not_served", "suppressed"]))
        merged = dec.merge(act, on="customer_id", how="left")
        return merged.set_index("customer_id")[list(FIELDS)]

    b, a = side(before), side(after)
    both = b.add_suffix("_before").join(a.add_suffix("_after"), how="outer")
    return both.reset_index()


# Why a customer is not served (engine.allocate): consent, allowed channel, worth, capacity,
# budget. The plan lists each, zeros included, so a reason that appears or vanishes shows.
REASONS = (NO_CONSENT,
           "no channel: the policy allows none of the declared channels",
           "no channel: no allowed channel serves this service level",
           CONSENTED_NOT_SERVING,
           NOT_WORTH,
           *LABELS.values())


def _unserved(before: Computed, after: Computed) -> pd.DataFrame:
    """Customers not served, per reason (every reason the allocation gives), both sides."""
    def tally(c: Computed) -> pd.Series:
        acts = c.actions
        return acts.loc[acts["status"] == "not_served", "reason"].astype(object).value_counts()

    b, a = tally(before), tally(after)
    # every documented reason, zeros included, in the README's order; any other after them
    others = sorted(set(b.index).union(a.index).difference(REASONS), key=str)
    frame = pd.DataFrame({"before": b, "after": a}).reindex([*REASONS, *others])
    frame = frame.fillna(0).astype(np.int64)
    frame.index.name = "reason"
    return frame.reset_index()


def _state(row: Any, which: str) -> str:
    parts = [f"{row[f'action_{which}']}"]
    if isinstance(row[f"policy_id_{which}"], str):
        parts.append(f"by {row[f'policy_id_{which}']}")
    if isinstance(row[f"offer_{which}"], str):
        parts.append(f"offering {row[f'offer_{which}']}")
    if isinstance(row[f"channel_{which}"], str):
        parts.append(f"via {row[f'channel_{which}']}")
    elif isinstance(row[f"status_{which}"], str):
        parts.append(f"({row[f'status_{which}']})")
    parts.append(f"stage {row[f'lifecycle_stage_{which}']}, tier {row[f'value_tier_{which}']}, "
                 f"service {row[f'service_level_{which}']}")
    return " ".join(parts)


def _audience(comp: Computed) -> dict[str, int]:
    """How many customers each enabled policy matches (whether or not it wins)."""
    active = comp.setup.rulebook.active_policies()
    matched = policy_matcher(comp.setup.rulebook).match_table(comp.table)
    return {p.id: int(matched[:, i].sum()) for i, p in enumerate(active)}


def _policies(before: Computed, after: Computed) -> pd.DataFrame:
    books_b = plan_diff.by_id(before.setup.rulebook.policies)
    books_a = plan_diff.by_id(after.setup.rulebook.policies)
    aud_b, aud_a = _audience(before), _audience(after)
    rows = []
    for pid in sorted(books_b.keys() | books_a.keys()):
        pb, pa = books_b.get(pid), books_a.get(pid)
        nb, na = aud_b.get(pid, 0), aud_a.get(pid, 0)
        db = plan_diff.show(pb.when) if pb is not None else "(absent)"
        da = plan_diff.show(pa.when) if pa is not None else "(absent)"
        rows.append({"policy_id": pid, "audience_before": nb, "audience_after": na,
                     "difference": na - nb, "conditions_changed": not plan_diff.same(
                         pb.when if pb else None, pa.when if pa else None),
                     "conditions_before": db, "conditions_after": da})
    return pd.DataFrame(rows)


def _channels(before: Computed, after: Computed) -> pd.DataFrame:
    specs = {"before": plan_diff.by_id(before.setup.channels.channels),
             "after": plan_diff.by_id(after.setup.channels.channels)}
    rows = []
    listed = [*specs["after"], *(c for c in specs["before"] if c not in specs["after"])]
    for cid in listed:
        rec: dict[str, Any] = {"channel": cid}
        for label in ("before", "after"):
            spec = specs[label].get(cid)
            rec[f"contacts_{label}"], rec[f"cost_{label}"] = 0, 0.0  # below: their order
            rec[f"capacity_{label}"] = spec.capacity if spec else None
            rec[f"budget_{label}"] = spec.budget if spec else None
        rows.append(rec)
    for label, comp in (("before", before), ("after", after)):
        done = comp.actions[comp.actions["status"] == "allocated"]
        # each channel's cost as this side's allocation summary shows it: the sum of its
        # campaigns' cells, shared in this side's channel order (engine.activation.money)
        order = [*specs[label], *(c for c in listed if c not in specs[label])]
        cost = money.breakdown(done["campaign"], done["channel"], done["cost"], order, [
            str(c) for c in sorted(done["campaign"].astype(str).unique())]).channel
        for rec in rows:
            rec[f"contacts_{label}"] = int((done["channel"] == rec["channel"]).sum())
            rec[f"cost_{label}"] = cost[rec["channel"]]
    return pd.DataFrame(rows)
